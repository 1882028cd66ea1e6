/**
 * CMA-ES, the covariance matrix adaptation evolution strategy, as in Hansen (2016), "The CMA
 * Evolution Strategy: A Tutorial" (arXiv:1604.00772), the optimiser the World Models paper
 * (Ha & Schmidhuber 2018) uses to evolve its controllers.
 *
 * Full covariance, following the tutorial's algorithm summary and its table of default strategy
 * parameters: recombination weights w'_i = ln((lambda + 1) / 2) - ln i, positive for the better
 * half and negative (active CMA, capped so C stays positive definite) for the worse half;
 * cumulative step-size adaptation through the path p_sigma; the rank-one update through the
 * evolution path p_c, stalled by h_sigma while sigma grows fast; and the rank-mu update. The
 * eigendecomposition C = B D^2 B^T is refreshed lazily, every max(1, floor(1 / (10 n (c1 +
 * c_mu)))) generations as the tutorial suggests, which keeps the 1,088-dimensional controllers of
 * the paper affordable.
 *
 * Ask/tell: `ask()` samples a population, the caller scores it, `tell(candidates, fitnesses)`
 * updates the distribution. Fitness is minimised by default; pass `maximize: true` to maximise
 * (fitness is then negated internally, so both give the same search on f and -f).
 */
import type { Rng } from "../rng.ts";
import { type SymmetricEigen, symmetricEigen } from "./eigen.ts";

/**
 * The World Models paper's settings (Ha & Schmidhuber 2018, appendix on the controller): a
 * population of 64, each candidate's fitness the mean return of 16 rollouts, initial step size 0.1.
 */
export const WORLD_MODELS_CMA_SETTINGS = {
  populationSize: 64,
  rolloutsPerCandidate: 16,
  initialSigma: 0.1,
} as const;

export interface CmaEsOptions {
  /** Number of parameters n. */
  dimension: number;
  /** lambda, candidates per generation; default 4 + floor(3 ln n). */
  populationSize?: number;
  /** m at the start; default the origin. */
  initialMean?: ArrayLike<number>;
  /** sigma at the start: the step size, about a quarter of the search range. */
  initialSigma: number;
  rng: Rng;
  /** Maximise fitness instead of minimising it (default false). */
  maximize?: boolean;
  /** Generations between eigendecompositions; default from the tutorial (see module header). */
  eigenInterval?: number;
}

/** The best candidate seen so far, in the direction of the objective. */
export interface CmaEsBest {
  candidate: Float64Array;
  fitness: number;
  generation: number;
}

export class CmaEs {
  readonly dimension: number;
  /** lambda. */
  readonly populationSize: number;
  /** mu, the number of candidates with positive recombination weight. */
  readonly parentCount: number;
  /** w_i for ranks 1..lambda (best first): positive then negative. */
  readonly weights: Float64Array;
  /** mu_eff, the variance-effective selection mass. */
  readonly effectiveParents: number;
  readonly maximize: boolean;
  /** Learning rates and damping (the tutorial's default strategy parameters). */
  readonly learningRates: {
    cSigma: number;
    dSigma: number;
    cC: number;
    c1: number;
    cMu: number;
  };
  readonly eigenInterval: number;

  readonly #rng: Rng;
  readonly #mean: Float64Array;
  #sigma: number;
  /** C, row-major n x n. */
  readonly #covariance: Float64Array;
  /** p_sigma and p_c. */
  readonly #pathSigma: Float64Array;
  readonly #pathC: Float64Array;
  /** B (rows are eigenvectors) and D (square roots of the eigenvalues). */
  readonly #eigen: SymmetricEigen;
  readonly #axisLengths: Float64Array;
  readonly #expectedNormLength: number;
  #generation = 0;
  #lastEigenGeneration = 0;
  #best: CmaEsBest | null = null;
  // Scratch buffers reused every generation.
  readonly #z: Float64Array;
  readonly #t: Float64Array;
  readonly #yWeighted: Float64Array;

