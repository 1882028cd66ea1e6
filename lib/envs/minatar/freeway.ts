/**
 * MinAtar Freeway (Young & Tian 2019, arXiv 1903.03176, section 2 and appendix; rules as in the
 * reference implementation, github.com/kenjyoung/MinAtar).
 *
 * A chicken in column 4 starts on the bottom row and may step up or down one row at most once
 * every 3 steps. Reaching the top row scores +1, puts the chicken back on the bottom row and draws
 * new speeds and directions for the cars. Eight lanes (rows 1 to 8) carry one car each, wrapping
 * around the sides; a car hitting the chicken sends it back to the bottom row (no penalty beyond
 * the lost ground). A car's speed is a delay d from 1 to 5 drawn uniformly: it moves one cell every
 * d + 1 steps (the reference's text says every 1 to 5 frames, its code every 2 to 6; we follow
 * the code). The episode ends (terminated) after 2,501 steps, when the reference's 2,500-step
 * countdown drops below zero. No difficulty ramp. Channels: chicken, car, and five trail channels
 * speed1..speed5 marking the cell behind each car, by its delay (speed1 the fastest).
 *
 * Ours follows the reference's rules and order of updates: fed the reference's random numbers, it
 * plays the reference's recorded episodes step for step (tests/envs/minatar). Only the generator
 * (lib/rng.ts) and what shared.ts says of all five games (time limit, sticky actions at reset)
 * differ.
 *
 * Measured (bench/minatar.ts; uniformly random policy, sticky actions 0.1, 200 episodes): return
 * 0.14 +- 0.37 and 2,501 steps an episode (the reference code: 0.12 +- 0.35 over 1,000); 6.9
 * million steps a second on one core (AMD EPYC, shared), the observation written every step.
 */
import type { Rng } from "../../rng.ts";
import {
  cellOffset,
  GRID_SIZE,
  MINATAR_DOWN,
  MINATAR_NOOP,
  MINATAR_UP,
  MinAtarEnv,
  type MinAtarOptions,
} from "./shared.ts";

const CHICKEN = 0, CAR = 1, FIRST_TRAIL = 2;
const CHANNELS = ["chicken", "car", "speed1", "speed2", "speed3", "speed4", "speed5"] as const;
const LAST = GRID_SIZE - 1;
const LANES = 8;
/** The chicken's column. */
export const FREEWAY_CHICKEN_X = 4;
/** Steps the chicken waits after a move before it may move again. */
export const FREEWAY_MOVE_COOLDOWN = 3;
/** The countdown that ends the episode once it drops below zero. */
export const FREEWAY_TIME_LIMIT = 2500;
const MAX_CAR_DELAY = 5;

/** The state of a Freeway game, updated in place. Lane i is row i + 1. */
export interface FreewayState {
  chickenY: number;
  /** Steps until the chicken may move again. */
  moveCooldown: number;
  /** The countdown: the episode ends when it drops below zero. */
  timeLeft: number;
  carX: Int32Array;
  /** A car moves one cell every `carDelay + 1` steps. */
  carDelay: Int32Array;
  /** +1 for a car driving right, -1 left. */
  carDirection: Int32Array;
  /** Steps until each car's next move. */
  carTimer: Int32Array;
}

export class Freeway extends MinAtarEnv {
  readonly #state: FreewayState = {
    chickenY: LAST,
    moveCooldown: 0,
    timeLeft: 0,
    carX: new Int32Array(LANES),
    carDelay: new Int32Array(LANES),
    carDirection: new Int32Array(LANES),
    carTimer: new Int32Array(LANES),
  };

  constructor(options: MinAtarOptions = {}) {
    super({
      id: "MinAtar/Freeway-v0",
      channels: CHANNELS,
      minimalActionSet: [MINATAR_NOOP, MINATAR_UP, MINATAR_DOWN],
    }, options);
  }

  get difficultyLevel(): number {
    return 0;
  }

  /** The true state, one object updated in place (tests may edit it between steps). */
  trueState(): FreewayState {
    this.assertStarted("trueState");
    return this.#state;
  }

  protected startEpisode(rng: Rng): void {
    const state = this.#state;
    state.carX.fill(0);
    this.#drawCarSpeeds(rng);
    state.chickenY = LAST;
    state.moveCooldown = FREEWAY_MOVE_COOLDOWN;
    state.timeLeft = FREEWAY_TIME_LIMIT;
  }

  protected advance(action: number, rng: Rng): number {
    const state = this.#state;
    if (state.moveCooldown === 0) {
      if (action === MINATAR_UP) {
        state.moveCooldown = FREEWAY_MOVE_COOLDOWN;
        state.chickenY = Math.max(0, state.chickenY - 1);
      } else if (action === MINATAR_DOWN) {
        state.moveCooldown = FREEWAY_MOVE_COOLDOWN;
        state.chickenY = Math.min(LAST, state.chickenY + 1);
      }
    }

    let reward = 0;
    if (state.chickenY === 0) {
      reward = 1;
      this.#drawCarSpeeds(rng);
      state.chickenY = LAST;
    }

    // A car on the chicken's cell, before or after it moves, sends the chicken back down.
    for (let lane = 0; lane < LANES; lane++) {
      const row = lane + 1;
      if (state.carX[lane] === FREEWAY_CHICKEN_X && row === state.chickenY) state.chickenY = LAST;
      if (state.carTimer[lane] === 0) {
        state.carTimer[lane] = state.carDelay[lane];
        state.carX[lane] = (state.carX[lane] + state.carDirection[lane] + GRID_SIZE) % GRID_SIZE;
        if (state.carX[lane] === FREEWAY_CHICKEN_X && row === state.chickenY) {
          state.chickenY = LAST;
        }
      } else {
        state.carTimer[lane]--;
      }
    }

    if (state.moveCooldown > 0) state.moveCooldown--;
    state.timeLeft--;
    if (state.timeLeft < 0) this.gameOver = true;
    return reward;
  }

  protected drawObservation(out: Float32Array): void {
    const state = this.#state;
    const channels = CHANNELS.length;
    out[cellOffset(state.chickenY, FREEWAY_CHICKEN_X, CHICKEN, channels)] = 1;
    for (let lane = 0; lane < LANES; lane++) {
      const row = lane + 1;
      const x = state.carX[lane];
      out[cellOffset(row, x, CAR, channels)] = 1;
      const behind = (x - state.carDirection[lane] + GRID_SIZE) % GRID_SIZE;
      const trail = FIRST_TRAIL + state.carDelay[lane] - 1;
      out[cellOffset(row, behind, trail, channels)] = 1;
    }
  }

  /** New delays and directions for every car; positions stay. */
  #drawCarSpeeds(rng: Rng): void {
    const state = this.#state;
    // All delays first, then all directions: the reference's order of draws.
    for (let lane = 0; lane < LANES; lane++) {
      const delay = 1 + rng.int(MAX_CAR_DELAY);
      state.carDelay[lane] = delay;
      state.carTimer[lane] = delay;
    }
    for (let lane = 0; lane < LANES; lane++) state.carDirection[lane] = rng.next() < 0.5 ? -1 : 1;
  }
}
