/**
 * Cart-pole swing-up: the `cartpole` domain, `swingup` task of the DeepMind Control Suite (Tassa
 * et al. 2018, "DeepMind Control Suite", `suite/cartpole.py` and `cartpole.xml`), the benchmark of
 * PlaNet (Hafner et al. 2019) and Dreamer (Hafner et al. 2020).
 *
 * The pole starts hanging down (angle pi + 0.01 N(0, 1), cart position and both velocities
 * 0.01 N(0, 1)); a force in [-1, 1] times a gear of 10 N pushes the cart; 1000 steps of 0.01 s;
 * no termination. The reward is dm_control's smooth one, in [0, 1]:
 *   upright = (cos + 1) / 2
 *   centered = (1 + tolerance(x, margin 2)) / 2
 *   smallControl = (4 + tolerance(a, margin 1, valueAtMargin 0, quadratic)) / 5
 *   smallVelocity = (1 + tolerance(angular velocity, margin 5)) / 2
 *   reward = upright * smallControl * smallVelocity * centered
 * with the gaussian tolerance (value 0.1 at the margin) unless said otherwise.
 *
 * dm_control simulates the model with MuJoCo; ours is the analytic cart-pole (Lagrange's
 * equations for a cart and a rigid pole) with the same masses and sizes: a 1 kg cart, a 0.1 kg
 * pole of length 1 m pivoting at the cart's centre (centre of mass 0.5 m from the pivot), gravity
 * 9.81, damping 5e-4 N s/m on the slider and 2e-6 N m s on the hinge, force gain 10 and control
 * steps of 0.01 s. The pole's moment of inertia is that of MuJoCo's capsule (radius 0.045 m, mass
 * shared by volume between the cylinder and its round caps): 0.00942 kg m^2 about its centre, 13%
 * above the uniform rod (m (2l)^2 / 12) of the classic equations. Where ours differs from MuJoCo:
 * - each 0.01 s step is 10 substeps of semi-implicit Euler, where MuJoCo takes one RK4 step;
 * - the slider's range of +-1.8 m is a hard inelastic stop that keeps the pole's generalized
 *   momentum, where MuJoCo uses a soft constraint (time constant 0.08 s) that lets the cart
 *   overshoot slightly and bounce.
 * Trajectories therefore drift apart from MuJoCo's over a long episode, but the task, its
 * difficulty and its reward scale are the same.
 */

import type { Rng } from "../rng.ts";
import { ClassicControlEnv } from "./classic_env.ts";
import { fillCapsule, fillRect, fillRows, imageBuffer, type Renderable } from "./render.ts";
import { tolerance, type ToleranceOptions } from "./tolerance.ts";
import { type Action, type BoxSpec, boxSpec, readBoxAction } from "./types.ts";

export const CARTPOLE_SWINGUP_CONSTANTS = {
  cartMass: 1.0,
  poleMass: 0.1,
  /** Half the pole's length (the distance from the pivot to its centre of mass), in metres. */
  poleHalfLength: 0.5,
  /** Radius of the capsule that gives the pole its moment of inertia. */
  poleRadius: 0.045,
  gravity: 9.81,
  /** Newtons per unit of action (the motor's gear). */
  forceGain: 10,
  /** Viscous damping of the slider (N s/m) and of the hinge (N m s/rad), from cartpole.xml. */
  cartDamping: 5e-4,
  hingeDamping: 2e-6,
  /** The cart stops at +-1.8 m. */
  railLimit: 1.8,
  /** Seconds per control step. */
  controlTimestep: 0.01,
  /** Integration substeps per control step. */
  substeps: 10,
  maxEpisodeSteps: 1000,
} as const;

const C = CARTPOLE_SWINGUP_CONSTANTS;
const TOTAL_MASS = C.cartMass + C.poleMass;
const POLE_MASS_LENGTH = C.poleMass * C.poleHalfLength;
/**
 * Moment of inertia of a solid capsule about a transverse axis through its centre, with the mass
 * shared by volume: the cylinder's m (3 r^2 + L^2) / 12, plus the two caps (one sphere's worth of
 * mass) with 2/5 m r^2 and their offset from the centre: the exact inertia of a uniform solid
 * capsule, which MuJoCo derives from a capsule geom.
 */
export function capsuleInertia(mass: number, radius: number, cylinderLength: number): number {
  const r = radius, h = cylinderLength;
  const sphereVolume = (4 / 3) * Math.PI * r * r * r;
  const cylinderVolume = Math.PI * r * r * h;
  const capsMass = (mass * sphereVolume) / (sphereVolume + cylinderVolume);
  const cylinderMass = mass - capsMass;
  return (cylinderMass * (3 * r * r + h * h)) / 12 + capsMass * ((2 / 5) * r * r) +
    (capsMass * h * (3 * r + 2 * h)) / 8;
}

/** The pole's moment of inertia about the pivot (parallel axes: I_centre + m l^2). */
const POLE_PIVOT_INERTIA = capsuleInertia(C.poleMass, C.poleRadius, 2 * C.poleHalfLength) +
  C.poleMass * C.poleHalfLength * C.poleHalfLength;
const SUBSTEP = C.controlTimestep / C.substeps;

const CENTERED: ToleranceOptions = { margin: 2 };
const SMALL_CONTROL: ToleranceOptions = { margin: 1, valueAtMargin: 0, sigmoid: "quadratic" };
const SMALL_VELOCITY: ToleranceOptions = { margin: 5 };

