import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import { Rng } from "../../lib/rng.ts";
import { boxSpec, type Env, type StepResult } from "../../lib/envs/types.ts";
import { makeDreamer } from "../../lib/agents/dreamer.ts";
import { DreamerReplay } from "../../lib/agents/dreamer_replay.ts";
import { EpisodeRecorder } from "../../lib/agents/sequence_replay.ts";
import { imaginationFidelity } from "../../lib/agents/dreamer_foresight.ts";
import { TINY_DREAMER } from "./_dreamer_fixture.ts";

/** Only its specs are read: makeDreamer sizes the networks from them. */
const specs = {
  id: "specs",
  observationSpec: boxSpec([3], 0, 1),
  actionSpec: { kind: "discrete", n: 2 },
  maxEpisodeSteps: 100,
  reset: () => new Float32Array(3),
  step: (): StepResult<Float32Array> => {
    throw new Error("not stepped");
  },
} as unknown as Env<Float32Array>;

const agentOf = () =>
  makeDreamer(specs, {
    model: {
      ...TINY_DREAMER.model,
      stochasticSize: 4,
      freeNats: 0,
      latent: { kind: "categorical", variables: 2, classes: 2 },
      klBalance: 0.8,
      klScale: 0.1,
      continuationScale: 5,
    },
    behavior: {
      ...TINY_DREAMER.behavior,
      horizon: 4,
      entropyScale: 1e-3,
      reinforceMix: 1,
    },
  }, 0);

/** An episode of `rewards.length` steps after the first frame, paying `rewards[t - 1]` at t. */
function episode(rewards: number[]) {
  const recorder = new EpisodeRecorder(3, 2);
  recorder.start([1, 0, 0]);
  rewards.forEach((reward, t) => recorder.record([t % 2, 1 - (t % 2)], reward, [0, t / 10, 1]));
  return recorder.finish();
}

Deno.test("imaginationFidelity", async (t) => {
  const agent = agentOf();
  await t.step("real sums and lengths are those of the episodes' first and last H steps", () => {
    const replay = new DreamerReplay(3, 2);
    replay.addEpisode(episode([1, 0, 2, 0, 0, 5, 1]), true); // 7 steps
    replay.addEpisode(episode([3, 1]), true); // 2 steps
    replay.addEpisode(episode([9, 9, 9]), false); // cut by a time limit: not measured
    const before = tf.memory().numTensors;
    const fidelity = imaginationFidelity(agent.model, agent.behavior, replay, 10, 4, new Rng(1))!;
    assert.equal(tf.memory().numTensors, before, "no tensor is left behind");
    assert.equal(fidelity.episodes, 2);
    assert.equal(fidelity.horizon, 4);
    // First 4 steps: 1 + 0 + 2 + 0 and 3 + 1; lengths 4 and 2.
    assert.equal(fidelity.policy.realReturn, (3 + 4) / 2);
    assert.equal(fidelity.policy.realLength, (4 + 2) / 2);
    // Last 4 steps: 0 + 0 + 5 + 1, and the whole short episode 3 + 1.
    assert.equal(fidelity.lastRewards.real, (6 + 4) / 2);
    for (
      const p of [fidelity.terminalContinuation.filtered, fidelity.terminalContinuation.imagined]
    ) {
      assert.ok(p > 0 && p < 1, `a probability: ${p}`);
    }
    assert.ok(fidelity.policy.imaginedLength > 0 && fidelity.policy.imaginedLength <= 4);
    assert.ok(Number.isFinite(fidelity.policy.imaginedReturn));
    assert.ok(Number.isFinite(fidelity.lastRewards.imagined));
  });
  await t.step("nothing to measure when no episode ended by the task's rules", () => {
    const replay = new DreamerReplay(3, 2);
    replay.addEpisode(episode([1, 1]), false);
    assert.equal(imaginationFidelity(agent.model, agent.behavior, replay, 10, 4, new Rng(1)), null);
  });
  agent.model.dispose();
  agent.behavior.dispose();
});
