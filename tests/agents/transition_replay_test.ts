import assert from "node:assert/strict";
import { Rng } from "../../lib/rng.ts";
import { TransitionReplay } from "../../lib/agents/transition_replay.ts";

function transition(index: number) {
  return {
    observation: [index, -index],
    action: [index / 10],
    reward: index,
    nextObservation: [index + 1, -index - 1],
    terminated: index % 2 === 0,
  };
}

Deno.test("transition replay", async (t) => {
  await t.step("stores whole transitions and overwrites the oldest when full", () => {
    const replay = new TransitionReplay(3, 2, 1);
    for (let i = 0; i < 5; i++) replay.add(transition(i));
    assert.equal(replay.size, 3);
    const batch = replay.sample(new Rng(0), replay.allocateBatch(200));
    const seen = new Set<number>();
    for (let row = 0; row < batch.size; row++) {
      const index = batch.rewards[row];
      seen.add(index);
      // Every field of a row comes from the same transition.
      assert.deepEqual(Array.from(batch.observations.subarray(2 * row, 2 * row + 2)), [
        index,
        -index,
      ]);
      assert.ok(Math.abs(batch.actions[row] - index / 10) < 1e-7);
      assert.deepEqual(Array.from(batch.nextObservations.subarray(2 * row, 2 * row + 2)), [
        index + 1,
        -index - 1,
      ]);
      assert.equal(batch.terminals[row], index % 2 === 0 ? 1 : 0);
    }
    // Transitions 0 and 1 were overwritten.
    assert.deepEqual([...seen].sort(), [2, 3, 4]);
  });

  await t.step("samples uniformly", () => {
    const replay = new TransitionReplay(10, 2, 1);
    for (let i = 0; i < 10; i++) replay.add(transition(i));
    const counts = new Array(10).fill(0);
    const batch = replay.allocateBatch(5000);
    replay.sample(new Rng(1), batch);
    for (const reward of batch.rewards) counts[reward]++;
    // 500 expected per row; 5 standard deviations is about 106.
    for (const count of counts) assert.ok(Math.abs(count - 500) < 106, `${counts}`);
  });

  await t.step("wrong sizes and an empty buffer fail clearly", () => {
    const replay = new TransitionReplay(4, 2, 1);
    assert.throws(() => replay.sample(new Rng(0), replay.allocateBatch(1)), /empty/);
    assert.throws(() => replay.add({ ...transition(0), action: [1, 2] }), /actions have 1/);
    assert.throws(() => replay.add({ ...transition(0), observation: [1] }), /observations/);
    assert.throws(() => new TransitionReplay(0, 2, 1), /capacity/);
  });
});
