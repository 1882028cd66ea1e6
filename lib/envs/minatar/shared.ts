/**
 * What the five MinAtar games share (Young & Tian 2019, "MinAtar: An Atari-Inspired Testbed for
 * Thorough and Reproducible Reinforcement Learning Experiments", arXiv 1903.03176, section 2): a
 * 10x10 grid observed as one 0/1 channel per kind of object (Float32Array, height x width x
 * channel), six actions, sticky actions, the episode plumbing, and a picture of the grid with one
 * colour per channel as MinAtar's display draws it.
 *
 * Actions. Every MinAtar game reads the same six actions: no-op, left, up, right, down, fire. They
 * are MinAtar's whole action set: unlike the Arcade Learning Environment's 18 joystick-and-button
 * actions there is no larger set to map from, and a game treats the ones it has no use for as
 * no-op (Breakout reads only left and right). The reference implementation
 * (github.com/kenjyoung/MinAtar) registers each game twice for Gymnasium: "MinAtar/<Game>-v0"
 * with all six actions, as the paper's results use, and "-v1" with only the game's minimal
 * subset, renumbered from 0. Ours keep all six, so our ids end in "-v0"; each game lists its
 * minimal subset in `minimalActionSet` for an agent that wants to restrict itself.
 *
 * Sticky actions (Machado et al. 2018), as MinAtar sets them: with probability 0.1 a step applies
 * the action applied on the previous step instead of the one chosen. The previous action is reset
 * to no-op at every `reset` (the reference carries it over from the last episode), so an episode
 * is fixed by its seed and the actions chosen. The draw is skipped when the probability is 0.
 *
 * Episodes. MinAtar sets no time limit; Freeway alone ends on a clock (after 2,501 steps). By
 * default we truncate at 10,000 steps (one step is one frame: MinAtar has no frame skip), far
 * longer than random episodes (tens of steps), so that a policy that stalls (a Seaquest submarine
 * idling at the surface, a Breakout ball kept in play forever) cannot run unbounded;
 * `maxEpisodeSteps` in the options changes it, e.g. for agents whose episodes run longer.
 */
import { Rng } from "../../rng.ts";
import { assertCanStep, EpisodeOrderError, type EpisodePhase } from "../classic_env.ts";
import { imageBuffer, type Renderable } from "../render.ts";
import {
  type Action,
  type BoxSpec,
  boxSpec,
  checkDiscreteAction,
  type DiscreteSpec,
  type Env,
  type StepResult,
} from "../types.ts";

/** Rows and columns of every MinAtar grid. */
export const GRID_SIZE = 10;

export const MINATAR_NOOP = 0;
export const MINATAR_LEFT = 1;
export const MINATAR_UP = 2;
export const MINATAR_RIGHT = 3;
export const MINATAR_DOWN = 4;
export const MINATAR_FIRE = 5;
/** The six actions by id, in MinAtar's order. */
export const MINATAR_ACTION_NAMES = ["no-op", "left", "up", "right", "down", "fire"] as const;
export const MINATAR_NUM_ACTIONS = 6;

/** MinAtar's probability that the previous action repeats. */
export const MINATAR_STICKY_ACTION_PROBABILITY = 0.1;
/** Our default time limit; MinAtar has none. */
export const MINATAR_MAX_EPISODE_STEPS = 10_000;

/**
 * The reference implementation (github.com/kenjyoung/MinAtar, commit 4241f24) under a uniformly
 * random policy with its default sticky actions, as we measured it by running its own code: the
 * return's mean and standard deviation and the mean episode length, over 5,000 episodes (Freeway
 * 1,000). Ours are compared against these in bench/minatar.ts and the tests.
 */
export const MINATAR_REFERENCE_RANDOM_POLICY = {
  "MinAtar/Asterix-v0": { returnMean: 0.486, returnStd: 0.845, lengthMean: 69.5, lengthStd: 43.2 },
  "MinAtar/Breakout-v0": { returnMean: 0.516, returnStd: 0.735, lengthMean: 11.3, lengthStd: 7.7 },
  "MinAtar/Freeway-v0": { returnMean: 0.12, returnStd: 0.354, lengthMean: 2501, lengthStd: 0 },
  "MinAtar/Seaquest-v0": { returnMean: 0.104, returnStd: 0.384, lengthMean: 30.5, lengthStd: 36.2 },
  "MinAtar/SpaceInvaders-v0": {
    returnMean: 2.862,
    returnStd: 2.387,
    lengthMean: 51.8,
    lengthStd: 39.9,
  },
} as const;

export interface MinAtarOptions {
  /** Probability that a step repeats the previously applied action (default 0.1, MinAtar's). */
  stickyActionProbability?: number;
  /**
   * Whether the game speeds up as it goes, as in MinAtar (default true). Breakout and Freeway
   * never ramp, so it changes nothing there.
   */
  difficultyRamping?: boolean;
  /** Steps after which an episode is truncated (default 10,000). */
  maxEpisodeSteps?: number;
}

