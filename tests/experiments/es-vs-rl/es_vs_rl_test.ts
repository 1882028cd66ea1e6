import assert from "node:assert/strict";
import { esToRlRatio, esVsRlClaims } from "../../../lib/experiments/es-vs-rl/claims.ts";
import type { EsVsRlMetrics, EsVsRlRow, Method } from "../../../lib/experiments/es-vs-rl/config.ts";
import {
  acrobotTipHeight,
  goalScore,
  makeTaskEnv,
  mountainCarEnergy,
  type RewardKind,
  type TaskName,
} from "../../../lib/experiments/es-vs-rl/tasks.ts";
import { esVsRlBudgets, esVsRlSparse } from "../../../lib/experiments/es-vs-rl/experiment.ts";
import { esVsRlStageJobs, runEsVsRlStage } from "../../../lib/experiments/es-vs-rl/stages.ts";

function row(task: TaskName, reward: RewardKind, method: Method, score: number, seed = 0) {
  return {
    task,
    reward,
    method,
    seed,
    result: { score, evaluationReturn: 0, curve: [], environmentSteps: 100, seconds: 0 },
  } satisfies EsVsRlRow;
}

function metricsOf(runs: EsVsRlRow[]): EsVsRlMetrics {
  return { environmentSteps: 100, parameterCounts: {}, runs };
}

Deno.test("the claim holds where sparsity costs RL more than ES, and the rule uses the better RL", () => {
  const metrics = metricsOf([
    // Mountain car: ES 0.5 vs best RL (SAC) 1.0 dense; ES 0.5 vs best RL (PPO) 0.1 sparse.
    row("mountain-car", "dense", "openai-es", 0.5),
    row("mountain-car", "dense", "ppo", 0.2),
    row("mountain-car", "dense", "sac", 1.0),
    row("mountain-car", "sparse", "openai-es", 0.5),
    row("mountain-car", "sparse", "ppo", 0.1),
    row("mountain-car", "sparse", "sac", 0.0),
    // Acrobot: RL keeps its lead under the sparse reward.
    row("acrobot", "dense", "openai-es", 0.2),
    row("acrobot", "dense", "ppo", 0.8),
    row("acrobot", "sparse", "openai-es", 0.1),
    row("acrobot", "sparse", "ppo", 0.8),
  ]);
  assert.ok(Math.abs(esToRlRatio(metrics, "mountain-car", "dense")! - 0.51 / 1.01) < 1e-12);
  assert.ok(Math.abs(esToRlRatio(metrics, "mountain-car", "sparse")! - 0.51 / 0.11) < 1e-12);
  assert.equal(esToRlRatio(metrics, "swingup", "dense"), null);
  const claims = esVsRlClaims(metrics, ["mountain-car", "swingup", "acrobot"]);
  const byId = Object.fromEntries(claims.map((c) => [c.id, c.holds]));
  assert.deepEqual(byId, {
    "sparse-favours-es-mountain-car": true,
    "sparse-favours-es-acrobot": false,
    // One of two tasks is not a majority.
    "sparse-favours-es": false,
  });
});

Deno.test("goal scores follow each task's rule", () => {
  const episode = { decisions: 100, terminated: true, goalDecisions: 25, maxDecisions: 250 };
  assert.equal(goalScore("mountain-car", episode), 1);
  assert.equal(goalScore("mountain-car", { ...episode, terminated: false }), 0);
  assert.equal(goalScore("swingup", episode), 0.1);
  assert.equal(goalScore("acrobot", { ...episode, maxDecisions: 500 }), 0.8);
  assert.equal(goalScore("acrobot", { ...episode, terminated: false }), 0);
});

Deno.test("the shaping potentials read the right physics off the observations", () => {
  // Acrobot hanging straight down: tip 2 link lengths below the pivot; straight up: 2 above.
  assert.equal(acrobotTipHeight([1, 0, 1, 0]), -2);
  assert.equal(acrobotTipHeight([-1, 0, 1, 0]), 2);
  // Mountain car: the energy rises with height and with speed.
  assert.ok(mountainCarEnergy([0.4, 0]) > mountainCarEnergy([-0.5, 0]));
  assert.ok(mountainCarEnergy([-0.5, 0.05]) > mountainCarEnergy([-0.5, 0]));
});

Deno.test("the sparse swing-up pays nothing while the pole hangs, the dense one does", () => {
  const dense = makeTaskEnv("swingup", "dense", 100);
  const sparse = makeTaskEnv("swingup", "sparse", 100);
  dense.reset(0);
  sparse.reset(0);
  let denseTotal = 0, sparseTotal = 0;
  for (let t = 0; t < 25; t++) {
    denseTotal += dense.step([0]).reward;
    sparseTotal += sparse.step([0]).reward;
  }
  assert.equal(sparseTotal, 0);
  assert.ok(denseTotal > 0);
});

Deno.test("es-vs-rl-sparse budgets parse, keep one network size, and stage jobs carry weights", () => {
  for (const config of Object.values(esVsRlBudgets)) esVsRlSparse.configSchema.parse(config);
  assert.ok(esVsRlBudgets.laptop.seeds.length >= 5);
  assert.throws(
    () =>
      esVsRlSparse.configSchema.parse({
        ...esVsRlBudgets.quick,
        openaiEs: { ...esVsRlBudgets.quick.openaiEs, populationSize: 5 },
      }),
    /even/,
  );
  const jobs = esVsRlStageJobs(esVsRlBudgets.quick, "/nowhere");
  assert.equal(jobs.length, 3 * 2 * 3 * 2);
  // SAC steps cost most, so its jobs come first and weigh more.
  assert.ok(jobs[0].label.startsWith("sac") && jobs[0].weight! > jobs.at(-1)!.weight!);
});

Deno.test("one stage of each learner runs at equal steps and scores in [0, 1]", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "es-vs-rl-" });
  // Generations of four episodes of at most 100 steps fit; SAC and PPO spend exactly the budget.
  const config = { ...esVsRlBudgets.quick, environmentSteps: 1600 };
  try {
    for (const method of ["openai-es", "cma-es", "ppo", "sac"] as const) {
      const stage = { task: "acrobot" as const, reward: "sparse" as const, method, seed: 0 };
      const { value } = await runEsVsRlStage({ config, dataDir, stage }, () => {});
      assert.ok(value.score >= 0 && value.score <= 1, `${method} score ${value.score}`);
      assert.ok(value.environmentSteps <= 1600, `${method} spent ${value.environmentSteps}`);
      // A rerun reads the stage file back.
      const again = await runEsVsRlStage({ config, dataDir, stage }, () => {});
      assert.deepEqual(again.value, value);
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
