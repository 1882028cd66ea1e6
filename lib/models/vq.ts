/**
 * The vector quantiser of VQ-VAE (van den Oord et al. 2017, "Neural Discrete Representation
 * Learning", Section 3.1 and 3.2, and Appendix A.1 for the moving-average codebook), the discrete
 * bottleneck that Vector Quantized Models for Planning (Ozair et al. 2021, Section 3) put over the
 * environment's response to an action.
 *
 * A continuous vector z_e(x) is replaced by its nearest codebook vector e_k,
 *
 *   k = argmin_j ||z_e(x) - e_j||²,      z_q(x) = e_k,
 *
 * which has no gradient, so the decoder's gradient is copied from z_q to z_e unchanged (the
 * straight-through estimator, Bengio et al. 2013). The commitment loss β ||z_e(x) - sg[e_k]||²
 * (β = 0.25 in the paper) keeps the encoder near the codebook.
 *
 * The codebook itself learns by exponential moving averages, not by the loss ||sg[z_e] - e||²
 * (the paper's Appendix A.1: "can be used as a replacement for the codebook loss"): each code keeps
 * a decayed count N_k and sum m_k of the encoder outputs assigned to it, and e_k = m_k / N_k, with
 * Laplace smoothing so an unused code never divides by zero. EMA needs no learning rate for the
 * codebook and is what the paper's later models use. Two choices the papers leave open: the
 * codebook starts from encoder outputs of the first update spread as k-means++ seeds its centres
 * (so no code starts far from the data and no cluster starts without one), and a code whose count falls below `restartBelow` is moved to an encoder output of
 * the current batch that its own code fits badly (dead codes would otherwise stay unused for good,
 * while responses that share a code stay merged).
 */
import { tf } from "../tensor/mod.ts";
import type { Rng } from "../rng.ts";
import { stopGradient } from "./latent.ts";

export interface VectorQuantizerConfig {
  /** K, the number of codes. */
  numCodes: number;
  /** D, the size of each code vector. */
  codeSize: number;
  /** β of the commitment loss (the paper: 0.25). */
  commitmentCost: number;
  /** γ of the moving averages (the paper: 0.99). */
  decay: number;
  /** A code whose decayed count falls below this is restarted (0: never). */
  restartBelow: number;
}

/** VQ-VAE's settings (van den Oord et al. 2017): β = 0.25, γ = 0.99. */
export const VQ_VAE_SETTINGS = { commitmentCost: 0.25, decay: 0.99, restartBelow: 0 } as const;

/** Laplace smoothing of the counts (ε in Appendix A.1's reference code). */
const COUNT_SMOOTHING = 1e-5;

export interface Quantized {
  /** z_q forward, identity gradient to z_e backward: [N, D]. */
  quantized: tf.Tensor2D;
  /** The chosen code of every row, [N]. */
  codes: tf.Tensor1D;
  /** β · mean over rows of ||z_e - sg[z_q]||². */
  commitmentLoss: tf.Scalar;
}

/** Index of the nearest row of `codebook` [K, D] for every row of `inputs` [N, D]: [N] int32. */
export function nearestCodes(inputs: tf.Tensor2D, codebook: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    // ||x - e||² = ||x||² - 2 x·e + ||e||²; ||x||² is the same for every code and is left out.
    const cross = tf.matMul(inputs, codebook, false, true);
    const codeNorms = tf.sum(tf.square(codebook), 1);
    return tf.argMin(tf.sub(codeNorms, tf.mul(cross, 2)), 1) as tf.Tensor1D;
  });
}

/** `value` forward and the upstream gradient passed unchanged to `through` backward. */
export function straightThrough(through: tf.Tensor2D, value: tf.Tensor2D): tf.Tensor2D {
  const op = tf.customGrad((_input, save) => {
    (save as tf.GradSaveFunc)([]);
    return { value: tf.clone(value), gradFunc: (dy) => tf.clone(dy as tf.Tensor) };
  });
  return op(through) as tf.Tensor2D;
}

/** β · mean over rows of the squared distance to the (stopped) chosen codes. */
export function commitmentLoss(
  inputs: tf.Tensor2D,
  quantized: tf.Tensor2D,
  commitmentCost: number,
): tf.Scalar {
  return tf.tidy(() =>
    tf.mul(
      commitmentCost,
      tf.mean(tf.sum(tf.square(tf.sub(inputs, stopGradient(quantized))), 1)),
    ) as tf.Scalar
  );
}

export class VectorQuantizer {
  readonly config: Readonly<VectorQuantizerConfig>;
  /** The codes e_1..e_K, [K, D]; not trainable: moving averages set it. */
  readonly codebook: tf.Variable<tf.Rank.R2>;
  /** Decayed counts N_k and sums m_k (Appendix A.1), in doubles. */
  readonly #counts: Float64Array;
  readonly #sums: Float64Array;
  #initialised = false;

