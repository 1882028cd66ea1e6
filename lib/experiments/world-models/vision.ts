/**
 * V of World Models (Ha & Schmidhuber 2018, section 2.1) as the experiments use it: the ConvVAE of
 * lib/models/vae.ts (the paper's appendix A.1) behind a small interface over uint8 frames: encode
 * a batch to the posterior's mean and log-variance, decode latents back to frames, and one
 * training step on a batch.
 */
import { tf } from "../../tensor/mod.ts";
import type { ParameterSet } from "../../models/nn.ts";
import { ConvVae, vaeParameterCount } from "../../models/vae.ts";
import type { Rng } from "../../rng.ts";

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

/** V as the experiments use it: lib/models/vae.ts's ConvVae over uint8 frames. */
export function createVision(settings: VisionSettings, rng: Rng): Vision {
  return new ConvVision(settings, rng);
}

class ConvVision implements Vision {
  readonly latentSize: number;
  readonly vae: ConvVae;

  constructor(settings: VisionSettings, rng: Rng) {
    this.latentSize = settings.latentSize;
    this.vae = new ConvVae({
      latentSize: settings.latentSize,
      encoderChannels: settings.encoderChannels,
      decoderChannels: settings.decoderChannels,
      learningRate: settings.learningRate,
      klTolerance: settings.klTolerance,
    }, rng);
  }

  get params(): ParameterSet {
    return this.vae.params;
  }

  #images(frames: Uint8Array, count: number): tf.Tensor4D {
    return tf.tidy(() => tf.div(tf.tensor4d(frames, [count, 64, 64, 3], "int32"), 255));
  }

  encode(frames: Uint8Array, count: number) {
    const x = this.#images(frames, count);
    const { mean, logVar } = this.vae.encode(x);
    const out = {
      mu: mean.dataSync() as Float32Array,
      logVar: logVar.dataSync() as Float32Array,
    };
    tf.dispose([x, mean, logVar]);
    return out;
  }

  decode(z: Float32Array, count: number): Uint8Array {
    const pixels = tf.tidy(() =>
      tf.round(tf.mul(this.vae.decode(tf.tensor2d(z, [count, this.latentSize])), 255))
    );
    const out = Uint8Array.from(pixels.dataSync());
    pixels.dispose();
    return out;
  }

  // The VAE draws its reparameterisation noise from its own seeded stream.
  trainStep(frames: Uint8Array, count: number, _rng: Rng): VisionLosses {
    const x = this.#images(frames, count);
    try {
      return this.vae.trainStep(x);
    } finally {
      x.dispose();
    }
  }

  dispose(): void {
    this.vae.dispose();
  }
}

/** Parameters of the ConvVAE for given sizes, without building it. */
export function visionParameterCount(
  settings: Pick<VisionSettings, "latentSize" | "encoderChannels" | "decoderChannels">,
): number {
  return vaeParameterCount(settings);
}
