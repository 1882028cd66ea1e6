import assert from "node:assert/strict";
import { boundVector, checkShootingOptions, shiftPlan } from "../../lib/planners/types.ts";

Deno.test("planner types", async (t) => {
  await t.step("shiftPlan drops the first action and appends the fill", () => {
    const shifted = shiftPlan(Float32Array.from([1, 2, 3, 4, 5, 6]), 2, [9, 8]);
    assert.deepEqual(Array.from(shifted), [3, 4, 5, 6, 9, 8]);
    assert.deepEqual(Array.from(shiftPlan(Float32Array.from([1, 2]), 1)), [2, 0]);
  });

  await t.step("bounds expand per dimension and are checked", () => {
    assert.deepEqual(Array.from(boundVector(0.5, 3, "actionHigh")), [0.5, 0.5, 0.5]);
    assert.throws(() => boundVector([1, 2], 3, "actionHigh"), /actionHigh has 2 values/);
    const options = { planningHorizon: 2, actionSize: 1, actionLow: 1, actionHigh: 0 };
    assert.throws(() => checkShootingOptions(options), /above high/);
    assert.throws(
      () => checkShootingOptions({ ...options, actionLow: 0, planningHorizon: 0 }),
      /planningHorizon/,
    );
  });
});
