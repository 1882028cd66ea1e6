import assert from "node:assert/strict";
import {
  comparison,
  comparisonRows,
  comparisonTable,
} from "../../../lib/experiments/comparison/experiment.ts";
import { curveFrom, valuesAtStep } from "../../../lib/experiments/shared_tasks.ts";
import type { ExperimentResult } from "../../../lib/experiments/types.ts";
import { getExperiment } from "../../../lib/experiments/registry.ts";

function result(experiment: string, metrics: unknown): ExperimentResult<unknown> {
  return {
    experiment,
    paper: "",
    budget: "laptop",
    command: `deno task reproduce ${experiment} --budget laptop`,
    seeds: [0, 1],
    backend: "wasm",
    wallSeconds: 120,
    claims: [],
    metrics,
  };
}

Deno.test("valuesAtStep reads the last point at or before the step", () => {
  const [curve] = curveFrom("t", "m", "return", {
    envSteps: [1000, 2000, 3000],
    perSeed: [[1, 2, 3], [10, 20, 30]],
  });
  assert.deepEqual(valuesAtStep(curve, 2500), [2, 20]);
  assert.deepEqual(valuesAtStep(curve, 3000), [3, 30]);
  assert.equal(valuesAtStep(curve, 999), null);
});

Deno.test("comparison rows meet at the steps every method reached and name their command", () => {
  const lookup = (name: string) => ({
    sharedTasks: (r: ExperimentResult<unknown>) => {
      const m = r.metrics as Record<string, { envSteps: number[]; perSeed: number[][] }>;
      return Object.keys(m).flatMap((method) => curveFrom("swingup", method, "return", m[method]));
    },
    name,
  });
  const rows = comparisonRows([
    result("fast", { A: { envSteps: [100, 200, 300], perSeed: [[1, 2, 3], [3, 4, 5]] } }),
    result("slow", { B: { envSteps: [150, 250], perSeed: [[7, 9], [7, 11]] } }),
    result("other-task-free", {}),
  ], lookup);
  assert.equal(rows.length, 2);
  // B stops at 250 steps, so A is read at 200 (its last point at or before 250).
  const a = rows.find((r) => r.method === "A")!;
  const b = rows.find((r) => r.method === "B")!;
  assert.equal(a.envSteps, 250);
  assert.equal(a.meanReturn, 3);
  assert.equal(b.meanReturn, 10);
  assert.equal(b.stdReturn, 1);
  for (const row of rows) {
    assert.equal(row.command, `deno task reproduce ${row.experiment} --budget laptop`);
  }
  const table = comparisonTable(rows);
  assert.ok(table.includes("`deno task reproduce slow --budget laptop`"));
});

Deno.test("the registered swing-up experiments report their curves on the shared task", () => {
  const curve = { envSteps: [1000, 2000], mean: [0, 0], std: [0, 0], perSeed: [[1, 2]] };
  const dreamer = getExperiment("dreamer-cartpole-swingup");
  const planet = getExperiment("planet-cartpole-swingup");
  const fromDreamer = dreamer.sharedTasks!(
    result("dreamer-cartpole-swingup", { dreamer: curve, planet: curve, sac: curve }),
  );
  const fromPlanet = planet.sharedTasks!(
    result("planet-cartpole-swingup", { planet: curve, sac: curve }),
  );
  assert.deepEqual(fromDreamer.map((c) => c.method), ["Dreamer", "PlaNet", "SAC"]);
  assert.deepEqual(fromPlanet.map((c) => c.method), ["PlaNet", "SAC"]);
  for (const c of [...fromDreamer, ...fromPlanet]) assert.equal(c.task, "cartpole-swingup");
});

