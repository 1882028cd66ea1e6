import assert from "node:assert/strict";
import { angleNormalize, PendulumEnv } from "../../lib/envs/pendulum.ts";
import { assertAllClose, assertClose } from "./_helpers.ts";

/** Gymnasium 1.3.0 from state [theta 1.0, thetaDot -0.5] under these float32 torques. */
const GYMNASIUM_TORQUES = [0.5, -2.5, 1.7, 0.0, 2.0, -1.0];
const GYMNASIUM_STEPS: [number[], number][] = [
  [[0.531602263, 0.846994102, 0.206103235], -1.0252500000118743],
  [[0.508484364, 0.861071229, 0.541348815], -1.0289643749093755],
  [[0.44512704, 0.89546746, 1.44215226], -1.1083377722029442],
  [[0.348179579, 0.937427878, 2.11375284], -1.4389266585409226],
  [[0.198460847, 0.980108798, 3.11682367], -1.9274280200241494],
  [[0.0146914897, 0.999892056, 3.70190525], -2.85212480076302],
];

Deno.test("Pendulum-v1", async (t) => {
  await t.step("one step worked by hand", () => {
    // theta 1, thetaDot -0.5, u 0.5; g 10, m 1, l 1, dt 0.05.
    // cost = 1^2 + 0.1 * 0.25 + 0.001 * 0.25 = 1.02525 (charged on the state before the step)
    // thetaDot' = -0.5 + (15 sin 1 + 3 * 0.5) * 0.05 = 0.2061032...; theta' = 1 + 0.05 thetaDot'.
    const env = new PendulumEnv();
    env.reset(0);
    env.setState([1, -0.5]);
    const { observation, reward, terminated, truncated } = env.step([0.5]);
    const thetaDot = -0.5 + (15 * 0.8414709848078965 + 1.5) * 0.05;
    assertClose(thetaDot, 0.2061032386059224, 1e-15, "thetaDot by hand");
    const theta = 1 + 0.05 * thetaDot;
    assertAllClose(observation, [Math.cos(theta), Math.sin(theta), thetaDot], 1e-7, "observation");
    assertClose(reward, -1.02525, 1e-12, "reward");
    assert.equal(terminated, false);
    assert.equal(truncated, false);
  });

  await t.step("matches Gymnasium's recorded steps, torque clipping included", () => {
    const env = new PendulumEnv();
    env.reset(0);
    env.setState([1, -0.5]);
    GYMNASIUM_TORQUES.forEach((torque, i) => {
      const { observation, reward } = env.step(new Float32Array([torque]));
      assertAllClose(observation, GYMNASIUM_STEPS[i][0], 1e-6, `step ${i + 1}`);
      // NumPy 2 rounds Gymnasium's torque terms to float32, hence a loose tolerance.
      assertClose(reward, GYMNASIUM_STEPS[i][1], 1e-7, `reward ${i + 1}`);
    });
  });

  await t.step("the angle cost wraps the angle into [-pi, pi)", () => {
    // theta 3.5 -> 3.5 - 2 pi = -2.78319; cost = 2.78319^2 + 0.1 * 7.9^2 + 0.001 * 4 = 13.99112.
    const env = new PendulumEnv();
    env.reset(0);
    env.setState([3.5, 7.9]);
    const { reward, observation } = env.step([2]);
    assertClose(reward, -((3.5 - 2 * Math.PI) ** 2 + 0.1 * 7.9 ** 2 + 0.004), 1e-12, "reward");
    assertClose(reward, -13.991120454290318, 1e-9, "Gymnasium's reward");
    assertAllClose(observation, [-0.728098154, -0.685472906, 7.93691254], 1e-6, "observation");
    assertClose(angleNormalize(Math.PI), -Math.PI, 1e-15, "pi maps to -pi, as Python's %");
    assertClose(angleNormalize(-Math.PI), -Math.PI, 1e-15, "-pi");
    assertClose(angleNormalize(7), 7 - 2 * Math.PI, 1e-15, "7");
    assertClose(angleNormalize(-7), -7 + 2 * Math.PI, 1e-15, "-7");
  });

  await t.step("speed is clipped at 8 before the angle moves", () => {
    // 7.9 + (15 sin 0.5 + 3 * 2) * 0.05 = 8.5596 -> 8, so theta moves by exactly 8 * 0.05.
    const env = new PendulumEnv();
    env.reset(0);
    env.setState([0.5, 7.9]);
    env.step([2]);
    assertAllClose(env.getState(), [0.9, 8], 1e-15, "state");
  });

  await t.step("torques beyond +-2 act as +-2", () => {
    const clipped = new PendulumEnv(), bounded = new PendulumEnv();
    clipped.reset(3);
    bounded.reset(3);
    const a = clipped.step([-7]), b = bounded.step([-2]);
    assert.deepEqual(Array.from(a.observation), Array.from(b.observation));
    assert.equal(a.reward, b.reward);
  });

  await t.step("never terminates and truncates at 200 steps", () => {
    const env = new PendulumEnv();
    env.reset(0);
    for (let step = 1; step <= 200; step++) {
      const { terminated, truncated } = env.step([0]);
      assert.equal(terminated, false);
      assert.equal(truncated, step === 200, `step ${step}`);
    }
  });

  await t.step("starts with theta uniform in [-pi, pi] and thetaDot in [-1, 1]", () => {
    const env = new PendulumEnv();
    let minTheta = Infinity, maxTheta = -Infinity;
    for (let seed = 0; seed < 300; seed++) {
      env.reset(seed);
      const [theta, thetaDot] = env.getState();
      assert.ok(Math.abs(theta) <= Math.PI && Math.abs(thetaDot) <= 1);
      minTheta = Math.min(minTheta, theta);
      maxTheta = Math.max(maxTheta, theta);
    }
    assert.ok(minTheta < -2.9 && maxTheta > 2.9, "the whole circle is covered");
  });

  await t.step("renders the rod pointing where theta says", () => {
    const env = new PendulumEnv();
    env.reset(0);
    const rodRows = (theta: number) => {
      env.setState([theta, 0]);
      const image = env.render(undefined, 64);
      let above = 0, below = 0;
      for (let i = 0; i < image.length; i += 3) {
        if (image[i] === 0xcc && image[i + 1] === 0x4d && image[i + 2] === 0x4d) {
          Math.floor(i / 3 / 64) < 32 ? above++ : below++;
        }
      }
      return { above, below };
    };
    const up = rodRows(0), down = rodRows(Math.PI);
    assert.ok(up.above > 3 * up.below, `upright: ${JSON.stringify(up)}`);
    assert.ok(down.below > 3 * down.above, `hanging: ${JSON.stringify(down)}`);
    // Positive theta turns the rod counter-clockwise: its tip goes left.
    env.setState([Math.PI / 2, 0]);
    const image = env.render();
    const tip = (32 * 64 + 32 - 12) * 3; // row 32, 12 pixels left of the pivot
    assert.deepEqual(Array.from(image.subarray(tip, tip + 3)), [0xcc, 0x4d, 0x4d]);
  });
});
