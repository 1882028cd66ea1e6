import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import { assertAllClose } from "../../lib/tensor/testing.ts";
import { Rng } from "../../lib/rng.ts";
import {
  balancedKl,
  categoricalEntropy,
  categoricalKl,
  categoricalMode,
  categoricalProbabilities,
  stopGradient,
  straightThroughSample,
} from "../../lib/models/latent.ts";

/** Central finite differences of a scalar function of a flat vector. */
function numericGradient(f: (x: Float32Array) => number, at: Float32Array, eps = 1e-2): number[] {
  return Array.from(at, (_, i) => {
    const plus = at.slice(), minus = at.slice();
    plus[i] += eps;
    minus[i] -= eps;
    return (f(plus) - f(minus)) / (2 * eps);
  });
}

function randomLogits(rows: number, width: number, seed: number): Float32Array {
  return new Rng(seed).fillNormal(new Float32Array(rows * width)) as Float32Array;
}

Deno.test("stopGradient passes values and blocks gradients", () => {
  const x = tf.tensor1d([1, -2, 3]);
  const [value, grad] = tf.tidy(() => {
    const f = (input: tf.Tensor) => tf.sum(tf.add(tf.square(stopGradient(input)), input));
    return [f(x).dataSync()[0], tf.grad(f)(x).arraySync()];
  });
  assert.equal(value, 14 + 2);
  // Only the unstopped branch contributes: d/dx (x) = 1.
  assert.deepEqual(grad, [1, 1, 1]);
  x.dispose();
});

Deno.test("straight-through categorical samples", async (t) => {
  const classes = 4, variables = 2;
  const logitValues = Float32Array.of(0.5, -1, 2, 0, -0.3, 0.1, 0.2, 1.5);

  await t.step("are one-hot per variable and follow the class probabilities", () => {
    const rows = 4000;
    const rng = new Rng(1);
    const uniforms = Float32Array.from({ length: rows * variables }, () => rng.next());
    const counts = tf.tidy(() => {
      const logits = tf.tile(tf.tensor2d(logitValues, [1, 8]), [rows, 1]) as tf.Tensor2D;
      const samples = straightThroughSample(logits, tf.tensor2d(uniforms, [rows, 2]), classes);
      const perVariable = tf.sum(samples.reshape([rows, variables, classes]), 2);
      assert.deepEqual([...new Set(perVariable.dataSync())], [1], "not one-hot");
      return tf.sum(samples, 0).dataSync();
    });
    const probabilities = tf.tidy(() =>
      categoricalProbabilities(tf.tensor2d(logitValues, [1, 8]), classes).dataSync()
    );
    for (let i = 0; i < 8; i++) {
      const p = probabilities[i];
      const sd = Math.sqrt(rows * p * (1 - p));
      assert.ok(
        Math.abs(counts[i] - rows * p) < 4 * sd + 1,
        `class ${i}: ${counts[i]} draws, expected ${(rows * p).toFixed(0)} ± ${sd.toFixed(0)}`,
      );
    }
  });

  await t.step("pass the gradient to the probabilities (finite differences)", () => {
    // d/dlogits sum(w * sample) must equal d/dlogits sum(w * softmax(logits)): the estimator
    // treats the one-hot sample as if it were the probabilities.
    const weights = tf.tensor2d([[0.3, -1.2, 0.8, 2.0, -0.5, 1.1, 0.4, -0.9]]);
    const uniforms = tf.tensor2d([[0.3, 0.9]]);
    const analytic = tf.tidy(() =>
      tf.grad((logits: tf.Tensor) =>
        tf.sum(tf.mul(weights, straightThroughSample(logits as tf.Tensor2D, uniforms, classes)))
      )(tf.tensor2d(logitValues, [1, 8])).dataSync()
    );
    const surrogate = (x: Float32Array) =>
      tf.tidy(() =>
        tf.sum(tf.mul(weights, categoricalProbabilities(tf.tensor2d(x, [1, 8]), classes)))
          .dataSync()[0]
      );
    assertAllClose(analytic, numericGradient(surrogate, logitValues), {
      relative: 2e-2,
      absolute: 2e-3,
    });
    tf.dispose([weights, uniforms]);
  });

  await t.step("the mode is the most likely class", () => {
    const mode = tf.tidy(() =>
      Array.from(categoricalMode(tf.tensor2d(logitValues, [1, 8]), classes).dataSync())
    );
    assert.deepEqual(mode, [0, 0, 1, 0, 0, 0, 0, 1]);
  });
});

