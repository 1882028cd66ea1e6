/**
 * Acrobot-v1: the two-link underactuated pendulum of Sutton (1996), "Generalization in
 * reinforcement learning: successful examples using sparse coarse coding", and Sutton & Barto
 * (1998/2018), as implemented in Gymnasium's `classic_control/acrobot.py` (Towers et al. 2023).
 *
 * Torque acts only on the joint between the links; the episode ends when the tip rises above the
 * bar by one link length (-cos t1 - cos(t1 + t2) > 1). Same constants, start distribution (all
 * four state variables uniform in [-0.1, 0.1]), "book" dynamics (the equations of the book and of
 * the Java reference code, not of the NIPS paper), one RK4 step of dt = 0.2, angle wrapping,
 * velocity limits (4 pi, 9 pi), reward (-1 per step, 0 on the terminating step) and 500-step limit
 * as Gymnasium, whose default torque noise is zero.
 */

import type { Rng } from "../rng.ts";
import { ClassicControlEnv } from "./classic_env.ts";
import { type Action, boxSpec, checkDiscreteAction } from "./types.ts";

export const ACROBOT_CONSTANTS = {
  dt: 0.2,
  linkLength1: 1.0,
  linkLength2: 1.0,
  linkMass1: 1.0,
  linkMass2: 1.0,
  /** Distance from each joint to its link's centre of mass. */
  linkComPosition1: 0.5,
  linkComPosition2: 0.5,
  /** Moment of inertia of each link about its centre of mass. */
  linkMomentOfInertia: 1.0,
  gravity: 9.8,
  maxVelocity1: 4 * Math.PI,
  maxVelocity2: 9 * Math.PI,
  /** Torque of actions 0, 1, 2. */
  torques: [-1.0, 0.0, 1.0],
  maxEpisodeSteps: 500,
} as const;

const C = ACROBOT_CONSTANTS;

/** Wraps x into [low, high] by whole periods, as Gymnasium's `wrap` (so pi stays pi). */
function wrap(x: number, low: number, high: number): number {
  const period = high - low;
  while (x > high) x -= period;
  while (x < low) x += period;
  return x;
}

/**
 * The time derivative of [theta1, theta2, dtheta1, dtheta2] under `torque`, written into `out`.
 * theta1 is the first link's angle from hanging straight down, theta2 the second's relative to
 * the first.
 */
export function acrobotDerivatives(
  state: ArrayLike<number>,
  torque: number,
  out: Float64Array,
): Float64Array {
  const m1 = C.linkMass1, m2 = C.linkMass2, l1 = C.linkLength1;
  const lc1 = C.linkComPosition1, lc2 = C.linkComPosition2;
  const i1 = C.linkMomentOfInertia, i2 = C.linkMomentOfInertia, g = C.gravity;
  const theta1 = state[0], theta2 = state[1], dtheta1 = state[2], dtheta2 = state[3];
  const sin2 = Math.sin(theta2), cos2 = Math.cos(theta2);
  const d1 = m1 * lc1 * lc1 + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * cos2) + i1 + i2;
  const d2 = m2 * (lc2 * lc2 + l1 * lc2 * cos2) + i2;
  const phi2 = m2 * lc2 * g * Math.cos(theta1 + theta2 - Math.PI / 2);
  const phi1 = -m2 * l1 * lc2 * dtheta2 * dtheta2 * sin2 -
    2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin2 +
    (m1 * lc1 + m2 * l1) * g * Math.cos(theta1 - Math.PI / 2) + phi2;
  // The "book" form keeps the dtheta1^2 term that the NIPS paper's form drops.
  const ddtheta2 = (torque + (d2 / d1) * phi1 - m2 * l1 * lc2 * dtheta1 * dtheta1 * sin2 - phi2) /
    (m2 * lc2 * lc2 + i2 - (d2 * d2) / d1);
  const ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
  out[0] = dtheta1;
  out[1] = dtheta2;
  out[2] = ddtheta1;
  out[3] = ddtheta2;
  return out;
}

/**
 * Observation: [cos theta1, sin theta1, cos theta2, sin theta2, dtheta1, dtheta2]. Actions: 0, 1, 2
 * apply a torque of -1, 0, +1 at the joint between the links.
 */
export class AcrobotEnv extends ClassicControlEnv {
  // RK4 stages, kept to step without allocating.
  readonly #k1 = new Float64Array(4);
  readonly #k2 = new Float64Array(4);
  readonly #k3 = new Float64Array(4);
  readonly #k4 = new Float64Array(4);
  readonly #stage = new Float64Array(4);

  constructor() {
    super({
      id: "Acrobot-v1",
      observationSpec: boxSpec(
        [6],
        [-1, -1, -1, -1, -C.maxVelocity1, -C.maxVelocity2],
        [1, 1, 1, 1, C.maxVelocity1, C.maxVelocity2],
      ),
      actionSpec: { kind: "discrete", n: 3 },
      maxEpisodeSteps: C.maxEpisodeSteps,
      stateNames: ["theta1", "theta2", "dtheta1", "dtheta2"],
    });
  }

  protected sampleInitialState(rng: Rng): void {
    for (let i = 0; i < 4; i++) this.state[i] = rng.uniform(-0.1, 0.1);
  }

  protected transition(action: Action): number {
    const torque = C.torques[checkDiscreteAction(this.id, action, 3)];
    const s = this.state, stage = this.#stage, h = C.dt;
    const k1 = acrobotDerivatives(s, torque, this.#k1);
    for (let i = 0; i < 4; i++) stage[i] = s[i] + (h / 2) * k1[i];
    const k2 = acrobotDerivatives(stage, torque, this.#k2);
    for (let i = 0; i < 4; i++) stage[i] = s[i] + (h / 2) * k2[i];
    const k3 = acrobotDerivatives(stage, torque, this.#k3);
    for (let i = 0; i < 4; i++) stage[i] = s[i] + h * k3[i];
    const k4 = acrobotDerivatives(stage, torque, this.#k4);
    for (let i = 0; i < 4; i++) s[i] += (h / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    s[0] = wrap(s[0], -Math.PI, Math.PI);
    s[1] = wrap(s[1], -Math.PI, Math.PI);
    s[2] = Math.min(C.maxVelocity1, Math.max(-C.maxVelocity1, s[2]));
    s[3] = Math.min(C.maxVelocity2, Math.max(-C.maxVelocity2, s[3]));
    return this.isTerminal() ? 0.0 : -1.0;
  }

  /** The tip is more than one link length above the pivot. */
  protected isTerminal(): boolean {
    const theta1 = this.state[0], theta2 = this.state[1];
    return -Math.cos(theta1) - Math.cos(theta2 + theta1) > 1.0;
  }

  protected writeObservation(out: Float32Array): void {
    const s = this.state;
    out[0] = Math.cos(s[0]);
    out[1] = Math.sin(s[0]);
    out[2] = Math.cos(s[1]);
    out[3] = Math.sin(s[1]);
    out[4] = s[2];
    out[5] = s[3];
  }
}
