/** The three imagination strategies pick the right source state, and free choices are named. */
import assert from "node:assert/strict";
import { Rng } from "../../lib/rng.ts";
import { classifyChoice, sourceNode } from "../../lib/agents/imagination_planner_strategies.ts";

Deno.test("imagination strategies", async (t) => {
  const rng = new Rng(0);
  await t.step("1-step always the real state, n-step always the latest imagined one", () => {
    for (let nodes = 1; nodes <= 6; nodes++) {
      assert.equal(sourceNode("1-step", nodes, rng), 0);
      assert.equal(sourceNode("n-step", nodes, rng), nodes - 1);
    }
  });
  await t.step("tree: any node, every one of them reached", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const node = sourceNode("tree", 4, rng);
      assert.ok(Number.isInteger(node) && node >= 0 && node < 4);
      seen.add(node);
    }
    assert.equal(seen.size, 4);
    assert.throws(() => sourceNode("tree", 0, rng), /positive integer/);
  });
  await t.step("a free choice reads as the strategy that would make it", () => {
    assert.equal(classifyChoice(0, 1), null);
    assert.equal(classifyChoice(0, 3), "1-step");
    assert.equal(classifyChoice(2, 3), "n-step");
    assert.equal(classifyChoice(1, 3), "tree");
  });
});
