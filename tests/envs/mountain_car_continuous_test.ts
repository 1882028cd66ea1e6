import assert from "node:assert/strict";
import { MountainCarContinuousEnv } from "../../lib/envs/mountain_car_continuous.ts";
import { assertAllClose, assertClose } from "./_helpers.ts";

/** Gymnasium 1.3.0 from [position -0.5, velocity 0] under these float32 forces. */
const GYMNASIUM_FORCES = [1.0, -0.3, 0.7, 0.25, -1.0, 0.9, 0.0, 0.5];
const GYMNASIUM_STEPS: [number[], number][] = [
  [[-0.498676836, 0.00132315699], -0.1],
  [[-0.497990429, 0.000686416635], -0.009000000715255752],
  [[-0.496445894, 0.00154454308], -0.048999998331069966],
  [[-0.494729787, 0.00171612157], -0.00625],
  [[-0.494729906, -1.25262886e-7], -0.1],
  [[-0.493596286, 0.00113362877], -0.08099999570846564],
  [[-0.492687374, 0.000908913731], 0.0],
  [[-0.491259962, 0.0014274104], -0.025],
];

Deno.test("MountainCarContinuous-v0", async (t) => {
  await t.step("one step worked by hand", () => {
    // velocity' = 1 * 0.0015 - 0.0025 cos(-1.5) = 0.0015 - 0.0025 * 0.0707372; reward = -0.1 * 1^2.
    const env = new MountainCarContinuousEnv();
    env.reset(0);
    env.setState([-0.5, 0]);
    const { observation, reward, terminated, truncated } = env.step([1]);
    const velocity = 0.0015 - 0.0025 * 0.0707372016677029;
    assertAllClose(env.getState(), [-0.5 + velocity, velocity], 1e-15, "state");
    assertAllClose(observation, [-0.498676836, 0.00132315699], 1e-9, "observation");
    assertClose(reward, -0.1, 1e-15, "reward");
    assert.equal(terminated, false);
    assert.equal(truncated, false);
  });

  await t.step("matches Gymnasium's recorded steps", () => {
    const env = new MountainCarContinuousEnv();
    env.reset(0);
    env.setState([-0.5, 0]);
    GYMNASIUM_FORCES.forEach((force, i) => {
      const { observation, reward } = env.step(new Float32Array([force]));
      // Gymnasium keeps this state in float32 between steps; ours in float64.
      assertAllClose(observation, GYMNASIUM_STEPS[i][0], 2e-7, `step ${i + 1}`);
      assertClose(reward, GYMNASIUM_STEPS[i][1], 1e-12, `reward ${i + 1}`);
    });
  });

  await t.step("reaching the flag pays 100 minus the control cost of the action as given", () => {
    // Force 1.5 pushes as 1: velocity' = 0.02 + 0.0015 - 0.0025 cos(1.32) = 0.0208796,
    // position' = 0.4608796 >= 0.45; reward = 100 - 0.1 * 1.5^2 = 99.775 (as Gymnasium pays).
    const env = new MountainCarContinuousEnv();
    env.reset(0);
    env.setState([0.44, 0.02]);
    const { observation, reward, terminated } = env.step([1.5]);
    assert.equal(terminated, true);
    assertClose(reward, 99.775, 1e-12, "reward");
    assertAllClose(observation, [0.460879564, 0.0208795611], 1e-8, "observation");
  });

  await t.step("forces beyond +-1 push as +-1", () => {
    const a = new MountainCarContinuousEnv(), b = new MountainCarContinuousEnv();
    a.reset(4);
    b.reset(4);
    a.step([-3]);
    b.step([-1]);
    assert.deepEqual(Array.from(a.getState()), Array.from(b.getState()));
  });

  await t.step("the left wall stops the car dead", () => {
    const env = new MountainCarContinuousEnv();
    env.reset(0);
    env.setState([-1.19, -0.03]);
    env.step([-1]);
    assertAllClose(env.getState(), [-1.2, 0], 0, "state at the wall");
  });

  await t.step("truncates at 999 steps", () => {
    const env = new MountainCarContinuousEnv();
    env.reset(0);
    for (let step = 1; step <= 999; step++) {
      const { terminated, truncated } = env.step([0]);
      assert.equal(terminated, false);
      assert.equal(truncated, step === 999, `step ${step}`);
    }
  });
});
