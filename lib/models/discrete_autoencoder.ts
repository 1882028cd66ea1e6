/**
 * One autoencoder of frames with two discrete bottlenecks, to set side by side what the study
 * notes call "similar to a Vector Quantized autoencoder but not exactly the same": the codebook of
 * VQ-VAE (van den Oord et al. 2017, Section 3.1; lib/models/vq.ts) and the categorical latents of
 * DreamerV2 (Hafner et al. 2021, Section 2.1; lib/models/latent.ts).
 *
 * The encoder maps a frame to `variables` slots. With a codebook each slot is a vector of
 * `codeSize` numbers replaced by its nearest code (one codebook shared by the slots, as VQ-VAE's
 * grid of latents shares one); with categorical latents each slot is a softmax over `classes`
 * classes, sampled one-hot with straight-through gradients and pulled towards a uniform prior by
 * a KL term (DreamerV2 pulls it towards the dynamics' prior; frames alone have none, so the
 * uniform prior stands in). The decoder sees the slots' code vectors or one-hot samples. With
 * `classes` codes in the codebook both bottlenecks carry the same variables × log2(classes) bits.
 *
 * Both are multi-layer perceptrons on the flattened 0/1 frame, trained on the sigmoid
 * cross-entropy of the reconstruction with Adam.
 */
import { adam, tf } from "../tensor/mod.ts";
import type { Rng } from "../rng.ts";
import { dense, type Layer, ParameterSet, sequential } from "./nn.ts";
import { categoricalKl, categoricalMode, straightThroughSample } from "./latent.ts";
import { nearestCodes, VectorQuantizer } from "./vq.ts";

export type Bottleneck = "codebook" | "categorical";

export interface DiscreteAutoencoderConfig {
  observationSize: number;
  hiddenSize: number;
  bottleneck: Bottleneck;
  /** Slots per frame (DreamerV2: 32). */
  variables: number;
  /** Classes per slot, or codes in the codebook (DreamerV2: 32). */
  classes: number;
  /** Size of a code vector (codebook only). */
  codeSize: number;
  /** β of the commitment loss (codebook only; VQ-VAE: 0.25). */
  commitmentCost: number;
  /** γ of the codebook's moving averages (codebook only; VQ-VAE: 0.99). */
  codebookDecay: number;
  /** Restart codes whose moving count falls below this (codebook only; 0: never). */
  restartBelow: number;
  /** Weight of KL(q || uniform) (categorical only; DreamerV2's β for Atari: 0.1). */
  klScale: number;
  learningRate: number;
}

/** Mean losses of one update. */
export interface AutoencoderLosses {
  reconstruction: number;
  /** The commitment loss (codebook) or the weighted KL (categorical). */
  regulariser: number;
}

/** Sigmoid cross-entropy summed over each row: [B]. */
function rowCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(tf.sub(tf.softplus(logits), tf.mul(targets, logits)), 1) as tf.Tensor1D;
}

export class DiscreteAutoencoder {
  readonly config: Readonly<DiscreteAutoencoderConfig>;
  readonly params: ParameterSet;
  readonly quantizer: VectorQuantizer | null;
  readonly optimizer: tf.Optimizer;
  readonly #encoder: Layer;
  readonly #decoder: Layer;
  readonly #rng: Rng;

