/** The learned spaceship model: it fits a few transitions, and its loss is the task's. */
import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import { Rng } from "../../lib/rng.ts";
import { SPACESHIP_DEFAULTS, spaceshipLoss } from "../../lib/envs/spaceship.ts";
import {
  fitSpaceshipModel,
  SpaceshipModel,
  spaceshipModelError,
  spaceshipTransitions,
} from "../../lib/models/spaceship_model.ts";
import { assertTensorCountFlat } from "../../lib/tensor/testing.ts";

Deno.test("spaceship model", async (t) => {
  const settings = SPACESHIP_DEFAULTS;
  await t.step("fits a few transitions far better than at the start", () => {
    const model = new SpaceshipModel(settings, { hiddenSize: 32, hiddenLayers: 2 }, 0);
    const data = spaceshipTransitions(settings, 16, new Rng(1));
    const before = spaceshipModelError(model, data);
    fitSpaceshipModel(model, data, {
      updates: 300,
      batchSize: 16,
      learningRate: 3e-3,
      rng: new Rng(2),
    });
    const after = spaceshipModelError(model, data);
    assert.ok(after < 0.05 * before, `error ${before} -> ${after}`);
    model.dispose();
  });

  await t.step("planets and mass pass through; the loss is the task's", () => {
    const model = new SpaceshipModel(settings, { hiddenSize: 8, hiddenLayers: 1 }, 3);
    const data = spaceshipTransitions(settings, 4, new Rng(4));
    const size = model.stateSize;
    const [predicted, losses] = tf.tidy(() => {
      const states = tf.tensor2d(data.states, [4, size]);
      const forces = tf.tensor2d(data.forces, [4, 2]);
      const next = model.predict(states, forces);
      return [next.dataSync().slice(), model.loss(next, forces).dataSync().slice()];
    });
    for (let row = 0; row < 4; row++) {
      for (let i = 4; i < size; i++) {
        assert.ok(Math.abs(predicted[row * size + i] - data.states[row * size + i]) < 1e-6);
      }
      const expected = spaceshipLoss(
        predicted.subarray(row * size, (row + 1) * size),
        data.forces[2 * row],
        data.forces[2 * row + 1],
        settings,
      );
      assert.ok(Math.abs(losses[row] - expected) < 1e-4, `${losses[row]} vs ${expected}`);
    }
    model.dispose();
  });

  await t.step("training keeps the tensor count flat", async () => {
    const model = new SpaceshipModel(settings, { hiddenSize: 8, hiddenLayers: 1 }, 5);
    const data = spaceshipTransitions(settings, 32, new Rng(6));
    const rng = new Rng(7);
    await assertTensorCountFlat(() =>
      fitSpaceshipModel(model, data, { updates: 2, batchSize: 8, learningRate: 1e-3, rng })
    );
    model.dispose();
  });
});
