/**
 * The MDN-RNN "M" of World Models (Ha & Schmidhuber 2018, section 2.2): an LSTM over (z_t, a_t)
 * whose output is a mixture density network (Bishop 1994) giving P(z_{t+1} | a_t, z_t, h_t) as
 * a mixture of K Gaussians per latent dimension, each with its own weight, mean and log-std, as
 * in the paper's implementation. For TakeCover it also predicts the end of the episode (a done
 * head trained with a logistic loss) so a dream can end.
 *
 * Sampling at temperature tau divides the mixture logits by tau and multiplies the std by
 * sqrt(tau), as the paper's code does: tau -> 0 gives the mean of the most likely component.
 */
import { logSumExp, tf } from "../tensor/mod.ts";
import type { Rng } from "../rng.ts";
import { dense, type Layer, ParameterSet } from "./nn.ts";
import { Lstm, type LstmState } from "./lstm.ts";

export interface MdnRnnConfig {
  latentSize: number;
  actionSize: number;
  /** LSTM units: 256 for CarRacing, 512 for TakeCover in the paper. */
  hiddenSize: number;
  /** K, Gaussians per latent dimension (the paper: 5). */
  numMixtures: number;
  /** Adds the done head (TakeCover). */
  predictDone: boolean;
  /**
   * Adds one input flag that is 1 on an episode's first step. The paper's TakeCover M takes
   * this extra input: it is what makes its parameter count 1,678,785.
   */
  episodeStartInput: boolean;
  /** Weight of done = 1 terms in the logistic loss (rare events; the paper's code uses 10). */
  doneLossWeight: number;
}

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** Mixture parameters for N rows: logPi normalised over K; all [N, latentSize, K]. */
export interface Mixture {
  logPi: tf.Tensor3D;
  mu: tf.Tensor3D;
  logSigma: tf.Tensor3D;
  /** Logit of "the episode ends here", [N], when the model predicts done. */
  doneLogit: tf.Tensor1D | null;
}

/**
 * Per-element negative log-likelihood of `target` [N, L] under the mixture:
 * -log sum_k pi_k N(target; mu_k, sigma_k), returned as [N, L].
 */
export function mixtureNegLogLikelihood(
  logPi: tf.Tensor3D,
  mu: tf.Tensor3D,
  logSigma: tf.Tensor3D,
  target: tf.Tensor2D,
): tf.Tensor2D {
  return tf.tidy(() => {
    const y = target.expandDims(2);
    const scaled = tf.div(tf.sub(y, mu), tf.exp(logSigma));
    const logNormal = tf.sub(tf.sub(tf.mul(-0.5, tf.square(scaled)), logSigma), LOG_SQRT_2PI);
    return tf.neg(logSumExp(tf.add(logPi, logNormal), 2)) as tf.Tensor2D;
  });
}

/** One training sequence: inputs, next-z targets, done targets, and a 0/1 mask for padding. */
export interface SequenceBatch {
  /** [B, T, inputSize] */
  inputs: tf.Tensor3D;
  /** [B, T, latentSize] */
  targets: tf.Tensor3D;
  /** [B, T], 1 where the episode ends after this step. */
  done: tf.Tensor2D;
  /** [B, T], 1 on real steps, 0 on padding. */
  mask: tf.Tensor2D;
}

export class MdnRnn {
  readonly params: ParameterSet;
  readonly lstm: Lstm;
  readonly #head: Layer;
  readonly inputSize: number;
  readonly outputSize: number;
  readonly #weights: Float64Array;

  constructor(readonly config: MdnRnnConfig, rng: Rng) {
    const { latentSize, actionSize, hiddenSize, numMixtures } = config;
    this.params = new ParameterSet("mdn_rnn", rng);
    this.inputSize = latentSize + actionSize + (config.episodeStartInput ? 1 : 0);
    this.outputSize = latentSize * numMixtures * 3 + (config.predictDone ? 1 : 0);
    this.lstm = new Lstm(this.params, "lstm", this.inputSize, hiddenSize);
    this.#head = dense(this.params, "mdn", hiddenSize, this.outputSize);
    this.#weights = new Float64Array(numMixtures);
  }