  constructor(config: VectorQuantizerConfig, rng: Rng, name = "vq") {
    const { numCodes, codeSize, commitmentCost, decay, restartBelow } = config;
    if (!Number.isInteger(numCodes) || numCodes < 1) {
      throw new RangeError(`numCodes must be a positive integer, got ${numCodes}`);
    }
    if (!Number.isInteger(codeSize) || codeSize < 1) {
      throw new RangeError(`codeSize must be a positive integer, got ${codeSize}`);
    }
    if (!(commitmentCost >= 0)) {
      throw new RangeError(`commitmentCost must be >= 0, got ${commitmentCost}`);
    }
    if (!(decay >= 0 && decay < 1)) throw new RangeError(`decay must be in [0, 1), got ${decay}`);
    if (!(restartBelow >= 0)) {
      throw new RangeError(`restartBelow must be >= 0, got ${restartBelow}`);
    }
    this.config = { ...config };
    const initial = new Float32Array(numCodes * codeSize);
    for (let i = 0; i < initial.length; i++) initial[i] = rng.uniform(-1, 1) / numCodes;
    this.codebook = tf.variable(
      tf.tensor2d(initial, [numCodes, codeSize]),
      false,
      `${name}_codebook_${nextId++}`,
    );
    this.#counts = new Float64Array(numCodes);
    this.#sums = new Float64Array(numCodes * codeSize);
  }

  get numCodes(): number {
    return this.config.numCodes;
  }

  get codeSize(): number {
    return this.config.codeSize;
  }

  /** Nearest codes, their vectors with straight-through gradients, and the commitment loss. */
  quantize(inputs: tf.Tensor2D): Quantized {
    if (inputs.shape[1] !== this.codeSize) {
      throw new RangeError(
        `quantize: inputs have ${inputs.shape[1]} columns, codes ${this.codeSize}`,
      );
    }
    // Read back and rebuilt, so the tape holds no path from the loss to the integer codes.
    const found = nearestCodes(inputs, this.codebook);
    const codes = tf.tensor1d(found.dataSync() as Int32Array, "int32");
    found.dispose();
    const chosen = tf.gather(this.codebook, codes) as tf.Tensor2D;
    const quantized = straightThrough(inputs, chosen);
    const loss = commitmentLoss(inputs, chosen, this.config.commitmentCost);
    chosen.dispose();
    return { quantized, codes, commitmentLoss: loss };
  }

  /** The code vectors of given code indices, [N, D] (no gradient to the codebook). */
  lookup(codes: tf.Tensor1D): tf.Tensor2D {
    return tf.gather(this.codebook, codes) as tf.Tensor2D;
  }

  /**
   * One moving-average step from a batch of encoder outputs [N * D] and their codes [N]:
   * N_k <- γ N_k + (1 - γ) n_k, m_k <- γ m_k + (1 - γ) Σ_{i: k_i = k} z_i, e_k = m_k / N̂_k.
   * The first call sets the codebook to random distinct inputs instead. `rng` picks the inputs a
   * restarted code moves to.
   */
  update(inputs: Float32Array, codes: Int32Array | Uint8Array | Float32Array, rng: Rng): void {
    const { numCodes, codeSize, decay, restartBelow } = this.config;
    const rows = codes.length;
    if (inputs.length !== rows * codeSize) {
      throw new RangeError(`update: ${inputs.length} inputs for ${rows} codes of ${codeSize}`);
    }
    if (rows === 0) return;
    const counts = this.#counts;
    const sums = this.#sums;
    if (!this.#initialised) {
      this.#initialised = true;
      const starts = spreadRows(inputs, rows, codeSize, numCodes, rng);
      for (let k = 0; k < numCodes; k++) {
        counts[k] = 1;
        for (let d = 0; d < codeSize; d++) {
          sums[k * codeSize + d] = inputs[starts[k] * codeSize + d];
        }
      }
    } else {
      const batchCounts = new Float64Array(numCodes);
      const batchSums = new Float64Array(numCodes * codeSize);
      for (let i = 0; i < rows; i++) {
        const k = codes[i];
        batchCounts[k]++;
        for (let d = 0; d < codeSize; d++) batchSums[k * codeSize + d] += inputs[i * codeSize + d];
      }
      for (let k = 0; k < numCodes; k++) {
        counts[k] = decay * counts[k] + (1 - decay) * batchCounts[k];
        for (let d = 0; d < codeSize; d++) {
          const at = k * codeSize + d;
          sums[at] = decay * sums[at] + (1 - decay) * batchSums[at];
        }
      }
      if (restartBelow > 0) this.#restartDeadCodes(inputs, codes, rng);
    }
    const means = tf.tensor2d(this.#means(), [numCodes, codeSize]);
    this.codebook.assign(means);
    means.dispose();
  }

  /**
   * Moves each code whose count fell below `restartBelow` to an input of the batch drawn with
   * probability proportional to its squared distance from its own code, as k-means++ seeds:
   * inputs their code already fits are never taken (which would only split a cluster the codebook
   * serves), inputs it fits badly (a response sharing another's code) are. Nothing moves once
   * every input sits on its code.
   */
  #restartDeadCodes(inputs: Float32Array, codes: ArrayLike<number>, rng: Rng): void {
    const { numCodes, codeSize, restartBelow } = this.config;
    const book = this.#means();
    const rows = codes.length;
    const distances = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      for (let d = 0; d < codeSize; d++) {
        distances[i] += (inputs[i * codeSize + d] - book[codes[i] * codeSize + d]) ** 2;
      }
    }
    for (let k = 0; k < numCodes; k++) {
      if (this.#counts[k] >= restartBelow) continue;
      let total = 0;
      for (let i = 0; i < rows; i++) total += distances[i];
      if (!(total > 1e-12)) return;
      let threshold = rng.next() * total;
      let row = rows - 1;
      for (let i = 0; i < rows; i++) {
        threshold -= distances[i];
        if (threshold < 0) {
          row = i;
          break;
        }
      }
      this.#counts[k] = 1;
      for (let d = 0; d < codeSize; d++) this.#sums[k * codeSize + d] = inputs[row * codeSize + d];
      // The chosen input now sits on a code; inputs near it are served too.
      for (let i = 0; i < rows; i++) {
        let distance = 0;
        for (let d = 0; d < codeSize; d++) {
          distance += (inputs[i * codeSize + d] - inputs[row * codeSize + d]) ** 2;
        }
        if (distance < distances[i]) distances[i] = distance;
      }
    }
  }

