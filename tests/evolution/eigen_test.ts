import assert from "node:assert/strict";
import { symmetricEigen } from "../../lib/evolution/eigen.ts";
import { Rng } from "../../lib/rng.ts";

function randomSymmetric(n: number, rng: Rng): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.normal();
  }
  return a;
}

Deno.test("symmetricEigen", async (t) => {
  await t.step("a 2x2 matrix with known eigenpairs", () => {
    const { values, vectors } = symmetricEigen(new Float64Array([2, 1, 1, 2]), 2);
    assert.ok(Math.abs(values[0] - 1) < 1e-14 && Math.abs(values[1] - 3) < 1e-14);
    // (1, -1) / sqrt(2) for 1 and (1, 1) / sqrt(2) for 3, up to sign.
    assert.ok(Math.abs(Math.abs(vectors[0]) - Math.SQRT1_2) < 1e-14);
    assert.ok(Math.abs(vectors[0] + vectors[1]) < 1e-14);
    assert.ok(Math.abs(vectors[2] - vectors[3]) < 1e-14);
  });

  await t.step("diagonal and repeated eigenvalues", () => {
    const diagonal = new Float64Array([3, 0, 0, 0, -1, 0, 0, 0, 2]);
    assert.deepEqual(Array.from(symmetricEigen(diagonal, 3).values), [-1, 2, 3]);
    const identity = new Float64Array([1, 0, 0, 1]);
    assert.deepEqual(Array.from(symmetricEigen(identity, 2).values), [1, 1]);
    assert.deepEqual(Array.from(symmetricEigen(new Float64Array([5]), 1).values), [5]);
  });

  await t.step("random matrices: A v = lambda v, orthonormal vectors, ascending values", () => {
    const rng = new Rng(4);
    for (const n of [3, 10, 60]) {
      const a = randomSymmetric(n, rng);
      const { values, vectors } = symmetricEigen(a, n);
      let trace = 0, sum = 0;
      for (let i = 0; i < n; i++) trace += a[i * n + i];
      for (let j = 0; j < n; j++) {
        sum += values[j];
        if (j > 0) assert.ok(values[j] >= values[j - 1]);
        for (let i = 0; i < n; i++) {
          let av = 0;
          for (let k = 0; k < n; k++) av += a[i * n + k] * vectors[j * n + k];
          assert.ok(Math.abs(av - values[j] * vectors[j * n + i]) < 1e-11, `n ${n} pair ${j}`);
        }
        for (let k = 0; k <= j; k++) {
          let dot = 0;
          for (let i = 0; i < n; i++) dot += vectors[j * n + i] * vectors[k * n + i];
          assert.ok(Math.abs(dot - (j === k ? 1 : 0)) < 1e-12);
        }
      }
      assert.ok(Math.abs(trace - sum) < 1e-10, "the eigenvalues sum to the trace");
    }
  });

  await t.step("only the lower triangle is read", () => {
    const rng = new Rng(5);
    const a = randomSymmetric(6, rng);
    const b = Float64Array.from(a);
    for (let i = 0; i < 6; i++) for (let j = i + 1; j < 6; j++) b[i * 6 + j] = 99;
    assert.deepEqual(symmetricEigen(b, 6).values, symmetricEigen(a, 6).values);
  });
});