  constructor(options: CmaEsOptions) {
    const n = options.dimension;
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`CmaEs: dimension must be a positive integer, got ${n}`);
    }
    if (!(options.initialSigma > 0) || !Number.isFinite(options.initialSigma)) {
      throw new RangeError(
        `CmaEs: initialSigma must be a positive number, got ${options.initialSigma}`,
      );
    }
    const lambda = options.populationSize ?? 4 + Math.floor(3 * Math.log(n));
    if (!Number.isInteger(lambda) || lambda < 2) {
      throw new RangeError(`CmaEs: populationSize must be an integer of at least 2, got ${lambda}`);
    }
    if (options.initialMean !== undefined && options.initialMean.length !== n) {
      throw new RangeError(
        `CmaEs: initialMean has ${options.initialMean.length} numbers, dimension is ${n}`,
      );
    }
    this.dimension = n;
    this.populationSize = lambda;
    this.maximize = options.maximize ?? false;
    this.#rng = options.rng;

    // Recombination weights; negative ones scaled by the smallest of the tutorial's three caps.
    const mu = Math.floor(lambda / 2);
    this.parentCount = mu;
    const raw = new Float64Array(lambda);
    for (let i = 0; i < lambda; i++) raw[i] = Math.log((lambda + 1) / 2) - Math.log(i + 1);
    let positiveSum = 0, positiveSquares = 0, negativeSum = 0, negativeSquares = 0;
    for (let i = 0; i < lambda; i++) {
      if (raw[i] > 0) {
        positiveSum += raw[i];
        positiveSquares += raw[i] * raw[i];
      } else {
        negativeSum -= raw[i];
        negativeSquares += raw[i] * raw[i];
      }
    }
    const muEff = (positiveSum * positiveSum) / positiveSquares;
    const muEffNegative = negativeSquares > 0 ? (negativeSum * negativeSum) / negativeSquares : 0;
    this.effectiveParents = muEff;

    const alphaCov = 2;
    const c1 = alphaCov / ((n + 1.3) ** 2 + muEff);
    const cMu = Math.min(
      1 - c1,
      (alphaCov * (muEff - 2 + 1 / muEff)) / ((n + 2) ** 2 + (alphaCov * muEff) / 2),
    );
    const cSigma = (muEff + 2) / (n + muEff + 5);
    const dSigma = 1 + 2 * Math.max(0, Math.sqrt((muEff - 1) / (n + 1)) - 1) + cSigma;
    const cC = (4 + muEff / n) / (n + 4 + (2 * muEff) / n);
    this.learningRates = { cSigma, dSigma, cC, c1, cMu };

    const alphaMu = 1 + c1 / cMu;
    const alphaMuEff = 1 + (2 * muEffNegative) / (muEff + 2);
    const alphaPosDef = (1 - c1 - cMu) / (n * cMu);
    const negativeScale = Math.min(alphaMu, alphaMuEff, alphaPosDef) / negativeSum;
    this.weights = new Float64Array(lambda);
    for (let i = 0; i < lambda; i++) {
      this.weights[i] = raw[i] >= 0 ? raw[i] / positiveSum : raw[i] * negativeScale;
    }

    this.eigenInterval = options.eigenInterval ??
      Math.max(1, Math.floor(1 / (10 * n * (c1 + cMu))));
    this.#expectedNormLength = Math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));
    this.#mean = options.initialMean ? Float64Array.from(options.initialMean) : new Float64Array(n);
    this.#sigma = options.initialSigma;
    this.#covariance = new Float64Array(n * n);
    for (let i = 0; i < n; i++) this.#covariance[i * n + i] = 1;
    this.#pathSigma = new Float64Array(n);
    this.#pathC = new Float64Array(n);
    this.#eigen = { values: new Float64Array(n).fill(1), vectors: new Float64Array(n * n) };
    for (let i = 0; i < n; i++) this.#eigen.vectors[i * n + i] = 1;
    this.#axisLengths = new Float64Array(n).fill(1);
    this.#z = new Float64Array(n);
    this.#t = new Float64Array(n);
    this.#yWeighted = new Float64Array(n);
  }

  /** The distribution's mean m (a live view: copy it to keep it). */
  get mean(): Float64Array {
    return this.#mean;
  }

  /** The step size sigma. */
  get sigma(): number {
    return this.#sigma;
  }

  /** Generations told so far. */
  get generation(): number {
    return this.#generation;
  }

  /** The best candidate told so far, or null before the first `tell`. */
  get best(): CmaEsBest | null {
    return this.#best;
  }

  /** Square root of the ratio of C's largest to smallest eigenvalue (1 at the start). */
  get axisRatio(): number {
    let low = Infinity, high = 0;
    for (const length of this.#axisLengths) {
      low = Math.min(low, length);
      high = Math.max(high, length);
    }
    return high / low;
  }

  /** A copy of the covariance matrix C (row-major n x n). */
  covariance(): Float64Array {
    return Float64Array.from(this.#covariance);
  }

  /** Samples lambda candidates x_k = m + sigma B D z_k with z_k ~ N(0, I). */
  ask(): Float64Array[] {
    const n = this.dimension;
    const basis = this.#eigen.vectors;
    const z = this.#z;
    const candidates: Float64Array[] = [];
    for (let k = 0; k < this.populationSize; k++) {
      this.#rng.fillNormal(z);
      const x = Float64Array.from(this.#mean);
      // x += sigma * sum_j (D_j z_j) b_j, with b_j the j-th eigenvector (row j of the basis).
      for (let j = 0; j < n; j++) {
        const scale = this.#sigma * this.#axisLengths[j] * z[j];
        const row = j * n;
        for (let i = 0; i < n; i++) x[i] += scale * basis[row + i];
      }
      candidates.push(x);
    }
    return candidates;
  }

  /**
   * Updates the distribution from scored candidates (normally the ones `ask` returned, in any
   * order; modified ones are fine too). `fitnesses[k]` belongs to `candidates[k]`.
   */
  tell(candidates: readonly Float64Array[], fitnesses: ArrayLike<number>): void {
    const n = this.dimension;
    const lambda = this.populationSize;
    if (candidates.length !== lambda || fitnesses.length !== lambda) {
      throw new RangeError(
        `CmaEs.tell: expected ${lambda} candidates and fitnesses, got ` +
          `${candidates.length} and ${fitnesses.length}`,
      );
    }
    for (let k = 0; k < lambda; k++) {
      if (candidates[k].length !== n) {
        throw new RangeError(
          `CmaEs.tell: candidate ${k} has ${candidates[k].length} numbers, not ${n}`,
        );
      }
      if (Number.isNaN(fitnesses[k])) throw new RangeError(`CmaEs.tell: fitness ${k} is NaN`);
    }
    const sign = this.maximize ? -1 : 1;
    const order = Array.from({ length: lambda }, (_, k) => k)
      .sort((a, b) => sign * fitnesses[a] - sign * fitnesses[b] || a - b);
    this.#generation++;
    const bestIndex = order[0];
    if (this.#best === null || sign * fitnesses[bestIndex] < sign * this.#best.fitness) {
      this.#best = {
        candidate: Float64Array.from(candidates[bestIndex]),
        fitness: fitnesses[bestIndex],
        generation: this.#generation,
      };
    }

    const { cSigma, dSigma, cC, c1, cMu } = this.learningRates;
    const sigma = this.#sigma;
    const mean = this.#mean;
    // Steps y_k = (x_k - m) / sigma, ranked best first.
    const steps = order.map((k) => {
      const y = new Float64Array(n);
      const x = candidates[k];
      for (let i = 0; i < n; i++) y[i] = (x[i] - mean[i]) / sigma;
      return y;
    });

    // Mean update (learning rate c_m = 1) with the positive weights.
    const yWeighted = this.#yWeighted.fill(0);
    for (let r = 0; r < this.parentCount; r++) {
      const w = this.weights[r], y = steps[r];
      for (let i = 0; i < n; i++) yWeighted[i] += w * y[i];
    }
    for (let i = 0; i < n; i++) mean[i] += sigma * yWeighted[i];

    // Step-size path: p_sigma += sqrt(c_sigma (2 - c_sigma) mu_eff) C^(-1/2) y_w.
    const whitened = this.#inverseSquareRoot(yWeighted, this.#t);
    const muEff = this.effectiveParents;
    const sigmaFactor = Math.sqrt(cSigma * (2 - cSigma) * muEff);
    let pathSigmaNorm2 = 0;
    for (let i = 0; i < n; i++) {
      this.#pathSigma[i] = (1 - cSigma) * this.#pathSigma[i] + sigmaFactor * whitened[i];
      pathSigmaNorm2 += this.#pathSigma[i] ** 2;
    }
    const pathSigmaNorm = Math.sqrt(pathSigmaNorm2);
    // h_sigma stalls the p_c update while the step size is growing fast.
    const correction = Math.sqrt(1 - (1 - cSigma) ** (2 * this.#generation));
    const hSigma = pathSigmaNorm / correction < (1.4 + 2 / (n + 1)) * this.#expectedNormLength
      ? 1
      : 0;
    const cFactor = hSigma * Math.sqrt(cC * (2 - cC) * muEff);
    for (let i = 0; i < n; i++) {
      this.#pathC[i] = (1 - cC) * this.#pathC[i] + cFactor * yWeighted[i];
    }

    // Covariance update: negative weights are rescaled by n / |C^(-1/2) y|^2.
    const adjusted = new Float64Array(lambda);
    let weightSum = 0;
    for (let r = 0; r < lambda; r++) {
      const w = this.weights[r];
      weightSum += w;
      if (w >= 0) adjusted[r] = w;
      else {
        const norm2 = this.#whitenedNorm2(steps[r]);
        adjusted[r] = norm2 > 0 ? (w * n) / norm2 : 0;
      }
    }
    const stall = (1 - hSigma) * cC * (2 - cC);
    const decay = 1 + c1 * stall - c1 - cMu * weightSum;
    const covariance = this.#covariance;
    const pathC = this.#pathC;
    for (let i = 0; i < n; i++) {
      const row = i * n;
      const pci = c1 * pathC[i];
      for (let j = 0; j <= i; j++) {
        covariance[row + j] = decay * covariance[row + j] + pci * pathC[j];
      }
    }
    for (let r = 0; r < lambda; r++) {
      const weight = cMu * adjusted[r];
      if (weight === 0) continue;
      const y = steps[r];
      for (let i = 0; i < n; i++) {
        const row = i * n;
        const wyi = weight * y[i];
        for (let j = 0; j <= i; j++) covariance[row + j] += wyi * y[j];
      }
    }
    // Mirror the lower triangle into the upper one.
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) covariance[j * n + i] = covariance[i * n + j];
    }

    // Step size: grows when p_sigma is longer than a random walk's, shrinks when shorter.
    this.#sigma *= Math.exp((cSigma / dSigma) * (pathSigmaNorm / this.#expectedNormLength - 1));

    if (this.#generation - this.#lastEigenGeneration >= this.eigenInterval) this.#decompose();
  }

  /** Refreshes B and D from C. */
  #decompose(): void {
    const n = this.dimension;
    const values = symmetricEigen(this.#covariance, n, this.#eigen).values;
    // Only sigma^2 C matters for sampling; when C's scale drifts far from 1 (large populations
    // shrink it fast), move the scale into sigma so the numbers stay well conditioned. The
    // updates are invariant under C -> C / s, sigma -> sigma sqrt(s), p_c -> p_c / sqrt(s).
    const scale = values[n - 1];
    if (scale > 1e4 || (scale < 1e-4 && scale > 0)) {
      const root = Math.sqrt(scale);
      for (let i = 0; i < n * n; i++) this.#covariance[i] /= scale;
      for (let i = 0; i < n; i++) {
        values[i] /= scale;
        this.#pathC[i] /= root;
      }
      this.#sigma *= root;
    }
    for (let i = 0; i < n; i++) {
      // Round-off can leave tiny negative eigenvalues; clamp them to a sliver of the largest.
      const floor = 1e-20 * Math.max(1e-300, this.#eigen.values[n - 1]);
      this.#axisLengths[i] = Math.sqrt(Math.max(this.#eigen.values[i], floor));
    }
    this.#lastEigenGeneration = this.#generation;
  }

  /** C^(-1/2) v = B D^-1 B^T v, into `out`. */
  #inverseSquareRoot(v: Float64Array, out: Float64Array): Float64Array {
    const n = this.dimension;
    const basis = this.#eigen.vectors;
    const coefficients = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const row = j * n;
      let dot = 0;
      for (let i = 0; i < n; i++) dot += basis[row + i] * v[i];
      coefficients[j] = dot / this.#axisLengths[j];
    }
    out.fill(0);
    for (let j = 0; j < n; j++) {
      const row = j * n, c = coefficients[j];
      for (let i = 0; i < n; i++) out[i] += c * basis[row + i];
    }
    return out;
  }

  /** |C^(-1/2) v|^2 = |D^-1 B^T v|^2. */
  #whitenedNorm2(v: Float64Array): number {
    const n = this.dimension;
    const basis = this.#eigen.vectors;
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const row = j * n;
      let dot = 0;
      for (let i = 0; i < n; i++) dot += basis[row + i] * v[i];
      sum += (dot / this.#axisLengths[j]) ** 2;
    }
    return sum;
  }
}
