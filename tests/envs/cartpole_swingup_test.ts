import assert from "node:assert/strict";
import {
  capsuleInertia,
  CartPoleSwingupEnv,
  cartpoleSwingupReward,
} from "../../lib/envs/cartpole_swingup.ts";
import { InvalidActionError } from "../../lib/envs/types.ts";
import { assertAllClose, assertClose } from "./_helpers.ts";

// The model of dm_control's cartpole.xml: 1 kg cart, 0.1 kg capsule pole from the pivot to 1 m
// (radius 0.045), gear 10, damping 5e-4 (slider) and 2e-6 (hinge), g 9.81.
const CART = 1, POLE = 0.1, HALF = 0.5, G = 9.81;

/**
 * The capsule's inertia about its centre, summed part by part: a cylinder, and two hemispheres
 * (each half a sphere's mass, inertia 83/320 m r^2 about its own centre of mass, which sits
 * 3r/8 beyond the cylinder's end).
 */
function capsuleInertiaByParts(): number {
  const r = 0.045, h = 1;
  const sphere = (4 / 3) * Math.PI * r ** 3, cylinder = Math.PI * r * r * h;
  const hemisphereMass = (POLE * sphere) / (sphere + cylinder) / 2;
  const cylinderMass = POLE - 2 * hemisphereMass;
  const offset = h / 2 + (3 * r) / 8;
  return (cylinderMass * (3 * r * r + h * h)) / 12 +
    2 * (hemisphereMass * (83 / 320) * r * r + hemisphereMass * offset ** 2);
}
const J = capsuleInertiaByParts() + POLE * HALF * HALF;

/**
 * A control step of the documented model, written in the classic cart-pole elimination
 * (Florian 2007) with the pole's inertia J about the pivot: 10 semi-implicit Euler substeps.
 */
function referenceStep(state: readonly number[], action: number): number[] {
  let [x, theta, xDot, thetaDot] = state;
  // Actions are float32, as the action spec says.
  const force = 10 * Math.max(-1, Math.min(1, Math.fround(action)));
  for (let i = 0; i < 10; i++) {
    const s = Math.sin(theta), c = Math.cos(theta);
    const temp = (force - 5e-4 * xDot + POLE * HALF * thetaDot ** 2 * s) / (CART + POLE);
    const thetaAcc = (POLE * G * HALF * s - 2e-6 * thetaDot - POLE * HALF * c * temp) /
      (J - (POLE * HALF * c) ** 2 / (CART + POLE));
    const xAcc = temp - (POLE * HALF * c * thetaAcc) / (CART + POLE);
    xDot += 0.001 * xAcc;
    thetaDot += 0.001 * thetaAcc;
    x += 0.001 * xDot;
    theta += 0.001 * thetaDot;
    if (Math.abs(x) > 1.8) {
      x = Math.sign(x) * 1.8;
      if (x * xDot > 0) {
        thetaDot += (POLE * HALF * Math.cos(theta) * xDot) / J;
        xDot = 0;
      }
    }
  }
  return [x, theta, xDot, thetaDot];
}

/** dm_control's tolerance with a gaussian at 0.1: 0.1^(d^2) for d margins away. */
const gaussian = (value: number, margin: number) => 0.1 ** ((value / margin) ** 2);

