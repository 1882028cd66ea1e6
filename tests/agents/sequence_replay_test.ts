import assert from "node:assert/strict";
import { Rng } from "../../lib/rng.ts";
import { EpisodeRecorder, SequenceReplay } from "../../lib/agents/sequence_replay.ts";

/** Observation [episode, t], action [t], reward 10 * episode + t: every value says where it is. */
function episode(index: number, length: number) {
  const recorder = new EpisodeRecorder(2, 1);
  recorder.start([index, 0]);
  for (let t = 1; t < length; t++) recorder.record([t], 10 * index + t, [index, t]);
  return recorder.finish();
}

Deno.test("sequence replay", async (t) => {
  await t.step("an episode starts with a zero action and reward", () => {
    const e = episode(3, 4);
    assert.equal(e.length, 4);
    assert.deepEqual([...e.actions], [0, 1, 2, 3]);
    assert.deepEqual([...e.rewards], [0, 31, 32, 33]);
    assert.deepEqual([...e.observations.subarray(0, 4)], [3, 0, 3, 1]);
  });

  await t.step("chunks are consecutive steps of one episode, every start reachable", () => {
    const replay = new SequenceReplay(2, 1);
    replay.addEpisode(episode(0, 6));
    replay.addEpisode(episode(1, 3)); // shorter than a chunk: never sampled
    replay.addEpisode(episode(2, 5));
    const chunkLength = 4;
    const starts = new Set<string>();
    const rng = new Rng(1);
    for (let draw = 0; draw < 200; draw++) {
      const batch = replay.sample(5, chunkLength, rng);
      for (let b = 0; b < 5; b++) {
        const obs = batch.observations.subarray(b * chunkLength * 2, (b + 1) * chunkLength * 2);
        const ep = obs[0];
        assert.notEqual(ep, 1);
        for (let i = 0; i < chunkLength; i++) {
          assert.equal(obs[2 * i], ep, "a chunk crosses an episode boundary");
          assert.equal(obs[2 * i + 1], obs[1] + i, "a chunk skips a step");
          assert.equal(batch.actions[b * chunkLength + i], obs[2 * i + 1]);
          const t = obs[2 * i + 1];
          assert.equal(batch.rewards[b * chunkLength + i], t === 0 ? 0 : 10 * ep + t);
        }
        starts.add(`${ep}:${obs[1]}`);
      }
    }
    // Episode 0 has starts 0..2, episode 2 has 0..1.
    assert.deepEqual([...starts].sort(), ["0:0", "0:1", "0:2", "2:0", "2:1"]);
  });

  await t.step("refuses to sample when no episode is long enough", () => {
    const replay = new SequenceReplay(2, 1);
    replay.addEpisode(episode(0, 3));
    assert.throws(() => replay.sample(1, 4, new Rng(0)), /no episode has 4 steps/);
  });

  await t.step("serialises and reads back every episode exactly", () => {
    const replay = new SequenceReplay(2, 1);
    replay.addEpisode(episode(0, 6));
    replay.addEpisode(episode(1, 3));
    const copy = SequenceReplay.deserialize(replay.serialize());
    assert.equal(copy.numEpisodes, 2);
    assert.equal(copy.numSteps, 9);
    assert.deepEqual(copy.episodes, replay.episodes);
  });

  await t.step("refuses truncated or foreign bytes", () => {
    const replay = new SequenceReplay(2, 1);
    replay.addEpisode(episode(0, 6));
    const bytes = replay.serialize();
    assert.throws(() => SequenceReplay.deserialize(bytes.subarray(0, bytes.length - 4)), /bytes/);
    assert.throws(() => SequenceReplay.deserialize(new TextEncoder().encode("hello world!")));
  });
});
