import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import { Rng } from "../../lib/rng.ts";
import { randomShootingPlan } from "../../lib/planners/random_shooting.ts";
import { PointMass } from "../../lib/planners/point_mass.ts";
import type { ImaginationModel } from "../../lib/planners/types.ts";

/** Return = sum of all actions; remembers every candidate it was shown. */
function summingModel(): ImaginationModel<null> & { seen: Float32Array[] } {
  const seen: Float32Array[] = [];
  return {
    seen,
    imagine(_state, sequences) {
      seen.push(sequences.dataSync() as Float32Array);
      return tf.sum(sequences, [1, 2]) as tf.Tensor1D;
    },
  };
}

const base = { planningHorizon: 3, actionSize: 2, actionLow: [0, -2], actionHigh: [2, -1] };

Deno.test("random shooting planner", async (t) => {
  await t.step("returns the best of the candidates it sampled, inside the bounds", () => {
    const model = summingModel();
    const result = randomShootingPlan(model, null, { ...base, candidates: 64 }, new Rng(2));
    const all = model.seen[0];
    let best = -Infinity;
    let bestIndex = -1;
    for (let c = 0; c < 64; c++) {
      let sum = 0;
      for (let i = 0; i < 6; i++) {
        const value = all[c * 6 + i];
        const dim = i % 2;
        assert.ok(value >= base.actionLow[dim] && value <= base.actionHigh[dim]);
        sum += value;
      }
      if (sum > best) [best, bestIndex] = [sum, c];
    }
    assert.deepEqual(result.plan, all.slice(bestIndex * 6, bestIndex * 6 + 6));
    assert.ok(Math.abs(result.predictedReturn - best) < 1e-5);
    assert.equal(result.modelEvaluations, 64);
  });

  await t.step("evaluating in chunks gives the same plan as one pass", () => {
    const whole = randomShootingPlan(
      summingModel(),
      null,
      { ...base, candidates: 100 },
      new Rng(5),
    );
    const model = summingModel();
    const chunked = randomShootingPlan(
      model,
      null,
      { ...base, candidates: 100, chunkSize: 30 },
      new Rng(5),
    );
    assert.deepEqual(chunked.plan, whole.plan);
    assert.deepEqual(model.seen.map((s) => s.length / 6), [30, 30, 30, 10]);
  });

  await t.step("golden seeded run on the point mass", () => {
    const model = new PointMass({
      dimensions: 2,
      goal: [0.4, -0.3],
      reward: "quadratic",
      timeStep: 0.25,
      actionCost: 0.1,
    });
    const result = randomShootingPlan(model, [0, 0, 0.1, 0], {
      planningHorizon: 4,
      actionSize: 2,
      actionLow: -1,
      actionHigh: 1,
      candidates: 50,
    }, new Rng(7));
    const golden = [0.33392, -0.32056588, 0.44571844, -0.50119638];
    golden.forEach((v, i) => assert.ok(Math.abs(result.plan[i] - v) < 1e-6, `plan[${i}]`));
    assert.ok(Math.abs(result.predictedReturn - -0.5280585) < 1e-5);
  });

  await t.step("normal sampling is clipped to the bounds", () => {
    const model = summingModel();
    randomShootingPlan(model, null, { ...base, candidates: 200, sampling: "normal" }, new Rng(1));
    const values = model.seen[0];
    for (let i = 0; i < values.length; i++) {
      // N(0, 1) in [0, 2] and [-2, -1]: many samples land on the bounds.
      const dim = i % 2;
      assert.ok(values[i] >= base.actionLow[dim] && values[i] <= base.actionHigh[dim]);
    }
  });

  await t.step("tensor count stays flat", () => {
    const model = new PointMass({ dimensions: 1, goal: [1] });
    const options = { planningHorizon: 5, actionSize: 1, actionLow: -1, actionHigh: 1 };
    randomShootingPlan(model, [0, 0], { ...options, candidates: 300 }, new Rng(0));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 30; i++) {
      randomShootingPlan(
        model,
        [0, 0],
        { ...options, candidates: 300, chunkSize: 128 },
        new Rng(i),
      );
    }
    assert.equal(tf.memory().numTensors, before);
  });
});
