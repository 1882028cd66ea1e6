import assert from "node:assert/strict";
import { CartPoleEnv } from "../../lib/envs/cartpole.ts";
import { assertAllClose, assertClose } from "./_helpers.ts";

/**
 * One step of the published equations (Florian 2007 as in Gymnasium), written out with the
 * published constants: g 9.8, cart 1.0 kg, pole 0.1 kg, half-length 0.5 m, force 10 N, tau 0.02 s.
 */
function publishedStep(state: readonly number[], action: number): number[] {
  const [x, xDot, theta, thetaDot] = state;
  const force = action === 1 ? 10 : -10;
  const temp = (force + 0.1 * 0.5 * thetaDot ** 2 * Math.sin(theta)) / 1.1;
  const thetaAcc = (9.8 * Math.sin(theta) - Math.cos(theta) * temp) /
    (0.5 * (4 / 3 - (0.1 * Math.cos(theta) ** 2) / 1.1));
  const xAcc = temp - (0.1 * 0.5 * thetaAcc * Math.cos(theta)) / 1.1;
  return [x + 0.02 * xDot, xDot + 0.02 * xAcc, theta + 0.02 * thetaDot, thetaDot + 0.02 * thetaAcc];
}

/** Gymnasium 1.3.0 from state [0.01, -0.02, 0.03, 0.04] under these actions (float32 observations). */
const GYMNASIUM_ACTIONS = [1, 1, 0, 1, 0, 0, 1, 1, 1, 0];
const GYMNASIUM_OBSERVATIONS = [
  [0.00960000046, 0.17467919, 0.0307999998, -0.243068725],
  [0.0130935842, 0.36934799, 0.0259386264, -0.525879622],
  [0.0204805434, 0.173870817, 0.0154210329, -0.225137413],
  [0.0239579603, 0.36876902, 0.0109182848, -0.512916327],
  [0.0313333385, 0.173494995, 0.000659957819, -0.216812864],
  [0.0348032415, -0.0216363873, -0.00367629947, 0.0760781616],
  [0.0343705118, 0.173538074, -0.00215473631, -0.217762381],
  [0.0378412753, 0.368690759, -0.00650998391, -0.511124194],
  [0.0452150889, 0.563903809, -0.0167324673, -0.805851519],
  [0.0564931631, 0.369015157, -0.0328494981, -0.518478572],
];

