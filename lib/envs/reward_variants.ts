/**
 * The same task with another reward, for comparing learners under dense and sparse rewards
 * (Milano & Nolfi 2022, "Qualitative Differences Between Evolutionary Strategies and
 * Reinforcement Learning Methods for Control of Autonomous Agents", arXiv:2205.07592, which
 * studies both the sparsity of rewards and the dependence on reward shaping):
 *
 * - `PotentialShapingEnv` adds F = scale (Phi(s') - Phi(s)), the potential-based shaping of Ng,
 *   Harada & Russell (1999), which densifies a reward without changing which policies are optimal
 *   (undiscounted, the shaping terms of an episode telescope to Phi(end) - Phi(start));
 * - `ObservedRewardEnv` replaces the reward by a function of the new observation, e.g. a reward
 *   paid only in a goal region;
 * - `DiscreteFromBoxEnv` lets learners with one continuous output drive a discrete task: [-1, 1]
 *   is cut into n equal bins, one per action;
 * - `ScaledObservationEnv` multiplies each observation entry by a fixed factor, so that inputs of
 *   very different ranges (mountain car's position and velocity) reach a network on one scale.
 */
import { type Action, type BoxSpec, boxSpec, type Env, type StepResult } from "./types.ts";

/** A wrapper that refills its own step result from the inner one. */
abstract class RewardWrapper implements Env<Float32Array> {
  observationSpec: BoxSpec;
  actionSpec: Env["actionSpec"];
  readonly maxEpisodeSteps: number;
  protected readonly result: StepResult<Float32Array> = {
    observation: new Float32Array(0),
    reward: 0,
    terminated: false,
    truncated: false,
  };

  constructor(readonly inner: Env<Float32Array>, readonly id: string) {
    this.observationSpec = inner.observationSpec;
    this.actionSpec = inner.actionSpec;
    this.maxEpisodeSteps = inner.maxEpisodeSteps;
  }

  reset(seed?: number): Float32Array {
    return this.inner.reset(seed);
  }

  protected copy(from: StepResult<Float32Array>, reward: number): StepResult<Float32Array> {
    this.result.observation = from.observation;
    this.result.reward = reward;
    this.result.terminated = from.terminated;
    this.result.truncated = from.truncated;
    return this.result;
  }

  abstract step(action: Action): StepResult<Float32Array>;
}

export class PotentialShapingEnv extends RewardWrapper {
  #previous = 0;

  constructor(
    inner: Env<Float32Array>,
    /** Phi, a function of the observation. */
    readonly potential: (observation: Float32Array) => number,
    readonly scale: number,
    id = `${inner.id}/shaped`,
  ) {
    super(inner, id);
  }

  override reset(seed?: number): Float32Array {
    const observation = this.inner.reset(seed);
    this.#previous = this.potential(observation);
    return observation;
  }

  step(action: Action): StepResult<Float32Array> {
    const result = this.inner.step(action);
    const next = this.potential(result.observation);
    const shaping = this.scale * (next - this.#previous);
    this.#previous = next;
    return this.copy(result, result.reward + shaping);
  }
}

export class ObservedRewardEnv extends RewardWrapper {
  constructor(
    inner: Env<Float32Array>,
    readonly reward: (observation: Float32Array, terminated: boolean) => number,
    id = `${inner.id}/sparse`,
  ) {
    super(inner, id);
  }

  step(action: Action): StepResult<Float32Array> {
    const result = this.inner.step(action);
    return this.copy(result, this.reward(result.observation, result.terminated));
  }
}

export class DiscreteFromBoxEnv extends RewardWrapper {
  readonly choices: number;

  constructor(inner: Env<Float32Array>) {
    super(inner, `${inner.id}/box`);
    if (inner.actionSpec.kind !== "discrete") {
      throw new TypeError(`${inner.id}: DiscreteFromBoxEnv needs a discrete task`);
    }
    this.choices = inner.actionSpec.n;
    this.actionSpec = boxSpec([1], -1, 1);
  }

  /** The bin of [-1, 1] that `value` falls in. */
  choiceOf(value: number): number {
    const clipped = Math.min(1, Math.max(-1, value));
    return Math.min(this.choices - 1, Math.floor((clipped + 1) / 2 * this.choices));
  }

  step(action: Action): StepResult<Float32Array> {
    const value = typeof action === "number" ? action : action[0];
    const result = this.inner.step(this.choiceOf(Number.isFinite(value) ? value : 0));
    return this.copy(result, result.reward);
  }
}

export class ScaledObservationEnv extends RewardWrapper {
  readonly #observation: Float32Array;

  constructor(inner: Env<Float32Array>, readonly factors: readonly number[]) {
    super(inner, inner.id);
    if (factors.length !== inner.observationSpec.shape[0]) {
      throw new RangeError(`${inner.id}: ${factors.length} factors for the observation's entries`);
    }
    this.#observation = new Float32Array(factors.length);
    const { low, high } = inner.observationSpec;
    this.observationSpec = boxSpec(
      [factors.length],
      factors.map((f, i) => Math.min(low[i] * f, high[i] * f)),
      factors.map((f, i) => Math.max(low[i] * f, high[i] * f)),
    );
  }

  #scale(observation: Float32Array): Float32Array {
    for (let i = 0; i < this.factors.length; i++) {
      this.#observation[i] = observation[i] * this.factors[i];
    }
    return this.#observation;
  }

  override reset(seed?: number): Float32Array {
    return this.#scale(this.inner.reset(seed));
  }

  step(action: Action): StepResult<Float32Array> {
    const result = this.inner.step(action);
    this.copy(result, result.reward);
    this.result.observation = this.#scale(result.observation);
    return this.result;
  }
}
