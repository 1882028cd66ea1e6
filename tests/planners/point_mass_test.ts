import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import { Rng } from "../../lib/rng.ts";
import { PointMass, solveLinearSystem } from "../../lib/planners/point_mass.ts";

function modelReturns(model: PointMass, start: number[], sequences: Float32Array, horizon: number) {
  return tf.tidy(() => {
    const actions = tf.tensor3d(sequences, [
      sequences.length / (horizon * model.dimensions),
      horizon,
      model.dimensions,
    ]);
    return Array.from(model.imagine(start, actions).dataSync());
  });
}

Deno.test("point mass", async (t) => {
  await t.step("constant force from rest follows p = dt^2 u H(H+1)/2", () => {
    const dt = 0.1;
    const model = new PointMass({ dimensions: 1, goal: [0], timeStep: dt, reward: "distance" });
    const horizon = 5;
    // The return sums -|p_t| over the steps; with u = 0.5 every position is positive.
    let expected = 0;
    for (let step = 1; step <= horizon; step++) expected -= dt * dt * 0.5 * step * (step + 1) / 2;
    const sequence = new Float32Array(horizon).fill(0.5);
    assert.ok(Math.abs(model.returnOf([0, 0], sequence) - expected) < 1e-12);
    const [fromTensors] = modelReturns(model, [0, 0], sequence, horizon);
    assert.ok(Math.abs(fromTensors - expected) < 1e-5);
  });

  await t.step("batched imagine matches the double-precision rollout", () => {
    const rng = new Rng(3);
    for (const reward of ["distance", "quadratic"] as const) {
      const model = new PointMass({ dimensions: 2, goal: [0.4, -0.2], reward, timeStep: 0.2 });
      const horizon = 7;
      const count = 16;
      const sequences = new Float32Array(count * horizon * 2);
      // Some forces beyond the bound, which both paths must clip.
      for (let i = 0; i < sequences.length; i++) sequences[i] = rng.uniform(-1.5, 1.5);
      const start = [0.1, -0.3, 0.2, 0.05];
      const returns = modelReturns(model, start, sequences, horizon);
      for (let c = 0; c < count; c++) {
        const exact = model.returnOf(
          start,
          sequences.subarray(c * horizon * 2, (c + 1) * horizon * 2),
        );
        assert.ok(
          Math.abs(returns[c] - exact) < 1e-4,
          `${reward} candidate ${c}: ${returns[c]} vs ${exact}`,
        );
      }
    }
  });

  await t.step("the quadratic optimum is a stationary maximum inside the bounds", () => {
    const model = new PointMass({
      dimensions: 2,
      goal: [0.4, -0.3],
      reward: "quadratic",
      timeStep: 0.25,
      actionCost: 0.1,
    });
    const start = [0, 0, 0.1, 0];
    const horizon = 12;
    const plan = model.optimalPlan(start, horizon);
    const best = model.returnOf(start, plan);
    const epsilon = 1e-3;
    for (let i = 0; i < plan.length; i++) {
      for (const delta of [-epsilon, epsilon]) {
        const moved = Float64Array.from(plan);
        moved[i] += delta;
        // A maximum of a concave quadratic: every nudge costs about delta^2 times the curvature.
        assert.ok(model.returnOf(start, moved) < best, `nudging force ${i} by ${delta} helped`);
      }
    }
    const rng = new Rng(1);
    for (let trial = 0; trial < 200; trial++) {
      const other = new Float64Array(plan.length).map(() => rng.uniform(-1, 1));
      assert.ok(model.returnOf(start, other) < best);
    }
  });

  await t.step(
    "full force is optimal for a distance goal out of reach, and refused in reach",
    () => {
      const model = new PointMass({ dimensions: 1, goal: [-3], reward: "distance" });
      const plan = model.optimalPlan([0, 0], 12);
      assert.deepEqual(Array.from(plan), new Array(12).fill(-1));
      const near = new PointMass({ dimensions: 1, goal: [0.2], reward: "distance" });
      assert.throws(() => near.optimalPlan([0, 0], 12), /in reach/);
      const plane = new PointMass({ dimensions: 2, goal: [3, 3], reward: "distance" });
      assert.throws(() => plane.optimalPlan([0, 0, 0, 0], 12), /dimensions 1/);
    },
  );

  await t.step("a quadratic optimum beyond the bounds is refused", () => {
    const model = new PointMass({ dimensions: 1, goal: [5], reward: "quadratic", actionCost: 0 });
    assert.throws(() => model.optimalPlan([0, 0], 12), /beyond the bound/);
  });

  await t.step("solveLinearSystem solves a system that needs pivoting", () => {
    const x = solveLinearSystem([[0, 2, 1], [1, 1, 0], [3, 0, 1]], [7, 3, 6]);
    // Solution (1, 2, 3): 0+4+3 = 7, 1+2 = 3, 3+3 = 6.
    [1, 2, 3].forEach((v, i) => assert.ok(Math.abs(x[i] - v) < 1e-12));
  });

  await t.step("a wrongly sized start state is a clear error", () => {
    const model = new PointMass({ dimensions: 2, goal: [0, 0] });
    assert.throws(() => model.returnOf([0, 0], [0, 0]), /4 values/);
  });
});
