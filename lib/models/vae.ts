/**
 * The convolutional variational autoencoder (V) of Ha & Schmidhuber (2018), "World Models",
 * appendix A.1 (figure 22), after Kingma & Welling (2014).
 *
 * Encoder: four 4x4 stride-2 "valid" ReLU convolutions (32, 64, 128, 256 filters) take a
 * 64x64x3 frame to 2x2x256, flattened to 1024, then two dense layers give the posterior's mean
 * and log-variance over z. Decoder: a dense layer z -> 1024, reshaped to 1x1x1024, then four
 * stride-2 transposed convolutions with kernels 5, 5, 6, 6 and 128, 64, 32, 3 filters (ReLU, a
 * sigmoid on the last) back to 64x64x3. With z = 32 that is 4,348,547 parameters.
 *
 * Loss, as in the paper's code: the squared error summed over pixels, plus the KL divergence to
 * N(0, I) held at or above a tolerance ("free bits", 0.5 nats per dimension: max(KL, 0.5 z)),
 * both averaged over the batch; Adam with learning rate 1e-4.
 */
import { adam, tf } from "../tensor/mod.ts";
import { Rng } from "../rng.ts";
import {
  conv2d,
  conv2dTranspose,
  dense,
  type Layer,
  ParameterSet,
  sequential,
  transposedOutputSize,
} from "./nn.ts";

export interface ConvVaeConfig {
  /** Size of z (N_z in the paper): 32 for CarRacing, 64 for VizDoom. */
  latentSize: number;
  /** Filters of the four encoder convolutions. */
  encoderChannels: readonly number[];
  /** Width of the decoder's dense layer, then the filters of its first three transposed convs. */
  decoderChannels: readonly number[];
  /** Free nats per latent dimension below which the KL term stops pushing (0.5 in the paper). */
  klTolerance: number;
  /** Adam's learning rate (1e-4 in the paper). */
  learningRate: number;
}

/** Side of the square input and output frames. */
export const VAE_IMAGE_SIZE = 64;
/** Colour channels of the input and output frames. */
export const VAE_IMAGE_CHANNELS = 3;

/** The published architecture and training settings (CarRacing: z = 32). */
export const PAPER_VAE_CONFIG: Readonly<ConvVaeConfig> = Object.freeze({
  latentSize: 32,
  encoderChannels: Object.freeze([32, 64, 128, 256]),
  decoderChannels: Object.freeze([1024, 128, 64, 32]),
  klTolerance: 0.5,
  learningRate: 1e-4,
});

/**
 * The paper's network with every width scaled by `widthFraction` (at least one filter each),
 * for quick budgets and tests; other settings may be overridden.
 */
export function narrowVaeConfig(
  widthFraction: number,
  overrides: Partial<ConvVaeConfig> = {},
): ConvVaeConfig {
  if (!(widthFraction > 0)) throw new RangeError(`widthFraction must be > 0, got ${widthFraction}`);
  const scale = (channels: readonly number[]) =>
    channels.map((c) => Math.max(1, Math.round(c * widthFraction)));
  return {
    ...PAPER_VAE_CONFIG,
    encoderChannels: scale(PAPER_VAE_CONFIG.encoderChannels),
    decoderChannels: scale(PAPER_VAE_CONFIG.decoderChannels),
    ...overrides,
  };
}

const ENCODER_KERNELS = [4, 4, 4, 4];
const DECODER_KERNELS = [5, 5, 6, 6];
const STRIDE = 2;

/** Number of parameters of a ConvVAE, without building it. */
export function vaeParameterCount(
  config: Pick<ConvVaeConfig, "latentSize" | "encoderChannels" | "decoderChannels">,
): number {
  const { latentSize, encoderChannels: enc, decoderChannels: dec } = config;
  const conv = (k: number, inputs: number, outputs: number) => k * k * inputs * outputs + outputs;
  const encoderIn = [VAE_IMAGE_CHANNELS, ...enc.slice(0, 3)];
  const decoderOut = [...dec.slice(1), VAE_IMAGE_CHANNELS];
  let count = 0;
  for (let i = 0; i < 4; i++) count += conv(ENCODER_KERNELS[i], encoderIn[i], enc[i]);
  count += 2 * (4 * enc[3] * latentSize + latentSize);
  count += latentSize * dec[0] + dec[0];
  for (let i = 0; i < 4; i++) count += conv(DECODER_KERNELS[i], dec[i], decoderOut[i]);
  return count;
}

