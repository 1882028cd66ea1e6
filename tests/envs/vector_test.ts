import assert from "node:assert/strict";
import { AcrobotEnv } from "../../lib/envs/acrobot.ts";
import { CartPoleEnv } from "../../lib/envs/cartpole.ts";
import { PendulumEnv } from "../../lib/envs/pendulum.ts";
import { PixelObservationEnv } from "../../lib/envs/pixels.ts";
import { makeEnv } from "../../lib/envs/registry.ts";
import { VectorEnv } from "../../lib/envs/vector.ts";
import { Rng } from "../../lib/rng.ts";

Deno.test("VectorEnv", async (t) => {
  await t.step("without auto-reset it matches N single envs, ended copies standing still", () => {
    const count = 5;
    const batch = new VectorEnv(() => new CartPoleEnv(), count);
    const singles = Array.from({ length: count }, () => new CartPoleEnv());
    const seeds = [3, 1, 4, 1, 5];
    const observations = batch.reset(seeds);
    singles.forEach((env, i) => {
      assert.deepEqual(
        Array.from(observations.subarray(i * 4, i * 4 + 4)),
        Array.from(env.reset(seeds[i])),
      );
    });
    const ended = new Array(count).fill(false);
    const rng = new Rng(0);
    const actions = new Int32Array(count);
    for (let step = 0; step < 600 && !batch.allDone(); step++) {
      for (let i = 0; i < count; i++) actions[i] = rng.int(2);
      assert.equal(batch.step(actions), batch);
      for (let i = 0; i < count; i++) {
        if (ended[i]) {
          assert.equal(batch.rewards[i], 0, "an ended copy earns nothing");
          continue;
        }
        const single = singles[i].step(actions[i]);
        assert.deepEqual(Array.from(batch.observationOf(i)), Array.from(single.observation));
        assert.equal(batch.rewards[i], single.reward);
        assert.equal(batch.terminated[i], single.terminated ? 1 : 0);
        assert.equal(batch.truncated[i], single.truncated ? 1 : 0);
        ended[i] = single.terminated || single.truncated;
      }
    }
    assert.ok(batch.allDone(), "random pushes topple every pole");
    assert.equal(batch.observations, observations, "the batch buffers are reused");
  });

  await t.step("with auto-reset a finished copy starts its next episode in the same step", () => {
    const batch = new VectorEnv(() => new CartPoleEnv(), 3, { autoReset: true });
    const singles = [new CartPoleEnv(), new CartPoleEnv(), new CartPoleEnv()];
    batch.reset(10);
    singles.forEach((env, i) => env.reset(10 + i));
    let resets = 0;
    for (let step = 0; step < 300; step++) {
      const actions = [1, 1, 0]; // always toppling: many episodes
      batch.step(actions);
      singles.forEach((env, i) => {
        const single = env.step(actions[i]);
        if (single.terminated || single.truncated) {
          resets++;
          assert.equal(batch.terminated[i], 1);
          assert.deepEqual(
            Array.from(batch.finalObservations.subarray(i * 4, i * 4 + 4)),
            Array.from(single.observation),
          );
          // The next episode continues the copy's own generator, as an unseeded reset does.
          assert.deepEqual(Array.from(batch.observationOf(i)), Array.from(env.reset()));
        } else {
          assert.deepEqual(Array.from(batch.observationOf(i)), Array.from(single.observation));
        }
      });
    }
    assert.ok(resets > 20, `${resets} episodes ended`);
  });

  await t.step("continuous actions are read row after row", () => {
    const batch = new VectorEnv(() => new PendulumEnv(), 3);
    const singles = [new PendulumEnv(), new PendulumEnv(), new PendulumEnv()];
    batch.reset([7, 8, 9]);
    singles.forEach((env, i) => env.reset(7 + i));
    const torques = new Float32Array([-1.5, 0.25, 3]);
    batch.step(torques);
    singles.forEach((env, i) => {
      const single = env.step([torques[i]]);
      assert.deepEqual(Array.from(batch.observationOf(i)), Array.from(single.observation));
      assert.equal(batch.rewards[i], Math.fround(single.reward));
    });
    assert.equal(batch.actionSize, 1);
    assert.equal(batch.observationSize, 3);
  });

  await t.step("works for every registered environment and for pixels", () => {
    for (const id of ["MountainCar-v0", "MountainCarContinuous-v0", "cartpole-swingup"] as const) {
      const batch = new VectorEnv(() => makeEnv(id), 2);
      batch.reset(0);
      const actionCount = batch.numEnvs * batch.actionSize;
      batch.step(new Float32Array(actionCount).fill(batch.actionSpec.kind === "discrete" ? 1 : 0));
      assert.equal(batch.observations.length, 2 * batch.observationSize);
    }
    const pixels = new VectorEnv(
      () => new PixelObservationEnv(makeEnv("cartpole-swingup"), 16),
      2,
    );
    const images = pixels.reset([0, 1]);
    assert.ok(images instanceof Uint8Array);
    assert.equal(images.length, 2 * 16 * 16 * 3);
    pixels.step([0.5, -0.5]);
  });

  await t.step("misuse is a clear error", () => {
    assert.throws(() => new VectorEnv(() => new CartPoleEnv(), 0), RangeError);
    let made = 0;
    assert.throws(
      () => new VectorEnv(() => (made++ === 0 ? new CartPoleEnv() : new AcrobotEnv()), 2),
      /every copy must be CartPole-v1; copy 1 is Acrobot-v1/,
    );
    const batch = new VectorEnv(() => new CartPoleEnv(), 2);
    assert.throws(() => batch.step([0, 1]), /before reset/);
    assert.throws(() => batch.reset([1]), /needs 2 seeds/);
    batch.reset(0);
    assert.throws(() => batch.step([0]), /needs 2 action numbers/);
    assert.throws(() => batch.step([0, 2]), /invalid action 2/);
  });
});