/** What a game module tells the shared plumbing about itself. */
export interface MinAtarGameConfig {
  id: string;
  /** One name per observation channel, in channel order (MinAtar's names). */
  channels: readonly string[];
  /** The actions that do something in this game (MinAtar's minimal action set). */
  minimalActionSet: readonly number[];
}

/** Offset of (row, column, channel) in a 10x10xC observation. */
export function cellOffset(row: number, column: number, channel: number, channels: number): number {
  return (row * GRID_SIZE + column) * channels + channel;
}

/**
 * The episode plumbing every MinAtar game shares: seeding through `Rng`, sticky actions, the step
 * counter and truncation, the episode-order checks, and one observation buffer and one step-result
 * object reused on every step. A game supplies its start state, its one-frame update and how it
 * draws itself.
 */
export abstract class MinAtarEnv implements Env<Float32Array>, Renderable {
  readonly id: string;
  readonly observationSpec: BoxSpec;
  readonly actionSpec: DiscreteSpec = { kind: "discrete", n: MINATAR_NUM_ACTIONS };
  readonly maxEpisodeSteps: number;
  readonly channels: readonly string[];
  readonly minimalActionSet: readonly number[];
  readonly stickyActionProbability: number;
  readonly difficultyRamping: boolean;
  /** Set by `advance` when the game's own rules end the episode. */
  protected gameOver = false;
  readonly #channelCount: number;
  readonly #observation: Float32Array;
  readonly #result: StepResult<Float32Array>;
  readonly #palette: Uint8Array;
  #rng: Rng | null = null;
  #phase: EpisodePhase = "before-reset";
  #elapsedSteps = 0;
  #lastAction = MINATAR_NOOP;