  /** e_k = m_k / N̂_k, with N̂ the Laplace-smoothed counts rescaled to the same total. */
  #means(): Float32Array {
    const { numCodes, codeSize } = this.config;
    let total = 0;
    for (let k = 0; k < numCodes; k++) total += this.#counts[k];
    const out = new Float32Array(numCodes * codeSize);
    for (let k = 0; k < numCodes; k++) {
      const smoothed = (this.#counts[k] + COUNT_SMOOTHING) /
        (total + numCodes * COUNT_SMOOTHING) * total;
      for (let d = 0; d < codeSize; d++) {
        out[k * codeSize + d] = this.#sums[k * codeSize + d] / smoothed;
      }
    }
    return out;
  }

  /** The decayed count of each code (how much of the recent data it takes). */
  codeCounts(): Float64Array {
    return this.#counts.slice();
  }

  dispose(): void {
    this.codebook.dispose();
  }
}

let nextId = 0;

/**
 * `count` rows of `inputs` spread over the data as k-means++ seeds its centres (Arthur &
 * Vassilvitskii 2007): each next row drawn with probability proportional to its squared distance
 * from the rows already chosen, so every distinct cluster of the first batch gets a code before
 * any gets two. Once every row coincides with a chosen one, the rest are drawn uniformly.
 */
function spreadRows(
  inputs: Float32Array,
  rows: number,
  size: number,
  count: number,
  rng: Rng,
): Int32Array {
  const chosen = new Int32Array(count);
  const nearest = new Float64Array(rows).fill(Infinity);
  for (let k = 0; k < count; k++) {
    let total = 0;
    if (k > 0) { for (let i = 0; i < rows; i++) total += nearest[i]; }
    let row = rows - 1;
    if (k === 0 || total === 0) {
      row = rng.int(rows);
    } else {
      let threshold = rng.next() * total;
      for (let i = 0; i < rows; i++) {
        threshold -= nearest[i];
        if (threshold < 0) {
          row = i;
          break;
        }
      }
    }
    chosen[k] = row;
    for (let i = 0; i < rows; i++) {
      let distance = 0;
      for (let d = 0; d < size; d++) {
        distance += (inputs[i * size + d] - inputs[row * size + d]) ** 2;
      }
      if (distance < nearest[i]) nearest[i] = distance;
    }
  }
  return chosen;
}

/**
 * How many codes a set of assignments uses: the distinct codes, and the perplexity exp(H) of
 * their empirical distribution (K when all are used equally, 1 when one takes everything).
 */
export function codeUsage(codes: ArrayLike<number>, numCodes: number): {
  distinct: number;
  perplexity: number;
} {
  const counts = new Float64Array(numCodes);
  for (let i = 0; i < codes.length; i++) counts[codes[i]]++;
  let entropy = 0;
  let distinct = 0;
  for (const count of counts) {
    if (count === 0) continue;
    distinct++;
    const p = count / codes.length;
    entropy -= p * Math.log(p);
  }
  return { distinct, perplexity: Math.exp(entropy) };
}
