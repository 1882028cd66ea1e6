/**
 * Environment wrappers and helpers for agents that act in continuous boxes, as PlaNet does
 * (Hafner et al. 2019, Section 5: a fixed action repeat per task, episodes of a fixed length, and
 * rendered frames as observations): a time limit, an action repeat, RGB frames as float
 * observations, some entries of the observation hidden, and the mapping from actions in [-1, 1]
 * to an environment's box.
 */
import { UserError } from "../errors.ts";
import { type Action, type BoxSpec, boxSpec, type Env, type StepResult } from "./types.ts";
import type { Renderable } from "./render.ts";

/** Maps an action in [-1, 1] to the environment's box. */
export function scaleAction(normalized: ArrayLike<number>, spec: BoxSpec, out: Float32Array) {
  for (let i = 0; i < out.length; i++) {
    const unit = Math.min(1, Math.max(-1, normalized[i]));
    out[i] = spec.low[i] + ((unit + 1) / 2) * (spec.high[i] - spec.low[i]);
  }
  return out;
}

/** Steps `env` `repeat` times with one action; returns the summed reward and whether it ended. */
export function repeatAction(
  env: Env<Float32Array>,
  action: Float32Array,
  repeat: number,
): { reward: number; done: boolean; steps: number; observation: Float32Array } {
  let reward = 0;
  let observation: Float32Array | null = null;
  for (let i = 0; i < repeat; i++) {
    const result = env.step(action);
    reward += result.reward;
    observation = result.observation;
    if (result.terminated || result.truncated) {
      return { reward, done: true, steps: i + 1, observation };
    }
  }
  return { reward, done: false, steps: repeat, observation: observation! };
}

export function continuousActionSpec(env: Env<Float32Array>): BoxSpec {
  if (env.actionSpec.kind !== "box") {
    throw new UserError(`${env.id}: this agent needs continuous actions`);
  }
  return env.actionSpec;
}

/** Cuts episodes at `maxEpisodeSteps` (shorter episodes for the quick budget). */
export class TimeLimitEnv implements Env<Float32Array> {
  readonly id: string;
  readonly observationSpec: BoxSpec;
  readonly actionSpec: Env["actionSpec"];
  #steps = 0;

  constructor(readonly inner: Env<Float32Array>, readonly maxEpisodeSteps: number) {
    if (maxEpisodeSteps > inner.maxEpisodeSteps) {
      throw new RangeError(
        `${inner.id}: episodes last at most ${inner.maxEpisodeSteps} steps, asked ${maxEpisodeSteps}`,
      );
    }
    this.id = inner.id;
    this.observationSpec = inner.observationSpec;
    this.actionSpec = inner.actionSpec;
  }

  reset(seed?: number): Float32Array {
    this.#steps = 0;
    return this.inner.reset(seed);
  }

  step(action: Action): StepResult<Float32Array> {
    const result = this.inner.step(action);
    this.#steps++;
    if (this.#steps >= this.maxEpisodeSteps) result.truncated = true;
    return result;
  }
}

/** Repeats each action `repeat` times and sums the rewards: one step of this env is R steps. */
export class ActionRepeatEnv implements Env<Float32Array> {
  readonly id: string;
  readonly observationSpec: BoxSpec;
  readonly actionSpec: Env["actionSpec"];
  readonly maxEpisodeSteps: number;
  readonly #result: StepResult<Float32Array>;
  readonly #action: Float32Array;

  constructor(readonly inner: Env<Float32Array>, readonly repeat: number) {
    this.id = `${inner.id}/repeat${repeat}`;
    this.observationSpec = inner.observationSpec;
    this.actionSpec = inner.actionSpec;
    this.maxEpisodeSteps = Math.ceil(inner.maxEpisodeSteps / repeat);
    this.#action = new Float32Array(continuousActionSpec(inner).shape[0]);
    this.#result = {
      observation: new Float32Array(0),
      reward: 0,
      terminated: false,
      truncated: false,
    };
  }

  reset(seed?: number): Float32Array {
    return this.inner.reset(seed);
  }

