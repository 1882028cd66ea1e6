/**
 * Random shooting (as used by Nagabandi et al. 2018, "Neural Network Dynamics for Model-Based
 * Deep Reinforcement Learning with Model-Free Fine-Tuning"): the simplest shooting planner and the
 * natural baseline for PlaNet's CEM (Hafner et al. 2019, Section 2, "Planning algorithm"). Sample
 * N open-loop action sequences once, evaluate them with the model in batched passes, execute the
 * first action of the best.
 *
 * With N = J x I it costs as many model evaluations as CEM with J candidates and I iterations.
 */
import { tf } from "../tensor/mod.ts";
import type { Rng } from "../rng.ts";
import {
  checkReturns,
  checkShootingOptions,
  type ImaginationModel,
  type PlanResult,
  type ShootingOptions,
} from "./types.ts";

export interface RandomShootingOptions extends ShootingOptions {
  /** Action sequences sampled (N). */
  candidates: number;
  /**
   * "uniform" draws every action uniformly inside the bounds (default); "normal" draws N(0, 1)
   * and clips to the bounds, like the first iteration of PlaNet's CEM.
   */
  sampling?: "uniform" | "normal";
  /** Evaluate at most this many candidates per model pass, to bound memory (default: all). */
  chunkSize?: number;
}

/** One random-shooting planning step from `startState`. */
export function randomShootingPlan<State>(
  model: ImaginationModel<State>,
  startState: State,
  options: RandomShootingOptions,
  rng: Rng,
): PlanResult {
  const { low, high } = checkShootingOptions(options);
  const { planningHorizon, actionSize, candidates } = options;
  if (!Number.isInteger(candidates) || candidates < 1) {
    throw new RangeError(`candidates must be a positive integer, got ${candidates}`);
  }
  const chunkSize = Math.min(options.chunkSize ?? candidates, candidates);
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new RangeError(`chunkSize must be a positive integer, got ${options.chunkSize}`);
  }
  const sampling = options.sampling ?? "uniform";
  const planSize = planningHorizon * actionSize;

  // The sequences are built on the host, so the best one is read from here, not the backend.
  const sequences = new Float32Array(chunkSize * planSize);
  const best = new Float32Array(planSize);
  let bestReturn = -Infinity;
  for (let start = 0; start < candidates; start += chunkSize) {
    const count = Math.min(chunkSize, candidates - start);
    const batch = sequences.subarray(0, count * planSize);
    for (let i = 0; i < batch.length; i++) {
      const d = i % actionSize;
      batch[i] = sampling === "uniform"
        ? low[d] + (high[d] - low[d]) * rng.next()
        : Math.min(high[d], Math.max(low[d], rng.normal()));
    }
    const [index, value] = tf.tidy(() => {
      const returns = model.imagine(
        startState,
        tf.tensor3d(batch, [count, planningHorizon, actionSize]),
      );
      checkReturns(returns, count);
      const top = tf.topk(returns, 1);
      return [top.indices.dataSync()[0], top.values.dataSync()[0]];
    });
    if (value > bestReturn || start === 0) {
      bestReturn = value;
      best.set(batch.subarray(index * planSize, (index + 1) * planSize));
    }
  }
  return {
    action: best.slice(0, actionSize),
    plan: best,
    predictedReturn: bestReturn,
    bestReturn,
    modelEvaluations: candidates,
  };
}
