/**
 * Pendulum-v1: the inverted pendulum swing-up of Gymnasium's `classic_control/pendulum.py`
 * (Towers et al. 2023), a torque-limited rod that must be swung up and held upright.
 *
 * Same constants (g = 10, m = 1, l = 1, dt = 0.05, |thetaDot| <= 8, |u| <= 2), start distribution
 * (theta uniform in [-pi, pi], thetaDot uniform in [-1, 1]), semi-implicit Euler step and cost as
 * Gymnasium, with the 200-step limit of its registration. The cost is charged on the state before
 * the step and the clipped torque: -(angle_normalize(theta)^2 + 0.1 thetaDot^2 + 0.001 u^2).
 * Where ours differs: the pixel view is a small uint8 image without Gymnasium's torque arrow.
 */

import type { Rng } from "../rng.ts";
import { ClassicControlEnv } from "./classic_env.ts";
import { fillCapsule, fillRows, imageBuffer, type Renderable } from "./render.ts";
import { type Action, type BoxSpec, boxSpec, readBoxAction } from "./types.ts";

export const PENDULUM_CONSTANTS = {
  gravity: 10.0,
  mass: 1.0,
  length: 1.0,
  dt: 0.05,
  maxSpeed: 8,
  maxTorque: 2.0,
  maxEpisodeSteps: 200,
} as const;

const C = PENDULUM_CONSTANTS;

/** An angle mapped into [-pi, pi), the floored modulo of Python's `%`. */
export function angleNormalize(angle: number): number {
  const period = 2 * Math.PI;
  const shifted = angle + Math.PI;
  return shifted - period * Math.floor(shifted / period) - Math.PI;
}

/**
 * Observation: [cos theta, sin theta, thetaDot], theta 0 when upright and growing counter-clockwise.
 * Action: one torque in [-2, 2] (values outside are clipped).
 */
export class PendulumEnv extends ClassicControlEnv implements Renderable {
  declare readonly actionSpec: BoxSpec;
  readonly #torque = new Float32Array(1);

  constructor() {
    super({
      id: "Pendulum-v1",
      observationSpec: boxSpec([3], [-1, -1, -C.maxSpeed], [1, 1, C.maxSpeed]),
      actionSpec: boxSpec([1], -C.maxTorque, C.maxTorque),
      maxEpisodeSteps: C.maxEpisodeSteps,
      stateNames: ["theta", "thetaDot"],
    });
  }

  protected sampleInitialState(rng: Rng): void {
    this.state[0] = rng.uniform(-Math.PI, Math.PI);
    this.state[1] = rng.uniform(-1, 1);
  }

  protected transition(action: Action): number {
    const torque = readBoxAction(this.id, action, this.actionSpec, this.#torque)[0];
    const theta = this.state[0], thetaDot = this.state[1];
    const normalized = angleNormalize(theta);
    const cost = normalized * normalized + 0.1 * thetaDot * thetaDot + 0.001 * torque * torque;
    const angularAcc = ((3 * C.gravity) / (2 * C.length)) * Math.sin(theta) +
      (3.0 / (C.mass * C.length * C.length)) * torque;
    const newThetaDot = Math.min(C.maxSpeed, Math.max(-C.maxSpeed, thetaDot + angularAcc * C.dt));
    // Semi-implicit: the angle moves with the new velocity.
    this.state[0] = theta + newThetaDot * C.dt;
    this.state[1] = newThetaDot;
    return -cost;
  }

  protected isTerminal(): boolean {
    return false;
  }

  protected writeObservation(out: Float32Array): void {
    out[0] = Math.cos(this.state[0]);
    out[1] = Math.sin(this.state[0]);
    out[2] = this.state[1];
  }

  /** The rod seen face on, framed like Gymnasium's view (2.2 m from the pivot to each edge). */
  render(out?: Uint8Array, size = 64): Uint8Array {
    this.assertStarted("render");
    const image = imageBuffer(this.id, out, size);
    const scale = size / 4.4;
    const centre = size / 2;
    const theta = this.state[0];
    const rodLength = C.length * scale;
    fillRows(image, size, 0, size, 0xffffff);
    fillCapsule(
      image,
      size,
      centre,
      centre,
      centre - rodLength * Math.sin(theta),
      centre - rodLength * Math.cos(theta),
      Math.max(1, 0.1 * scale),
      0xcc4d4d,
    );
    fillCapsule(
      image,
      size,
      centre,
      centre,
      centre,
      centre,
      Math.max(0.75, 0.05 * scale),
      0x000000,
    );
    return image;
  }
}
