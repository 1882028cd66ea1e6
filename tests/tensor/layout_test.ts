/**
 * The replaced wasm layout kernels (Slice, SplitV, Unpack, Concat, Tile) and Tanh against the CPU
 * backend, on float, int and bool tensors, short and long contiguous runs, and their gradients.
 */
import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import { assertAllClose, valuesOn } from "../../lib/tensor/testing.ts";
import { Rng } from "../../lib/rng.ts";
import { copyBox, tileInto } from "../../lib/tensor/kernels/layout.ts";

function randomTensor(shape: number[], seed: number, dtype: "float32" | "int32" = "float32") {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Rng(seed).fillNormal(new Float32Array(size)) as Float32Array;
  return dtype === "float32"
    ? tf.tensor(values, shape)
    : tf.tensor(Int32Array.from(values, (v) => Math.round(10 * v)), shape, "int32");
}

async function sameOnBothBackends(build: () => tf.Tensor | tf.Tensor[], relative = 0) {
  const wasm = await valuesOn("wasm", build);
  const cpu = await valuesOn("cpu", build);
  assert.equal(wasm.length, cpu.length);
  wasm.forEach((out, i) => {
    assert.deepEqual(out.shape, cpu[i].shape);
    assertAllClose(out.values, cpu[i].values, { relative, absolute: relative ? 1e-6 : 0 });
  });
}

Deno.test("layout kernels on wasm match the CPU backend", async (t) => {
  const shape = [3, 5, 70, 4];
  for (const dtype of ["float32", "int32"] as const) {
    await t.step(`slice, ${dtype}`, () =>
      sameOnBothBackends(() => [
        tf.slice(randomTensor(shape, 1, dtype), [1, 2, 3, 1], [2, 2, 60, 2]),
        tf.slice(randomTensor(shape, 1, dtype), [0, 1, 0, 0], [3, 3, 70, 4]),
        tf.slice(randomTensor([10], 1, dtype), [3], [4]),
      ]));
    await t.step(
      `split on every axis, ${dtype}`,
      () =>
        sameOnBothBackends(() =>
          [0, 1, 2, 3].flatMap((axis) =>
            tf.split(randomTensor(shape, 2, dtype), axis === 2 ? [10, 60] : shape[axis], axis)
          )
        ),
    );
    await t.step(
      `unstack on every axis, ${dtype}`,
      () =>
        sameOnBothBackends(() =>
          [0, 1, 2, 3].flatMap((axis) => tf.unstack(randomTensor(shape, 3, dtype), axis))
        ),
    );
    await t.step(
      `concat on every axis, ${dtype}`,
      () =>
        sameOnBothBackends(() =>
          [0, 1, 2, 3].map((axis) => {
            const other = [...shape];
            other[axis] = 2;
            return tf.concat([randomTensor(shape, 4, dtype), randomTensor(other, 5, dtype)], axis);
          })
        ),
    );
    await t.step(`tile, ${dtype}`, () =>
      sameOnBothBackends(() => [
        tf.tile(randomTensor([1, 200], 6, dtype), [50, 1]),
        tf.tile(randomTensor([2, 3, 1], 7, dtype), [3, 1, 5]),
        tf.tile(randomTensor([4], 8, dtype), [3]),
      ]));
  }
  await t.step("bool tensors", () =>
    sameOnBothBackends(() => {
      const mask = tf.greater(randomTensor([4, 6], 9), 0);
      return [
        tf.cast(tf.slice(mask, [1, 1], [2, 4]), "int32"),
        tf.cast(tf.concat([mask, mask], 1), "int32"),
        ...tf.unstack(mask, 1).map((m) => tf.cast(m, "int32")),
      ];
    }));
  await t.step("gradients through split, unstack, concat and tile", () =>
    sameOnBothBackends(() => {
      const x = randomTensor([4, 6, 5], 10);
      const f = (v: tf.Tensor) => {
        const [a, b] = tf.split(v, [2, 3], 2);
        const steps = tf.unstack(a, 1);
        return tf.sum(
          tf.mul(
            tf.concat(
              [...steps, tf.tile(b.slice([0, 0, 0], [4, 1, 3]), [1, 2, 1]).reshape([4, 6])],
              1,
            ),
            1.5,
          ),
        );
      };
      return tf.grad(f)(x);
    }));
});

Deno.test("tanh on wasm through the sigmoid matches the CPU backend", async () => {
  await sameOnBothBackends(() => {
    const x = tf.mul(randomTensor([1000], 11), 4);
    return [
      tf.tanh(x),
      tf.grad((v: tf.Tensor) => tf.sum(tf.tanh(v)))(x),
      tf.tanh(tf.tensor([-50, -1e-6, 0, 1e-6, 50])),
    ];
  }, 3e-7);
});

Deno.test("copyBox and tileInto on plain arrays", async (t) => {
  await t.step("a box inside a 3-D array", () => {
    const x = Float32Array.from({ length: 24 }, (_, i) => i); // shape [2, 3, 4]
    const out = new Float32Array(2 * 2 * 2);
    copyBox(x, [2, 3, 4], [0, 1, 1], [2, 2, 2], out);
    assert.deepEqual(Array.from(out), [5, 6, 9, 10, 17, 18, 21, 22]);
  });
  await t.step("an empty box writes nothing", () => {
    const out = new Float32Array(1).fill(7);
    copyBox(new Float32Array(4), [2, 2], [0, 0], [0, 2], out);
    assert.equal(out[0], 7);
  });
  await t.step("tiling a 2x1 block three times across", () => {
    const out = new Int32Array(6);
    tileInto(Int32Array.from([1, 2]), [2, 1], [1, 3], out);
    assert.deepEqual(Array.from(out), [1, 1, 1, 2, 2, 2]);
  });
});
