/**
 * `imagination-based-planner` at the quick budget end to end (seeded, read back from its stages),
 * its stage graph, and its claim rule on given numbers.
 */
import assert from "node:assert/strict";
import { resolveConfig } from "../../../lib/experiments/runner.ts";
import { getExperiment } from "../../../lib/experiments/registry.ts";
import {
  imaginationBasedPlanner,
  routeShares,
} from "../../../lib/experiments/imagination-based-planner/experiment.ts";
import { imaginationPlannerClaims } from "../../../lib/experiments/imagination-based-planner/claims.ts";
import type {
  ImaginationPlannerMetrics,
  PlannerScore,
} from "../../../lib/experiments/imagination-based-planner/config.ts";

Deno.test("imagination-based-planner runs end to end at the quick budget", async () => {
  assert.equal(getExperiment("imagination-based-planner"), imaginationBasedPlanner);
  for (const budget of ["quick", "laptop", "paper"] as const) {
    const config = resolveConfig(imaginationBasedPlanner, budget);
    if (budget !== "quick") assert.ok(config.seeds.length >= 3);
    assert.deepEqual(config.imaginationSteps, [0, 1, 3, 5]);
  }
  const dataDir = await Deno.makeTempDir({ prefix: "imagination-planner-" });
  const config = resolveConfig(imaginationBasedPlanner, "quick");
  const jobs = imaginationBasedPlanner.stageJobs!(config, dataDir);
  // One model per seed, then a planner per budget and the manager's, all after the models.
  assert.equal(jobs.length, config.seeds.length * (1 + config.imaginationSteps.length + 1));
  assert.ok(jobs.slice(config.seeds.length).every((job) => (job.after ?? []).length > 0));
  const started = performance.now();
  const result = await imaginationBasedPlanner.run(config, { dataDir, workers: 1 });
  assert.ok(performance.now() - started < 30_000);
  assert.deepEqual(result.claims.map((c) => c.id), ["return-rises-with-imagination"]);
  assert.equal(typeof result.claims[0].holds, "boolean");
  for (const seed of result.metrics.seeds) {
    assert.equal(seed.budgets.length, 4);
    seed.budgets.forEach((score, b) => {
      assert.ok(Number.isFinite(score.meanLoss) && score.meanLoss > 0);
      assert.equal(score.meanSteps, config.imaginationSteps[b]);
    });
    assert.ok(seed.manager.meanSteps >= 0 && seed.manager.meanSteps <= config.manager.maxSteps);
  }
  const figures = await imaginationBasedPlanner.drawFigures!(result, dataDir);
  assert.equal(figures.length, 2);
  const strip = (m: ImaginationPlannerMetrics) =>
    JSON.stringify(m, (key, value) => (key === "seconds" ? undefined : value));
  const again = await imaginationBasedPlanner.run(config, { dataDir, workers: 1 });
  assert.equal(strip(again.metrics), strip(result.metrics));
  // Seeded: a fresh run learns and plays the same.
  const fresh = await Deno.makeTempDir({ prefix: "imagination-planner-fresh-" });
  const other = await imaginationBasedPlanner.run(config, { dataDir: fresh, workers: 1 });
  assert.equal(strip(other.metrics), strip(result.metrics));
  await Deno.remove(dataDir, { recursive: true });
  await Deno.remove(fresh, { recursive: true });
});

function score(meanLoss: number, routes = { "1-step": 0, "n-step": 0, "tree": 0 }): PlannerScore {
  return { meanLoss, meanSteps: 0, routes, curve: [], seconds: 0 };
}

Deno.test("imagination-based-planner claim rule", () => {
  // Per budget (0, 1, 3, 5 steps), the per-seed losses.
  const metrics = (losses: number[][]): ImaginationPlannerMetrics => ({
    imaginationSteps: [0, 1, 3, 5],
    budgetStrategy: "1-step",
    evaluationEpisodes: 100,
    seeds: losses[0].map((_, seed) => ({
      seed,
      modelError: 0,
      budgets: losses.map((perSeed) => score(perSeed[seed])),
      manager: score(0.2),
    })),
  });
  const holds = (losses: number[][]) => imaginationPlannerClaims(metrics(losses))[0].holds;
  assert.equal(
    holds([[0.5, 0.52, 0.48], [0.4, 0.42, 0.38], [0.3, 0.32, 0.28], [0.2, 0.22, 0.18]]),
    true,
  );
  // A gain inside the spread over seeds does not count.
  assert.equal(
    holds([[0.5, 0.7, 0.3], [0.5, 0.7, 0.3], [0.45, 0.65, 0.25], [0.4, 0.6, 0.2]]),
    false,
  );
  // A rise overall with a drop larger than the spread on the way does not count.
  assert.equal(
    holds([[0.5, 0.5, 0.5], [0.2, 0.2, 0.2], [0.45, 0.45, 0.45], [0.1, 0.1, 0.1]]),
    false,
  );
  // A dip within the spread is allowed.
  assert.equal(
    holds([[0.5, 0.52, 0.48], [0.3, 0.32, 0.28], [0.31, 0.33, 0.29], [0.2, 0.22, 0.18]]),
    true,
  );
  assert.deepEqual(routeShares(score(0, { "1-step": 1, "n-step": 3, "tree": 0 })), {
    "1-step": 0.25,
    "n-step": 0.75,
    "tree": 0,
  });
});
