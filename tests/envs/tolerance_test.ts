import assert from "node:assert/strict";
import { tolerance } from "../../lib/envs/tolerance.ts";
import { assertClose } from "./_helpers.ts";

Deno.test("dm_control tolerance", async (t) => {
  await t.step("is 1 inside the bounds, bounds included", () => {
    assert.equal(tolerance(0), 1);
    assert.equal(tolerance(0.3, { lower: -1, upper: 1, margin: 2 }), 1);
    assert.equal(tolerance(1, { lower: -1, upper: 1, margin: 2 }), 1);
  });

  await t.step("with no margin it is a hard indicator", () => {
    assert.equal(tolerance(1e-9), 0);
    assert.equal(tolerance(-2, { lower: -1, upper: 1 }), 0);
  });

  await t.step("the gaussian falls to valueAtMargin^(d^2) at d margins away", () => {
    // exp(-0.5 (d sqrt(-2 ln v))^2) = exp(d^2 ln v) = v^(d^2).
    assertClose(tolerance(2, { margin: 2 }), 0.1, 1e-15, "at the margin");
    assertClose(tolerance(-1, { margin: 2 }), 0.1 ** 0.25, 1e-15, "half the margin");
    assertClose(
      tolerance(3, { lower: 1, upper: 2, margin: 0.5 }),
      0.1 ** 4,
      1e-15,
      "from the bound",
    );
    assertClose(tolerance(1, { margin: 1, valueAtMargin: 0.5 }), 0.5, 1e-15, "other value");
  });

  await t.step("the quadratic is 1 - d^2 (1 - v) inside the margin, 0 beyond", () => {
    const smallControl = { margin: 1, valueAtMargin: 0, sigmoid: "quadratic" } as const;
    assertClose(tolerance(0.5, smallControl), 0.75, 1e-15, "a = 0.5");
    assertClose(tolerance(-0.2, smallControl), 0.96, 1e-15, "a = -0.2");
    assert.equal(tolerance(1, smallControl), 0);
    assert.equal(tolerance(-3, smallControl), 0);
    assertClose(tolerance(1, { margin: 1, valueAtMargin: 0.2, sigmoid: "quadratic" }), 0.2, 1e-15);
  });

  await t.step("the linear is 1 - d (1 - v) inside the margin", () => {
    assertClose(tolerance(0.5, { margin: 1, valueAtMargin: 0, sigmoid: "linear" }), 0.5, 1e-15);
    assert.equal(tolerance(2, { margin: 1, valueAtMargin: 0, sigmoid: "linear" }), 0);
  });

  await t.step("rejects what dm_control rejects", () => {
    assert.throws(() => tolerance(0, { lower: 1, upper: 0 }), RangeError);
    assert.throws(() => tolerance(0, { margin: -1 }), RangeError);
    assert.throws(() => tolerance(1, { margin: 1, valueAtMargin: 0 }), /gaussian/);
    assert.throws(() => tolerance(1, { margin: 1, valueAtMargin: 1, sigmoid: "quadratic" }));
  });
});
