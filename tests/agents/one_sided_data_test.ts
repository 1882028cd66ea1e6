import assert from "node:assert/strict";
import {
  collectGames,
  noisyPolicy,
  OneSidedDataset,
  type OneSidedGameRecord,
} from "../../lib/agents/one_sided_data.ts";
import { mixedOpponent } from "../../lib/envs/one_sided_game.ts";
import { TIC_TAC_TOE } from "../../lib/envs/tictactoe.ts";
import { tacticalMove } from "../../lib/envs/tictactoe_tactics.ts";
import { Rng } from "../../lib/rng.ts";

Deno.test("collected games replay to their recorded boards and rewards", () => {
  const opponent = mixedOpponent(TIC_TAC_TOE, "tactical", tacticalMove, 0.5);
  const policy = noisyPolicy(TIC_TAC_TOE, tacticalMove, 0.5);
  const records = collectGames(TIC_TAC_TOE, opponent, policy, 200, new Rng(3));
  let wins = 0, losses = 0;
  for (const record of records) {
    const steps = record.actions.length;
    assert.equal(record.observations.length, (steps + 1) * 18);
    // Stones: the agent adds one per step, the opponent one per reply that happened.
    const stones = (t: number, plane: number) => {
      let count = 0;
      for (let cell = 0; cell < 9; cell++) count += record.observations[t * 18 + cell * 2 + plane];
      return count;
    };
    for (let t = 0; t < steps; t++) {
      assert.equal(stones(t + 1, 0), t + 1);
      // No reply after a winning move or to the move that fills the board.
      const noReply = t === steps - 1 && (record.moveRewards[t] === 1 || 2 * t + 1 === 9);
      assert.equal(stones(t + 1, 1), noReply ? t : t + 1);
      if (t < steps - 1) assert.equal(record.moveRewards[t] + record.replyRewards[t], 0);
    }
    wins += record.moveRewards[steps - 1];
    losses -= record.replyRewards[steps - 1];
  }
  assert.ok(wins > 50 && losses > 5, `wins ${wins}, losses ${losses} of 200`);
});

Deno.test("unrolled batches: returns, masks and the absorbing state past the end", () => {
  // A hand-made game of two steps: o0, a=3, o1 (reply), a=5, o2 (a win).
  const record: OneSidedGameRecord = {
    observations: Float32Array.of(0, 0, 1, 0, 1, 1),
    actions: Int32Array.of(3, 5),
    moveRewards: Float32Array.of(0, 1),
    replyRewards: Float32Array.of(0, 0),
  };
  const dataset = new OneSidedDataset([record], 2, 6, 0.5);
  assert.equal(dataset.numPositions, 2);
  const batch = dataset.sample(64, 3, new Rng(1));
  let sawStart = false, sawLast = false;
  for (let row = 0; row < 64; row++) {
    const first = batch.observations.slice(row * 4 * 2, row * 4 * 2 + 2);
    const start = first[0] === 0 && first[1] === 0;
    const obs = (
      k: number,
    ) => [...batch.observations.slice((row * 4 + k) * 2, (row * 4 + k + 1) * 2)];
    const values = [...batch.values.slice(row * 4, row * 4 + 4)];
    const mask = [...batch.stepMask.slice(row * 3, row * 3 + 3)];
    if (start) {
      sawStart = true;
      // Return from t = 0: 0 + 0.5 · 1.
      assert.deepEqual(values, [0.5, 1, 0, 0]);
      assert.deepEqual([...batch.actions.slice(row * 3, row * 3 + 2)], [3, 5]);
      assert.deepEqual(mask, [1, 1, 0]);
      assert.deepEqual([obs(2), obs(3)], [[1, 1], [1, 1]], "the last observation repeats");
      assert.deepEqual([...batch.policyMask.slice(row * 4, row * 4 + 4)], [1, 1, 0, 0]);
    } else {
      sawLast = true;
      assert.deepEqual(values, [1, 0, 0, 0]);
      assert.deepEqual(mask, [1, 0, 0]);
      assert.deepEqual([...batch.moveRewards.slice(row * 3, row * 3 + 3)], [1, 0, 0]);
    }
  }
  assert.ok(sawStart && sawLast);
});
