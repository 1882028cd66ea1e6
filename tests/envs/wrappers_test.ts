import assert from "node:assert/strict";
import { PendulumEnv } from "../../lib/envs/pendulum.ts";
import type { BoxSpec } from "../../lib/envs/types.ts";
import { CartPoleSwingupEnv } from "../../lib/envs/cartpole_swingup.ts";
import {
  ActionRepeatEnv,
  PixelFloatEnv,
  repeatAction,
  scaleAction,
  TimeLimitEnv,
} from "../../lib/envs/wrappers.ts";

Deno.test("environment wrappers", async (t) => {
  await t.step("actions in [-1, 1] map onto the environment's box", () => {
    const spec = new PendulumEnv().actionSpec as BoxSpec;
    const out = new Float32Array(1);
    assert.equal(scaleAction([-1], spec, out)[0], -2);
    assert.equal(scaleAction([1], spec, out)[0], 2);
    assert.equal(scaleAction([0.25], spec, out)[0], 0.5);
    assert.equal(scaleAction([7], spec, out)[0], 2);
  });

  await t.step("action repeat sums the rewards of the repeated steps", () => {
    const a = new PendulumEnv(), b = new PendulumEnv();
    a.reset(4);
    b.reset(4);
    const action = new Float32Array([0.7]);
    const repeated = repeatAction(a, action, 3);
    let expected = 0;
    for (let i = 0; i < 3; i++) expected += b.step(action).reward;
    assert.ok(Math.abs(repeated.reward - expected) < 1e-9);
    assert.equal(repeated.steps, 3);
    // The observation is the one after the last repeated step.
    assert.ok(Math.abs(repeated.observation[0] - Math.cos(b.getState()[0])) < 1e-6);
    assert.ok(Math.abs(repeated.observation[2] - b.getState()[1]) < 1e-5);
  });

  await t.step("the repeating env is the same as repeating by hand", () => {
    const wrapped = new ActionRepeatEnv(new PendulumEnv(), 4);
    const plain = new PendulumEnv();
    wrapped.reset(9);
    plain.reset(9);
    const action = new Float32Array([-1.5]);
    const { reward } = wrapped.step(action);
    assert.ok(Math.abs(reward - repeatAction(plain, action, 4).reward) < 1e-9);
    assert.equal(wrapped.maxEpisodeSteps, 50);
  });

  await t.step("a time limit truncates, and cannot exceed the env's own", () => {
    const env = new TimeLimitEnv(new PendulumEnv(), 3);
    env.reset(1);
    const action = new Float32Array([0]);
    assert.equal(env.step(action).truncated, false);
    assert.equal(env.step(action).truncated, false);
    assert.equal(env.step(action).truncated, true);
    assert.throws(() => new TimeLimitEnv(new PendulumEnv(), 10_000), /at most 200 steps/);
  });

  await t.step("frames as floats in [-0.5, 0.5]", () => {
    const env = new PixelFloatEnv(new CartPoleSwingupEnv(), 16);
    const frame = env.reset(0);
    assert.equal(frame.length, 16 * 16 * 3);
    assert.ok(frame.every((v) => v >= -0.5 && v <= 0.5));
    assert.ok(new Set(frame).size > 2, "the frame shows something");
  });
});