Deno.test("CartPole-v1", async (t) => {
  await t.step("one step from rest, worked by hand", () => {
    // Upright at rest only the push acts: temp = 10 / 1.1, thetaAcc = -temp / (0.5 (4/3 - 0.1/1.1)),
    // xAcc = temp - 0.05 thetaAcc / 1.1.
    const thetaAcc = -14.634146341463415;
    const xAcc = 9.75609756097561;
    const env = new CartPoleEnv();
    env.reset(0);
    env.setState([0, 0, 0, 0]);
    const { observation, reward, terminated, truncated } = env.step(1);
    // Explicit Euler moves positions with the old (zero) velocities.
    assertAllClose(observation, [0, 0.02 * xAcc, 0, 0.02 * thetaAcc], 1e-7, "after one push");
    assert.equal(reward, 1);
    assert.equal(terminated, false);
    assert.equal(truncated, false);
    // Pushing left next: positions now move with the first step's velocities.
    const state = env.getState();
    env.step(0);
    assertClose(env.getState()[0], 0.02 * 0.02 * xAcc, 1e-15, "x after two steps");
    assertClose(env.getState()[2], 0.02 * 0.02 * thetaAcc, 1e-15, "theta after two steps");
    assertAllClose(env.getState(), publishedStep(Array.from(state), 0), 1e-15, "second step");
  });

  await t.step("matches the published equations along a trajectory", () => {
    const env = new CartPoleEnv();
    env.reset(0);
    let expected = [0.01, -0.02, 0.03, 0.04];
    env.setState(expected);
    for (const action of [1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 1, 0]) {
      expected = publishedStep(expected, action);
      env.step(action);
      assertAllClose(env.getState(), expected, 1e-14, "state");
    }
  });

  await t.step("matches Gymnasium's recorded observations", () => {
    const env = new CartPoleEnv();
    env.reset(0);
    env.setState([0.01, -0.02, 0.03, 0.04]);
    GYMNASIUM_ACTIONS.forEach((action, i) => {
      const { observation, reward } = env.step(action);
      assertAllClose(observation, GYMNASIUM_OBSERVATIONS[i], 1e-7, `step ${i + 1}`);
      assert.equal(reward, 1);
    });
  });

  await t.step("pushing right from rest ends the episode at step 9, as in Gymnasium", () => {
    const env = new CartPoleEnv();
    env.reset(0);
    env.setState([0, 0, 0, 0]);
    for (let step = 1; step <= 9; step++) {
      const { observation, reward, terminated } = env.step(1);
      assert.equal(reward, 1, "the terminating step pays +1 too");
      assert.equal(terminated, step === 9, `step ${step}`);
      if (terminated) {
        assertAllClose(
          observation,
          [0.140650973, 1.7603811, -0.215186045, -2.77788639],
          1e-6,
          "terminal observation",
        );
      }
    }
  });

  await t.step("terminates beyond |x| = 2.4 and |theta| = 12 degrees, not before", () => {
    const env = new CartPoleEnv();
    const cases: [number[], boolean][] = [
      // x moves by 0.02 * xDot in one step.
      [[2.39, 0.4, 0, 0], false], // x = 2.398
      [[2.39, 0.6, 0, 0], true], // x = 2.402
      [[-2.39, -0.6, 0, 0], true],
      // theta moves by 0.02 * thetaDot; the threshold is 0.20944 rad.
      [[0, 0, 0.2, 0.4], false], // 0.208
      [[0, 0, 0.2, 0.5], true], // 0.21
      [[0, 0, -0.2, -0.5], true],
    ];
    for (const [state, ends] of cases) {
      env.reset(0);
      env.setState(state);
      assert.equal(env.step(0).terminated, ends, `from [${state}]`);
    }
  });

  await t.step("truncates at 500 steps", () => {
    const env = new CartPoleEnv();
    env.reset(0);
    for (let step = 1; step <= 500; step++) {
      env.setState([0, 0, 0, 0]); // keep balancing by hand
      const { terminated, truncated } = env.step(step % 2);
      assert.equal(terminated, false);
      assert.equal(truncated, step === 500, `step ${step}`);
    }
    assert.equal(env.maxEpisodeSteps, 500);
  });

  await t.step("starts uniformly within +-0.05 in every state variable", () => {
    const env = new CartPoleEnv();
    const sums = [0, 0, 0, 0];
    for (let seed = 0; seed < 400; seed++) {
      const observation = env.reset(seed);
      observation.forEach((value, i) => {
        assert.ok(Math.abs(value) <= 0.05, `start value ${value}`);
        sums[i] += value;
      });
    }
    // The mean of 400 uniform(-0.05, 0.05) draws has a standard deviation of 0.0014.
    for (const sum of sums) assertClose(sum / 400, 0, 0.006, "start mean");
  });

  await t.step("spaces match Gymnasium's", () => {
    const env = new CartPoleEnv();
    assert.deepEqual(env.actionSpec, { kind: "discrete", n: 2 });
    assert.deepEqual(env.observationSpec.shape, [4]);
    // Twice the thresholds for x and theta, float32's largest value for the velocities.
    const float32Max = 3.4028234663852886e38;
    assertAllClose(env.observationSpec.high, [4.8, float32Max, 0.41887903, float32Max], 1e-6);
    assertAllClose(env.observationSpec.low, [-4.8, -float32Max, -0.41887903, -float32Max], 1e-6);
  });

  await t.step("renders the cart and the pole leaning the way theta says", () => {
    const env = new CartPoleEnv();
    assert.throws(() => env.render(), /render\(\) called before reset\(\)/);
    env.reset(0);
    const poleColour = (image: Uint8Array, i: number) =>
      image[i] === 0xca && image[i + 1] === 0x98 && image[i + 2] === 0x65;
    const countPole = (theta: number) => {
      env.setState([0, 0, theta, 0]);
      const image = env.render();
      let left = 0, right = 0;
      for (let row = 0; row < 64; row++) {
        for (let col = 0; col < 64; col++) {
          if (poleColour(image, (row * 64 + col) * 3)) col < 32 ? left++ : right++;
        }
      }
      return { left, right };
    };
    const leaningRight = countPole(0.5);
    const leaningLeft = countPole(-0.5);
    assert.ok(leaningRight.right > 3 * leaningRight.left, JSON.stringify(leaningRight));
    assert.ok(leaningLeft.left > 3 * leaningLeft.right, JSON.stringify(leaningLeft));
    const buffer = new Uint8Array(32 * 32 * 3);
    assert.equal(env.render(buffer, 32), buffer);
    assert.throws(() => env.render(new Uint8Array(10), 32), RangeError);
  });
});
