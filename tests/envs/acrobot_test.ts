import assert from "node:assert/strict";
import { acrobotDerivatives, AcrobotEnv } from "../../lib/envs/acrobot.ts";
import { assertAllClose, assertClose } from "./_helpers.ts";

/**
 * The book's acrobot (Sutton & Barto; Gymnasium's "book" form) as the 2x2 system it comes from,
 * with m1 = m2 = 1, l1 = 1, lc1 = lc2 = 0.5, I1 = I2 = 1, g = 9.8:
 *   d1 ddtheta1 + d2 ddtheta2 + phi1 = 0
 *   d2 ddtheta1 + (m2 lc2^2 + I2) ddtheta2 + m2 l1 lc2 dtheta1^2 sin(theta2) + phi2 = torque
 */
function bookDerivatives(s: readonly number[], torque: number): number[] {
  const [theta1, theta2, dtheta1, dtheta2] = s;
  const d1 = 0.25 + (1 + 0.25 + Math.cos(theta2)) + 2;
  const d2 = 0.25 + 0.5 * Math.cos(theta2) + 1;
  const phi2 = 0.5 * 9.8 * Math.cos(theta1 + theta2 - Math.PI / 2);
  const phi1 = -0.5 * dtheta2 ** 2 * Math.sin(theta2) -
    2 * 0.5 * dtheta2 * dtheta1 * Math.sin(theta2) +
    1.5 * 9.8 * Math.cos(theta1 - Math.PI / 2) + phi2;
  const a = d1, b = d2, c = d2, d = 1.25;
  const r1 = -phi1, r2 = torque - 0.5 * dtheta1 ** 2 * Math.sin(theta2) - phi2;
  const det = a * d - b * c;
  return [dtheta1, dtheta2, (r1 * d - b * r2) / det, (a * r2 - c * r1) / det];
}

/** One classic RK4 step of 0.2 s, then Gymnasium's wrapping and velocity limits. */
function publishedStep(s: readonly number[], torque: number): number[] {
  const h = 0.2;
  const add = (x: readonly number[], k: readonly number[], f: number) =>
    x.map((v, i) => v + f * k[i]);
  const k1 = bookDerivatives(s, torque);
  const k2 = bookDerivatives(add(s, k1, h / 2), torque);
  const k3 = bookDerivatives(add(s, k2, h / 2), torque);
  const k4 = bookDerivatives(add(s, k3, h), torque);
  const next = s.map((v, i) => v + (h / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]));
  const wrap = (x: number) => {
    while (x > Math.PI) x -= 2 * Math.PI;
    while (x < -Math.PI) x += 2 * Math.PI;
    return x;
  };
  const clip = (x: number, limit: number) => Math.min(limit, Math.max(-limit, x));
  return [wrap(next[0]), wrap(next[1]), clip(next[2], 4 * Math.PI), clip(next[3], 9 * Math.PI)];
}

/** Gymnasium 1.3.0 from [0.05, -0.03, 0.02, 0.01] under these actions. */
const GYMNASIUM_ACTIONS = [2, 0, 1, 2, 2, 0, 0, 1, 2, 2];
const GYMNASIUM_OBSERVATIONS = [
  [0.999423265, 0.0339577384, 0.999901593, 0.0140278963, -0.175464645, 0.419715613],
  [0.999947429, 0.0102562271, 0.9981215, 0.0612659752, -0.0555841476, 0.0417371131],
  [0.999999881, -0.000467511214, 0.997975707, 0.0635967404, -0.0494264998, -0.0203890875],
  [0.999758124, -0.0219921004, 0.996213496, 0.0869405121, -0.160560459, 0.246770605],
  [0.998114586, -0.061377652, 0.98772341, 0.156213, -0.223335281, 0.432826072],
  [0.996782601, -0.0801529735, 0.983258009, 0.182218775, 0.0392145179, -0.175287127],
  [0.998911679, -0.0466422774, 0.996009648, 0.089245379, 0.286917686, -0.742399573],
  [0.999891281, 0.0147469426, 0.99784565, -0.0656056032, 0.309621662, -0.771075904],
  [0.998384356, 0.0568216927, 0.985571146, -0.16926156, 0.100307584, -0.250082374],
  [0.998614848, 0.052615121, 0.987056196, -0.160374805, -0.141010687, 0.3374511],
];

