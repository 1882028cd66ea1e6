/**
 * `vq-planning` at the quick budget: every stage and claim runs end to end, deterministically,
 * a rerun reads the stages back, bad configs name the field, and the claim rules decide from the
 * numbers they are given.
 */
import assert from "node:assert/strict";
import { UserError } from "../../../lib/errors.ts";
import { resolveConfig } from "../../../lib/experiments/runner.ts";
import { getExperiment } from "../../../lib/experiments/registry.ts";
import { vqPlanning } from "../../../lib/experiments/vq-planning/experiment.ts";
import { vqPlanningClaims } from "../../../lib/experiments/vq-planning/claims.ts";
import type {
  FrameCodes,
  ModelRun,
  OpponentResult,
  VqPlanningMetrics,
} from "../../../lib/experiments/vq-planning/config.ts";
import type { MatchRecord } from "../../../lib/agents/muzero_play.ts";
import { agentOf, datasetOf } from "../../../lib/experiments/vq-planning/stages.ts";

Deno.test("vq-planning: registry, budgets and config errors", () => {
  assert.equal(getExperiment("vq-planning"), vqPlanning);
  for (const budget of ["quick", "laptop", "paper"] as const) {
    const config = resolveConfig(vqPlanning, budget);
    if (budget !== "quick") assert.ok(config.seeds.length >= 3, "at least 3 seeds");
    assert.ok(config.agent.model.numCodes > 1);
  }
  assert.ok(vqPlanning.expectedSeconds.quick < 60);
  assert.ok(vqPlanning.expectedSeconds.laptop <= 3600);
  assert.throws(
    () => resolveConfig(vqPlanning, "quick", { overrides: { "agent.model.numCodes": 0 } }),
    (error: unknown) =>
      error instanceof UserError && error.message.includes("agent.model.numCodes"),
  );
});

Deno.test("vq-planning: both models learn from the same games and differ only in codes", () => {
  const config = resolveConfig(vqPlanning, "quick");
  const a = datasetOf(config, "stochastic", 0);
  const b = datasetOf(config, "stochastic", 0);
  assert.deepEqual(a.records, b.records);
  const vq = agentOf(config, "vq");
  const deterministic = agentOf(config, "deterministic");
  assert.equal(deterministic.model.numCodes, 1);
  assert.deepEqual({ ...vq.model, numCodes: 1 }, deterministic.model);
  assert.deepEqual(vq.training, deterministic.training);
  assert.deepEqual(vq.search, deterministic.search);
});

Deno.test("vq-planning runs end to end at the quick budget, and reruns read it back", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "vq-planning-" });
  const config = resolveConfig(vqPlanning, "quick");
  const started = performance.now();
  const result = await vqPlanning.run(config, { dataDir, budget: "quick", workers: 1 });
  assert.ok(performance.now() - started < 60_000, "the quick budget takes under a minute");
  assert.deepEqual(result.claims.map((c) => c.id), [
    "vq-plans-under-randomness",
    "equal-when-deterministic",
    "categorical-codes-like-vq",
  ]);
  const games = config.evaluation.games;
  for (const opponent of result.metrics.opponents) {
    for (const seed of opponent.seeds) {
      for (const run of [seed.vq, seed.deterministic]) {
        assert.equal(run.searched.games, games);
        assert.equal(run.searched.wins + run.searched.draws + run.searched.losses, games);
      }
      assert.equal(seed.deterministic.codes.distinct, 1, "one code, one outcome");
    }
    // The ceiling is exact expectimax: nothing loses less against the same opponent.
    assert.equal(opponent.optimal.losses, 0);
  }
  const figures = await vqPlanning.drawFigures!(result, dataDir);
  assert.equal(figures.length, 3);
  for (const path of figures) assert.match(await Deno.readTextFile(path), /<svg/);
  const rerun = performance.now();
  const again = await vqPlanning.run(config, { dataDir, budget: "quick", workers: 1 });
  assert.ok(performance.now() - rerun < 3000, "stages were recomputed");
  const strip = (metrics: VqPlanningMetrics) =>
    JSON.stringify(metrics, (key, value) => (key === "trainingSeconds" ? undefined : value));
  assert.equal(strip(again.metrics), strip(result.metrics));
  // Seeded: a fresh run gives the same games.
  const fresh = await Deno.makeTempDir({ prefix: "vq-planning-fresh-" });
  const other = await vqPlanning.run(config, { dataDir: fresh, budget: "quick", workers: 1 });
  assert.equal(strip(other.metrics), strip(result.metrics));
  await Deno.remove(dataDir, { recursive: true });
  await Deno.remove(fresh, { recursive: true });
});

function record(wins: number, games = 100): MatchRecord {
  return { games, wins, draws: games - wins, losses: 0 };
}

function run(wins: number): ModelRun {
  return {
    searched: record(wins),
    prior: record(wins),
    curve: [],
    codes: { distinct: 1, perplexity: 1 },
    trainingSeconds: 0,
  };
}

function opponent(kind: "stochastic" | "deterministic", vq: number[], det: number[]) {
  return {
    opponent: kind,
    randomShare: kind === "stochastic" ? 0.5 : 0,
    optimal: record(90),
    tactical: record(70),
    seeds: vq.map((wins, seed) => ({ seed, vq: run(wins), deterministic: run(det[seed]) })),
  } satisfies OpponentResult;
}

function codes(crossEntropy: number, maxProbability: number): FrameCodes {
  return {
    crossEntropy,
    wrongCells: 1,
    perplexity: 4,
    distinctCodes: 10,
    maxProbability,
    curve: [],
  };
}

function metrics(
  stochastic: [number[], number[]],
  deterministic: [number[], number[]],
  frames: [number, number, number] = [10, 12, 0.8],
): VqPlanningMetrics {
  return {
    simulations: 50,
    numCodes: 16,
    opponents: [
      opponent("stochastic", ...stochastic),
      opponent("deterministic", ...deterministic),
    ],
    frames: {
      game: "MinAtar/Breakout-v0",
      classes: 32,
      variables: 32,
      litCells: 5,
      seeds: [{ seed: 0, codebook: codes(frames[0], 1), categorical: codes(frames[1], frames[2]) }],
    },
  };
}

Deno.test("vq-planning claim rules", () => {
  const holds = (m: VqPlanningMetrics) => vqPlanningClaims(m).map((c) => c.holds);
  // Means 75% and 65%; population std of (70, 75, 80) is 4.1 points: a gap of 10 > 4.1.
  const tight: [number[], number[]] = [[70, 75, 80], [65, 65, 65]];
  const same: [number[], number[]] = [[60, 62, 64], [61, 62, 63]];
  assert.deepEqual(holds(metrics(tight, same)), [true, true, true]);
  // A gap smaller than the spread does not count, nor does a deterministic gap beyond it.
  assert.deepEqual(holds(metrics([[60, 75, 90], [65, 65, 65]], same)).slice(0, 1), [false]);
  assert.deepEqual(holds(metrics(tight, [[70, 71, 72], [60, 61, 62]])).slice(1, 2), [false]);
  // The deterministic model ahead is no win for the VQ model, however tight.
  assert.deepEqual(holds(metrics([[60, 60, 60], [70, 70, 70]], same)).slice(0, 1), [false]);
  // Frames: within a factor 2 and a soft posterior.
  assert.equal(holds(metrics(tight, same, [10, 25, 0.8]))[2], false);
  assert.equal(holds(metrics(tight, same, [10, 12, 0.99]))[2], false);
});
