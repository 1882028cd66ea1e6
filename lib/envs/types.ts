/**
 * The environment interface every task in lib/envs implements, in the shape of Gymnasium's API
 * (Towers et al. 2023): `reset(seed)` and `step(action)` returning observation, reward,
 * terminated and truncated.
 *
 * Observations are written into one buffer owned by the environment and returned again on every
 * step, so stepping allocates nothing. Copy an observation (`obs.slice()`) to keep it. The
 * environments of lib/envs likewise refill and return one `StepResult` object: read its fields
 * (or destructure it) before the next step.
 */

/** A box of real or byte values, e.g. a state vector or a 64x64x3 image. */
export interface BoxSpec {
  readonly kind: "box";
  readonly shape: readonly number[];
  readonly dtype: "float32" | "uint8";
  /** Per-element bounds, flattened; `-Infinity`/`Infinity` where unbounded. */
  readonly low: Float32Array;
  readonly high: Float32Array;
}

/** A choice of one action among `n`. */
export interface DiscreteSpec {
  readonly kind: "discrete";
  readonly n: number;
}

export type ActionSpec = BoxSpec | DiscreteSpec;

/** A discrete action is an integer; a continuous one a vector shaped like its BoxSpec. */
export type Action = number | Float32Array | readonly number[];

export interface StepResult<Observation> {
  observation: Observation;
  reward: number;
  /** The task ended by its own rules (pole fell, goal reached). */
  terminated: boolean;
  /** The episode was cut by the time limit. */
  truncated: boolean;
}

export interface Env<Observation extends Float32Array | Uint8Array = Float32Array> {
  /** Gymnasium-style id, e.g. "CartPole-v1". */
  readonly id: string;
  readonly observationSpec: BoxSpec;
  readonly actionSpec: ActionSpec;
  /** Steps after which an episode is truncated. */
  readonly maxEpisodeSteps: number;
  /** Starts an episode; the seed fixes this episode's start state and all later randomness. */
  reset(seed?: number): Observation;
  /** Advances one step. Throws `InvalidActionError` for an action outside the action spec. */
  step(action: Action): StepResult<Observation>;
}

/** An action outside the action spec: the message names the action and what would be valid. */
export class InvalidActionError extends RangeError {
  constructor(envId: string, action: unknown, valid: string) {
    super(`${envId}: invalid action ${formatAction(action)}; valid actions are ${valid}`);
    this.name = "InvalidActionError";
  }
}

function formatAction(action: unknown): string {
  if (ArrayBuffer.isView(action)) return `[${Array.from(action as Float32Array).join(", ")}]`;
  if (Array.isArray(action)) return `[${action.join(", ")}]`;
  return String(action);
}

/** Builds a BoxSpec from scalar or per-element bounds. */
export function boxSpec(
  shape: readonly number[],
  low: number | readonly number[],
  high: number | readonly number[],
  dtype: "float32" | "uint8" = "float32",
): BoxSpec {
  const size = shape.reduce((a, b) => a * b, 1);
  const fill = (v: number | readonly number[]) =>
    typeof v === "number" ? new Float32Array(size).fill(v) : Float32Array.from(v);
  return { kind: "box", shape, dtype, low: fill(low), high: fill(high) };
}

/** Number of elements in a box. */
export function boxSize(spec: BoxSpec): number {
  return spec.shape.reduce((a, b) => a * b, 1);
}

/** Reads a discrete action, throwing a clear error if it is not an integer in [0, n). */
export function checkDiscreteAction(envId: string, action: Action, n: number): number {
  const value = typeof action === "number" ? action : Number.NaN;
  if (!Number.isInteger(value) || value < 0 || value >= n) {
    throw new InvalidActionError(envId, action, `the integers 0..${n - 1}`);
  }
  return value;
}

/**
 * Reads a continuous action of `size` finite numbers. Values outside [low, high] are clipped, as
 * Gymnasium's classic control tasks do; a wrong length or a non-finite value is an error.
 */
export function readBoxAction(
  envId: string,
  action: Action,
  spec: BoxSpec,
  out: Float32Array,
): Float32Array {
  const size = boxSize(spec);
  const values = typeof action === "number" ? [action] : action;
  if (values.length !== size) {
    throw new InvalidActionError(envId, action, `vectors of ${size} finite number(s)`);
  }
  for (let i = 0; i < size; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      throw new InvalidActionError(envId, action, `vectors of ${size} finite number(s)`);
    }
    out[i] = Math.min(spec.high[i], Math.max(spec.low[i], v));
  }
  return out;
}