Deno.test("Acrobot-v1", async (t) => {
  await t.step("accelerations worked by hand with the first link horizontal", () => {
    // theta1 = pi/2, at rest, no torque: d1 = 4.5, d2 = 1.75, phi2 = 4.9, phi1 = 14.7 + 4.9 = 19.6,
    // ddtheta2 = (1.75/4.5 * 19.6 - 4.9) / (1.25 - 1.75^2/4.5) = 196/41,
    // ddtheta1 = -(1.75 * 196/41 + 19.6) / 4.5 = -6.2146...
    const out = acrobotDerivatives([Math.PI / 2, 0, 0, 0], 0, new Float64Array(4));
    assertAllClose(out, [0, 0, -(1.75 * (196 / 41) + 19.6) / 4.5, 196 / 41], 1e-12, "derivatives");
    assertClose(out[2], -6.214634146341464, 1e-12, "ddtheta1");
    // A torque of +1 adds 1 / (1.25 - 1.75^2/4.5) = 72/41 to ddtheta2.
    const pushed = acrobotDerivatives([Math.PI / 2, 0, 0, 0], 1, new Float64Array(4));
    assertClose(pushed[3] - out[3], 72 / 41, 1e-12, "torque response");
  });

  await t.step("the derivatives match the book's equations of motion", () => {
    const states = [[0.3, -1.2, 2.0, -3.5], [-2.9, 2.5, -7, 11], [1, 1, 1, 1]];
    for (const state of states) {
      for (const torque of [-1, 0, 1]) {
        const ours = acrobotDerivatives(state, torque, new Float64Array(4));
        assertAllClose(ours, bookDerivatives(state, torque), 1e-12, `at [${state}], ${torque}`);
      }
    }
  });

  await t.step("one RK4 step of 0.2 s, wrapping and velocity limits as published", () => {
    const env = new AcrobotEnv();
    const cases: [number[], number][] = [
      [[0.05, -0.03, 0.02, 0.01], 2],
      [[3.1, 0.2, 3, 0], 1], // theta1 wraps past pi
      [[0, 0, 30, -30], 0], // both velocities end over their limits
      [[-3.1, -3.0, -5, -6], 0],
    ];
    for (const [state, action] of cases) {
      env.reset(0);
      env.setState(state);
      env.step(action);
      const expected = publishedStep(state, action - 1);
      assertAllClose(env.getState(), expected, 1e-12, `from [${state}]`);
    }
    env.reset(0);
    env.setState([0, 0, 30, -30]);
    env.step(1);
    assert.equal(env.getState()[2], 4 * Math.PI);
    assert.equal(env.getState()[3], -9 * Math.PI);
    env.reset(0);
    env.setState([3.1, 0.2, 3, 0]);
    env.step(1);
    assert.ok(env.getState()[0] < 0, "theta1 wrapped to the negative side");
  });

  await t.step("matches Gymnasium's recorded observations", () => {
    const env = new AcrobotEnv();
    env.reset(0);
    env.setState([0.05, -0.03, 0.02, 0.01]);
    GYMNASIUM_ACTIONS.forEach((action, i) => {
      const { observation, reward } = env.step(action);
      assertAllClose(observation, GYMNASIUM_OBSERVATIONS[i], 1e-7, `step ${i + 1}`);
      assert.equal(reward, -1);
    });
  });

  await t.step("ends, paying 0, when the tip rises a link length above the bar", () => {
    // Gymnasium 1.3.0: from [0.05, 0, 0, 0], torque along dtheta2 ends the episode at step 73.
    const env = new AcrobotEnv();
    let observation = env.reset(0);
    observation = env.setState([0.05, 0, 0, 0]);
    for (let step = 1; step <= 73; step++) {
      const result = env.step(observation[5] > 0 ? 2 : 0);
      observation = result.observation;
      assert.equal(result.terminated, step === 73, `step ${step}`);
      assert.equal(result.reward, step === 73 ? 0 : -1);
    }
    assertAllClose(
      observation,
      [-0.248472899, 0.968638837, 0.0920433849, 0.995755017, 1.36133385, -3.59627151],
      1e-5,
      "terminal observation",
    );
    // The rule itself: -cos(theta1) - cos(theta1 + theta2) > 1.
    const [c1, s1, c2, s2] = observation;
    assert.ok(-c1 - (c1 * c2 - s1 * s2) > 1);
  });

  await t.step("truncates at 500 steps", () => {
    const env = new AcrobotEnv();
    env.reset(0);
    for (let step = 1; step <= 500; step++) {
      const { terminated, truncated } = env.step(1); // no torque: it never swings up
      assert.equal(terminated, false);
      assert.equal(truncated, step === 500, `step ${step}`);
    }
  });

  await t.step("starts with every state variable uniform in [-0.1, 0.1]", () => {
    const env = new AcrobotEnv();
    for (let seed = 0; seed < 200; seed++) {
      env.reset(seed);
      for (const value of env.getState()) assert.ok(Math.abs(value) <= 0.1);
    }
  });
});