  step(action: Action): StepResult<Float32Array> {
    const values = typeof action === "number" ? [action] : action;
    for (let i = 0; i < this.#action.length; i++) this.#action[i] = values[i];
    let reward = 0;
    let last: StepResult<Float32Array> | null = null;
    for (let i = 0; i < this.repeat; i++) {
      last = this.inner.step(this.#action);
      reward += last.reward;
      if (last.terminated || last.truncated) break;
    }
    const result = this.#result;
    result.observation = last!.observation;
    result.reward = reward;
    result.terminated = last!.terminated;
    result.truncated = last!.truncated;
    return result;
  }
}

/**
 * Rendered RGB frames as float observations in [-0.5, 0.5], the input scaling of PlaNet's
 * encoder. The state env is stepped; its picture is the observation.
 */
export class PixelFloatEnv implements Env<Float32Array> {
  readonly id: string;
  readonly observationSpec: BoxSpec;
  readonly actionSpec: Env["actionSpec"];
  readonly maxEpisodeSteps: number;
  readonly #image: Uint8Array;
  readonly #observation: Float32Array;
  readonly #result: StepResult<Float32Array>;

  constructor(readonly inner: Env<Float32Array> & Renderable, readonly size: number) {
    this.id = `${inner.id}/pixels${size}`;
    const count = size * size * 3;
    this.observationSpec = {
      kind: "box",
      shape: [size, size, 3],
      dtype: "float32",
      low: new Float32Array(count).fill(-0.5),
      high: new Float32Array(count).fill(0.5),
    };
    this.actionSpec = inner.actionSpec;
    this.maxEpisodeSteps = inner.maxEpisodeSteps;
    this.#image = new Uint8Array(count);
    this.#observation = new Float32Array(count);
    this.#result = {
      observation: this.#observation,
      reward: 0,
      terminated: false,
      truncated: false,
    };
  }

  #frame(): Float32Array {
    this.inner.render(this.#image, this.size);
    for (let i = 0; i < this.#image.length; i++) this.#observation[i] = this.#image[i] / 255 - 0.5;
    return this.#observation;
  }

  reset(seed?: number): Float32Array {
    this.inner.reset(seed);
    return this.#frame();
  }

  step(action: Action): StepResult<Float32Array> {
    const { reward, terminated, truncated } = this.inner.step(action);
    this.#frame();
    this.#result.reward = reward;
    this.#result.terminated = terminated;
    this.#result.truncated = truncated;
    return this.#result;
  }
}

/**
 * Shows the agent only some entries of the inner observation (the swing-up's positions without
 * its velocities, say): a partially observed task made from a fully observed one. The full
 * observation stays readable as `fullObservation`, for measuring what a model infers.
 */
export class ObservationSubsetEnv implements Env<Float32Array> {
  readonly id: string;
  readonly observationSpec: BoxSpec;
  readonly actionSpec: Env["actionSpec"];
  readonly maxEpisodeSteps: number;
  /** The inner env's latest observation, all of it. */
  readonly fullObservation: Float32Array;
  readonly #observation: Float32Array;
  readonly #result: StepResult<Float32Array>;

  constructor(readonly inner: Env<Float32Array>, readonly keep: readonly number[], label: string) {
    const size = inner.observationSpec.shape.reduce((a, b) => a * b, 1);
    if (keep.length === 0 || keep.some((i) => !Number.isInteger(i) || i < 0 || i >= size)) {
      throw new RangeError(`${inner.id}: keep must list entries of 0..${size - 1}, got [${keep}]`);
    }
    this.id = `${inner.id}/${label}`;
    const { low, high } = inner.observationSpec;
    this.observationSpec = boxSpec(
      [keep.length],
      keep.map((i) => low[i]),
      keep.map((i) => high[i]),
    );
    this.actionSpec = inner.actionSpec;
    this.maxEpisodeSteps = inner.maxEpisodeSteps;
    this.fullObservation = new Float32Array(size);
    this.#observation = new Float32Array(keep.length);
    this.#result = {
      observation: this.#observation,
      reward: 0,
      terminated: false,
      truncated: false,
    };
  }

  reset(seed?: number): Float32Array {
    return this.#show(this.inner.reset(seed));
  }

  step(action: Action): StepResult<Float32Array> {
    const inner = this.inner.step(action);
    this.#show(inner.observation);
    this.#result.reward = inner.reward;
    this.#result.terminated = inner.terminated;
    this.#result.truncated = inner.truncated;
    return this.#result;
  }

  #show(full: Float32Array): Float32Array {
    this.fullObservation.set(full);
    this.keep.forEach((from, to) => this.#observation[to] = full[from]);
    return this.#observation;
  }
}
