/**
 * OpenAI-ES: the natural evolution strategy of Salimans, Ho, Chen, Sidor & Sutskever (2017),
 * "Evolution Strategies as a Scalable Alternative to Reinforcement Learning" (arXiv:1703.03864),
 * Algorithm 1 with the refinements of its Section 2.2 and Appendix:
 *
 * - the search distribution is an isotropic Gaussian N(theta, sigma^2 I) of fixed sigma;
 * - antithetic (mirrored) sampling: each noise vector eps is evaluated at theta + sigma eps and
 *   theta - sigma eps, which lowers the variance of the gradient estimate;
 * - fitness shaping by centred ranks: the fitnesses are replaced by their ranks mapped to
 *   [-0.5, 0.5], so the update ignores the scale of returns and is robust to outliers;
 * - the gradient estimate g = 1 / (n sigma) sum_i F_i eps_i (n the population) is followed by
 *   Adam (the paper's optimiser), with an L2 weight decay on theta.
 *
 * Ask/tell like `CmaEs`: `ask()` returns the population (pairs of mirrored candidates),
 * `tell(candidates, fitnesses)` moves theta. Fitness is maximised.
 */
import type { Rng } from "../rng.ts";

export interface OpenAiEsOptions {
  /** Number of parameters. */
  dimension: number;
  /** Candidates per generation, an even number (pairs of mirrored samples). */
  populationSize: number;
  /** sigma, the standard deviation of the parameter noise (paper: 0.02 on MuJoCo). */
  noiseStd: number;
  /** Adam's step size (paper: 0.01). */
  learningRate: number;
  /** L2 coefficient on theta, applied with the gradient (paper: 0.005). Default 0. */
  weightDecay?: number;
  /** theta at the start; default the origin. */
  initialMean?: ArrayLike<number>;
  /** Plain gradient ascent instead of Adam (for tests and comparison). Default "adam". */
  optimizer?: "adam" | "sgd";
  rng: Rng;
}

/**
 * Centred ranks: the smallest value becomes -0.5, the largest 0.5, the rest evenly in between;
 * tied values share their mean rank, so equal fitnesses push nowhere. A population of one gets 0.
 */
export function centredRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(n);
  if (n === 1) return ranks;
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && values[order[end]] === values[order[start]]) end++;
    const meanRank = (start + end - 1) / 2;
    for (let k = start; k < end; k++) ranks[order[k]] = meanRank / (n - 1) - 0.5;
    start = end;
  }
  return ranks;
}

const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;
const ADAM_EPSILON = 1e-8;

export class OpenAiEs {
  readonly dimension: number;
  readonly populationSize: number;
  readonly noiseStd: number;
  readonly learningRate: number;
  readonly weightDecay: number;
  readonly optimizer: "adam" | "sgd";
  readonly #rng: Rng;
  readonly #mean: Float64Array;
  /** The noise of the last `ask`, one vector per mirrored pair. */
  #noise: Float64Array[] = [];
  readonly #firstMoment: Float64Array;
  readonly #secondMoment: Float64Array;
  #generation = 0;
  #lastGradient: Float64Array;

  constructor(options: OpenAiEsOptions) {
    const { dimension, populationSize } = options;
    if (!Number.isInteger(dimension) || dimension < 1) {
      throw new RangeError(`OpenAiEs: dimension must be a positive integer, got ${dimension}`);
    }
    if (!Number.isInteger(populationSize) || populationSize < 2 || populationSize % 2 !== 0) {
      throw new RangeError(
        `OpenAiEs: populationSize must be an even integer of at least 2 (mirrored pairs), ` +
          `got ${populationSize}`,
      );
    }
    if (!(options.noiseStd > 0)) throw new RangeError("OpenAiEs: noiseStd must be positive");
    if (!(options.learningRate > 0)) {
      throw new RangeError("OpenAiEs: learningRate must be positive");
    }
    this.dimension = dimension;
    this.populationSize = populationSize;
    this.noiseStd = options.noiseStd;
    this.learningRate = options.learningRate;
    this.weightDecay = options.weightDecay ?? 0;
    this.optimizer = options.optimizer ?? "adam";
    this.#rng = options.rng;
    this.#mean = new Float64Array(dimension);
    if (options.initialMean) {
      if (options.initialMean.length !== dimension) {
        throw new RangeError(
          `OpenAiEs: initialMean has ${options.initialMean.length} numbers, not ${dimension}`,
        );
      }
      this.#mean.set(options.initialMean);
    }
    this.#firstMoment = new Float64Array(dimension);
    this.#secondMoment = new Float64Array(dimension);
    this.#lastGradient = new Float64Array(dimension);
  }

