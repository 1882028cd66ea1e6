import assert from "node:assert/strict";
import { MountainCarEnv } from "../../lib/envs/mountain_car.ts";
import { assertAllClose, assertClose } from "./_helpers.ts";

/** Gymnasium 1.3.0 from [position -0.5, velocity 0] under these actions. */
const GYMNASIUM_ACTIONS = [2, 2, 0, 1, 2, 0, 0, 2, 1, 2];
const GYMNASIUM_OBSERVATIONS = [
  [-0.49917683, 0.000823157025],
  [-0.497536689, 0.00164015638],
  [-0.4970918, 0.000444889738],
  [-0.496845514, 0.00024629687],
  [-0.495799631, 0.00104586268],
  [-0.495962024, -0.000162389289],
  [-0.49733144, -0.00136942754],
  [-0.497897685, -0.000566228584],
  [-0.498656482, -0.000758795883],
  [-0.498602182, 5.43114293e-05],
];

Deno.test("MountainCar-v0", async (t) => {
  await t.step("one step worked by hand", () => {
    // velocity' = 0 + (2 - 1) 0.001 - 0.0025 cos(3 * -0.5) = 0.001 - 0.0025 * 0.0707372
    // position' = -0.5 + velocity'
    const env = new MountainCarEnv();
    env.reset(0);
    env.setState([-0.5, 0]);
    const { observation, reward, terminated, truncated } = env.step(2);
    const velocity = 0.001 - 0.0025 * 0.0707372016677029;
    assertAllClose(observation, [-0.5 + velocity, velocity], 6e-8, "float32 observation");
    assertAllClose(env.getState(), [-0.499176843004169, 0.000823156995831], 1e-15, "state");
    assert.equal(reward, -1);
    assert.equal(terminated, false);
    assert.equal(truncated, false);
  });

  await t.step("matches Gymnasium's recorded observations", () => {
    const env = new MountainCarEnv();
    env.reset(0);
    env.setState([-0.5, 0]);
    GYMNASIUM_ACTIONS.forEach((action, i) => {
      const { observation, reward } = env.step(action);
      assertAllClose(observation, GYMNASIUM_OBSERVATIONS[i], 1e-8, `step ${i + 1}`);
      assert.equal(reward, -1);
    });
  });

  await t.step("the left wall stops the car dead", () => {
    // velocity' = -0.03 - 0.001 - 0.0025 cos(-3.57) = -0.0287; position -1.2187 -> -1.2, velocity 0.
    const env = new MountainCarEnv();
    env.reset(0);
    env.setState([-1.19, -0.03]);
    const { observation, terminated } = env.step(0);
    assertAllClose(env.getState(), [-1.2, 0], 0, "state at the wall");
    assertAllClose(observation, [-1.2000000476837158, 0], 0, "float32 observation");
    assert.equal(terminated, false);
  });

  await t.step("speed is clipped at 0.07", () => {
    // At x = -1: 0.069 + 0.001 - 0.0025 cos(-3) = 0.072475 -> 0.07, and the car moves 0.07.
    const env = new MountainCarEnv();
    env.reset(0);
    env.setState([-1, 0.069]);
    env.step(2);
    assertAllClose(env.getState(), [-0.93, 0.07], 1e-15, "state");
  });

  await t.step("reaching x >= 0.5 while not moving left ends the episode", () => {
    const env = new MountainCarEnv();
    env.reset(0);
    env.setState([0.49, 0.02]);
    const { terminated, reward } = env.step(2);
    assert.equal(terminated, true);
    assert.equal(reward, -1);
    env.reset(0);
    env.setState([0.45, 0.03]); // reaches 0.48: not yet
    assert.equal(env.step(1).terminated, false);
  });

  await t.step("truncates at 200 steps", () => {
    const env = new MountainCarEnv();
    env.reset(0);
    for (let step = 1; step <= 200; step++) {
      const { terminated, truncated } = env.step(1);
      assert.equal(terminated, false);
      assert.equal(truncated, step === 200, `step ${step}`);
    }
  });

  await t.step("starts at rest with position uniform in [-0.6, -0.4]", () => {
    const env = new MountainCarEnv();
    let sum = 0;
    for (let seed = 0; seed < 300; seed++) {
      const [position, velocity] = env.reset(seed);
      assert.ok(position >= -0.6 && position <= -0.4, `position ${position}`);
      assert.equal(velocity, 0);
      sum += position;
    }
    assertClose(sum / 300, -0.5, 0.01, "mean start");
  });
});
