import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import { Rng } from "../../lib/rng.ts";
import {
  cemModelEvaluations,
  type CemOptions,
  cemPlan,
  CemPlanner,
  PLANET_CEM_SETTINGS,
} from "../../lib/planners/cem.ts";
import { randomShootingPlan } from "../../lib/planners/random_shooting.ts";
import { PointMass } from "../../lib/planners/point_mass.ts";
import type { ImaginationModel } from "../../lib/planners/types.ts";

const PAPER = { ...PLANET_CEM_SETTINGS, actionSize: 1 };

/** A goal beyond reach on a line: full force towards it at every step is optimal. */
const farGoal = new PointMass({ dimensions: 1, goal: [3], reward: "distance", timeStep: 0.1 });
/** A quadratic reward whose optimum lies strictly inside the force bounds. */
const innerOptimum = new PointMass({
  dimensions: 1,
  goal: [0.3],
  reward: "quadratic",
  timeStep: 0.25,
  actionCost: 0.1,
});
const innerPlane = new PointMass({
  dimensions: 2,
  goal: [0.4, -0.3],
  reward: "quadratic",
  timeStep: 0.25,
  actionCost: 0.1,
});

Deno.test("CEM planner", async (t) => {
  await t.step("finds the full-force optimum at the paper's settings", () => {
    const start = [0, 0];
    const optimum = farGoal.returnOf(start, farGoal.optimalPlan(start, 12));
    for (const seed of [0, 1]) {
      const result = cemPlan(farGoal, start, PAPER, new Rng(seed));
      assert.ok(result.action[0] > 0.99, `first action ${result.action[0]}, optimal 1`);
      const gap = optimum - farGoal.returnOf(start, result.plan);
      // The return is about -32; a gap of 0.1 is 0.3%.
      assert.ok(gap >= 0 && gap < 0.1, `return gap ${gap}`);
      assert.equal(result.modelEvaluations, 10_000);
    }
  });

  await t.step("finds an optimum inside the bounds, first action included", () => {
    const start = [0, 0.2];
    const optimalPlan = innerOptimum.optimalPlan(start, 12);
    const optimum = innerOptimum.returnOf(start, optimalPlan);
    for (const seed of [0, 1]) {
      const result = cemPlan(innerOptimum, start, PAPER, new Rng(seed));
      const gap = optimum - innerOptimum.returnOf(start, result.plan);
      assert.ok(gap >= 0 && gap < 1e-3, `return gap ${gap}`);
      assert.ok(
        Math.abs(result.action[0] - optimalPlan[0]) < 0.03,
        `first action ${result.action[0]}, optimal ${optimalPlan[0]}`,
      );
    }
  });

  await t.step("beats random shooting at the same number of model evaluations", () => {
    const problems: [PointMass, number[]][] = [[farGoal, [0, 0]], [innerPlane, [0, 0, 0.1, 0]]];
    for (const [model, start] of problems) {
      const options = { ...PLANET_CEM_SETTINGS, actionSize: model.actionSize };
      const optimum = model.returnOf(start, model.optimalPlan(start, 12));
      for (const seed of [0, 1]) {
        const cem = cemPlan(model, start, options, new Rng(seed));
        const shooting = randomShootingPlan(
          model,
          start,
          { ...options, candidates: cemModelEvaluations(options) },
          new Rng(seed),
        );
        assert.equal(shooting.modelEvaluations, cem.modelEvaluations);
        const cemGap = optimum - model.returnOf(start, cem.plan);
        const shootingGap = optimum - model.returnOf(start, shooting.plan);
        // In 12 or 24 dimensions, 10,000 blind samples land far from the optimum.
        assert.ok(cemGap * 5 < shootingGap, `CEM gap ${cemGap}, random shooting ${shootingGap}`);
      }
    }
  });

  await t.step("golden seeded run", () => {
    const options: CemOptions = {
      planningHorizon: 4,
      actionSize: 2,
      actionLow: -1,
      actionHigh: 1,
      candidates: 50,
      elites: 5,
      iterations: 3,
    };
    const result = cemPlan(innerPlane, [0, 0, 0.1, 0], options, new Rng(7));
    const golden = [0.70289266, -0.76629961, 0.66455972, -0.33730754, 0.18013875, -0.10312172];
    golden.forEach((v, i) => assert.ok(Math.abs(result.plan[i] - v) < 1e-5, `plan[${i}]`));
    assert.ok(Math.abs(result.predictedReturn - -0.4626028) < 1e-5);
    assert.ok(Math.abs(result.bestReturn - -0.4604962) < 1e-5);
    assert.deepEqual(result.action, result.plan.slice(0, 2));
    const again = cemPlan(innerPlane, [0, 0, 0.1, 0], options, new Rng(7));
    assert.deepEqual(again.plan, result.plan);
  });

  await t.step("actions stay inside asymmetric bounds", () => {
    const seen: number[] = [];
    const recorder: ImaginationModel<null> = {
      imagine(_state, sequences) {
        const values = sequences.dataSync();
        seen.push(Math.min(...values), Math.max(...values));
        return tf.sum(sequences, [1, 2]) as tf.Tensor1D;
      },
    };
    const result = cemPlan(recorder, null, {
      planningHorizon: 3,
      actionSize: 2,
      actionLow: [0, -2],
      actionHigh: [0.5, -1],
      candidates: 40,
      elites: 4,
      iterations: 4,
      initialStd: [1, 3],
    }, new Rng(0));
    assert.ok(Math.min(...seen) >= -2 && Math.max(...seen) <= 0.5);
    // Return = sum of actions, so the search pushes both dimensions to their upper bounds.
    assert.ok(result.action[0] > 0.45 && result.action[1] > -1.05, `${result.action}`);
  });

  await t.step("tensor count stays flat over many planning steps", () => {
    const planner = new CemPlanner<number[]>(
      { ...PLANET_CEM_SETTINGS, actionSize: 2, candidates: 100, elites: 10, iterations: 3 },
      new Rng(0),
      true,
    );
    const start = [0, 0, 0.1, 0];
    for (let i = 0; i < 3; i++) planner.plan(innerPlane, start);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 40; i++) planner.plan(innerPlane, start);
    assert.equal(tf.memory().numTensors, before);
  });

  await t.step("warm start begins from the previous plan shifted by one step", () => {
    const seenMeans: number[][] = [];
    // A model with no preference: every candidate scores 0, so the refit only averages samples.
    const indifferent: ImaginationModel<null> = {
      imagine(_state, sequences) {
        seenMeans.push(Array.from(tf.tidy(() => tf.mean(sequences, [0, 2])).dataSync()));
        return tf.zeros([sequences.shape[0]]) as tf.Tensor1D;
      },
    };
    const planner = new CemPlanner<null>(
      {
        planningHorizon: 3,
        actionSize: 1,
        actionLow: -10,
        actionHigh: 10,
        candidates: 4000,
        elites: 4000,
        iterations: 1,
        initialMean: [5, 6, 7],
        initialStd: 0.01,
      },
      new Rng(0),
      true,
    );
    const first = planner.plan(indifferent, null);
    const second = planner.plan(indifferent, null);
    // Second search starts at (6, 7, 0): the first plan shifted, zero appended.
    [6, 7, 0].forEach((v, i) => assert.ok(Math.abs(second.plan[i] - v) < 0.01));
    assert.ok(Math.abs(first.plan[0] - 5) < 0.01);
    planner.reset();
    const third = planner.plan(indifferent, null);
    assert.ok(Math.abs(third.plan[0] - 5) < 0.01);
    assert.equal(seenMeans.length, 3);
  });

  await t.step("bad settings and a model of the wrong shape fail clearly, leaking nothing", () => {
    const options = { ...PAPER, elites: 2000 };
    assert.throws(() => cemPlan(farGoal, [0, 0], options, new Rng(0)), /elites/);
    assert.throws(
      () => cemPlan(farGoal, [0, 0], { ...PAPER, actionLow: [1, 2] }, new Rng(0)),
      /actionLow/,
    );
    const before = tf.memory().numTensors;
    const wrong: ImaginationModel<null> = {
      imagine: (_state, sequences) => tf.zeros([sequences.shape[0], 1]) as unknown as tf.Tensor1D,
    };
    assert.throws(() => cemPlan(wrong, null, PAPER, new Rng(0)), /shape \[1000\]/);
    assert.equal(tf.memory().numTensors, before);
  });
});
