import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import { assertTensorCountFlat } from "../../lib/tensor/testing.ts";
import {
  ConvVae,
  narrowVaeConfig,
  PAPER_VAE_CONFIG,
  vaeParameterCount,
} from "../../lib/models/vae.ts";
import { Rng } from "../../lib/rng.ts";

/** A tiny network for fast tests: an eighth of the paper's widths, z = 4. */
const TINY = narrowVaeConfig(1 / 8, { latentSize: 4, learningRate: 2e-3 });

/** Frames of coloured rectangles on a dark background, in [0, 1]. */
function syntheticFrames(count: number, seed: number): tf.Tensor4D {
  const rng = new Rng(seed);
  const pixels = new Float32Array(count * 64 * 64 * 3).fill(0.1);
  for (let n = 0; n < count; n++) {
    const colour = [rng.uniform(0.3, 1), rng.uniform(0.3, 1), rng.uniform(0.3, 1)];
    const top = rng.int(40);
    const left = rng.int(40);
    for (let h = top; h < top + 24; h++) {
      for (let w = left; w < left + 24; w++) {
        for (let c = 0; c < 3; c++) pixels[((n * 64 + h) * 64 + w) * 3 + c] = colour[c];
      }
    }
  }
  return tf.tensor4d(pixels, [count, 64, 64, 3]);
}

Deno.test("ConvVae: the paper's architecture", async (t) => {
  await t.step("4,348,547 parameters with z = 32 and 4,446,915 with z = 64", () => {
    assert.equal(vaeParameterCount(PAPER_VAE_CONFIG), 4_348_547);
    assert.equal(vaeParameterCount({ ...PAPER_VAE_CONFIG, latentSize: 64 }), 4_446_915);
    const vae = new ConvVae({}, new Rng(0));
    assert.equal(vae.params.count(), 4_348_547);
    vae.dispose();
  });

  await t.step("layer shapes follow appendix A.1", () => {
    const vae = new ConvVae({}, new Rng(0));
    const shapes = Object.fromEntries([...vae.params.variables].map(([n, v]) => [n, v.shape]));
    assert.deepEqual(shapes["encoder/conv1/kernel"], [4, 4, 3, 32]);
    assert.deepEqual(shapes["encoder/conv4/kernel"], [4, 4, 128, 256]);
    assert.deepEqual(shapes["encoder/mean/kernel"], [1024, 32]);
    assert.deepEqual(shapes["decoder/dense/kernel"], [32, 1024]);
    // Transposed kernels are [h, w, out, in].
    assert.deepEqual(shapes["decoder/deconv1/kernel"], [5, 5, 128, 1024]);
    assert.deepEqual(shapes["decoder/deconv4/kernel"], [6, 6, 3, 32]);
    vae.dispose();
  });

  await t.step("narrow configs count what they build", () => {
    for (const fraction of [1 / 8, 1 / 4, 0.5]) {
      const config = narrowVaeConfig(fraction, { latentSize: 16 });
      const vae = new ConvVae(config, new Rng(1));
      assert.equal(vae.params.count(), vaeParameterCount(config));
      vae.dispose();
    }
  });

  await t.step("bad configs name the field", () => {
    assert.throws(() => new ConvVae({ encoderChannels: [32, 64] }, new Rng(0)), /encoderChannels/);
    assert.throws(() => new ConvVae({ latentSize: 0 }, new Rng(0)), /latentSize/);
  });
});

