import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import { Rng } from "../../lib/rng.ts";
import { InterruptedError, UserError } from "../../lib/errors.ts";
import {
  type Action,
  boxSpec,
  type DiscreteSpec,
  type Env,
  type StepResult,
} from "../../lib/envs/types.ts";
import { PendulumEnv } from "../../lib/envs/pendulum.ts";
import { TimeLimitEnv } from "../../lib/envs/wrappers.ts";
import { NonFiniteLossError } from "../../lib/models/rssm.ts";
import {
  type DreamerConfig,
  type DreamerEpisodeRecord,
  dreamerFiles,
  makeDreamer,
  runDreamerEpisode,
  trainDreamer,
} from "../../lib/agents/dreamer.ts";
import { TINY_DREAMER as TINY } from "./_dreamer_fixture.ts";

const makePendulum = () => new TimeLimitEnv(new PendulumEnv(), 30);

/**
 * A task with a known best action: every step observes [1, previous action] and earns
 * 1 - (a - 0.5)^2 (continuous) or 1 for action 2 and 0 otherwise (discrete); episodes end by
 * the task's rules after `length` steps. The reward can be made NaN after `nanAfter` steps.
 */
class KnownOptimum implements Env<Float32Array> {
  readonly id: string;
  readonly observationSpec = boxSpec([2], -1, 1);
  readonly actionSpec;
  readonly maxEpisodeSteps: number;
  readonly #observation = Float32Array.of(1, 0);
  readonly #result: StepResult<Float32Array>;
  #steps = 0;
  #total = 0;

  constructor(
    kind: "continuous" | "discrete",
    readonly length: number,
    readonly nanAfter = Infinity,
  ) {
    this.id = `known-optimum-${kind}`;
    this.actionSpec = kind === "continuous"
      ? boxSpec([1], -1, 1)
      : ({ kind: "discrete", n: 3 } satisfies DiscreteSpec);
    this.maxEpisodeSteps = length;
    this.#result = {
      observation: this.#observation,
      reward: 0,
      terminated: false,
      truncated: false,
    };
  }

  reset(): Float32Array {
    this.#steps = 0;
    this.#observation[1] = 0;
    return this.#observation;
  }

  step(action: Action): StepResult<Float32Array> {
    this.#steps++;
    this.#total++;
    const reward = typeof action === "number" ? (action === 2 ? 1 : 0) : 1 - (action[0] - 0.5) ** 2;
    this.#result.reward = this.#total > this.nanAfter ? Number.NaN : reward;
    this.#result.terminated = this.#steps >= this.length;
    return this.#result;
  }
}

Deno.test("Dreamer's agent loop", async (t) => {
  const dirA = await Deno.makeTempDir({ prefix: "dreamer-a-" });
  const dirB = await Deno.makeTempDir({ prefix: "dreamer-b-" });
  let uninterrupted: DreamerEpisodeRecord[] = [];

  await t.step(
    "counts environment steps, decisions, updates and imagined transitions",
    async () => {
      const run = await trainDreamer(makePendulum, TINY, { seed: 3, dataDir: dirA });
      const curve = run.curve;
      assert.deepEqual(curve.map((e) => e.kind), ["random", "actor", "actor", "actor"]);
      assert.deepEqual(curve.map((e) => e.envSteps), [30, 60, 90, 120]);
      // 15 decisions an episode at action repeat 2; a round of training every 5 decisions.
      assert.deepEqual(curve.map((e) => e.decisions), [15, 30, 45, 60]);
      assert.deepEqual(curve.map((e) => e.updates), [2, 5, 8, 11]);
      assert.equal(run.replay.numEpisodes, 4);
      // Every update imagines H steps from each real, non-terminal start state (3 x 6 here).
      assert.equal(curve.at(-1)!.imaginedTransitions, 11 * 3 * 6 * TINY.behavior.horizon);
      // The cycle is measured on every episode of the actor, the previous one from the second on.
      assert.equal(curve[0].cycle, null);
      assert.ok(curve[1].cycle!.fresh && curve[1].cycle!.replay);
      assert.equal(curve[1].cycle!.previousAfterTraining, null);
      assert.ok(curve[2].cycle!.previousAfterTraining!.observation > 0);
      assert.ok(curve.slice(1).every((e) => Number.isFinite(e.modelLosses!.total)));
      assert.ok(curve.slice(1).every((e) => Number.isFinite(e.behaviorLosses!.critic)));
      uninterrupted = curve;
      run.dispose();
    },
  );

  await t.step("an interrupted run resumes with no episode lost and the same results", async () => {
    const controller = new AbortController();
    await assert.rejects(
      trainDreamer(makePendulum, TINY, {
        seed: 3,
        dataDir: dirB,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.message?.startsWith("episode 2 return")) controller.abort();
        },
      }),
      (error: unknown) => error instanceof InterruptedError && /interrupted/.test(error.message),
    );
    const saved = JSON.parse(await Deno.readTextFile(dreamerFiles(dirB).progress));
    assert.equal(saved.curve.length, 2);
    const resumed = await trainDreamer(makePendulum, TINY, { seed: 3, dataDir: dirB });
    assert.equal(resumed.resumedEpisodes, 2);
    assert.equal(resumed.replay.numEpisodes, 4);
    const strip = (curve: DreamerEpisodeRecord[]) =>
      curve.map(({ seconds: _s, actSeconds: _a, trainSeconds: _t, ...rest }) => rest);
    assert.deepEqual(strip(resumed.curve), strip(uninterrupted));
    resumed.dispose();
    // Only the newest weights are kept.
    const folders = [...Deno.readDirSync(dirB)].filter((e) => e.name.startsWith("weights-"));
    assert.deepEqual(folders.map((e) => e.name), ["weights-after-4-episodes"]);
  });

  await t.step("a finished run reloads without collecting anything or leaking", async () => {
    const before = tf.memory().numTensors;
    const again = await trainDreamer(makePendulum, TINY, { seed: 3, dataDir: dirA });
    assert.equal(again.resumedEpisodes, 4);
    again.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  await t.step("files of another config are refused, naming the file", async () => {
    await assert.rejects(
      trainDreamer(makePendulum, { ...TINY, updatesPerTrain: 2 }, { seed: 3, dataDir: dirA }),
      (error: unknown) =>
        error instanceof UserError && error.message.includes("progress.json") &&
        error.message.includes("another config"),
    );
  });

  await t.step("a NaN in the world model's loss stops training, naming the term", async () => {
    await assert.rejects(
      trainDreamer(() => new KnownOptimum("continuous", 10, 25), TINY, { seed: 1 }),
      (error: unknown) =>
        error instanceof NonFiniteLossError && error.term === "reward" &&
        /reward loss is NaN/.test(error.message) && !error.message.includes("\n"),
    );
  });

  await t.step("the environment step budget cuts the last episode", async () => {
    const run = await trainDreamer(
      makePendulum,
      { ...TINY, environmentSteps: 50, openLoop: null },
      { seed: 0 },
    );
    assert.deepEqual(run.curve.map((e) => e.envSteps), [30, 50]);
    assert.equal(run.curve[1].terminated, false);
    run.dispose();
  });

  await Deno.remove(dirA, { recursive: true });
  await Deno.remove(dirB, { recursive: true });
});