  /** The parameter count of a config, without building it. */
  static parameterCount(config: Omit<MdnRnnConfig, "doneLossWeight">): number {
    const inputSize = config.latentSize + config.actionSize + (config.episodeStartInput ? 1 : 0);
    const outputSize = config.latentSize * config.numMixtures * 3 + (config.predictDone ? 1 : 0);
    return Lstm.parameterCount(inputSize, config.hiddenSize) +
      config.hiddenSize * outputSize + outputSize;
  }

  /** Mixture parameters from hidden states h [N, H]. */
  mixture(h: tf.Tensor2D): Mixture {
    const [logPi, mu, logSigma, doneLogit] = tf.tidy(() => {
      const { latentSize: L, numMixtures: K } = this.config;
      const out = this.#head.apply(h) as tf.Tensor2D;
      const n = out.shape[0];
      const mdn = out.slice([0, 0], [n, L * K * 3]).reshape([n, L, 3 * K]);
      const [logits, mu, logSigma] = tf.split(mdn, 3, 2) as tf.Tensor3D[];
      const logPi = tf.sub(logits, logSumExp(logits, 2, true)) as tf.Tensor3D;
      const parts: tf.Tensor[] = [logPi, mu, logSigma];
      if (this.config.predictDone) parts.push(out.slice([0, L * K * 3], [n, 1]).reshape([n]));
      return parts;
    });
    return {
      logPi: logPi as tf.Tensor3D,
      mu: mu as tf.Tensor3D,
      logSigma: logSigma as tf.Tensor3D,
      doneLogit: (doneLogit as tf.Tensor1D | undefined) ?? null,
    };
  }

  /**
   * The training loss on one chunk from `state`: mean mixture NLL over real steps and latent
   * dimensions, plus the weighted logistic done loss. Returns the final state too.
   */
  loss(batch: SequenceBatch, state: LstmState): { loss: tf.Scalar; final: LstmState } {
    const [b, t] = batch.inputs.shape;
    const L = this.config.latentSize;
    const { outputs, final } = this.lstm.unroll(batch.inputs, state);
    const m = this.mixture(outputs.reshape([b * t, this.config.hiddenSize]));
    const nll = mixtureNegLogLikelihood(
      m.logPi,
      m.mu,
      m.logSigma,
      batch.targets.reshape([b * t, L]),
    );
    const mask = batch.mask.reshape([b * t]);
    const realSteps = tf.maximum(tf.sum(mask), 1);
    let loss = tf.div(tf.sum(tf.mul(tf.mean(nll, 1), mask)), realSteps) as tf.Scalar;
    if (m.doneLogit) {
      const done = batch.done.reshape([b * t]);
      // Logistic loss, stable form: softplus(-x) for done = 1, softplus(x) for done = 0.
      const perStep = tf.add(
        tf.mul(tf.mul(done, this.config.doneLossWeight), tf.softplus(tf.neg(m.doneLogit))),
        tf.mul(tf.sub(1, done), tf.softplus(m.doneLogit)),
      );
      loss = tf.add(loss, tf.div(tf.sum(tf.mul(perStep, mask)), realSteps)) as tf.Scalar;
    }
    tf.dispose([m.logPi, m.mu, m.logSigma, nll]);
    if (m.doneLogit) m.doneLogit.dispose();
    return { loss, final };
  }