export interface VaeLosses<T> {
  /** reconstruction + max(KL, klTolerance * latentSize), the quantity minimised. */
  loss: T;
  /** Squared error summed over pixels, averaged over the batch. */
  reconstruction: T;
  /** KL divergence of the posterior from N(0, I), before the tolerance, batch mean. */
  kl: T;
}

function validate(config: ConvVaeConfig): void {
  const positiveInts = (name: string, values: readonly number[]) => {
    if (values.length !== 4 || !values.every((v) => Number.isInteger(v) && v > 0)) {
      throw new RangeError(`ConvVae: ${name} must be four positive integers, got [${values}]`);
    }
  };
  if (!Number.isInteger(config.latentSize) || config.latentSize < 1) {
    throw new RangeError(
      `ConvVae: latentSize must be a positive integer, got ${config.latentSize}`,
    );
  }
  positiveInts("encoderChannels", config.encoderChannels);
  positiveInts("decoderChannels", config.decoderChannels);
  if (!(config.klTolerance >= 0)) {
    throw new RangeError(`ConvVae: klTolerance must be >= 0, got ${config.klTolerance}`);
  }
  if (!(config.learningRate > 0)) {
    throw new RangeError(`ConvVae: learningRate must be > 0, got ${config.learningRate}`);
  }
}

export class ConvVae {
  readonly config: Readonly<ConvVaeConfig>;
  readonly params: ParameterSet;
  /** Adam over `params`; its slots appear after the first step (see lib/tensor/checkpoint.ts). */
  readonly optimizer: tf.AdamOptimizer;
  readonly #encoder: Layer;
  readonly #mean: Layer;
  readonly #logVar: Layer;
  readonly #decoderInput: Layer;
  readonly #decoder: Layer;
  /** Draws the reparameterisation noise, so training is fixed by the seed. */
  readonly #noiseRng: Rng;

