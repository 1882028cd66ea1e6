/** logSumExp with the softmax as its gradient, against TensorFlow.js's own op. */
import { logSumExp, tf } from "../../lib/tensor/mod.ts";
import { assertAllClose } from "../../lib/tensor/testing.ts";
import { Rng } from "../../lib/rng.ts";

Deno.test("logSumExp: value and gradient as tf.logSumExp's", async (t) => {
  const x = tf.tensor(new Rng(1).fillNormal(new Float32Array(60)) as Float32Array, [3, 4, 5]);
  for (const [axis, keepDims] of [[2, false], [1, true], [-1, true], [0, false]] as const) {
    await t.step(`axis ${axis}, keepDims ${keepDims}`, () => {
      const weights = tf.tensor(Float32Array.from({ length: 60 }, (_, i) => i % 7), [3, 4, 5]);
      const ours = (v: tf.Tensor) => tf.sum(tf.mul(logSumExp(v, axis, keepDims), 1.5));
      const theirs = (v: tf.Tensor) => tf.sum(tf.mul(tf.logSumExp(v, axis, keepDims), 1.5));
      assertAllClose(
        logSumExp(tf.add(x, weights), axis, keepDims).dataSync(),
        tf.logSumExp(tf.add(x, weights), axis, keepDims).dataSync(),
      );
      assertAllClose(tf.grad(ours)(x).dataSync(), tf.grad(theirs)(x).dataSync(), {
        relative: 1e-6,
      });
    });
  }
  await t.step("stable for large inputs", () => {
    const big = tf.tensor([[1000, 1000], [-1000, -1001]]);
    assertAllClose(
      logSumExp(big, 1).dataSync(),
      [1000 + Math.log(2), -1000 + Math.log(1 + Math.exp(-1))],
      { relative: 1e-6 },
    );
  });
});