Deno.test("the comparison reads a folder of results files and skips its own", async () => {
  const dir = await Deno.makeTempDir({ prefix: "comparison-" });
  try {
    const curve = { envSteps: [1000, 2000], mean: [0, 0], std: [0, 0], perSeed: [[1, 2], [3, 4]] };
    await Deno.writeTextFile(
      `${dir}/planet-cartpole-swingup.json`,
      JSON.stringify(result("planet-cartpole-swingup", { planet: curve, sac: curve })),
    );
    await Deno.writeTextFile(`${dir}/comparison.json`, "not read");
    const run = await comparison.run({ resultsDir: dir });
    assert.deepEqual(run.metrics.sources, ["planet-cartpole-swingup"]);
    assert.deepEqual(run.metrics.rows.map((r) => [r.method, r.envSteps, r.meanReturn]), [
      ["PlaNet", 2000, 3],
      ["SAC", 2000, 3],
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the MinAtar experiments' greedy scores after training meet on the same game", () => {
  const steps = 100_000;
  const dreamer = result("dreamerv2-minatar", {
    environmentSteps: steps,
    games: [{ game: "breakout", dreamer: { final: [4, 6] }, dqn: { final: [1, 3] } }],
  });
  const efficientZero = result("efficientzero-minatar", {
    environmentSteps: steps,
    games: [{
      game: "breakout",
      variants: { muzero: { final: [5, 5] }, efficientzero: { final: [7, 9] } },
      dqn: { final: [2, 2] },
      dreamer: null,
    }],
  });
  const rows = comparisonRows([dreamer, efficientZero], getExperiment);
  assert.deepEqual(
    rows.map((r) => [r.task, r.method, r.envSteps, r.meanReturn, r.experiment]),
    [
      ["breakout", "DreamerV2", steps, 5, "dreamerv2-minatar"],
      ["breakout", "DQN", steps, 2, "dreamerv2-minatar"],
      ["breakout", "MuZero", steps, 5, "efficientzero-minatar"],
      ["breakout", "EfficientZero", steps, 8, "efficientzero-minatar"],
      ["breakout", "DQN", steps, 2, "efficientzero-minatar"],
    ],
  );
});

Deno.test("scores measured after runs of different lengths meet at their own steps", () => {
  const dreamer = result("dreamerv2-minatar", {
    environmentSteps: 12_000,
    games: [{ game: "breakout", dreamer: { final: [0, 0] }, dqn: { final: [2, 3] } }],
  });
  const efficientZero = result("efficientzero-minatar", {
    environmentSteps: 15_000,
    games: [{
      game: "breakout",
      variants: {
        muzero: { final: [1, 1] },
        efficientzero: { final: [2, 2] },
        "no-consistency": { final: [3, 3] },
      },
      dqn: { final: [4, 4] },
      dreamer: { final: [0, 1] },
    }],
  });
  const rows = comparisonRows([dreamer, efficientZero], getExperiment);
  assert.deepEqual(rows.map((r) => [r.method, r.envSteps, r.meanReturn]), [
    ["DreamerV2", 12_000, 0],
    ["DQN", 12_000, 2.5],
    ["MuZero", 15_000, 1],
    ["EfficientZero", 15_000, 2],
    ["DQN", 15_000, 4],
    ["DreamerV2", 15_000, 0.5],
  ]);
});

Deno.test("a method with the same numbers from two results files is listed once", () => {
  const curve = { envSteps: [1000, 2000], mean: [0, 0], std: [0, 0], perSeed: [[1, 2], [3, 5]] };
  const rows = comparisonRows([
    result("planet-cartpole-swingup", { planet: curve, sac: curve }),
    result("dreamer-cartpole-swingup", { dreamer: curve, planet: curve, sac: curve }),
  ], getExperiment);
  assert.deepEqual(rows.map((r) => [r.method, r.experiment, r.finalMeanReturn]), [
    ["PlaNet", "planet-cartpole-swingup", 3.5],
    ["SAC", "planet-cartpole-swingup", 3.5],
    ["Dreamer", "dreamer-cartpole-swingup", 3.5],
  ]);
});