  protected constructor(config: MinAtarGameConfig, options: MinAtarOptions) {
    const sticky = options.stickyActionProbability ?? MINATAR_STICKY_ACTION_PROBABILITY;
    if (!(sticky >= 0 && sticky <= 1)) {
      throw new RangeError(
        `${config.id}: stickyActionProbability must be in [0, 1], got ${sticky}`,
      );
    }
    const maxSteps = options.maxEpisodeSteps ?? MINATAR_MAX_EPISODE_STEPS;
    if (!Number.isInteger(maxSteps) || maxSteps < 1) {
      throw new RangeError(
        `${config.id}: maxEpisodeSteps must be a positive integer, got ${maxSteps}`,
      );
    }
    this.id = config.id;
    this.channels = config.channels;
    this.minimalActionSet = config.minimalActionSet;
    this.stickyActionProbability = sticky;
    this.difficultyRamping = options.difficultyRamping ?? true;
    this.maxEpisodeSteps = maxSteps;
    this.#channelCount = config.channels.length;
    this.observationSpec = boxSpec([GRID_SIZE, GRID_SIZE, this.#channelCount], 0, 1);
    this.#observation = new Float32Array(GRID_SIZE * GRID_SIZE * this.#channelCount);
    this.#result = {
      observation: this.#observation,
      reward: 0,
      terminated: false,
      truncated: false,
    };
    this.#palette = minAtarPalette(this.#channelCount);
  }

  /** Steps taken in the current episode. */
  get elapsedSteps(): number {
    return this.#elapsedSteps;
  }

  /** The action the last step applied, after stickiness (no-op right after `reset`). */
  get lastAppliedAction(): number {
    return this.#lastAction;
  }

  /** How many times the game has sped up this episode (MinAtar's ramp index). */
  abstract get difficultyLevel(): number;

  /**
   * Starts an episode. A seed restarts the generator; without one the previous stream goes on, as
   * in Gymnasium, and the very first unseeded reset uses seed 0 so that runs stay reproducible.
   */
  reset(seed?: number): Float32Array {
    if (seed !== undefined || this.#rng === null) this.#rng = this.createRng(seed ?? 0);
    this.#lastAction = MINATAR_NOOP;
    this.#elapsedSteps = 0;
    this.gameOver = false;
    this.startEpisode(this.#rng);
    this.#phase = "running";
    this.#writeObservation();
    return this.#observation;
  }

  /** Advances one frame; the returned object and its observation are reused by the next step. */
  step(action: Action): StepResult<Float32Array> {
    assertCanStep(this.id, this.#phase, this.#elapsedSteps);
    const chosen = checkDiscreteAction(this.id, action, MINATAR_NUM_ACTIONS);
    const rng = this.#rng!;
    const sticky = this.stickyActionProbability;
    const applied = sticky > 0 && rng.next() < sticky ? this.#lastAction : chosen;
    this.#lastAction = applied;
    const reward = this.advance(applied, rng);
    this.#elapsedSteps++;
    const terminated = this.gameOver;
    const truncated = !terminated && this.#elapsedSteps >= this.maxEpisodeSteps;
    if (terminated || truncated) this.#phase = "ended";
    this.#writeObservation();
    const result = this.#result;
    result.reward = reward;
    result.terminated = terminated;
    result.truncated = truncated;
    return result;
  }

  /**
   * Draws the grid into `out` (allocated when absent) as a `size` x `size` RGB image, each cell one
   * block in the colour of its highest occupied channel, empty cells black, as MinAtar's display
   * does. `size` 10 gives one pixel per cell, for `upscale` of lib/viz/frame.ts.
   */
  render(out?: Uint8Array, size = 8 * GRID_SIZE): Uint8Array {
    if (this.#phase === "before-reset") {
      throw new EpisodeOrderError(`${this.id}: render() called before reset()`);
    }
    return paintGrid(this.#observation, this.#channelCount, this.#palette, out, size, this.id);
  }

  /**
   * The generator a seeded reset starts. Every game draws only `next()` and `int(n)`, in the
   * reference's order, so a subclass may replay numbers recorded from the reference instead (the
   * parity tests do).
   */
  protected createRng(seed: number): Rng {
    return new Rng(seed);
  }

  /** Throws unless `reset` has been called at least once. */
  protected assertStarted(method: string): void {
    if (this.#phase === "before-reset") {
      throw new EpisodeOrderError(`${this.id}: ${method}() called before reset()`);
    }
  }

  /** Puts the game in its start state. */
  protected abstract startEpisode(rng: Rng): void;
  /** Plays one frame with `action` (already checked and made sticky); returns the reward. */
  protected abstract advance(action: number, rng: Rng): number;
  /** Marks the objects in `out`, which arrives all zero. */
  protected abstract drawObservation(out: Float32Array): void;

  #writeObservation(): void {
    this.#observation.fill(0);
    this.drawObservation(this.#observation);
  }
}

/**
 * MinAtar's display colours for `channelCount` channels: seaborn's "cubehelix" palette, i.e.
 * matplotlib's cubehelix colour map (Green 2011, with gamma 1, start 0.5, rotations -1.5, hue 1)
 * sampled at `channelCount` evenly spaced interior points through its 256-entry table. Returns
 * `channelCount` RGB triples, flattened.
 */
export function minAtarPalette(channelCount: number): Uint8Array {
  const palette = new Uint8Array(channelCount * 3);
  for (let channel = 0; channel < channelCount; channel++) {
    // matplotlib looks a fraction up in a 256-entry table built at i / 255.
    const entry = Math.min(255, Math.floor(((channel + 1) / (channelCount + 1)) * 256));
    const lambda = entry / 255;
    const amplitude = (lambda * (1 - lambda)) / 2;
    const angle = 2 * Math.PI * (0.5 / 3 - 1.5 * lambda);
    const cos = Math.cos(angle), sin = Math.sin(angle);
    const rgb = [
      lambda + amplitude * (-0.14861 * cos + 1.78277 * sin),
      lambda + amplitude * (-0.29227 * cos - 0.90649 * sin),
      lambda + amplitude * (1.97294 * cos),
    ];
    for (let k = 0; k < 3; k++) {
      palette[channel * 3 + k] = Math.round(Math.min(1, Math.max(0, rgb[k])) * 255);
    }
  }
  return palette;
}

/**
 * Draws a MinAtar observation (10x10x`channelCount` values, e.g. a copy kept from an episode) as a
 * `size` x `size` RGB image, as `MinAtarEnv.render` draws the current one.
 */
export function renderMinAtarObservation(
  observation: ArrayLike<number>,
  channelCount: number,
  out?: Uint8Array,
  size = 8 * GRID_SIZE,
): Uint8Array {
  if (!Number.isInteger(channelCount) || channelCount < 1) {
    throw new RangeError(`MinAtar: channelCount must be a positive integer, got ${channelCount}`);
  }
  if (observation.length !== GRID_SIZE * GRID_SIZE * channelCount) {
    throw new RangeError(
      `MinAtar: ${observation.length} values do not fill a 10x10x${channelCount} observation`,
    );
  }
  return paintGrid(observation, channelCount, minAtarPalette(channelCount), out, size, "MinAtar");
}

function paintGrid(
  observation: ArrayLike<number>,
  channelCount: number,
  palette: Uint8Array,
  out: Uint8Array | undefined,
  size: number,
  envId: string,
): Uint8Array {
  const image = imageBuffer(envId, out, size);
  for (let row = 0; row < size; row++) {
    const cellRow = Math.floor((row * GRID_SIZE) / size);
    for (let column = 0; column < size; column++) {
      const cell = cellRow * GRID_SIZE + Math.floor((column * GRID_SIZE) / size);
      // The highest channel present wins, as in MinAtar's display.
      let top = -1;
      for (let channel = channelCount - 1; channel >= 0; channel--) {
        if (observation[cell * channelCount + channel] > 0.5) {
          top = channel;
          break;
        }
      }
      const pixel = (row * size + column) * 3;
      if (top < 0) {
        image[pixel] = image[pixel + 1] = image[pixel + 2] = 0;
      } else {
        image[pixel] = palette[top * 3];
        image[pixel + 1] = palette[top * 3 + 1];
        image[pixel + 2] = palette[top * 3 + 2];
      }
    }
  }
  return image;
}
