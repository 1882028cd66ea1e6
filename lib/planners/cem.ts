/**
 * The cross-entropy method (CEM) planner of PlaNet (Hafner et al. 2019, Section 2, "Planning
 * algorithm", and Algorithm 2 in the appendix).
 *
 * The belief over open-loop action sequences is a diagonal Gaussian, N(0, I) at first. Each
 * iteration samples J candidate sequences, clips them to the action bounds, asks the model for
 * their returns in one batched pass, and refits the Gaussian to the best K. After I iterations
 * the mean's first action is executed. PlaNet uses horizon H = 12, J = 1000, K = 100, I = 10 and
 * starts every step afresh from N(0, I); a warm start from the previous plan is optional here.
 *
 * Sampling, clipping, top-K selection and the refit all stay on the TensorFlow.js backend; only
 * the final mean and two returns are read back.
 */
import { tf } from "../tensor/mod.ts";
import type { Rng } from "../rng.ts";
import {
  type Bound,
  boundVector,
  checkReturns,
  checkShootingOptions,
  type ImaginationModel,
  type PlanResult,
  shiftPlan,
  type ShootingOptions,
} from "./types.ts";

export interface CemOptions extends ShootingOptions {
  /** Candidate sequences sampled per iteration (J; PlaNet: 1000). */
  candidates: number;
  /** Best candidates the belief is refit to (K; PlaNet: 100). */
  elites: number;
  /** Refits per planning step (I; PlaNet: 10). */
  iterations: number;
  /** Initial mean, row-major [planningHorizon * actionSize] (default: zeros, as PlaNet). */
  initialMean?: ArrayLike<number>;
  /** Initial standard deviation per action dimension (default 1, as PlaNet). */
  initialStd?: Bound;
  /** Floor on the refit standard deviation, to keep searching (default 0, as PlaNet). */
  minStd?: number;
}

/** PlaNet's published planner settings, for actions in [-1, 1]. */
export const PLANET_CEM_SETTINGS: Omit<CemOptions, "actionSize"> = {
  planningHorizon: 12,
  candidates: 1000,
  elites: 100,
  iterations: 10,
  actionLow: -1,
  actionHigh: 1,
};

/** Model evaluations one CEM step costs: candidates x iterations. */
export function cemModelEvaluations(
  options: Pick<CemOptions, "candidates" | "iterations">,
): number {
  return options.candidates * options.iterations;
}

function checkCemOptions(options: CemOptions): void {
  const { candidates, elites, iterations } = options;
  if (!Number.isInteger(candidates) || candidates < 1) {
    throw new RangeError(`candidates must be a positive integer, got ${candidates}`);
  }
  if (!Number.isInteger(elites) || elites < 1 || elites > candidates) {
    throw new RangeError(
      `elites must be an integer in 1..candidates (${candidates}), got ${elites}`,
    );
  }
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new RangeError(`iterations must be a positive integer, got ${iterations}`);
  }
}

/**
 * One CEM planning step from `startState`. All randomness comes from `rng`, so the same seed,
 * model and backend give the same plan.
 */
export function cemPlan<State>(
  model: ImaginationModel<State>,
  startState: State,
  options: CemOptions,
  rng: Rng,
): PlanResult {
  const bounds = checkShootingOptions(options);
  checkCemOptions(options);
  const { planningHorizon, actionSize, candidates, elites, iterations } = options;
  const planSize = planningHorizon * actionSize;

  const initialMean = options.initialMean === undefined
    ? new Float32Array(planSize)
    : Float32Array.from(options.initialMean);
  if (initialMean.length !== planSize) {
    throw new RangeError(`initialMean has ${initialMean.length} values, expected ${planSize}`);
  }
  const stdPerDimension = boundVector(options.initialStd ?? 1, actionSize, "initialStd");
  const initialStd = new Float32Array(planSize);
  for (let i = 0; i < planSize; i++) initialStd[i] = stdPerDimension[i % actionSize];
  const minStd = options.minStd ?? 0;

  // Standard normal noise, drawn on the host from the one seeded generator.
  const noise = new Float32Array(candidates * planSize);
  const low = tf.tensor1d(bounds.low);
  const high = tf.tensor1d(bounds.high);
  let mean = tf.tensor2d(initialMean, [planningHorizon, actionSize]);
  let std = tf.tensor2d(initialStd, [planningHorizon, actionSize]);
  let eliteReturn: tf.Scalar | null = null;
  let bestReturn: tf.Scalar | null = null;
  try {
    for (let iteration = 0; iteration < iterations; iteration++) {
      rng.fillNormal(noise);
      const currentMean = mean;
      const currentStd = std;
      const refit = tf.tidy(() => {
        const sampled = tf.add(
          currentMean,
          tf.mul(currentStd, tf.tensor3d(noise, [candidates, planningHorizon, actionSize])),
        );
        const sequences = tf.minimum(tf.maximum(sampled, low), high) as tf.Tensor3D;
        const returns = model.imagine(startState, sequences);
        checkReturns(returns, candidates);
        const top = tf.topk(returns, elites);
        const eliteSequences = tf.gather(sequences, top.indices);
        const moments = tf.moments(eliteSequences, 0);
        const refitStd = tf.sqrt(moments.variance);
        return {
          mean: moments.mean as tf.Tensor2D,
          std: (minStd > 0 ? tf.maximum(refitStd, minStd) : refitStd) as tf.Tensor2D,
          eliteReturn: tf.mean(top.values) as tf.Scalar,
          bestReturn: tf.max(top.values) as tf.Scalar,
        };
      });
      currentMean.dispose();
      currentStd.dispose();
      eliteReturn?.dispose();
      bestReturn?.dispose();
      mean = refit.mean;
      std = refit.std;
      eliteReturn = refit.eliteReturn;
      bestReturn = refit.bestReturn;
    }
    const plan = mean.dataSync() as Float32Array;
    return {
      action: plan.slice(0, actionSize),
      plan: Float32Array.from(plan),
      predictedReturn: eliteReturn!.dataSync()[0],
      bestReturn: bestReturn!.dataSync()[0],
      modelEvaluations: cemModelEvaluations(options),
    };
  } finally {
    mean.dispose();
    std.dispose();
    low.dispose();
    high.dispose();
    eliteReturn?.dispose();
    bestReturn?.dispose();
  }
}

/**
 * CEM with its settings and generator bundled, for an agent that plans at every environment
 * step. With `warmStart`, each search starts from the previous plan shifted by one step instead
 * of from zeros (PlaNet itself starts afresh; `reset` at episode boundaries).
 */
export class CemPlanner<State> {
  #previousPlan: Float32Array | null = null;

  constructor(
    readonly options: CemOptions,
    readonly rng: Rng,
    readonly warmStart = false,
  ) {
    checkShootingOptions(options);
    checkCemOptions(options);
  }

  plan(model: ImaginationModel<State>, startState: State): PlanResult {
    const initialMean = this.warmStart && this.#previousPlan
      ? shiftPlan(this.#previousPlan, this.options.actionSize)
      : this.options.initialMean;
    const result = cemPlan(model, startState, { ...this.options, initialMean }, this.rng);
    this.#previousPlan = result.plan;
    return result;
  }

  /** Forgets the previous plan, e.g. at the start of an episode. */
  reset(): void {
    this.#previousPlan = null;
  }
}