Deno.test("Dreamer learns tasks with a known best action", async (t) => {
  await t.step(
    "continuous: gradients through the dynamics leave a random policy far behind",
    async () => {
      // A uniformly random action earns 1 - E[(a - 0.5)^2] = 0.42 a step, 8.3 an episode; the
      // best action 20. The actor climbs the model's reward; the learned critic's slope in states it
      // has not visited keeps it from settling exactly at 0.5 on so little data.
      const config: DreamerConfig = {
        ...TINY,
        actionRepeat: 1,
        seedEpisodes: 5,
        environmentSteps: 400,
        trainEvery: 2,
        pretrainUpdates: 100,
        batchSize: 8,
        chunkLength: 8,
        model: {
          ...TINY.model,
          deterministicSize: 32,
          stochasticSize: 4,
          hiddenSize: 32,
          embedSize: 16,
          freeNats: 0,
          observationStd: 0.1,
        },
        behavior: {
          ...TINY.behavior,
          hiddenSize: 32,
          actorLearningRate: 1e-3,
          criticLearningRate: 3e-4,
          // Dreamer v1's initial spread of 5 before the squash plays only the ends of [-1, 1].
          initialStd: 0.5,
        },
        openLoop: null,
      };
      const makeEnv = () => new KnownOptimum("continuous", 20);
      const run = await trainDreamer(makeEnv, config, { seed: 2 });
      const test = await runDreamerEpisode(makeEnv(), run, "test", config, 0, new Rng(0));
      assert.ok(test.return > 14, `greedy return ${test.return}: random 8.3, best 20`);
      run.dispose();
    },
  );

  await t.step("discrete: REINFORCE with categorical latents finds action 2", async () => {
    const config: DreamerConfig = {
      ...TINY,
      actionRepeat: 1,
      environmentSteps: 500,
      trainEvery: 2,
      pretrainUpdates: 20,
      batchSize: 8,
      chunkLength: 8,
      model: {
        ...TINY.model,
        stochasticSize: 4,
        latent: { kind: "categorical", variables: 2, classes: 2 },
        klBalance: 0.8,
        continuationScale: 1,
        freeNats: 0,
      },
      behavior: {
        ...TINY.behavior,
        reinforceMix: 1,
        entropyScale: 1e-3,
        actorLearningRate: 3e-3,
        criticLearningRate: 3e-3,
      },
      openLoop: null,
    };
    const makeEnv = () => new KnownOptimum("discrete", 10);
    const run = await trainDreamer(makeEnv, config, { seed: 4 });
    const test = await runDreamerEpisode(makeEnv(), run, "test", config, 0, new Rng(0));
    assert.equal(test.return, 10, `greedy return ${test.return}, best 10`);
    assert.ok(test.terminated);
    run.dispose();
  });
});

Deno.test("runDreamerEpisode turns one-hot choices into the game's action ids", async () => {
  const env = new KnownOptimum("discrete", 5);
  const agent = makeDreamer(env, {
    model: TINY.model,
    behavior: { ...TINY.behavior, reinforceMix: 1 },
  }, 0);
  const result = await runDreamerEpisode(env, agent, "explore", TINY, 0, new Rng(1));
  assert.equal(result.decisions, 3); // 5 steps at action repeat 2
  for (let t = 1; t < result.episode.length; t++) {
    const row = Array.from(result.episode.actions.subarray(3 * t, 3 * t + 3));
    assert.equal(row.reduce((a, b) => a + b), 1, `action ${t} is one-hot: ${row}`);
  }
  agent.model.dispose();
  agent.behavior.dispose();
});