Deno.test("ConvVae: encode, sample, decode", async (t) => {
  const vae = new ConvVae(TINY, new Rng(2));
  const frames = syntheticFrames(3, 3);

  await t.step("shapes and ranges", () => {
    tf.tidy(() => {
      const { mean, logVar } = vae.encode(frames);
      assert.deepEqual(mean.shape, [3, 4]);
      assert.deepEqual(logVar.shape, [3, 4]);
      const z = vae.sample(mean, logVar, 5);
      assert.deepEqual(z.shape, [3, 4]);
      const decoded = vae.decode(z);
      assert.deepEqual(decoded.shape, [3, 64, 64, 3]);
      const [low, high] = [tf.min(decoded).dataSync()[0], tf.max(decoded).dataSync()[0]];
      assert.ok(low >= 0 && high <= 1, `sigmoid output in [0, 1]: ${low}..${high}`);
      assert.deepEqual(vae.reconstruct(frames).shape, [3, 64, 64, 3]);
    });
  });

  await t.step("wrong frame shapes are refused", () => {
    const small = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    assert.throws(() => vae.encode(small), /\[batch, 64, 64, 3\]/);
    small.dispose();
  });

  await t.step("the loss is the squared error plus the KL held at 0.5 nats per dimension", () => {
    tf.tidy(() => {
      const losses = vae.losses(frames, 11);
      // Recompute from the parts with the same noise.
      const { mean, logVar } = vae.encode(frames);
      const y = vae.decode(vae.sample(mean, logVar, 11));
      const [xs, ys] = [frames.dataSync(), y.dataSync()];
      let squaredError = 0; // in float64
      for (let i = 0; i < xs.length; i++) squaredError += (xs[i] - ys[i]) ** 2;
      const reconstruction = squaredError / 3;
      const klPerFrame = tf.mul(
        -0.5,
        tf.sum(tf.sub(tf.sub(tf.add(1, logVar), tf.square(mean)), tf.exp(logVar)), 1),
      ).dataSync();
      const freeKl = [...klPerFrame].map((k) => Math.max(k, 0.5 * 4));
      const expectedLoss = reconstruction + freeKl.reduce((a, b) => a + b) / 3;
      // Float32 sums of 12,288 squares per frame against a float64 sum.
      const close = (a: number, b: number) => Math.abs(a - b) <= 1e-4 * Math.abs(b);
      const measured = losses.reconstruction.dataSync()[0];
      assert.ok(close(measured, reconstruction), `${measured} vs ${reconstruction}`);
      assert.ok(close(losses.loss.dataSync()[0], expectedLoss));
      const kl = losses.kl.dataSync()[0];
      assert.ok(Math.abs(kl - [...klPerFrame].reduce((a, b) => a + b) / 3) < 1e-5);
      // A fresh encoder is close to the prior, so the tolerance is what counts.
      assert.ok(kl < 2, `fresh KL ${kl}`);
      const freeKlTerm = losses.loss.dataSync()[0] - losses.reconstruction.dataSync()[0];
      assert.ok(Math.abs(freeKlTerm - 0.5 * 4) < 1e-3, `free KL term ${freeKlTerm}`);
    });
  });
  frames.dispose();
  vae.dispose();
});

Deno.test("ConvVae: training", async (t) => {
  await t.step("the loss falls on a small synthetic dataset", () => {
    const vae = new ConvVae(TINY, new Rng(4));
    const frames = syntheticFrames(8, 5);
    const losses: number[] = [];
    for (let step = 0; step < 40; step++) losses.push(vae.trainStep(frames).loss);
    const first = losses.slice(0, 3).reduce((a, b) => a + b) / 3;
    const last = losses.slice(-3).reduce((a, b) => a + b) / 3;
    assert.ok(last < 0.6 * first, `loss ${first.toFixed(1)} -> ${last.toFixed(1)}`);
    frames.dispose();
    vae.dispose();
  });

  await t.step("the same seed gives the same losses", () => {
    const run = () => {
      const vae = new ConvVae(TINY, new Rng(6));
      const frames = syntheticFrames(2, 7);
      const losses = [0, 1, 2].map(() => vae.trainStep(frames));
      frames.dispose();
      vae.dispose();
      return losses;
    };
    assert.deepEqual(run(), run());
  });

  await t.step("no tensors leak over 200 steps after a burn-in", async () => {
    const vae = new ConvVae(narrowVaeConfig(1 / 32, { latentSize: 2 }), new Rng(8));
    const frames = syntheticFrames(1, 9);
    await assertTensorCountFlat(() => vae.trainStep(frames), { burnIn: 3, steps: 200 });
    frames.dispose();
    vae.dispose();
  });
});
