/**
 * MinAtar Asterix (Young & Tian 2019, arXiv 1903.03176, section 2 and appendix; rules as in the
 * reference implementation, github.com/kenjyoung/MinAtar).
 *
 * The player moves one cell a step in the four directions, within rows 1 to 8. Each of those eight
 * rows is a lane holding at most one object, an enemy or (one time in three) gold, which enters at
 * the left or right edge (a coin flip) and crosses the row; a new one spawns in a random free lane
 * every `spawnInterval` steps, and all objects move one cell every `moveInterval` steps. Touching
 * gold scores +1 and removes it; touching an enemy ends the episode. Difficulty ramps with time:
 * every 102 steps the spawn interval drops by one (from 10 down to 1) and, on every other ramp,
 * the move interval too (from 5 down to 1). Channels: player, enemy, trail (the cell behind each
 * object, which shows its direction), gold.
 *
 * Ours follows the reference's rules and order of updates: fed the reference's random numbers, it
 * plays the reference's recorded episodes step for step (tests/envs/minatar). Only the generator
 * (lib/rng.ts) and what shared.ts says of all five games (time limit, sticky actions at reset)
 * differ.
 *
 * Measured (bench/minatar.ts; uniformly random policy, sticky actions 0.1, 1,000 episodes): return
 * 0.46 +- 0.82 and 67.8 steps an episode (the reference code: 0.49 +- 0.84 and 69.5 over 5,000);
 * 4.5 million steps a second on one core (AMD EPYC, shared), the observation written every step.
 */
import type { Rng } from "../../rng.ts";
import {
  cellOffset,
  GRID_SIZE,
  MINATAR_DOWN,
  MINATAR_LEFT,
  MINATAR_NOOP,
  MINATAR_RIGHT,
  MINATAR_UP,
  MinAtarEnv,
  type MinAtarOptions,
} from "./shared.ts";

const PLAYER = 0, ENEMY = 1, TRAIL = 2, GOLD = 3;
const CHANNELS = ["player", "enemy", "trail", "gold"] as const;
const LAST = GRID_SIZE - 1;
const LANES = 8;
/** The rules' timers, in steps. */
export const ASTERIX_RULES = {
  initialSpawnInterval: 10,
  initialMoveInterval: 5,
  /** The ramp counter restarts from this value; one ramp every 102 steps. */
  rampInterval: 100,
  goldProbability: 1 / 3,
} as const;

/** The state of an Asterix game, updated in place. Lane i is row i + 1. */
export interface AsterixState {
  playerX: number;
  playerY: number;
  /** 1 where a lane holds an object. */
  laneOccupied: Uint8Array;
  laneX: Int32Array;
  /** +1 for an object moving right, -1 left. */
  laneDirection: Int32Array;
  /** 1 for gold, 0 for an enemy. */
  laneGold: Uint8Array;
  /** Steps between spawns, and until the next one. */
  spawnInterval: number;
  spawnTimer: number;
  /** Steps between moves of the objects, and until the next one. */
  moveInterval: number;
  moveTimer: number;
  /** Counts down to the next ramp. */
  rampTimer: number;
  /** Ramps so far (MinAtar's ramp index). */
  rampIndex: number;
}

