import assert from "node:assert/strict";
import { CartPoleSwingupEnv } from "../../lib/envs/cartpole_swingup.ts";
import { PendulumEnv } from "../../lib/envs/pendulum.ts";
import { PixelObservationEnv } from "../../lib/envs/pixels.ts";
import { isRenderable } from "../../lib/envs/render.ts";
import { makeEnv } from "../../lib/envs/registry.ts";

Deno.test("PixelObservationEnv", async (t) => {
  await t.step("observes the rendered image of the same state", () => {
    const pixels = new PixelObservationEnv(new CartPoleSwingupEnv(), 48);
    const twin = new CartPoleSwingupEnv();
    assert.equal(pixels.id, "cartpole-swingup/pixels");
    assert.deepEqual(pixels.observationSpec.shape, [48, 48, 3]);
    assert.equal(pixels.observationSpec.dtype, "uint8");
    assert.equal(pixels.maxEpisodeSteps, 1000);
    assert.equal(pixels.actionSpec, pixels.inner.actionSpec);
    const first = pixels.reset(9);
    twin.reset(9);
    assert.deepEqual(first, twin.render(undefined, 48));
    for (const action of [0.5, -1, 1, 0.2]) {
      const result = pixels.step([action]);
      const expected = twin.step([action]);
      assert.equal(result.observation, first, "the image buffer is reused");
      assert.deepEqual(result.observation, twin.render(undefined, 48));
      assert.equal(result.reward, expected.reward);
      assert.deepEqual(Array.from(pixels.stateObservation), Array.from(expected.observation));
    }
  });

  await t.step("images change as the state changes", () => {
    const pixels = new PixelObservationEnv(new PendulumEnv());
    const start = pixels.reset(0).slice();
    let changed = false;
    for (let i = 0; i < 5; i++) {
      changed ||= pixels.step([2]).observation.some((v, j) => v !== start[j]);
    }
    assert.ok(changed);
  });

  await t.step("only the environments with a view can be rendered", () => {
    assert.ok(isRenderable(makeEnv("CartPole-v1")));
    assert.ok(isRenderable(makeEnv("Pendulum-v1")));
    assert.ok(isRenderable(makeEnv("cartpole-swingup")));
    assert.ok(!isRenderable(makeEnv("Acrobot-v1")));
    assert.throws(() => new PixelObservationEnv(new PendulumEnv(), 4), /at least 8/);
  });
});
