/**
 * What the shooting planners of PlaNet (Hafner et al. 2019, Section 2, "Planning algorithm") need
 * from a model, and what they hand back.
 *
 * A planner proposes many open-loop action sequences at once and asks the model for the return
 * of each in one batched pass; only the few numbers the planner needs are read back from the
 * backend. The same interface serves a learned latent model (lib/models/rssm.ts) and the exact
 * point-mass dynamics used to test the planners (lib/planners/point_mass.ts).
 */
import type { tf } from "../tensor/mod.ts";

/** A model that can roll many action sequences forward from a start state, in one batched pass. */
export interface ImaginationModel<State> {
  /**
   * Returns the predicted sum of rewards (discounting optional) of each candidate, a
   * `tf.Tensor1D` of shape [numCandidates].
   *
   * `actionSequences` is a `tf.Tensor3D` of shape [numCandidates, horizon, actionSize];
   * `startState` is broadcast to all candidates. Planners call this inside `tf.tidy` and
   * dispose both `actionSequences` and the result, so the model need neither tidy nor dispose
   * them; it must not dispose `startState` or `actionSequences` itself.
   */
  imagine(startState: State, actionSequences: tf.Tensor3D): tf.Tensor1D;
}

/** Box bounds of one action: a number for every dimension alike, or one value per dimension. */
export type Bound = number | ArrayLike<number>;

/** Settings shared by every shooting planner. */
export interface ShootingOptions {
  /** Number of actions in each candidate sequence (PlaNet: 12). */
  planningHorizon: number;
  /** Size of one action vector. */
  actionSize: number;
  /** Lower action bound; sampled actions are clipped to it (PlaNet: -1). */
  actionLow: Bound;
  /** Upper action bound (PlaNet: 1). */
  actionHigh: Bound;
}

/** What a planning step returns. */
export interface PlanResult {
  /** The first action of the plan: the one to execute now. Length `actionSize`. */
  action: Float32Array;
  /**
   * The whole planned sequence, row-major [planningHorizon * actionSize]. Shifted by one step
   * (`shiftPlan`), it can warm-start the next planning step.
   */
  plan: Float32Array;
  /**
   * The model's return of the chosen plan as seen by the planner: for CEM the mean return of the
   * final elite set, for random shooting the best candidate's return.
   */
  predictedReturn: number;
  /** The best single candidate's return seen in the last batch. */
  bestReturn: number;
  /** Action sequences the model evaluated: candidates x iterations. */
  modelEvaluations: number;
}

/** Expands a bound to one value per action dimension, checking its length. */
export function boundVector(bound: Bound, actionSize: number, name: string): Float32Array {
  if (typeof bound === "number") return new Float32Array(actionSize).fill(bound);
  if (bound.length !== actionSize) {
    throw new RangeError(`${name} has ${bound.length} values for an action of size ${actionSize}`);
  }
  return Float32Array.from(bound);
}

/** Checks the shared options and returns the bounds per action dimension. */
export function checkShootingOptions(
  options: ShootingOptions,
): { low: Float32Array; high: Float32Array } {
  const { planningHorizon, actionSize } = options;
  if (!Number.isInteger(planningHorizon) || planningHorizon < 1) {
    throw new RangeError(`planningHorizon must be a positive integer, got ${planningHorizon}`);
  }
  if (!Number.isInteger(actionSize) || actionSize < 1) {
    throw new RangeError(`actionSize must be a positive integer, got ${actionSize}`);
  }
  const low = boundVector(options.actionLow, actionSize, "actionLow");
  const high = boundVector(options.actionHigh, actionSize, "actionHigh");
  for (let i = 0; i < actionSize; i++) {
    if (!(low[i] <= high[i])) {
      throw new RangeError(`action bound ${i}: low ${low[i]} is above high ${high[i]}`);
    }
  }
  return { low, high };
}

/** Checks that a model returned one return per candidate. */
export function checkReturns(returns: tf.Tensor, candidates: number): void {
  if (returns.rank !== 1 || returns.shape[0] !== candidates) {
    throw new Error(
      `ImaginationModel.imagine must return a tensor of shape [${candidates}], ` +
        `got [${returns.shape}]`,
    );
  }
}

/**
 * Drops the first action of a plan and repeats `fill` at the end (default: zeros), the usual
 * warm start for the next step's search.
 */
export function shiftPlan(
  plan: Float32Array,
  actionSize: number,
  fill: ArrayLike<number> = new Float32Array(actionSize),
): Float32Array {
  const shifted = new Float32Array(plan.length);
  shifted.set(plan.subarray(actionSize));
  for (let i = 0; i < actionSize; i++) shifted[plan.length - actionSize + i] = fill[i];
  return shifted;
}