export class Asterix extends MinAtarEnv {
  readonly #state: AsterixState = {
    playerX: 0,
    playerY: 0,
    laneOccupied: new Uint8Array(LANES),
    laneX: new Int32Array(LANES),
    laneDirection: new Int32Array(LANES),
    laneGold: new Uint8Array(LANES),
    spawnInterval: 0,
    spawnTimer: 0,
    moveInterval: 0,
    moveTimer: 0,
    rampTimer: 0,
    rampIndex: 0,
  };
  /** Scratch list of free lanes for a spawn. */
  readonly #freeLanes = new Int32Array(LANES);

  constructor(options: MinAtarOptions = {}) {
    super({
      id: "MinAtar/Asterix-v0",
      channels: CHANNELS,
      minimalActionSet: [MINATAR_NOOP, MINATAR_LEFT, MINATAR_UP, MINATAR_RIGHT, MINATAR_DOWN],
    }, options);
  }

  get difficultyLevel(): number {
    return this.#state.rampIndex;
  }

  /** The true state, one object updated in place (tests may edit it between steps). */
  trueState(): AsterixState {
    this.assertStarted("trueState");
    return this.#state;
  }

  protected startEpisode(): void {
    const state = this.#state;
    state.playerX = 5;
    state.playerY = 5;
    state.laneOccupied.fill(0);
    state.spawnInterval = ASTERIX_RULES.initialSpawnInterval;
    state.spawnTimer = state.spawnInterval;
    state.moveInterval = ASTERIX_RULES.initialMoveInterval;
    state.moveTimer = state.moveInterval;
    state.rampTimer = ASTERIX_RULES.rampInterval;
    state.rampIndex = 0;
  }

  protected advance(action: number, rng: Rng): number {
    const state = this.#state;
    if (state.spawnTimer === 0) {
      this.#spawn(rng);
      state.spawnTimer = state.spawnInterval;
    }

    if (action === MINATAR_LEFT) state.playerX = Math.max(0, state.playerX - 1);
    else if (action === MINATAR_RIGHT) state.playerX = Math.min(LAST, state.playerX + 1);
    else if (action === MINATAR_UP) state.playerY = Math.max(1, state.playerY - 1);
    else if (action === MINATAR_DOWN) state.playerY = Math.min(LANES, state.playerY + 1);

    // Contact is checked after the player moves and again after the objects move.
    let reward = this.#collide();
    if (state.moveTimer === 0) {
      state.moveTimer = state.moveInterval;
      for (let lane = 0; lane < LANES; lane++) {
        if (state.laneOccupied[lane] === 0) continue;
        const x = state.laneX[lane] + state.laneDirection[lane];
        if (x < 0 || x > LAST) state.laneOccupied[lane] = 0;
        else state.laneX[lane] = x;
      }
      reward += this.#collide();
    }
    state.spawnTimer--;
    state.moveTimer--;

    if (this.difficultyRamping && (state.spawnInterval > 1 || state.moveInterval > 1)) {
      if (state.rampTimer >= 0) {
        state.rampTimer--;
      } else {
        if (state.moveInterval > 1 && state.rampIndex % 2 === 1) state.moveInterval--;
        if (state.spawnInterval > 1) state.spawnInterval--;
        state.rampIndex++;
        state.rampTimer = ASTERIX_RULES.rampInterval;
      }
    }
    return reward;
  }

  protected drawObservation(out: Float32Array): void {
    const state = this.#state;
    const channels = CHANNELS.length;
    out[cellOffset(state.playerY, state.playerX, PLAYER, channels)] = 1;
    for (let lane = 0; lane < LANES; lane++) {
      if (state.laneOccupied[lane] === 0) continue;
      const row = lane + 1, x = state.laneX[lane];
      out[cellOffset(row, x, state.laneGold[lane] === 1 ? GOLD : ENEMY, channels)] = 1;
      const behind = x - state.laneDirection[lane];
      if (behind >= 0 && behind <= LAST) out[cellOffset(row, behind, TRAIL, channels)] = 1;
    }
  }

  /** Gold on the player's cell is collected, an enemy there ends the game; returns the reward. */
  #collide(): number {
    const state = this.#state;
    const lane = state.playerY - 1;
    if (state.laneOccupied[lane] === 0 || state.laneX[lane] !== state.playerX) return 0;
    if (state.laneGold[lane] === 0) {
      this.gameOver = true;
      return 0;
    }
    state.laneOccupied[lane] = 0;
    return 1;
  }

  /** A new enemy or gold in a random free lane; nothing when every lane is taken. */
  #spawn(rng: Rng): void {
    const state = this.#state;
    const movesRight = rng.next() < 0.5;
    const gold = rng.next() < ASTERIX_RULES.goldProbability;
    let free = 0;
    for (let lane = 0; lane < LANES; lane++) {
      if (state.laneOccupied[lane] === 0) this.#freeLanes[free++] = lane;
    }
    if (free === 0) return;
    const lane = this.#freeLanes[rng.int(free)];
    state.laneOccupied[lane] = 1;
    state.laneX[lane] = movesRight ? 0 : LAST;
    state.laneDirection[lane] = movesRight ? 1 : -1;
    state.laneGold[lane] = gold ? 1 : 0;
  }
}
