import assert from "node:assert/strict";
import { runTime } from "../../lib/experiments/present.ts";
import type { ExperimentResult } from "../../lib/experiments/types.ts";

function result(wallSeconds: number, stageSeconds?: Record<string, number>) {
  return { wallSeconds, stageSeconds } as ExperimentResult<unknown>;
}

Deno.test("runTime", async (t) => {
  await t.step("a fresh run reports its wall time", () => {
    assert.equal(runTime(result(657.75, { planet: 772, sac: 169 })), "657.8 s");
    assert.equal(runTime(result(0.48)), "0.5 s");
  });
  await t.step("a run that reused its stages also reports what they cost", () => {
    assert.equal(
      runTime(result(3.18, { planet: 772.04, sac: 169.03 })),
      "3.2 s this run, reusing stages that took 941 s of compute",
    );
  });
});