Deno.test("cartpole-swingup", async (t) => {
  await t.step("the reward worked by hand", () => {
    // Upright, centred, still, no control: every factor is 1.
    assert.equal(cartpoleSwingupReward(0, 1, 0, 0), 1);
    // Hanging straight down: upright = (cos + 1) / 2 = 0.
    assert.equal(cartpoleSwingupReward(0, -1, 0, 0), 0);
    // Cart 1 m off centre: centered = (1 + 0.1^(0.5^2)) / 2 = 0.7811706625951745.
    assertClose(cartpoleSwingupReward(1, 1, 0, 0), 0.7811706625951745, 1e-15, "off centre");
    // Control 0.5: smallControl = (4 + (1 - 0.25)) / 5 = 0.95.
    assertClose(cartpoleSwingupReward(0, 1, 0, 0.5), 0.95, 1e-15, "control");
    // Full control earns the floor of 4/5; angular velocity 5 earns (1 + 0.1) / 2.
    assertClose(cartpoleSwingupReward(0, 1, 0, -1), 0.8, 1e-15, "full control");
    assertClose(cartpoleSwingupReward(0, 1, 5, 0), 0.55, 1e-15, "spinning");
    // Horizontal pole, cart at -2, full control, spinning at 10 rad/s:
    // 0.5 * 0.55 * 0.8 * (1 + 0.1^4) / 2 = 0.110011.
    assertClose(cartpoleSwingupReward(-2, 0, 10, 1), 0.110011, 1e-15, "all at once");
  });

  await t.step("upright, centred, still and unforced earns exactly 1; hanging earns 0", () => {
    const env = new CartPoleSwingupEnv();
    env.reset(0);
    env.setState([0, 0, 0, 0]);
    const upright = env.step([0]);
    assert.equal(upright.reward, 1);
    assert.deepEqual(Array.from(upright.observation), [0, 1, 0, 0, 0]);
    env.setState([1, 0, 0, 0]);
    assertClose(env.step([0]).reward, (1 + 0.1 ** 0.25) / 2, 1e-15, "upright 1 m off centre");
    env.setState([0, Math.PI, 0, 0]);
    const hanging = env.step([0]);
    assertClose(hanging.reward, 0, 1e-15, "hanging");
    assertAllClose(hanging.observation, [0, -1, 0, 0, 0], 1e-12, "hanging observation");
  });

  await t.step("the reward is dm_control's formula on the state after the step", () => {
    const env = new CartPoleSwingupEnv();
    env.reset(2);
    const actions = [0.3, -0.8, 1, 0.1, -1, 0.6];
    for (const action of actions) {
      const { reward } = env.step([action]);
      const [x, theta, , thetaDot] = env.getState();
      const control = Math.fround(action);
      const expected = ((Math.cos(theta) + 1) / 2) * ((4 + (1 - control ** 2)) / 5) *
        ((1 + gaussian(thetaDot, 5)) / 2) * ((1 + gaussian(x, 2)) / 2);
      assertClose(reward, expected, 1e-15, `reward after ${action}`);
    }
    // Just after a reset the pole hangs within a few hundredths of pi: reward ~ (d theta)^2 / 4.
    env.reset(3);
    assert.ok(env.step([0]).reward < 1e-3);
  });

  await t.step("the pole's inertia is MuJoCo's capsule's", () => {
    assertClose(capsuleInertia(0.1, 0.045, 1), capsuleInertiaByParts(), 1e-15, "inertia");
    assertClose(capsuleInertiaByParts(), 0.00942459, 1e-8, "about the centre");
  });

  await t.step("the dynamics match the documented equations step by step", () => {
    const env = new CartPoleSwingupEnv();
    env.reset(0);
    let expected = [0.1, 2.5, -0.3, 1.2];
    env.setState(expected);
    for (let i = 0; i < 300; i++) {
      const action = Math.sin(i / 7) * 1.3; // beyond +-1 at times: clipped
      expected = referenceStep(expected, action);
      env.step([action]);
      assertAllClose(env.getState(), expected, 1e-9, `step ${i + 1}`);
    }
  });

  await t.step("worked by hand: gravity on a horizontal pole, the motor on an upright one", () => {
    const env = new CartPoleSwingupEnv();
    env.reset(0);
    // Horizontal and at rest, cos(theta) = 0 decouples the cart: thetaAcc = m g l / J = 14.2485.
    env.setState([0, Math.PI / 2, 0, 0]);
    env.step([0]);
    const thetaAcc = (POLE * G * HALF) / J;
    assertClose(thetaAcc, 14.2485, 1e-4, "thetaAcc");
    assertClose(env.getState()[3], 0.01 * thetaAcc, 2e-4, "thetaDot after 0.01 s");
    // Upright and at rest, a full push of 10 N: xAcc = J F / ((M + m) J - (m l)^2) = 9.7335.
    env.setState([0, 0, 0, 0]);
    env.step([1]);
    const xAcc = (J * 10) / ((CART + POLE) * J - (POLE * HALF) ** 2);
    assertClose(xAcc, 9.7335, 1e-4, "xAcc");
    assertClose(env.getState()[2], 0.01 * xAcc, 1e-4, "xDot after 0.01 s");
    assert.ok(env.getState()[3] < 0, "pushing the cart right tips the pole left");
  });

  await t.step("unforced, energy and horizontal momentum stay put", () => {
    const env = new CartPoleSwingupEnv();
    env.reset(0);
    env.setState([0, Math.PI / 2, 0, 0]);
    const energy = ([, theta, xDot, thetaDot]: Float64Array) =>
      0.5 * (CART + POLE) * xDot ** 2 + POLE * HALF * Math.cos(theta) * xDot * thetaDot +
      0.5 * J * thetaDot ** 2 + POLE * G * HALF * Math.cos(theta);
    const momentum = ([, theta, xDot, thetaDot]: Float64Array) =>
      (CART + POLE) * xDot + POLE * HALF * Math.cos(theta) * thetaDot;
    const startEnergy = energy(env.getState());
    let swing = 0;
    for (let i = 0; i < 300; i++) {
      env.step([0]);
      const state = env.getState();
      swing = Math.max(swing, Math.abs(state[3]));
      // Semi-implicit Euler's error stays bounded, at a fraction of a percent of m g l.
      assertClose(energy(state), startEnergy, 0.005, `energy at step ${i + 1}`);
      assertClose(momentum(state), 0, 0.005, `momentum at step ${i + 1}`);
    }
    assert.ok(swing > 3, "the pole really swings");
  });

  await t.step("the rail stops the cart at 1.8 m and the pole swings on", () => {
    const env = new CartPoleSwingupEnv();
    env.reset(0);
    env.setState([1.79, Math.PI, 2, 0]);
    env.step([1]);
    const [x, , xDot, thetaDot] = env.getState();
    assert.equal(x, 1.8);
    assert.equal(xDot, 0);
    // The hanging pole keeps its momentum m l cos(theta) xDot + J thetaDot: its tip swings on.
    assert.ok(thetaDot < -2, `thetaDot ${thetaDot}`);
    for (let i = 0; i < 50; i++) {
      env.step([1]);
      assert.ok(env.getState()[0] <= 1.8);
    }
    env.setState([-1.7, 0, -20, 0]);
    env.step([-1]);
    assert.equal(env.getState()[0], -1.8);
  });

  await t.step("starts hanging near pi with 0.01-scale noise", () => {
    const env = new CartPoleSwingupEnv();
    let sum = 0, sumSquares = 0;
    const count = 500;
    for (let seed = 0; seed < count; seed++) {
      env.reset(seed);
      const [x, theta, xDot, thetaDot] = env.getState();
      for (const value of [x, theta - Math.PI, xDot, thetaDot]) assert.ok(Math.abs(value) < 0.06);
      sum += theta - Math.PI;
      sumSquares += (theta - Math.PI) ** 2;
    }
    assertClose(sum / count, 0, 0.0015, "mean angle offset");
    assertClose(Math.sqrt(sumSquares / count), 0.01, 0.0015, "angle noise");
  });

  await t.step("forces are clipped to [-1, 1]; other actions are rejected", () => {
    const a = new CartPoleSwingupEnv(), b = new CartPoleSwingupEnv();
    a.reset(1);
    b.reset(1);
    const ra = a.step([4]), rb = b.step([1]);
    assert.deepEqual(Array.from(a.getState()), Array.from(b.getState()));
    assert.equal(ra.reward, rb.reward);
    assert.throws(() => a.step([Number.NaN]), InvalidActionError);
    assert.throws(() => a.step([0, 0]), InvalidActionError);
  });

  await t.step("never terminates and truncates at 1000 steps", () => {
    const env = new CartPoleSwingupEnv();
    env.reset(0);
    for (let step = 1; step <= 1000; step++) {
      const { terminated, truncated } = env.step([Math.sin(step / 20)]);
      assert.equal(terminated, false);
      assert.equal(truncated, step === 1000, `step ${step}`);
    }
  });

  await t.step("renders the pole above the rail when upright, below when hanging", () => {
    const env = new CartPoleSwingupEnv();
    env.reset(0);
    const poleAboveAndBelow = (theta: number) => {
      env.setState([0, theta, 0, 0]);
      const image = env.render(undefined, 64);
      let above = 0, below = 0;
      for (let i = 0; i < image.length; i += 3) {
        if (image[i] === 0xe6 && image[i + 1] === 0xb2 && image[i + 2] === 0x7f) {
          Math.floor(i / 3 / 64) < 32 ? above++ : below++;
        }
      }
      return { above, below };
    };
    const up = poleAboveAndBelow(0), down = poleAboveAndBelow(Math.PI);
    // Only the round end at the pivot may cross the rail's row.
    assert.ok(up.above > 20 && up.below <= 3, `upright ${JSON.stringify(up)}`);
    assert.ok(down.below > 20 && down.above <= 3, `hanging ${JSON.stringify(down)}`);
    const buffer = new Uint8Array(64 * 64 * 3);
    assert.equal(env.render(buffer), buffer);
    const copy = buffer.slice();
    assert.deepEqual(env.render(buffer), copy, "the same state draws the same image");
  });
});