  /** theta, a copy. */
  get mean(): Float64Array {
    return this.#mean.slice();
  }

  get generation(): number {
    return this.#generation;
  }

  /** The last gradient estimate of the shaped fitness (before weight decay), a copy. */
  get lastGradient(): Float64Array {
    return this.#lastGradient.slice();
  }

  /** The population: candidates 2k and 2k + 1 are theta + sigma eps_k and theta - sigma eps_k. */
  ask(): Float64Array[] {
    const pairs = this.populationSize / 2;
    this.#noise = [];
    const candidates: Float64Array[] = [];
    for (let k = 0; k < pairs; k++) {
      const eps = this.#rng.fillNormal(new Float64Array(this.dimension)) as Float64Array;
      this.#noise.push(eps);
      const plus = new Float64Array(this.dimension);
      const minus = new Float64Array(this.dimension);
      for (let i = 0; i < this.dimension; i++) {
        plus[i] = this.#mean[i] + this.noiseStd * eps[i];
        minus[i] = this.#mean[i] - this.noiseStd * eps[i];
      }
      candidates.push(plus, minus);
    }
    return candidates;
  }

  /** Moves theta along the rank-shaped gradient estimate of the fitnesses of the last `ask`. */
  tell(fitnesses: ArrayLike<number>): void {
    if (this.#noise.length === 0) throw new Error("OpenAiEs.tell: call ask() first");
    if (fitnesses.length !== this.populationSize) {
      throw new RangeError(
        `OpenAiEs.tell: expected ${this.populationSize} fitnesses, got ${fitnesses.length}`,
      );
    }
    for (let k = 0; k < fitnesses.length; k++) {
      if (Number.isNaN(fitnesses[k])) throw new RangeError(`OpenAiEs.tell: fitness ${k} is NaN`);
    }
    const shaped = centredRanks(fitnesses);
    const gradient = new Float64Array(this.dimension);
    const scale = 1 / (this.populationSize * this.noiseStd);
    this.#noise.forEach((eps, k) => {
      // Mirrored pair: F+ eps + F- (-eps) = (F+ - F-) eps.
      const weight = (shaped[2 * k] - shaped[2 * k + 1]) * scale;
      for (let i = 0; i < this.dimension; i++) gradient[i] += weight * eps[i];
    });
    this.#lastGradient = gradient.slice();
    this.#generation++;
    const t = this.#generation;
    for (let i = 0; i < this.dimension; i++) {
      const g = gradient[i] - this.weightDecay * this.#mean[i];
      if (this.optimizer === "sgd") {
        this.#mean[i] += this.learningRate * g;
        continue;
      }
      this.#firstMoment[i] = ADAM_BETA1 * this.#firstMoment[i] + (1 - ADAM_BETA1) * g;
      this.#secondMoment[i] = ADAM_BETA2 * this.#secondMoment[i] + (1 - ADAM_BETA2) * g * g;
      const mHat = this.#firstMoment[i] / (1 - ADAM_BETA1 ** t);
      const vHat = this.#secondMoment[i] / (1 - ADAM_BETA2 ** t);
      this.#mean[i] += this.learningRate * mHat / (Math.sqrt(vHat) + ADAM_EPSILON);
    }
    this.#noise = [];
  }
}