  /**
   * One optimiser step on a chunk with gradients clipped to `gradClip` global norm (the paper's
   * code clips at 1). Returns the loss and the final state, detached, for the next chunk.
   */
  trainStep(
    optimizer: tf.Optimizer,
    batch: SequenceBatch,
    state: LstmState,
    gradClip = 1,
  ): { loss: number; final: LstmState } {
    let final: LstmState | null = null;
    const lossValue = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const out = this.loss(batch, state);
        final = { h: tf.keep(out.final.h), c: tf.keep(out.final.c) };
        return out.loss;
      }, this.params.list());
      const names = Object.keys(grads);
      const norm = tf.sqrt(tf.addN(names.map((name) => tf.sum(tf.square(grads[name])))));
      const scale = tf.div(gradClip, tf.maximum(norm, gradClip));
      const clipped: Record<string, tf.Tensor> = {};
      for (const name of names) clipped[name] = tf.mul(grads[name], scale);
      optimizer.applyGradients(clipped);
      return value.dataSync()[0];
    });
    return { loss: lossValue, final: final! };
  }

  /** One step of M on inputs x [N, inputSize]. Call inside tf.tidy or dispose. */
  step(x: tf.Tensor2D, state: LstmState): LstmState {
    return this.lstm.step(x, state);
  }

  /**
   * One step of M for N rows of inputs laid out flat [N * inputSize]; returns the new state
   * (the caller disposes it and still owns the old one).
   */
  advance(inputs: Float32Array, state: LstmState): LstmState {
    const rows = state.h.shape[0];
    const [h, c] = tf.tidy(() => {
      const next = this.lstm.step(tf.tensor2d(inputs, [rows, this.inputSize]), state);
      return [next.h, next.c];
    });
    return { h: h as tf.Tensor2D, c: c as tf.Tensor2D };
  }

  /**
   * Samples z_{t+1} for every row from the mixture at hidden state h, at temperature tau, into
   * `zOut` [N * L]; writes the done probability into `doneOut` [N] when M predicts done. Only the
   * output layer runs as tensors; the softmax and the draws are done on one download, which is
   * what keeps dreams of a whole population fast.
   */
  sample(
    h: tf.Tensor2D,
    tau: number,
    rng: Rng,
    zOut: Float32Array,
    doneOut?: Float32Array,
  ): void {
    const out = tf.tidy(() => this.#head.apply(h));
    const raw = out.dataSync() as Float32Array;
    out.dispose();
    const { latentSize: L, numMixtures: K } = this.config;
    const rows = h.shape[0];
    const stride = this.outputSize;
    const noiseScale = Math.sqrt(Math.max(tau, 0));
    const weights = this.#weights;
    for (let r = 0; r < rows; r++) {
      const rowBase = r * stride;
      for (let d = 0; d < L; d++) {
        const base = rowBase + d * 3 * K;
        let best = 0;
        for (let k = 1; k < K; k++) if (raw[base + k] > raw[base + best]) best = k;
        let chosen = best;
        if (tau > 0) {
          let total = 0;
          for (let k = 0; k < K; k++) {
            weights[k] = Math.exp((raw[base + k] - raw[base + best]) / tau);
            total += weights[k];
          }
          let u = rng.next() * total;
          for (let k = 0; k < K; k++) {
            u -= weights[k];
            if (u <= 0) {
              chosen = k;
              break;
            }
          }
        }
        const noise = noiseScale > 0 ? rng.normal() * noiseScale : 0;
        zOut[r * L + d] = raw[base + K + chosen] + Math.exp(raw[base + 2 * K + chosen]) * noise;
      }
      if (doneOut && this.config.predictDone) {
        doneOut[r] = 1 / (1 + Math.exp(-raw[rowBase + L * 3 * K]));
      }
    }
  }

  dispose(): void {
    this.params.dispose();
  }
}

/**
 * Samples one value per (row, latent dimension) from mixtures laid out as [rows, K] flat arrays
 * (logPi normalised), at temperature tau: pick k with probabilities softmax(logPi / tau), then
 * mu_k + sigma_k sqrt(tau) eps. tau = 0 picks the most likely component's mean.
 */
export function sampleMixture(
  logPi: Float32Array,
  mu: Float32Array,
  logSigma: Float32Array,
  numMixtures: number,
  tau: number,
  rng: Rng,
  out: Float32Array,
): Float32Array {
  const K = numMixtures;
  const rows = out.length;
  const noiseScale = Math.sqrt(Math.max(tau, 0));
  for (let r = 0; r < rows; r++) {
    const base = r * K;
    let best = base;
    for (let k = base + 1; k < base + K; k++) if (logPi[k] > logPi[best]) best = k;
    let chosen = best;
    if (tau > 0) {
      // Inverse-CDF draw from softmax(logPi / tau), shifted by the max for stability.
      let total = 0;
      for (let k = base; k < base + K; k++) total += Math.exp((logPi[k] - logPi[best]) / tau);
      let u = rng.next() * total;
      for (let k = base; k < base + K; k++) {
        u -= Math.exp((logPi[k] - logPi[best]) / tau);
        if (u <= 0) {
          chosen = k;
          break;
        }
      }
    }
    const noise = noiseScale > 0 ? rng.normal() * noiseScale : 0;
    out[r] = mu[chosen] + Math.exp(logSigma[chosen]) * noise;
  }
  return out;
}

