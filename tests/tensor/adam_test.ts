/**
 * The one-pass Adam against TensorFlow.js's own: the same parameters after many steps, the same
 * moment variables (names and values) for checkpoints, and no tensors left behind.
 */
import assert from "node:assert/strict";
import { adam, tf } from "../../lib/tensor/mod.ts";
import { assertAllClose, assertTensorCountFlat } from "../../lib/tensor/testing.ts";
import { Rng } from "../../lib/rng.ts";

function problem(seed: number, prefix: string) {
  const rng = new Rng(seed);
  const normal = (size: number) => rng.fillNormal(new Float32Array(size)) as Float32Array;
  const w = tf.variable(tf.tensor(normal(12), [3, 4]), true, `${prefix}_w`);
  const b = tf.variable(tf.tensor(normal(4), [4]), true, `${prefix}_b`);
  const x = tf.tensor(normal(30), [10, 3]);
  const y = tf.tensor(normal(40), [10, 4]);
  const loss = () => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, w), b), y))) as tf.Scalar;
  return { w, b, x, y, loss };
}

Deno.test("the one-pass Adam follows TensorFlow.js's Adam", async (t) => {
  await t.step("same parameters and moments after 50 steps", async () => {
    const ours = problem(1, "ours");
    const reference = problem(1, "reference");
    const fused = adam(0.05, 0.9, 0.99, 1e-6);
    const shipped = tf.train.adam(0.05, 0.9, 0.99, 1e-6);
    for (let i = 0; i < 50; i++) {
      fused.minimize(ours.loss, false, [ours.w, ours.b]);
      shipped.minimize(reference.loss, false, [reference.w, reference.b]);
    }
    assertAllClose(ours.w.dataSync(), reference.w.dataSync(), { relative: 1e-5 }, "w");
    assertAllClose(ours.b.dataSync(), reference.b.dataSync(), { relative: 1e-5 }, "b");
    const oursWeights = await fused.getWeights();
    const referenceWeights = await shipped.getWeights();
    assert.deepEqual(
      oursWeights.map((w) => w.name.replace(/^ours_/, "")),
      referenceWeights.map((w) => w.name.replace(/^reference_/, "")),
    );
    oursWeights.forEach((weight, i) =>
      assertAllClose(weight.tensor.dataSync(), referenceWeights[i].tensor.dataSync(), {
        relative: 1e-5,
        absolute: 1e-7,
      }, weight.name)
    );
    assert.equal(fused.iterations, 50);
    fused.dispose();
    shipped.dispose();
    tf.dispose([
      ours.w,
      ours.b,
      ours.x,
      ours.y,
      reference.w,
      reference.b,
      reference.x,
      reference.y,
    ]);
  });
  await t.step("no tensors leak", async () => {
    const p = problem(2, "leak");
    const fused = adam(0.01);
    await assertTensorCountFlat(() => fused.minimize(p.loss, false, [p.w, p.b]));
    fused.dispose();
    tf.dispose([p.w, p.b, p.x, p.y]);
  });
});
