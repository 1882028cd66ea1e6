/**
 * MuZero's value and reward representation (Schrittwieser et al. 2020, Appendix F): the scaling
 * transform h against its definition and its inverse, and the support encoding's round trips,
 * including the paper's own example (3.7 as 0.3 on 3 and 0.7 on 4).
 */
import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import {
  headToScalar,
  headWidth,
  scalarToSupport,
  scaleTarget,
  supportColumn,
  supportToScalar,
  unscaleTarget,
  unscaleTargetTensor,
  VALUE_SCALING_EPSILON,
} from "../../lib/models/muzero_support.ts";
import { Rng } from "../../lib/rng.ts";
import { assertAllClose } from "../../lib/tensor/testing.ts";

Deno.test("the scaling transform h and its inverse", async (t) => {
  await t.step("h follows sign(x)(sqrt(|x| + 1) - 1) + εx at worked points", () => {
    assert.equal(VALUE_SCALING_EPSILON, 0.001);
    assert.equal(scaleTarget(0), 0);
    // sqrt(4) - 1 + 0.003 and -(sqrt(9) - 1) - 0.008.
    assert.ok(Math.abs(scaleTarget(3) - 1.003) < 1e-12);
    assert.ok(Math.abs(scaleTarget(-8) + 2.008) < 1e-12);
    // Odd and increasing.
    for (const x of [0.1, 1, 10, 1e3, 1e5]) {
      assert.equal(scaleTarget(-x), -scaleTarget(x));
      assert.ok(scaleTarget(x * 1.01) > scaleTarget(x));
    }
  });

  await t.step("h⁻¹(h(x)) = x and h(h⁻¹(y)) = y over six orders of magnitude", () => {
    const rng = new Rng(0);
    for (let i = 0; i < 2000; i++) {
      const x = (rng.next() < 0.5 ? -1 : 1) * Math.pow(10, rng.uniform(-3, 6));
      const back = unscaleTarget(scaleTarget(x));
      assert.ok(Math.abs(back - x) <= 1e-9 * Math.max(1, Math.abs(x)), `${x} came back as ${back}`);
      const y = rng.uniform(-400, 400);
      assert.ok(Math.abs(scaleTarget(unscaleTarget(y)) - y) < 1e-9, `h(h⁻¹(${y}))`);
    }
  });

  await t.step("the tensor inverse matches the scalar one", () => {
    const ys = [-300, -17.5, -1, -0.25, 0, 0.25, 1, 3.7, 42, 300];
    const got = tf.tidy(() => unscaleTargetTensor(tf.tensor1d(ys)).dataSync());
    assertAllClose(got, ys.map((y) => unscaleTarget(y)), { relative: 1e-5 });
  });
});

Deno.test("support encoding", async (t) => {
  await t.step("the paper's example: h(x) = 3.7 puts 0.3 on 3 and 0.7 on 4", () => {
    const size = 10;
    const x = unscaleTarget(3.7);
    const out = scalarToSupport(x, size, new Float32Array(headWidth({ kind: "support", size })));
    assert.ok(Math.abs(out[size + 3] - 0.3) < 1e-5);
    assert.ok(Math.abs(out[size + 4] - 0.7) < 1e-5);
    assert.ok(Math.abs(out.reduce((a, b) => a + b, 0) - 1) < 1e-6);
    assert.equal(out.filter((p) => p > 0).length, 2);
  });

  await t.step("encode then decode returns the scalar inside the support's range", () => {
    const rng = new Rng(1);
    const size = 20;
    const buffer = new Float32Array(2 * size + 1);
    const limit = unscaleTarget(size);
    for (let i = 0; i < 1000; i++) {
      const x = rng.uniform(-limit, limit);
      scalarToSupport(x, size, buffer);
      const back = supportToScalar(buffer, size);
      assert.ok(Math.abs(back - x) < 1e-3 * Math.max(1, Math.abs(x)), `${x} came back ${back}`);
    }
    // Integers of h land on one bin.
    scalarToSupport(unscaleTarget(-2), size, buffer);
    assert.equal(buffer[size - 2], 1);
  });

  await t.step("scalars beyond the support are clipped to its ends", () => {
    const size = 5;
    const buffer = scalarToSupport(1e6, size, new Float32Array(11));
    assert.equal(buffer[10], 1);
    scalarToSupport(-1e6, size, buffer);
    assert.equal(buffer[0], 1);
    assert.ok(Math.abs(supportToScalar(buffer, size) - unscaleTarget(-5)) < 1e-9);
  });

  await t.step("a head's logits decode to the same scalar as the support they came from", () => {
    const size = 8;
    const scalars = [-30, -1, 0, 0.5, 12, 60];
    const supports = new Float32Array(scalars.length * 17);
    scalars.forEach((x, i) => scalarToSupport(x, size, supports, i * 17));
    // log of a probability vector: softmax gives it back (zeros become tiny).
    const logits = supports.map((p) => Math.log(Math.max(p, 1e-30)));
    const column = supportColumn(size);
    const got = tf.tidy(() =>
      headToScalar(tf.tensor2d(logits, [scalars.length, 17]), { kind: "support", size }, column)
        .dataSync()
    );
    column.dispose();
    assertAllClose(got, scalars, { relative: 1e-4, absolute: 1e-4 });
    const scalarHead = tf.tidy(() =>
      headToScalar(tf.tensor2d([0.25, -0.5], [2, 1]), { kind: "scalar" }, null).dataSync()
    );
    assert.deepEqual(Array.from(scalarHead), [0.25, -0.5]);
  });
});
