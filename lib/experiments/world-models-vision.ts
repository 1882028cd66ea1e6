/**
 * V of World Models (Ha & Schmidhuber 2018, section 2.1) as the experiments use it: the ConvVAE of
 * lib/models/vae.ts behind a small interface over uint8 frames (encode a batch to the posterior's
 * mean and log-variance, decode latents back to frames, one training step on a batch).
 */
import { tf } from "../tensor/mod.ts";
import {
  conv2d,
  conv2dTranspose,
  dense,
  type Layer,
  ParameterSet,
  sequential,
} from "../models/nn.ts";
import type { Rng } from "../rng.ts";

export interface VisionLosses {
  loss: number;
  reconstruction: number;
  kl: number;
}

export interface Vision {
  readonly latentSize: number;
  readonly params: ParameterSet;
  /** Posterior mean and log-variance of `count` frames (uint8 64x64x3, flat), [count * L] each. */
  encode(frames: Uint8Array, count: number): { mu: Float32Array; logVar: Float32Array };
  /** Frames decoded from `count` latents, uint8 [count * 64 * 64 * 3]. */
  decode(z: Float32Array, count: number): Uint8Array;
  /** One optimiser step on a batch of frames. */
  trainStep(frames: Uint8Array, count: number, rng: Rng): VisionLosses;
  dispose(): void;
}

/** The ConvVAE's sizes and training settings, as in the experiments' config. */
export interface VisionSettings {
  latentSize: number;
  encoderChannels: readonly number[];
  decoderChannels: readonly number[];
  learningRate: number;
  klTolerance: number;
}

/**
 * The paper's ConvVAE (its appendix): four 4x4 stride-2 ReLU convolutions to 2x2xC, dense layers
 * to the posterior's mean and log-variance, a dense layer to 1x1xD and four transposed
 * convolutions (5, 5, 6, 6; stride 2) back to 64x64x3 with a sigmoid. Loss: the squared error
 * summed over pixels plus the KL divergence, held at or above `klTolerance` nats per dimension.
 */
export function createVision(settings: VisionSettings, rng: Rng): Vision {
  return new ConvVision(settings, rng);
}

class ConvVision implements Vision {
  readonly latentSize: number;
  readonly params: ParameterSet;
  readonly #encoder: Layer;
  readonly #mu: Layer;
  readonly #logVar: Layer;
  readonly #decoderInput: Layer;
  readonly #decoder: Layer;
  readonly #decoderWidth: number;
  readonly #optimizer: tf.Optimizer;
  readonly #klFloor: number;

