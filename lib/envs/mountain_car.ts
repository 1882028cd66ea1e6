/**
 * MountainCar-v0: Moore (1990), "Efficient memory-based learning for robot control", in the form
 * of Sutton & Barto (2018), Example 10.1, as implemented in Gymnasium's
 * `classic_control/mountain_car.py` (Towers et al. 2023).
 *
 * An underpowered car in a valley (height sin(3x)) must rock back and forth to reach the flag at
 * x = 0.5 on the right hill. Same constants, update order, inelastic left wall, start distribution
 * (x uniform in [-0.6, -0.4], at rest), reward (-1 every step) and 200-step limit as Gymnasium.
 */

import type { Rng } from "../rng.ts";
import { ClassicControlEnv } from "./classic_env.ts";
import { type Action, boxSpec, checkDiscreteAction } from "./types.ts";

export const MOUNTAIN_CAR_CONSTANTS = {
  minPosition: -1.2,
  maxPosition: 0.6,
  maxSpeed: 0.07,
  goalPosition: 0.5,
  goalVelocity: 0,
  force: 0.001,
  gravity: 0.0025,
  maxEpisodeSteps: 200,
} as const;

const C = MOUNTAIN_CAR_CONSTANTS;

/**
 * Observation: [position, velocity]. Actions: 0 accelerates left, 1 does nothing, 2 accelerates
 * right.
 */
export class MountainCarEnv extends ClassicControlEnv {
  constructor() {
    super({
      id: "MountainCar-v0",
      observationSpec: boxSpec([2], [C.minPosition, -C.maxSpeed], [C.maxPosition, C.maxSpeed]),
      actionSpec: { kind: "discrete", n: 3 },
      maxEpisodeSteps: C.maxEpisodeSteps,
      stateNames: ["position", "velocity"],
    });
  }

  protected sampleInitialState(rng: Rng): void {
    this.state[0] = rng.uniform(-0.6, -0.4);
    this.state[1] = 0;
  }

  protected transition(action: Action): number {
    const push = checkDiscreteAction(this.id, action, 3);
    let position = this.state[0], velocity = this.state[1];
    velocity += (push - 1) * C.force + Math.cos(3 * position) * -C.gravity;
    velocity = Math.min(C.maxSpeed, Math.max(-C.maxSpeed, velocity));
    position += velocity;
    position = Math.min(C.maxPosition, Math.max(C.minPosition, position));
    // The left wall stops the car dead.
    if (position === C.minPosition && velocity < 0) velocity = 0;
    this.state[0] = position;
    this.state[1] = velocity;
    return -1.0;
  }

  protected isTerminal(): boolean {
    return this.state[0] >= C.goalPosition && this.state[1] >= C.goalVelocity;
  }

  protected writeObservation(out: Float32Array): void {
    out[0] = this.state[0];
    out[1] = this.state[1];
  }
}