  constructor(config: DiscreteAutoencoderConfig, rng: Rng) {
    const { observationSize, hiddenSize, variables, classes, codeSize, bottleneck } = config;
    this.config = { ...config };
    this.#rng = rng;
    const params = this.params = new ParameterSet(`autoencoder-${bottleneck}`, rng);
    const slotWidth = bottleneck === "codebook" ? codeSize : classes;
    this.#encoder = sequential(
      dense(params, "encoder/hidden", observationSize, hiddenSize, "relu"),
      dense(params, "encoder/slots", hiddenSize, variables * slotWidth),
    );
    this.#decoder = sequential(
      dense(params, "decoder/hidden", variables * slotWidth, hiddenSize, "relu"),
      dense(params, "decoder/frame", hiddenSize, observationSize),
    );
    this.quantizer = bottleneck === "codebook"
      ? new VectorQuantizer({
        numCodes: classes,
        codeSize,
        commitmentCost: config.commitmentCost,
        decay: config.codebookDecay,
        restartBelow: config.restartBelow,
      }, rng)
      : null;
    this.optimizer = adam(config.learningRate);
  }

  /** One gradient step (and, with a codebook, one moving-average step) on frames [B, O]. */
  trainStep(frames: Float32Array, batchSize: number): AutoencoderLosses {
    const { observationSize, variables, classes, codeSize } = this.config;
    const input = tf.tensor2d(frames, [batchSize, observationSize]);
    let kept: tf.Tensor[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const encoded = this.#encoder.apply(input) as tf.Tensor2D;
      let regulariser: tf.Scalar;
      let slots: tf.Tensor2D;
      if (this.quantizer) {
        const rows = encoded.reshape([batchSize * variables, codeSize]) as tf.Tensor2D;
        const { quantized, codes, commitmentLoss } = this.quantizer.quantize(rows);
        kept = [tf.keep(rows), tf.keep(codes)];
        slots = quantized.reshape([batchSize, variables * codeSize]);
        regulariser = commitmentLoss;
      } else {
        const uniforms = new Float32Array(batchSize * variables);
        for (let i = 0; i < uniforms.length; i++) uniforms[i] = this.#rng.next();
        slots = straightThroughSample(
          encoded,
          tf.tensor2d(uniforms, [batchSize, variables]),
          classes,
        );
        const uniform = tf.zerosLike(encoded) as tf.Tensor2D;
        regulariser = tf.mul(
          tf.mean(categoricalKl(encoded, uniform, classes)),
          this.config.klScale,
        ) as tf.Scalar;
      }
      const reconstruction = tf.mean(
        rowCrossEntropy(this.#decoder.apply(slots) as tf.Tensor2D, input),
      ) as tf.Scalar;
      kept.push(tf.keep(reconstruction), tf.keep(regulariser));
      return tf.add(reconstruction, regulariser) as tf.Scalar;
    }, this.params.list());
    this.optimizer.applyGradients(grads);
    const [reconstruction, regulariser] = kept.slice(-2).map((t) => t.dataSync()[0]);
    if (this.quantizer) {
      this.quantizer.update(
        kept[0].dataSync() as Float32Array,
        kept[1].dataSync() as Int32Array,
        this.#rng,
      );
    }
    tf.dispose([...kept, value, input, ...Object.values(grads)]);
    return { reconstruction, regulariser };
  }

  /**
   * The code of every slot of frames [B, O]: the nearest code, or the most likely class (the
   * categorical's deterministic reading), [B * variables]; and with categorical latents the
   * class probabilities [B * variables * classes].
   */
  codes(frames: Float32Array, batchSize: number): {
    codes: Int32Array;
    probabilities: Float32Array | null;
  } {
    const { observationSize, variables, classes, codeSize } = this.config;
    let codes: Int32Array = new Int32Array(0);
    let probabilities: Float32Array | null = null;
    tf.tidy(() => {
      const encoded = this.#encoder.apply(
        tf.tensor2d(frames, [batchSize, observationSize]),
      ) as tf.Tensor2D;
      if (this.quantizer) {
        const rows = encoded.reshape([batchSize * variables, codeSize]) as tf.Tensor2D;
        codes = nearestCodes(rows, this.quantizer.codebook).dataSync() as Int32Array;
        return;
      }
      const logits = encoded.reshape([batchSize * variables, classes]);
      codes = tf.argMax(logits, 1).dataSync() as Int32Array;
      probabilities = tf.softmax(logits).dataSync() as Float32Array;
    });
    return { codes, probabilities };
  }

  /**
   * Reconstruction of frames [B, O] through their codes (nearest codes, or each slot's most
   * likely class): the cross-entropy per frame [B] and the pixel probabilities [B * O].
   */
  reconstruct(frames: Float32Array, batchSize: number): {
    crossEntropy: Float32Array;
    probabilities: Float32Array;
  } {
    const { observationSize, variables, classes, codeSize } = this.config;
    return tf.tidy(() => {
      const input = tf.tensor2d(frames, [batchSize, observationSize]);
      const encoded = this.#encoder.apply(input) as tf.Tensor2D;
      let slots: tf.Tensor2D;
      if (this.quantizer) {
        const rows = encoded.reshape([batchSize * variables, codeSize]) as tf.Tensor2D;
        slots = this.quantizer.quantize(rows).quantized.reshape([batchSize, variables * codeSize]);
      } else {
        slots = categoricalMode(encoded, classes);
      }
      const logits = this.#decoder.apply(slots) as tf.Tensor2D;
      return {
        crossEntropy: rowCrossEntropy(logits, input).dataSync() as Float32Array,
        probabilities: tf.sigmoid(logits).dataSync() as Float32Array,
      };
    });
  }

  dispose(): void {
    this.params.dispose();
    this.quantizer?.dispose();
    this.optimizer.dispose();
  }
}