Deno.test("categorical KL and KL balancing", async (t) => {
  const classes = 3, rows = 2, width = 6;
  const q = randomLogits(rows, width, 2), p = randomLogits(rows, width, 3);

  await t.step("KL and entropy match the closed form", () => {
    const softmax = (values: ArrayLike<number>) => {
      const e = Array.from(values, Math.exp);
      const total = e.reduce((a, b) => a + b);
      return e.map((v) => v / total);
    };
    const expectedKl: number[] = [], expectedEntropy: number[] = [];
    for (let r = 0; r < rows; r++) {
      let kl = 0, entropy = 0;
      for (let v = 0; v < 2; v++) {
        const offset = r * width + v * classes;
        const qv = softmax(q.subarray(offset, offset + classes));
        const pv = softmax(p.subarray(offset, offset + classes));
        for (let k = 0; k < classes; k++) {
          kl += qv[k] * Math.log(qv[k] / pv[k]);
          entropy -= qv[k] * Math.log(qv[k]);
        }
      }
      expectedKl.push(kl);
      expectedEntropy.push(entropy);
    }
    const [kl, entropy, self] = tf.tidy(() => {
      const qt = tf.tensor2d(q, [rows, width]), pt = tf.tensor2d(p, [rows, width]);
      return [
        categoricalKl(qt, pt, classes).dataSync(),
        categoricalEntropy(qt, classes).dataSync(),
        categoricalKl(qt, qt, classes).dataSync(),
      ];
    });
    assertAllClose(kl, expectedKl, { relative: 1e-5, absolute: 1e-6 });
    assertAllClose(entropy, expectedEntropy, { relative: 1e-5, absolute: 1e-6 });
    assertAllClose(self, [0, 0], { absolute: 1e-6 });
  });

  await t.step("KL gradients match finite differences", () => {
    const klOf = (qx: Float32Array, px: Float32Array) =>
      tf.tidy(() =>
        tf.sum(
          categoricalKl(tf.tensor2d(qx, [rows, width]), tf.tensor2d(px, [rows, width]), classes),
        ).dataSync()[0]
      );
    const [gradQ, gradP] = tf.tidy(() => {
      const grads = tf.grads((qt: tf.Tensor, pt: tf.Tensor) =>
        tf.sum(categoricalKl(qt as tf.Tensor2D, pt as tf.Tensor2D, classes))
      )([tf.tensor2d(q, [rows, width]), tf.tensor2d(p, [rows, width])]);
      return grads.map((g) => g.dataSync());
    });
    const tolerance = { relative: 2e-2, absolute: 2e-3 };
    assertAllClose(gradQ, numericGradient((x) => klOf(x, p), q), tolerance, "d KL / d q");
    assertAllClose(gradP, numericGradient((x) => klOf(q, x), p), tolerance, "d KL / d p");
  });

  await t.step("balancing keeps the value and splits the gradient alpha to the prior", () => {
    const alpha = 0.8;
    const kl = (a: tf.Tensor2D, b: tf.Tensor2D) => categoricalKl(a, b, classes);
    const [plainValue, plainGrads, balancedValue, balancedGrads] = tf.tidy(() => {
      const inputs = [tf.tensor2d(q, [rows, width]), tf.tensor2d(p, [rows, width])];
      const plain = (qt: tf.Tensor, pt: tf.Tensor) =>
        tf.sum(kl(qt as tf.Tensor2D, pt as tf.Tensor2D));
      const balanced = (qt: tf.Tensor, pt: tf.Tensor) =>
        tf.sum(balancedKl(kl, stopGradient, qt as tf.Tensor2D, pt as tf.Tensor2D, alpha));
      return [
        plain(inputs[0], inputs[1]).dataSync()[0],
        tf.grads(plain)(inputs).map((g) => g.dataSync()),
        balanced(inputs[0], inputs[1]).dataSync()[0],
        tf.grads(balanced)(inputs).map((g) => g.dataSync()),
      ];
    }) as [number, Float32Array[], number, Float32Array[]];
    assert.ok(Math.abs(plainValue - balancedValue) < 1e-5, `${plainValue} vs ${balancedValue}`);
    assertAllClose(balancedGrads[0], plainGrads[0].map((g) => (1 - alpha) * g), {}, "posterior");
    assertAllClose(balancedGrads[1], plainGrads[1].map((g) => alpha * g), {}, "prior");
  });

  await t.step("free nats clamp each balanced term", () => {
    const value = tf.tidy(() =>
      balancedKl(
        (a: tf.Tensor2D, b: tf.Tensor2D) => categoricalKl(a, b, classes),
        stopGradient,
        tf.tensor2d(q, [rows, width]),
        tf.tensor2d(q, [rows, width]),
        0.8,
        (x) => tf.maximum(x, 1),
      ).dataSync()
    );
    assertAllClose(value, [1, 1]);
    assert.throws(
      () => balancedKl(() => tf.scalar(0), (d) => d, 0, 0, 1.5),
      /KL balance must be in \[0, 1\]/,
    );
  });
});
