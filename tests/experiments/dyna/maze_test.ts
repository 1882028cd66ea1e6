import assert from "node:assert/strict";
import {
  dynaMaze,
  dynaMazeClaims,
  type DynaMazeMetrics,
  runDynaMaze,
} from "../../../lib/experiments/dyna/maze.ts";
import { resolveConfig, runExperiment } from "../../../lib/experiments/runner.ts";
import { UserError } from "../../../lib/errors.ts";

const book = { numEpisodes: 5, stepSize: 0.1, epsilon: 0.1, discount: 0.95 };

function metricsWith(episodes: Record<number, number | null>): DynaMazeMetrics {
  return {
    shortestPath: 14,
    optimalBand: 18,
    stepsPerEpisode: [0, 5, 50].map((n) => ({
      planningSteps: n,
      mean: [900, 300, 16, 16],
      std: [0, 0, 0, 0],
    })),
    episodesToOptimal: [0, 5, 50].map((n) => ({ planningSteps: n, episode: episodes[n] })),
    blocking: null,
  };
}

Deno.test("dyna-maze experiment", async (t) => {
  await t.step("golden seeded run: the same seed gives the same episode lengths", () => {
    const first = runDynaMaze(0, 5, book);
    assert.deepEqual(runDynaMaze(0, 5, book), first);
    assert.deepEqual(first, GOLDEN_N5_SEED0);
  });

  await t.step("the first episode is identical for every n (planning has its own stream)", () => {
    const lengths = [0, 5, 50].map((n) => runDynaMaze(1, n, book)[0]);
    assert.equal(new Set(lengths).size, 1);
  });

  await t.step("the claim rule follows the book's episode counts", () => {
    const holds = (episodes: Record<number, number | null>) =>
      dynaMazeClaims(metricsWith(episodes)).find((c) => c.id === "planning-speeds-learning")!
        .holds;
    assert.equal(holds({ 0: 25, 5: 5, 50: 3 }), true);
    assert.equal(holds({ 0: 25, 5: 5, 50: 9 }), false); // n = 50 too slow
    assert.equal(holds({ 0: 6, 5: 5, 50: 3 }), false); // no planning would be as fast
    assert.equal(holds({ 0: null, 5: 5, 50: 3 }), false); // never reached
  });

  await t.step("the quick budget reproduces the ordering n = 50 < n = 5 < n = 0", async () => {
    const result = await runExperiment(dynaMaze, { budget: "quick", dryRun: true });
    const episode = (n: number) =>
      result.metrics.episodesToOptimal.find((e) => e.planningSteps === n)!.episode!;
    assert.ok(episode(50) < episode(5) && episode(5) < episode(0));
    assert.equal(result.command, "deno task reproduce dyna-maze --budget quick");
  });

  await t.step("a config out of range is refused naming the field", () => {
    assert.throws(
      () => resolveConfig(dynaMaze, "quick", { overrides: { epsilon: 2 } }),
      (error: Error) => error instanceof UserError && /epsilon/.test(error.message),
    );
    assert.throws(
      () =>
        resolveConfig(dynaMaze, "quick", {
          overrides: { blocking: { ...dynaMaze.budgets.quick.blocking!, changeAt: 5000 } },
        }),
      /blocking\.changeAt/,
    );
  });
});

const GOLDEN_N5_SEED0 = [82, 152, 48, 34, 16];