  constructor(config: Partial<ConvVaeConfig>, rng: Rng) {
    this.config = Object.freeze({ ...PAPER_VAE_CONFIG, ...config });
    validate(this.config);
    const { latentSize, encoderChannels: enc, decoderChannels: dec } = this.config;
    this.params = new ParameterSet("conv_vae", rng);
    this.#noiseRng = rng.fork();
    const p = this.params;
    const encoderIn = [VAE_IMAGE_CHANNELS, ...enc.slice(0, 3)];
    this.#encoder = sequential(
      ...enc.map((filters, i) =>
        conv2d(p, `encoder/conv${i + 1}`, encoderIn[i], filters, {
          kernelSize: ENCODER_KERNELS[i],
          stride: STRIDE,
          activation: "relu",
        })
      ),
    );
    const flatSize = this.#encodedSide() ** 2 * enc[3];
    this.#mean = dense(p, "encoder/mean", flatSize, latentSize);
    this.#logVar = dense(p, "encoder/log_var", flatSize, latentSize);
    this.#decoderInput = dense(p, "decoder/dense", latentSize, dec[0]);
    const decoderOut = [...dec.slice(1), VAE_IMAGE_CHANNELS];
    this.#decoder = sequential(
      ...dec.map((inputs, i) =>
        conv2dTranspose(p, `decoder/deconv${i + 1}`, inputs, decoderOut[i], {
          kernelSize: DECODER_KERNELS[i],
          stride: STRIDE,
          activation: i === 3 ? "sigmoid" : "relu",
        })
      ),
    );
    let side = 1;
    for (const k of DECODER_KERNELS) side = transposedOutputSize(side, k, STRIDE);
    if (side !== VAE_IMAGE_SIZE) throw new Error(`ConvVae: decoder makes ${side}x${side} frames`);
    this.optimizer = adam(this.config.learningRate);
  }

  /** Side of the encoder's last feature map (2 for 64x64 frames). */
  #encodedSide(): number {
    let side = VAE_IMAGE_SIZE;
    for (const k of ENCODER_KERNELS) side = Math.floor((side - k) / STRIDE) + 1;
    return side;
  }

  #checkImages(x: tf.Tensor): void {
    const [, h, w, c] = x.shape;
    if (x.rank !== 4 || h !== VAE_IMAGE_SIZE || w !== VAE_IMAGE_SIZE || c !== VAE_IMAGE_CHANNELS) {
      throw new RangeError(
        `ConvVae: frames must be [batch, 64, 64, 3] in [0, 1], got [${x.shape}]`,
      );
    }
  }

  /** The posterior q(z | x) = N(mean, exp(logVar)) of frames x: [batch, 64, 64, 3] in [0, 1]. */
  encode(x: tf.Tensor4D): { mean: tf.Tensor2D; logVar: tf.Tensor2D } {
    this.#checkImages(x);
    return tf.tidy(() => {
      const features = this.#encoder.apply(x);
      const flat = features.reshape([x.shape[0], -1]);
      return {
        mean: this.#mean.apply(flat) as tf.Tensor2D,
        logVar: this.#logVar.apply(flat) as tf.Tensor2D,
      };
    });
  }

  /**
   * z = mean + exp(logVar / 2) * eps with eps ~ N(0, I) (the reparameterisation trick). The noise
   * comes from `seed`, or from the model's own seeded stream when none is given.
   */
  sample(mean: tf.Tensor2D, logVar: tf.Tensor2D, seed?: number): tf.Tensor2D {
    const noiseSeed = seed ?? this.#noiseRng.seedInt();
    return tf.tidy(() => {
      const eps = tf.randomNormal(mean.shape, 0, 1, "float32", noiseSeed);
      return tf.add(mean, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps)) as tf.Tensor2D;
    });
  }

  /** Frames in [0, 1], [batch, 64, 64, 3], from latents [batch, latentSize]. */
  decode(z: tf.Tensor2D): tf.Tensor4D {
    const { latentSize, decoderChannels } = this.config;
    if (z.rank !== 2 || z.shape[1] !== latentSize) {
      throw new RangeError(`ConvVae: latents must be [batch, ${latentSize}], got [${z.shape}]`);
    }
    return tf.tidy(() => {
      const h = this.#decoderInput.apply(z).reshape([z.shape[0], 1, 1, decoderChannels[0]]);
      return this.#decoder.apply(h) as tf.Tensor4D;
    });
  }

  /** The training losses on frames x, as scalars, with one draw of z per frame. */
  losses(x: tf.Tensor4D, seed?: number): VaeLosses<tf.Scalar> {
    const { latentSize, klTolerance } = this.config;
    return tf.tidy(() => {
      const { mean, logVar } = this.encode(x);
      const y = this.decode(this.sample(mean, logVar, seed));
      const reconstruction = tf.mean(tf.sum(tf.square(tf.sub(x, y)), [1, 2, 3])) as tf.Scalar;
      const klPerFrame = tf.mul(
        -0.5,
        tf.sum(tf.sub(tf.sub(tf.add(1, logVar), tf.square(mean)), tf.exp(logVar)), 1),
      );
      const freeKl = tf.mean(tf.maximum(klPerFrame, klTolerance * latentSize));
      return {
        loss: tf.add(reconstruction, freeKl) as tf.Scalar,
        reconstruction,
        kl: tf.mean(klPerFrame) as tf.Scalar,
      };
    });
  }

  /** One Adam step on a batch of frames [batch, 64, 64, 3] in [0, 1]; returns the losses. */
  trainStep(batch: tf.Tensor4D): VaeLosses<number> {
    this.#checkImages(batch);
    const seed = this.#noiseRng.seedInt();
    let parts: tf.Tensor1D | null = null;
    const cost = this.optimizer.minimize(
      () => {
        const { loss, reconstruction, kl } = this.losses(batch, seed);
        parts = tf.keep(tf.stack([loss, reconstruction, kl]) as tf.Tensor1D);
        return loss;
      },
      true,
      this.params.list(),
    );
    // One read of all three numbers (the loss the optimiser saw is parts[0]).
    const values = (parts as tf.Tensor1D | null)!.dataSync();
    tf.dispose([cost!, parts!]);
    return { loss: values[0], reconstruction: values[1], kl: values[2] };
  }

  /** Encodes to the posterior mean and decodes it: the reconstruction the paper shows. */
  reconstruct(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.decode(this.encode(x).mean));
  }

  dispose(): void {
    this.optimizer.dispose();
    this.params.dispose();
  }
}
