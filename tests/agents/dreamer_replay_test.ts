import assert from "node:assert/strict";
import { Rng } from "../../lib/rng.ts";
import { DreamerReplay } from "../../lib/agents/dreamer_replay.ts";
import type { Episode } from "../../lib/agents/sequence_replay.ts";

/** An episode whose observation at step t is [id, t], its reward id * 100 + t, action t. */
function episode(id: number, length: number): Episode {
  const observations = new Float32Array(2 * length);
  const actions = new Float32Array(length);
  const rewards = new Float32Array(length);
  for (let t = 0; t < length; t++) {
    observations.set([id, t], 2 * t);
    actions[t] = t;
    rewards[t] = t === 0 ? 0 : id * 100 + t;
  }
  return { observations, actions, rewards, length };
}

Deno.test("Dreamer's replay", async (t) => {
  await t.step("chunks stay inside episodes; short ones are padded under a zero mask", () => {
    const replay = new DreamerReplay(2, 1);
    replay.addEpisode(episode(1, 3), true); // shorter than a chunk, ended by the task
    replay.addEpisode(episode(2, 10), false); // cut by a time limit
    const batch = replay.sample(400, 5, new Rng(0));
    let short = 0;
    for (let b = 0; b < 400; b++) {
      const row = b * 5;
      const id = batch.observations[2 * row];
      const start = batch.observations[2 * row + 1];
      if (id === 1) {
        short++;
        assert.equal(start, 0, "a short episode's chunk starts at its first step");
        assert.deepEqual(Array.from(batch.mask.subarray(row, row + 5)), [1, 1, 1, 0, 0]);
        // The terminal state is the episode's last step; padding continues nothing.
        assert.deepEqual(Array.from(batch.continues.subarray(row, row + 5)), [1, 1, 0, 0, 0]);
        assert.deepEqual(Array.from(batch.observations.subarray(2 * row + 6, 2 * row + 10)), [
          0,
          0,
          0,
          0,
        ]);
      } else {
        assert.equal(id, 2);
        assert.ok(start >= 0 && start <= 5, `start ${start}`);
        for (let i = 0; i < 5; i++) {
          assert.equal(batch.observations[2 * (row + i) + 1], start + i);
          assert.equal(batch.rewards[row + i], start + i === 0 ? 0 : 200 + start + i);
        }
        // A time limit is not a terminal state.
        assert.deepEqual(Array.from(batch.continues.subarray(row, row + 5)), [1, 1, 1, 1, 1]);
        assert.deepEqual(Array.from(batch.mask.subarray(row, row + 5)), [1, 1, 1, 1, 1]);
      }
    }
    // One start in the short episode against six in the long one: 1/7 of the chunks.
    assert.ok(Math.abs(short / 400 - 1 / 7) < 0.05, `${short} of 400 chunks from the short one`);
  });

  await t.step("round-trips through its file and refuses a broken one, saying why", () => {
    const replay = new DreamerReplay(2, 1);
    replay.addEpisode(episode(1, 4), true);
    replay.addEpisode(episode(2, 6), false);
    const copy = DreamerReplay.deserialize(replay.serialize());
    assert.deepEqual(copy.terminated, [true, false]);
    assert.deepEqual(copy.episodes, replay.episodes);
    assert.throws(() => DreamerReplay.deserialize(new Uint8Array(2)), /truncated/);
    const broken = replay.serialize();
    broken[6] = 0x7b; // damages the header's JSON
    assert.throws(() => DreamerReplay.deserialize(broken), RangeError);
    copy.truncate(1);
    assert.equal(copy.numEpisodes, 1);
    assert.deepEqual(copy.terminated, [true]);
  });

  await t.step("an empty replay cannot be sampled", () => {
    assert.throws(() => new DreamerReplay(2, 1).sample(1, 3, new Rng(0)), /empty/);
  });
});