/** One episode encoded by V: what M trains on (frames are encoded once and not kept). */
export interface LatentEpisode {
  /** V's posterior mean for frames 0..steps, [(steps + 1) * latentSize]. */
  mu: Float32Array;
  /** V's posterior log-variance, same layout; z is resampled from it every epoch. */
  logVar: Float32Array;
  /** Actions 0..steps-1, [steps * actionSize]. */
  actions: Float32Array;
  steps: number;
  /** The game ended the episode (not the time limit): the last step's done target is 1. */
  terminated: boolean;
}

export interface EpochOptions {
  batchSize: number;
  /** Steps per chunk of truncated backpropagation through time. */
  chunkLength: number;
  rng: Rng;
  gradClip?: number;
  /** Called after every chunk with the running mean loss. */
  onChunk?: (done: number, total: number, meanLoss: number) => void;
}

/** Chunks an epoch will take (for progress totals). */
export function chunksPerEpoch(
  episodes: readonly LatentEpisode[],
  batchSize: number,
  chunkLength: number,
): number {
  let total = 0;
  for (let start = 0; start < episodes.length; start += batchSize) {
    const group = episodes.slice(start, start + batchSize);
    total += Math.ceil(Math.max(...group.map((e) => e.steps)) / chunkLength);
  }
  return total;
}

/**
 * One epoch of truncated BPTT: episodes are shuffled into batches, each batch is walked in
 * chunks of `chunkLength` steps carrying the LSTM state from chunk to chunk (gradients stop at
 * chunk borders), shorter episodes padded and masked. z is sampled from V's posterior each
 * epoch, as the paper's code does. Returns the mean chunk loss.
 */
export function trainEpoch(
  model: MdnRnn,
  optimizer: tf.Optimizer,
  episodes: readonly LatentEpisode[],
  options: EpochOptions,
): number {
  const { batchSize, chunkLength, rng } = options;
  const { latentSize: L, actionSize: A } = model.config;
  const inputSize = model.inputSize;
  const order = rng.shuffle(episodes.map((_, i) => i));
  const totalChunks = chunksPerEpoch(episodes, batchSize, chunkLength);
  let chunkCount = 0;
  let lossSum = 0;
  for (let start = 0; start < order.length; start += batchSize) {
    const group = order.slice(start, start + batchSize).map((i) => episodes[i]);
    const b = group.length;
    const longest = Math.max(...group.map((e) => e.steps));
    // Sample z for every frame of the batch once, so consecutive chunks see one trajectory.
    const sampled = group.map((e) => {
      const z = new Float32Array(e.mu.length);
      for (let i = 0; i < z.length; i++) {
        z[i] = e.mu[i] + Math.exp(0.5 * e.logVar[i]) * rng.normal();
      }
      return z;
    });
    let state = model.lstm.zeroState(b);
    for (let t0 = 0; t0 < longest; t0 += chunkLength) {
      const c = Math.min(chunkLength, longest - t0);
      const inputs = new Float32Array(b * c * inputSize);
      const targets = new Float32Array(b * c * L);
      const done = new Float32Array(b * c);
      const mask = new Float32Array(b * c);
      for (let e = 0; e < b; e++) {
        const episode = group[e];
        const z = sampled[e];
        for (let s = 0; s < c; s++) {
          const t = t0 + s;
          if (t >= episode.steps) break;
          const row = e * c + s;
          const input = row * inputSize;
          inputs.set(z.subarray(t * L, (t + 1) * L), input);
          inputs.set(episode.actions.subarray(t * A, (t + 1) * A), input + L);
          if (model.config.episodeStartInput) inputs[input + L + A] = t === 0 ? 1 : 0;
          targets.set(z.subarray((t + 1) * L, (t + 2) * L), row * L);
          done[row] = episode.terminated && t === episode.steps - 1 ? 1 : 0;
          mask[row] = 1;
        }
      }
      const batch: SequenceBatch = {
        inputs: tf.tensor3d(inputs, [b, c, inputSize]),
        targets: tf.tensor3d(targets, [b, c, L]),
        done: tf.tensor2d(done, [b, c]),
        mask: tf.tensor2d(mask, [b, c]),
      };
      const { loss, final } = model.trainStep(optimizer, batch, state, options.gradClip);
      tf.dispose([batch.inputs, batch.targets, batch.done, batch.mask, state.h, state.c]);
      state = final;
      lossSum += loss;
      chunkCount++;
      options.onChunk?.(chunkCount, totalChunks, lossSum / chunkCount);
    }
    tf.dispose([state.h, state.c]);
  }
  return lossSum / Math.max(chunkCount, 1);
}
