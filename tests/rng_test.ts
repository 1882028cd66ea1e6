import assert from "node:assert/strict";
import { Rng } from "../lib/rng.ts";

Deno.test("Rng", async (t) => {
  await t.step("the same seed gives the same stream; another seed another", () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const streamA = Array.from({ length: 100 }, () => a.nextUint32());
    const streamB = Array.from({ length: 100 }, () => b.nextUint32());
    const streamC = Array.from({ length: 100 }, () => c.nextUint32());
    assert.deepEqual(streamA, streamB);
    assert.notDeepEqual(streamA, streamC);
  });

  await t.step("golden values stay fixed across versions", () => {
    const rng = new Rng(0);
    const values = Array.from({ length: 3 }, () => rng.nextUint32());
    assert.deepEqual(values, GOLDEN_SEED_0);
  });

  await t.step("uniform draws have the moments of U(0, 1)", () => {
    const rng = new Rng(7);
    const n = 200_000;
    let sum = 0;
    let sumSquares = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      assert.ok(u >= 0 && u < 1);
      sum += u;
      sumSquares += u * u;
    }
    assert.ok(Math.abs(sum / n - 0.5) < 0.005);
    assert.ok(Math.abs(sumSquares / n - 1 / 3) < 0.005);
  });

  await t.step("normal draws have mean 0 and variance 1", () => {
    const rng = new Rng(11);
    const n = 200_000;
    let sum = 0;
    let sumSquares = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      sum += z;
      sumSquares += z * z;
    }
    assert.ok(Math.abs(sum / n) < 0.01);
    assert.ok(Math.abs(sumSquares / n - 1) < 0.02);
  });

  await t.step("int covers [0, n) uniformly and rejects n < 1", () => {
    const rng = new Rng(3);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[rng.int(6)]++;
    for (const count of counts) assert.ok(Math.abs(count - 10_000) < 400, `${counts}`);
    assert.throws(() => rng.int(0), RangeError);
  });

  await t.step("forks are independent of each other and reproducible", () => {
    const parent = new Rng(5);
    const first = parent.fork();
    const second = parent.fork();
    assert.notEqual(first.nextUint32(), second.nextUint32());
    const again = new Rng(5).fork();
    assert.equal(again.nextUint32(), new Rng(5).fork().nextUint32());
  });

  await t.step("a non-finite seed is an error", () => {
    assert.throws(() => new Rng(Number.NaN), /finite/);
  });
});

const GOLDEN_SEED_0 = [591558436, 2737234123, 107644106];