  constructor(readonly settings: VisionSettings, rng: Rng) {
    const { latentSize, encoderChannels: enc, decoderChannels: dec } = settings;
    this.latentSize = latentSize;
    this.params = new ParameterSet("conv_vae", rng);
    const p = this.params;
    const conv = { kernelSize: 4, stride: 2, activation: "relu" as const };
    this.#encoder = sequential(
      conv2d(p, "enc1", 3, enc[0], conv),
      conv2d(p, "enc2", enc[0], enc[1], conv),
      conv2d(p, "enc3", enc[1], enc[2], conv),
      conv2d(p, "enc4", enc[2], enc[3], conv),
    );
    const flat = 2 * 2 * enc[3];
    this.#mu = dense(p, "mu", flat, latentSize);
    this.#logVar = dense(p, "log_var", flat, latentSize);
    this.#decoderWidth = dec[0];
    this.#decoderInput = dense(p, "dec_dense", latentSize, dec[0]);
    this.#decoder = sequential(
      conv2dTranspose(p, "dec1", dec[0], dec[1], { kernelSize: 5, stride: 2, activation: "relu" }),
      conv2dTranspose(p, "dec2", dec[1], dec[2], { kernelSize: 5, stride: 2, activation: "relu" }),
      conv2dTranspose(p, "dec3", dec[2], dec[3], { kernelSize: 6, stride: 2, activation: "relu" }),
      conv2dTranspose(p, "dec4", dec[3], 3, { kernelSize: 6, stride: 2, activation: "sigmoid" }),
    );
    this.#optimizer = tf.train.adam(settings.learningRate);
    this.#klFloor = settings.klTolerance * latentSize;
  }

  #images(frames: Uint8Array, count: number): tf.Tensor4D {
    return tf.tidy(() => tf.div(tf.tensor4d(frames, [count, 64, 64, 3], "int32"), 255));
  }

  #encode(x: tf.Tensor4D): [tf.Tensor2D, tf.Tensor2D] {
    const h = this.#encoder.apply(x);
    const flat = h.reshape([x.shape[0], -1]);
    return [this.#mu.apply(flat) as tf.Tensor2D, this.#logVar.apply(flat) as tf.Tensor2D];
  }

  #decode(z: tf.Tensor2D): tf.Tensor4D {
    const h = this.#decoderInput.apply(z).reshape([z.shape[0], 1, 1, this.#decoderWidth]);
    return this.#decoder.apply(h) as tf.Tensor4D;
  }

  encode(frames: Uint8Array, count: number) {
    const [mu, logVar] = tf.tidy(() => this.#encode(this.#images(frames, count)));
    const out = {
      mu: mu.dataSync() as Float32Array,
      logVar: logVar.dataSync() as Float32Array,
    };
    tf.dispose([mu, logVar]);
    return out;
  }

  decode(z: Float32Array, count: number): Uint8Array {
    const pixels = tf.tidy(() =>
      tf.round(tf.mul(this.#decode(tf.tensor2d(z, [count, this.latentSize])), 255))
    );
    const out = Uint8Array.from(pixels.dataSync());
    pixels.dispose();
    return out;
  }

  trainStep(frames: Uint8Array, count: number, rng: Rng): VisionLosses {
    const noise = new Float32Array(count * this.latentSize);
    rng.fillNormal(noise);
    const losses = tf.tidy(() => {
      const x = this.#images(frames, count);
      const eps = tf.tensor2d(noise, [count, this.latentSize]);
      let reconstruction: tf.Scalar | null = null;
      let kl: tf.Scalar | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const [mu, logVar] = this.#encode(x);
        const z = tf.add(mu, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps)) as tf.Tensor2D;
        const y = this.#decode(z);
        const r = tf.mean(tf.sum(tf.square(tf.sub(x, y)), [1, 2, 3])) as tf.Scalar;
        const klPerFrame = tf.mul(
          -0.5,
          tf.sum(tf.sub(tf.sub(tf.add(1, logVar), tf.square(mu)), tf.exp(logVar)), 1),
        );
        const k = tf.mean(tf.maximum(klPerFrame, this.#klFloor)) as tf.Scalar;
        reconstruction = tf.keep(r);
        kl = tf.keep(tf.mean(klPerFrame) as tf.Scalar);
        return tf.add(r, k) as tf.Scalar;
      }, this.params.list());
      this.#optimizer.applyGradients(grads);
      const kept = [value, reconstruction!, kl!] as tf.Scalar[];
      const values = kept.map((t) => t.dataSync()[0]);
      tf.dispose(kept);
      return values;
    });
    return { loss: losses[0], reconstruction: losses[1], kl: losses[2] };
  }

  dispose(): void {
    this.#optimizer.dispose();
    this.params.dispose();
  }
}

/** Parameters of the ConvVAE for given sizes, without building it. */
export function visionParameterCount(
  settings: Pick<VisionSettings, "latentSize" | "encoderChannels" | "decoderChannels">,
): number {
  const { latentSize: L, encoderChannels: e, decoderChannels: d } = settings;
  const conv = (k: number, i: number, o: number) => k * k * i * o + o;
  return conv(4, 3, e[0]) + conv(4, e[0], e[1]) + conv(4, e[1], e[2]) + conv(4, e[2], e[3]) +
    2 * (4 * e[3] * L + L) + (L * d[0] + d[0]) +
    conv(5, d[0], d[1]) + conv(5, d[1], d[2]) + conv(6, d[2], d[3]) + conv(6, d[3], 3);
}
