/**
 * A replay buffer of single transitions (s, a, r, s', terminated) for off-policy agents such as
 * Soft Actor-Critic (Haarnoja et al. 2018, Algorithm 1: "store the transition in the replay
 * pool", then sample minibatches uniformly).
 *
 * Storage is one flat typed array per field, allocated once; the oldest transitions are
 * overwritten when it is full. Sampling fills a caller-owned batch, so the training loop
 * allocates nothing per step. (PlaNet's buffer of whole sequences is lib/agents/sequence_replay.ts.)
 */
import type { Rng } from "../rng.ts";

export interface Transition {
  observation: ArrayLike<number>;
  action: ArrayLike<number>;
  reward: number;
  nextObservation: ArrayLike<number>;
  /**
   * The episode ended by the task's own rules, so no value follows s'. A time-limit cut is not
   * terminal: the value of s' is still bootstrapped.
   */
  terminated: boolean;
}

/** A minibatch, row-major, `size` rows. */
export interface TransitionBatch {
  size: number;
  observations: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  nextObservations: Float32Array;
  /** 1 where the transition was terminal, else 0. */
  terminals: Float32Array;
}

export class TransitionReplay {
  readonly #observations: Float32Array;
  readonly #actions: Float32Array;
  readonly #rewards: Float32Array;
  readonly #nextObservations: Float32Array;
  readonly #terminals: Float32Array;
  #next = 0;
  #size = 0;

  constructor(
    readonly capacity: number,
    readonly observationSize: number,
    readonly actionSize: number,
  ) {
    for (const [name, value] of Object.entries({ capacity, observationSize, actionSize })) {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`TransitionReplay: ${name} must be a positive integer, got ${value}`);
      }
    }
    this.#observations = new Float32Array(capacity * observationSize);
    this.#actions = new Float32Array(capacity * actionSize);
    this.#rewards = new Float32Array(capacity);
    this.#nextObservations = new Float32Array(capacity * observationSize);
    this.#terminals = new Float32Array(capacity);
  }

  /** Transitions stored (at most `capacity`). */
  get size(): number {
    return this.#size;
  }

  add(transition: Transition): void {
    const { observation, action, nextObservation } = transition;
    if (
      observation.length !== this.observationSize || nextObservation.length !== this.observationSize
    ) {
      throw new RangeError(
        `TransitionReplay: observations have ${this.observationSize} values, got ` +
          `${observation.length} and ${nextObservation.length}`,
      );
    }
    if (action.length !== this.actionSize) {
      throw new RangeError(
        `TransitionReplay: actions have ${this.actionSize} values, got ${action.length}`,
      );
    }
    const row = this.#next;
    this.#observations.set(observation, row * this.observationSize);
    this.#actions.set(action, row * this.actionSize);
    this.#rewards[row] = transition.reward;
    this.#nextObservations.set(nextObservation, row * this.observationSize);
    this.#terminals[row] = transition.terminated ? 1 : 0;
    this.#next = (row + 1) % this.capacity;
    this.#size = Math.min(this.#size + 1, this.capacity);
  }

  /** An empty batch of `size` rows to pass to `sample` again and again. */
  allocateBatch(size: number): TransitionBatch {
    return {
      size,
      observations: new Float32Array(size * this.observationSize),
      actions: new Float32Array(size * this.actionSize),
      rewards: new Float32Array(size),
      nextObservations: new Float32Array(size * this.observationSize),
      terminals: new Float32Array(size),
    };
  }

  /** Fills `batch` with transitions drawn uniformly, with replacement. */
  sample(rng: Rng, batch: TransitionBatch): TransitionBatch {
    if (this.#size === 0) throw new Error("TransitionReplay: cannot sample from an empty buffer");
    const o = this.observationSize;
    const a = this.actionSize;
    for (let i = 0; i < batch.size; i++) {
      const row = rng.int(this.#size);
      batch.observations.set(this.#observations.subarray(row * o, row * o + o), i * o);
      batch.actions.set(this.#actions.subarray(row * a, row * a + a), i * a);
      batch.rewards[i] = this.#rewards[row];
      batch.nextObservations.set(this.#nextObservations.subarray(row * o, row * o + o), i * o);
      batch.terminals[i] = this.#terminals[row];
    }
    return batch;
  }
}
