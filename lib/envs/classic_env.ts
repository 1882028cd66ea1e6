/**
 * The plumbing every classic control task shares, so each task module holds only its published
 * physics and reward: seeding through `Rng`, the step counter and truncation at the time limit
 * (Gymnasium's `TimeLimit` wrapper), the order checks (no step before `reset`, none after the
 * episode ended), and the reused observation and step-result objects that keep stepping free of
 * allocation.
 *
 * The physical state is kept in float64, as Gymnasium's NumPy code keeps it, and rounded to float32
 * only in the observation.
 */

import { Rng } from "../rng.ts";
import type { Action, ActionSpec, BoxSpec, Env, StepResult } from "./types.ts";

/** `step`, `render` or `setState` called when the episode does not allow it. */
export class EpisodeOrderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EpisodeOrderError";
  }
}

export interface ClassicEnvConfig {
  id: string;
  observationSpec: BoxSpec;
  actionSpec: ActionSpec;
  maxEpisodeSteps: number;
  /** Names of the physical state variables, in the order of `getState()`. */
  stateNames: readonly string[];
}

/** Where an environment is in its episode: `step` is allowed only while `running`. */
export type EpisodePhase = "before-reset" | "running" | "ended";

/** Throws `EpisodeOrderError` saying why `step` may not be called in `phase`. */
export function assertCanStep(id: string, phase: EpisodePhase, elapsedSteps: number): void {
  if (phase === "running") return;
  throw new EpisodeOrderError(
    phase === "before-reset"
      ? `${id}: step() called before reset(); call reset(seed) to start an episode`
      : `${id}: step() called after the episode ended at step ${elapsedSteps}; ` +
        `call reset() to start a new one`,
  );
}

export abstract class ClassicControlEnv implements Env<Float32Array> {
  readonly id: string;
  readonly observationSpec: BoxSpec;
  readonly actionSpec: ActionSpec;
  readonly maxEpisodeSteps: number;
  readonly stateNames: readonly string[];
  /** The physical state the dynamics act on (see `stateNames`). */
  protected readonly state: Float64Array;
  protected readonly observation: Float32Array;
  readonly #result: StepResult<Float32Array>;
  #rng: Rng | null = null;
  #elapsedSteps = 0;
  #phase: EpisodePhase = "before-reset";

  protected constructor(config: ClassicEnvConfig) {
    this.id = config.id;
    this.observationSpec = config.observationSpec;
    this.actionSpec = config.actionSpec;
    this.maxEpisodeSteps = config.maxEpisodeSteps;
    this.stateNames = config.stateNames;
    this.state = new Float64Array(config.stateNames.length);
    this.observation = new Float32Array(
      config.observationSpec.shape.reduce((a, b) => a * b, 1),
    );
    this.#result = {
      observation: this.observation,
      reward: 0,
      terminated: false,
      truncated: false,
    };
  }

  /** Steps taken in the current episode. */
  get elapsedSteps(): number {
    return this.#elapsedSteps;
  }

  /**
   * Starts an episode. A seed restarts the generator; without one the previous stream goes on, as
   * in Gymnasium, and the very first unseeded reset uses seed 0 so that runs stay reproducible.
   */
  reset(seed?: number): Float32Array {
    if (seed !== undefined || this.#rng === null) this.#rng = new Rng(seed ?? 0);
    this.sampleInitialState(this.#rng);
    this.#elapsedSteps = 0;
    this.#phase = "running";
    this.writeObservation(this.observation);
    return this.observation;
  }

  /** Advances one step; the returned object and its observation are reused by the next step. */
  step(action: Action): StepResult<Float32Array> {
    assertCanStep(this.id, this.#phase, this.#elapsedSteps);
    const reward = this.transition(action);
    const terminated = this.isTerminal();
    this.#elapsedSteps++;
    const truncated = this.#elapsedSteps >= this.maxEpisodeSteps;
    if (terminated || truncated) this.#phase = "ended";
    this.writeObservation(this.observation);
    const result = this.#result;
    result.reward = reward;
    result.terminated = terminated;
    result.truncated = truncated;
    return result;
  }

  /** A copy of the physical state (see `stateNames`), e.g. to restore it later with `setState`. */
  getState(out: Float64Array = new Float64Array(this.state.length)): Float64Array {
    if (out.length !== this.state.length) {
      throw new RangeError(
        `${this.id}: getState needs ${this.state.length} slots, got ${out.length}`,
      );
    }
    out.set(this.state);
    return out;
  }

  /**
   * Puts the episode in a given physical state (for planners that search from the true state, and
   * for tests). The step counter is left as it is. Returns the matching observation.
   */
  setState(state: ArrayLike<number>): Float32Array {
    this.assertStarted("setState");
    if (state.length !== this.state.length) {
      throw new RangeError(
        `${this.id}: setState needs ${this.state.length} numbers (${
          this.stateNames.join(", ")
        }), ` +
          `got ${state.length}`,
      );
    }
    for (let i = 0; i < state.length; i++) {
      if (!Number.isFinite(state[i])) {
        throw new RangeError(`${this.id}: setState got a non-finite ${this.stateNames[i]}`);
      }
    }
    this.state.set(state);
    this.writeObservation(this.observation);
    return this.observation;
  }

  /** Throws unless `reset` has been called at least once. */
  protected assertStarted(method: string): void {
    if (this.#phase === "before-reset") {
      throw new EpisodeOrderError(`${this.id}: ${method}() called before reset()`);
    }
  }

  /** Draws the start state of an episode into `state`. */
  protected abstract sampleInitialState(rng: Rng): void;
  /** Checks the action, advances `state` by one step and returns the reward. */
  protected abstract transition(action: Action): number;
  /** Whether `state` ends the episode by the task's own rules. */
  protected abstract isTerminal(): boolean;
  protected abstract writeObservation(out: Float32Array): void;
}
