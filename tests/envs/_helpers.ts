/** Shared checks for the environment tests. */

import assert from "node:assert/strict";

/** Asserts |actual - expected| <= tolerance, naming what was compared. */
export function assertClose(actual: number, expected: number, tolerance: number, what = "value") {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: expected ${expected} ± ${tolerance}, got ${actual}`,
  );
}

/** Elementwise `assertClose` of two equally long arrays. */
export function assertAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
  what = "array",
) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assertClose(actual[i], expected[i], tolerance, `${what}[${i}]`);
  }
}
