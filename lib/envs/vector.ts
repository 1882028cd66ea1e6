/**
 * A batch of N copies of one environment stepped together, for planners and evolution strategies
 * that evaluate many action sequences or policies at once (the synchronous vector environment of
 * Gymnasium, Towers et al. 2023, without processes). Results land in flat typed arrays allocated
 * once: observations [N * observationSize], rewards, terminated and truncated flags [N].
 *
 * Without auto-reset, a copy whose episode has ended stands still: it is not stepped again, its
 * reward is 0 and its flags stay set until `reset`. With auto-reset, it starts a new episode in
 * the same step (its generator's stream goes on), the observation that ended the episode is kept
 * in `finalObservations`, and `observations` holds the first one of the next.
 */

import { type Action, type ActionSpec, boxSize, type BoxSpec, type Env } from "./types.ts";

export interface VectorEnvOptions {
  /** Start a new episode in a copy as soon as its episode ends (default false). */
  autoReset?: boolean;
}

type Observation = Float32Array | Uint8Array;

export class VectorEnv<O extends Observation = Float32Array> {
  readonly envs: readonly Env<O>[];
  readonly numEnvs: number;
  readonly observationSpec: BoxSpec;
  readonly actionSpec: ActionSpec;
  readonly observationSize: number;
  /** Numbers per action: 1 for a discrete action. */
  readonly actionSize: number;
  readonly autoReset: boolean;
  /** Row i holds copy i's latest observation. */
  readonly observations: O;
  /** Row i holds the observation that ended copy i's episode in the last step (auto-reset only). */
  readonly finalObservations: O;
  readonly rewards: Float32Array;
  /** 1 where the copy's episode ended in the last step by the task's rules. */
  readonly terminated: Uint8Array;
  /** 1 where the copy's episode was cut by the time limit in the last step. */
  readonly truncated: Uint8Array;
  readonly #actionBuffers: Float32Array[];
  #started = false;

  constructor(makeEnv: (index: number) => Env<O>, numEnvs: number, options: VectorEnvOptions = {}) {
    if (!Number.isInteger(numEnvs) || numEnvs < 1) {
      throw new RangeError(`VectorEnv needs a positive integer number of envs, got ${numEnvs}`);
    }
    const envs: Env<O>[] = [];
    for (let i = 0; i < numEnvs; i++) envs.push(makeEnv(i));
    const first = envs[0];
    this.envs = envs;
    this.numEnvs = numEnvs;
    this.observationSpec = first.observationSpec;
    this.actionSpec = first.actionSpec;
    this.observationSize = boxSize(first.observationSpec);
    this.actionSize = first.actionSpec.kind === "discrete" ? 1 : boxSize(first.actionSpec);
    envs.forEach((env, i) => {
      const actionSize = env.actionSpec.kind === "discrete" ? 1 : boxSize(env.actionSpec);
      if (
        env.id !== first.id || boxSize(env.observationSpec) !== this.observationSize ||
        env.actionSpec.kind !== first.actionSpec.kind || actionSize !== this.actionSize
      ) {
        throw new RangeError(`VectorEnv: every copy must be ${first.id}; copy ${i} is ${env.id}`);
      }
    });
    this.autoReset = options.autoReset ?? false;
    const total = numEnvs * this.observationSize;
    const makeBatch = () =>
      (first.observationSpec.dtype === "uint8"
        ? new Uint8Array(total)
        : new Float32Array(total)) as O;
    this.observations = makeBatch();
    this.finalObservations = makeBatch();
    this.rewards = new Float32Array(numEnvs);
    this.terminated = new Uint8Array(numEnvs);
    this.truncated = new Uint8Array(numEnvs);
    this.#actionBuffers = envs.map(() => new Float32Array(this.actionSize));
  }

  /**
   * Starts an episode in every copy: one seed per copy, or one number from which copy i gets
   * `seeds + i`. Returns `observations`.
   */
  reset(seeds: number | readonly number[]): O {
    if (typeof seeds !== "number" && seeds.length !== this.numEnvs) {
      throw new RangeError(`VectorEnv.reset needs ${this.numEnvs} seeds, got ${seeds.length}`);
    }
    for (let i = 0; i < this.numEnvs; i++) {
      const seed = typeof seeds === "number" ? seeds + i : seeds[i];
      this.observations.set(this.envs[i].reset(seed), i * this.observationSize);
    }
    this.rewards.fill(0);
    this.terminated.fill(0);
    this.truncated.fill(0);
    this.#started = true;
    return this.observations;
  }

  /**
   * Steps every copy: `actions` holds one integer per copy for a discrete action space, or
   * `actionSize` numbers per copy, row after row, for a continuous one. The results are in
   * `observations`, `rewards`, `terminated` and `truncated`; returns this batch.
   */
  step(actions: ArrayLike<number>): this {
    if (!this.#started) throw new Error("VectorEnv.step() called before reset()");
    const actionSize = this.actionSize;
    if (actions.length !== this.numEnvs * actionSize) {
      throw new RangeError(
        `VectorEnv.step needs ${this.numEnvs * actionSize} action numbers ` +
          `(${this.numEnvs} envs x ${actionSize}), got ${actions.length}`,
      );
    }
    const discrete = this.actionSpec.kind === "discrete";
    for (let i = 0; i < this.numEnvs; i++) {
      if (!this.autoReset && (this.terminated[i] === 1 || this.truncated[i] === 1)) {
        this.rewards[i] = 0;
        continue;
      }
      let action: Action;
      if (discrete) {
        action = actions[i];
      } else {
        const buffer = this.#actionBuffers[i];
        for (let j = 0; j < actionSize; j++) buffer[j] = actions[i * actionSize + j];
        action = buffer;
      }
      const env = this.envs[i];
      const result = env.step(action);
      const offset = i * this.observationSize;
      this.observations.set(result.observation, offset);
      this.rewards[i] = result.reward;
      this.terminated[i] = result.terminated ? 1 : 0;
      this.truncated[i] = result.truncated ? 1 : 0;
      if (this.autoReset && (result.terminated || result.truncated)) {
        this.finalObservations.set(result.observation, offset);
        this.observations.set(env.reset(), offset);
      }
    }
    return this;
  }

  /** Whether every copy's episode has ended (useful without auto-reset). */
  allDone(): boolean {
    for (let i = 0; i < this.numEnvs; i++) {
      if (this.terminated[i] === 0 && this.truncated[i] === 0) return false;
    }
    return true;
  }

  /** Copy i's latest observation, as a view into `observations` (allocates the view). */
  observationOf(index: number): O {
    const start = index * this.observationSize;
    return this.observations.subarray(start, start + this.observationSize) as O;
  }
}
