/**
 * MountainCarContinuous-v0: the continuous-action mountain car of Gymnasium's
 * `classic_control/continuous_mountain_car.py` (Towers et al. 2023), after Moore (1990).
 *
 * The car's engine applies a force in [-1, 1] times a power of 0.0015 against gravity 0.0025 on a
 * valley of height sin(3x); the flag is at x = 0.45. Reward: +100 on reaching the flag, minus
 * 0.1 a^2 every step; 999-step limit. Same constants, update order, inelastic left wall and start
 * distribution (x uniform in [-0.6, -0.4], at rest) as Gymnasium.
 *
 * As in Gymnasium, the force is clipped to [-1, 1] but the control cost is charged on the action
 * as given, so actions beyond the bounds cost more without pushing harder. Gymnasium stores its
 * state in float32 between steps; ours stays in float64 (differences below 1e-7).
 */

import type { Rng } from "../rng.ts";
import { ClassicControlEnv } from "./classic_env.ts";
import { type Action, type BoxSpec, boxSpec, readBoxAction } from "./types.ts";

export const MOUNTAIN_CAR_CONTINUOUS_CONSTANTS = {
  minAction: -1.0,
  maxAction: 1.0,
  minPosition: -1.2,
  maxPosition: 0.6,
  maxSpeed: 0.07,
  goalPosition: 0.45,
  goalVelocity: 0,
  power: 0.0015,
  gravity: 0.0025,
  goalReward: 100.0,
  controlCost: 0.1,
  maxEpisodeSteps: 999,
} as const;

const C = MOUNTAIN_CAR_CONTINUOUS_CONSTANTS;

/** Observation: [position, velocity]. Action: one force in [-1, 1]. */
export class MountainCarContinuousEnv extends ClassicControlEnv {
  declare readonly actionSpec: BoxSpec;
  readonly #force = new Float32Array(1);

  constructor() {
    super({
      id: "MountainCarContinuous-v0",
      observationSpec: boxSpec([2], [C.minPosition, -C.maxSpeed], [C.maxPosition, C.maxSpeed]),
      actionSpec: boxSpec([1], C.minAction, C.maxAction),
      maxEpisodeSteps: C.maxEpisodeSteps,
      stateNames: ["position", "velocity"],
    });
  }

  protected sampleInitialState(rng: Rng): void {
    this.state[0] = rng.uniform(-0.6, -0.4);
    this.state[1] = 0;
  }

  protected transition(action: Action): number {
    const force = readBoxAction(this.id, action, this.actionSpec, this.#force)[0];
    const rawAction = typeof action === "number" ? action : action[0];
    let position = this.state[0], velocity = this.state[1];
    velocity += force * C.power - C.gravity * Math.cos(3 * position);
    velocity = Math.min(C.maxSpeed, Math.max(-C.maxSpeed, velocity));
    position += velocity;
    position = Math.min(C.maxPosition, Math.max(C.minPosition, position));
    // The left wall stops the car dead.
    if (position === C.minPosition && velocity < 0) velocity = 0;
    this.state[0] = position;
    this.state[1] = velocity;
    const goalBonus = this.isTerminal() ? C.goalReward : 0;
    return goalBonus - C.controlCost * rawAction * rawAction;
  }

  protected isTerminal(): boolean {
    return this.state[0] >= C.goalPosition && this.state[1] >= C.goalVelocity;
  }

  protected writeObservation(out: Float32Array): void {
    out[0] = this.state[0];
    out[1] = this.state[1];
  }
}
