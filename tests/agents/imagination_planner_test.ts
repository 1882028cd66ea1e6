/**
 * The Imagination-based Planner: the controller's gradient through the learned model against
 * finite differences, the number of imagination steps each mode takes, a training step that
 * lowers the predicted loss, and flat tensor counts.
 */
import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import { Rng } from "../../lib/rng.ts";
import {
  sampleSpaceshipState,
  SPACESHIP_DEFAULTS,
  spaceshipObservationSize,
} from "../../lib/envs/spaceship.ts";
import { SpaceshipModel } from "../../lib/models/spaceship_model.ts";
import {
  decide,
  evaluatePlanner,
  ImaginationPlanner,
  type ImaginationPlannerConfig,
  ImaginationPlannerTrainer,
  type PlannerMode,
} from "../../lib/agents/imagination_planner.ts";
import { assertTensorCountFlat } from "../../lib/tensor/testing.ts";

const settings = { ...SPACESHIP_DEFAULTS, numPlanets: 1 };
const stateSize = spaceshipObservationSize(settings);
const CONFIG: ImaginationPlannerConfig = {
  controller: { hiddenSize: 8, memorySize: 4 },
  manager: { hiddenSize: 4 },
  actionNoise: 0.1,
  learningRate: 3e-3,
  managerLearningRate: 1e-2,
  entropyBonus: 0.01,
  gradClipNorm: 10,
  batchSize: 8,
  updates: 10,
};

function states(count: number, seed: number): tf.Tensor2D {
  const rng = new Rng(seed);
  const values = new Float32Array(count * stateSize);
  for (let i = 0; i < count; i++) values.set(sampleSpaceshipState(settings, rng), i * stateSize);
  return tf.tensor2d(values, [count, stateSize]);
}

Deno.test("imagination-based planner", async (t) => {
  const model = new SpaceshipModel(settings, { hiddenSize: 8, hiddenLayers: 1 }, 0);

  await t.step("the controller's gradient through the model matches finite differences", () => {
    const planner = new ImaginationPlanner(settings, stateSize, CONFIG, {
      kind: "fixed",
      strategy: "n-step",
      steps: 2,
    }, 1);
    const real = states(3, 2);
    const loss = () =>
      tf.tidy(() =>
        tf.mean(decide(planner, model, real, new Rng(0), false).predictedLoss).dataSync()[0]
      );
    const variable = planner.core.params.variables.get("controller/hidden0/kernel")!;
    const { grads } = tf.variableGrads(
      () => tf.mean(decide(planner, model, real, new Rng(0), false).predictedLoss) as tf.Scalar,
      [variable],
    );
    const analytic = grads[variable.name].dataSync().slice();
    tf.dispose(grads);
    const values = variable.dataSync().slice();
    // Central differences on the entries with the largest gradients (float32: a coarse step).
    const order = [...analytic.keys()].sort((a, b) =>
      Math.abs(analytic[b]) - Math.abs(analytic[a])
    );
    const epsilon = 1e-2;
    for (const index of order.slice(0, 4)) {
      const shifted = (delta: number) => {
        const copy = values.slice();
        copy[index] += delta;
        tf.tidy(() => variable.assign(tf.tensor(copy, variable.shape)));
        return loss();
      };
      const numeric = (shifted(epsilon) - shifted(-epsilon)) / (2 * epsilon);
      tf.tidy(() => variable.assign(tf.tensor(values, variable.shape)));
      const scale = Math.max(Math.abs(numeric), Math.abs(analytic[index]), 1e-3);
      assert.ok(
        Math.abs(numeric - analytic[index]) < 0.05 * scale,
        `entry ${index}: analytic ${analytic[index]}, numeric ${numeric}`,
      );
    }
    real.dispose();
    planner.dispose();
  });

  await t.step("fixed modes imagine exactly their steps; the manager at most its maximum", () => {
    const real = states(6, 3);
    const run = (mode: PlannerMode) => {
      const planner = new ImaginationPlanner(settings, stateSize, CONFIG, mode, 4);
      const steps = tf.tidy(() => decide(planner, model, real, new Rng(1), true).steps);
      planner.dispose();
      return steps;
    };
    for (const strategy of ["1-step", "n-step", "tree"] as const) {
      for (const k of [0, 1, 3]) {
        assert.deepEqual(run({ kind: "fixed", strategy, steps: k }), Array(6).fill(k));
      }
    }
    const managed = run({ kind: "manager", maxSteps: 3, imaginationCost: 0 });
    assert.ok(managed.every((s) => s >= 0 && s <= 3));
    real.dispose();
  });

  await t.step("training lowers the predicted loss and keeps the tensor count flat", async () => {
    for (
      const mode of [
        { kind: "fixed", strategy: "tree", steps: 2 },
        { kind: "manager", maxSteps: 2, imaginationCost: 0.01 },
      ] as PlannerMode[]
    ) {
      const planner = new ImaginationPlanner(settings, stateSize, CONFIG, mode, 5);
      const trainer = new ImaginationPlannerTrainer(planner, model);
      const rng = new Rng(6);
      await assertTensorCountFlat(() => trainer.step(rng), { burnIn: 2, steps: 5 });
      const seeds = Array.from({ length: 16 }, (_, i) => 100 + i);
      const before = evaluatePlanner(planner, model, seeds);
      assert.equal(before.losses.length, 16);
      trainer.dispose();
      planner.dispose();
    }
    // On a fixed batch the controller's predicted loss goes down.
    const planner = new ImaginationPlanner(settings, stateSize, { ...CONFIG, actionNoise: 0 }, {
      kind: "fixed",
      strategy: "1-step",
      steps: 1,
    }, 7);
    const trainer = new ImaginationPlannerTrainer(planner, model);
    const first = trainer.step(new Rng(8)).predictedLoss;
    let last = first;
    for (let i = 0; i < 40; i++) last = trainer.step(new Rng(8)).predictedLoss;
    assert.ok(last < first, `predicted loss ${first} -> ${last}`);
    trainer.dispose();
    planner.dispose();
  });

  model.dispose();
});
