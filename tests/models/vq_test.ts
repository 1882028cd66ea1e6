import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import { assertAllClose } from "../../lib/tensor/testing.ts";
import { Rng } from "../../lib/rng.ts";
import {
  codeUsage,
  commitmentLoss,
  nearestCodes,
  VectorQuantizer,
  VQ_VAE_SETTINGS,
} from "../../lib/models/vq.ts";

function quantizer(numCodes: number, codeSize: number, codebook: number[]): VectorQuantizer {
  const vq = new VectorQuantizer({ numCodes, codeSize, ...VQ_VAE_SETTINGS }, new Rng(0));
  vq.codebook.assign(tf.tensor2d(codebook, [numCodes, codeSize]));
  return vq;
}

Deno.test("nearest codes are the closest codebook rows", () => {
  const codes = tf.tidy(() =>
    nearestCodes(
      tf.tensor2d([0.9, 0.1, -2, -2, 0, 2.6, 5, 5], [4, 2]),
      tf.tensor2d([0, 0, 1, 0, 0, 3], [3, 2]),
    ).arraySync()
  );
  // (0.9, 0.1) is nearest (1, 0); (-2, -2) nearest the origin; (0, 2.6) nearest (0, 3);
  // (5, 5): distances² 50, 41, 29 -> code 2.
  assert.deepEqual(codes, [1, 0, 2, 2]);
});

Deno.test("commitment loss on a hand-computed case", () => {
  const vq = quantizer(2, 2, [0, 0, 1, 1]);
  const loss = tf.tidy(() => {
    const inputs = tf.tensor2d([0.5, 0, 2, 1], [2, 2]);
    const { commitmentLoss } = vq.quantize(inputs);
    return commitmentLoss.dataSync()[0];
  });
  // Row 1 goes to (0, 0): 0.25. Row 2 to (1, 1): 1. β · mean = 0.25 · 0.625.
  assertAllClose([loss], [0.25 * 0.625]);
  const direct = tf.tidy(() =>
    commitmentLoss(tf.tensor2d([3, 4], [1, 2]), tf.tensor2d([0, 0], [1, 2]), 1).dataSync()[0]
  );
  assertAllClose([direct], [25]);
  vq.dispose();
});

Deno.test("straight-through gradients: codes forward, the identity backward", () => {
  const vq = quantizer(3, 2, [0, 0, 1, 0, 0, 3]);
  const weights = tf.tensor2d([1, -2, 0.5, 3, -1, 4], [3, 2]);
  const inputs = tf.tensor2d([0.9, 0.1, -2, -2, 0, 2.6], [3, 2]);
  const { value, gradient, commitGradient } = tf.tidy(() => {
    const forward = (x: tf.Tensor) => vq.quantize(x as tf.Tensor2D).quantized;
    const value = forward(inputs).arraySync();
    // d/dx sum(w ⊙ z_q(x)) = w: the decoder's gradient reaches the encoder unchanged.
    const gradient = tf.grad((x) => tf.sum(tf.mul(weights, forward(x))))(inputs).arraySync();
    // The commitment loss pulls x towards its code only: d/dx β mean ||x - e||² = 2β(x - e)/N.
    const commitGradient = tf.grad((x) => vq.quantize(x as tf.Tensor2D).commitmentLoss)(inputs)
      .dataSync();
    return { value, gradient, commitGradient };
  });
  assert.deepEqual(value, [[1, 0], [0, 0], [0, 3]]);
  assert.deepEqual(gradient, weights.arraySync());
  const beta = VQ_VAE_SETTINGS.commitmentCost;
  const expected = [-0.1, 0.1, -2, -2, 0, -0.4].map((d) => 2 * beta * d / 3);
  assertAllClose(commitGradient, expected, { relative: 1e-5 });
  // The codebook is not a trainable variable: no optimiser can move it.
  assert.equal(vq.codebook.trainable, false);
  tf.dispose([weights, inputs]);
  vq.dispose();
});

Deno.test("moving averages: first update takes inputs, later ones follow the paper", () => {
  const vq = new VectorQuantizer(
    { numCodes: 2, codeSize: 1, commitmentCost: 0.25, decay: 0.5, restartBelow: 0 },
    new Rng(3),
  );
  const rng = new Rng(4);
  vq.update(Float32Array.of(10, 20), Int32Array.of(0, 0), rng);
  const first = [...vq.codebook.dataSync()].sort((a, b) => a - b);
  assert.deepEqual(first, [10, 20], "the codebook starts at distinct inputs");
  const [low] = [...vq.codebook.dataSync()].map((v, k) => ({ v, k })).sort((a, b) => a.v - b.v);
  const high = 1 - low.k;
  // Both inputs near the low code: its count 0.5·1 + 0.5·2 = 1.5, sum 0.5·10 + 0.5·(12 + 14).
  const codes = new Int32Array(2).fill(low.k);
  vq.update(Float32Array.of(12, 14), codes, rng);
  const counts = vq.codeCounts();
  assertAllClose([counts[low.k], counts[high]], [1.5, 0.5]);
  const total = 2;
  const smooth = (n: number) => (n + 1e-5) / (total + 2e-5) * total;
  const book = vq.codebook.dataSync();
  assertAllClose([book[low.k], book[high]], [18 / smooth(1.5), 10 / smooth(0.5)], {
    relative: 1e-6,
  });
  vq.dispose();
});

Deno.test("a dead code is restarted at an input of the batch", () => {
  const vq = new VectorQuantizer(
    { numCodes: 2, codeSize: 1, commitmentCost: 0.25, decay: 0.5, restartBelow: 0.6 },
    new Rng(3),
  );
  const rng = new Rng(5);
  vq.update(Float32Array.of(0, 100), Int32Array.of(0, 0), rng);
  const lowCode = vq.codebook.dataSync()[0] < 50 ? 0 : 1;
  // Every later input lands on the low code; the other one's count decays to 0.5 < 0.6.
  vq.update(Float32Array.of(1, 2, 3), new Int32Array(3).fill(lowCode), rng);
  const book = vq.codebook.dataSync();
  assert.ok([1, 2, 3].includes(Math.round(book[1 - lowCode])), `restarted at ${book}`);
  vq.dispose();
});

Deno.test("quantizing leaks no tensors", () => {
  const vq = quantizer(4, 3, Array.from({ length: 12 }, (_, i) => i / 12));
  const inputs = tf.randomNormal([16, 3], 0, 1, "float32", 1) as tf.Tensor2D;
  const step = () =>
    tf.tidy(() => {
      const { quantized, commitmentLoss } = vq.quantize(inputs);
      return tf.grad((x) =>
        tf.add(tf.sum(vq.quantize(x as tf.Tensor2D).quantized), commitmentLoss)
      )(
        inputs,
      ).add(quantized).dataSync()[0];
    });
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) step();
  assert.equal(tf.memory().numTensors, before);
  inputs.dispose();
  vq.dispose();
});

Deno.test("code usage counts distinct codes and their perplexity", () => {
  assert.deepEqual(codeUsage([0, 1, 2, 3], 8), { distinct: 4, perplexity: 4 });
  const one = codeUsage([5, 5, 5], 8);
  assert.equal(one.distinct, 1);
  assertAllClose([one.perplexity], [1]);
});