/** dm_control's smooth swing-up reward for one state and the control applied to reach it. */
export function cartpoleSwingupReward(
  cartPosition: number,
  poleAngleCosine: number,
  poleAngularVelocity: number,
  control: number,
): number {
  const upright = (poleAngleCosine + 1) / 2;
  const centered = (1 + tolerance(cartPosition, CENTERED)) / 2;
  const smallControl = (4 + tolerance(control, SMALL_CONTROL)) / 5;
  const smallVelocity = (1 + tolerance(poleAngularVelocity, SMALL_VELOCITY)) / 2;
  return upright * smallControl * smallVelocity * centered;
}

/**
 * State: [x, theta, xDot, thetaDot], theta 0 upright and positive when the pole leans towards +x.
 * Observation: [cart position, cos theta, sin theta, cart velocity, pole angular velocity], as
 * dm_control's `position` and `velocity` concatenated. Action: one force in [-1, 1] (clipped).
 */
export class CartPoleSwingupEnv extends ClassicControlEnv implements Renderable {
  declare readonly actionSpec: BoxSpec;
  readonly #control = new Float32Array(1);

  constructor() {
    super({
      id: "cartpole-swingup",
      observationSpec: boxSpec(
        [5],
        [-Infinity, -1, -1, -Infinity, -Infinity],
        [Infinity, 1, 1, Infinity, Infinity],
      ),
      actionSpec: boxSpec([1], -1, 1),
      maxEpisodeSteps: C.maxEpisodeSteps,
      stateNames: ["x", "theta", "xDot", "thetaDot"],
    });
  }

  protected sampleInitialState(rng: Rng): void {
    this.state[0] = 0.01 * rng.normal();
    this.state[1] = Math.PI + 0.01 * rng.normal();
    this.state[2] = 0.01 * rng.normal();
    this.state[3] = 0.01 * rng.normal();
  }

  protected transition(action: Action): number {
    const control = readBoxAction(this.id, action, this.actionSpec, this.#control)[0];
    const force = C.forceGain * control;
    const s = this.state;
    let x = s[0], theta = s[1], xDot = s[2], thetaDot = s[3];
    for (let i = 0; i < C.substeps; i++) {
      const sinTheta = Math.sin(theta), cosTheta = Math.cos(theta);
      // Lagrange's equations, M(q) qDDot = f, solved as a 2x2 system:
      //   (M + m) xDDot + m l cos(theta) thetaDDot = F - b_x xDot + m l sin(theta) thetaDot^2
      //   m l cos(theta) xDDot + J thetaDDot = m g l sin(theta) - b_theta thetaDot
      // with J the pole's inertia about the pivot.
      const coupling = POLE_MASS_LENGTH * cosTheta;
      const cartForce = force - C.cartDamping * xDot +
        POLE_MASS_LENGTH * sinTheta * thetaDot * thetaDot;
      const poleTorque = POLE_MASS_LENGTH * C.gravity * sinTheta - C.hingeDamping * thetaDot;
      const determinant = TOTAL_MASS * POLE_PIVOT_INERTIA - coupling * coupling;
      const xAcc = (POLE_PIVOT_INERTIA * cartForce - coupling * poleTorque) / determinant;
      const thetaAcc = (TOTAL_MASS * poleTorque - coupling * cartForce) / determinant;
      // Semi-implicit Euler: positions move with the new velocities.
      xDot += SUBSTEP * xAcc;
      thetaDot += SUBSTEP * thetaAcc;
      x += SUBSTEP * xDot;
      theta += SUBSTEP * thetaDot;
      if (x > C.railLimit || x < -C.railLimit) {
        x = x > 0 ? C.railLimit : -C.railLimit;
        // An impulse on the cart does no work on theta, so the pole keeps its generalized
        // momentum m l cos(theta) xDot + J thetaDot while the cart stops.
        if (x * xDot > 0) {
          thetaDot += (POLE_MASS_LENGTH * Math.cos(theta) * xDot) / POLE_PIVOT_INERTIA;
          xDot = 0;
        }
      }
    }
    s[0] = x;
    s[1] = theta;
    s[2] = xDot;
    s[3] = thetaDot;
    return cartpoleSwingupReward(x, Math.cos(theta), thetaDot, control);
  }

  protected isTerminal(): boolean {
    return false;
  }

  protected writeObservation(out: Float32Array): void {
    const s = this.state;
    out[0] = s[0];
    out[1] = Math.cos(s[1]);
    out[2] = Math.sin(s[1]);
    out[3] = s[2];
    out[4] = s[3];
  }

  /**
   * A side view 4.4 m across with the rail at mid-height, in dm_control's colours: sky, floor
   * 1.05 m below the rail, the rail, the cart (0.4 x 0.2 m) and the 1 m pole.
   */
  render(out?: Uint8Array, size = 64): Uint8Array {
    this.assertStarted("render");
    const image = imageBuffer(this.id, out, size);
    const scale = size / 4.4;
    const railY = size / 2;
    const cartX = size / 2 + this.state[0] * scale;
    const theta = this.state[1];
    const poleLength = 2 * C.poleHalfLength * scale;
    fillRows(image, size, 0, railY + 1.05 * scale, 0x6699cc);
    fillRows(image, size, railY + 1.05 * scale, size, 0x33404d);
    fillRect(
      image,
      size,
      size / 2 - 2 * scale,
      railY - Math.max(0.5, 0.02 * scale),
      size / 2 + 2 * scale,
      railY + Math.max(0.5, 0.02 * scale),
      0x4c7fb2,
    );
    fillRect(
      image,
      size,
      cartX - 0.2 * scale,
      railY - Math.max(1, 0.1 * scale),
      cartX + 0.2 * scale,
      railY + Math.max(1, 0.1 * scale),
      0xb27f4c,
    );
    fillCapsule(
      image,
      size,
      cartX,
      railY,
      cartX + poleLength * Math.sin(theta),
      railY - poleLength * Math.cos(theta),
      Math.max(1, 0.045 * scale),
      0xe6b27f,
    );
    return image;
  }
}
