import assert from "node:assert/strict";
import { UserError } from "../../lib/errors.ts";
import { ENV_IDS, isEnvId, makeEnv, REWARD_THRESHOLDS } from "../../lib/envs/registry.ts";
import * as envs from "../../lib/envs/mod.ts";

Deno.test("environment registry", async (t) => {
  await t.step("makes a fresh environment for every id", () => {
    assert.deepEqual([...ENV_IDS], [
      "CartPole-v1",
      "Pendulum-v1",
      "MountainCar-v0",
      "MountainCarContinuous-v0",
      "Acrobot-v1",
      "cartpole-swingup",
      "CarRacing-v0",
      "TakeCover-v0",
      "MinAtar/Asterix-v0",
      "MinAtar/Breakout-v0",
      "MinAtar/Freeway-v0",
      "MinAtar/Seaquest-v0",
      "MinAtar/SpaceInvaders-v0",
    ]);
    for (const id of ENV_IDS) {
      const env = makeEnv(id);
      assert.equal(env.id, id);
      assert.notEqual(makeEnv(id), env);
      assert.ok(isEnvId(id));
      assert.ok(id in REWARD_THRESHOLDS);
    }
  });

  await t.step("time limits and action spaces are Gymnasium's and dm_control's", () => {
    const limits = ENV_IDS.map((id) => [id, makeEnv(id).maxEpisodeSteps]);
    assert.deepEqual(Object.fromEntries(limits), {
      "CartPole-v1": 500,
      "Pendulum-v1": 200,
      "MountainCar-v0": 200,
      "MountainCarContinuous-v0": 999,
      "Acrobot-v1": 500,
      "cartpole-swingup": 1000,
      "CarRacing-v0": 1000,
      "TakeCover-v0": 2100,
      "MinAtar/Asterix-v0": 10000,
      "MinAtar/Breakout-v0": 10000,
      "MinAtar/Freeway-v0": 10000,
      "MinAtar/Seaquest-v0": 10000,
      "MinAtar/SpaceInvaders-v0": 10000,
    });
    const actions = ENV_IDS.map((id) => {
      const spec = makeEnv(id).actionSpec;
      return spec.kind === "discrete" ? spec.n : [spec.low[0], spec.high[0]];
    });
    // CarRacing's first action component is the steering, in [-1, 1].
    assert.deepEqual(actions, [2, [-2, 2], 3, [-1, 1], 3, [-1, 1], [-1, 1], 3, 6, 6, 6, 6, 6]);
  });

  await t.step("an unknown id is a one-line UserError listing the valid ids", () => {
    assert.throws(() => makeEnv("CartPole-v0"), (error: Error) => {
      assert.ok(error instanceof UserError);
      assert.ok(!error.message.includes("\n"));
      assert.match(error.message, /Unknown environment id "CartPole-v0"/);
      for (const id of ENV_IDS) assert.ok(error.message.includes(id), id);
      return true;
    });
    assert.ok(!isEnvId("toString"));
    assert.throws(() => makeEnv("toString"), UserError);
  });

  await t.step("mod.ts re-exports the public API", () => {
    for (
      const name of [
        "makeEnv",
        "ENV_IDS",
        "VectorEnv",
        "PixelObservationEnv",
        "CartPoleEnv",
        "PendulumEnv",
        "MountainCarEnv",
        "MountainCarContinuousEnv",
        "AcrobotEnv",
        "CartPoleSwingupEnv",
        "tolerance",
        "InvalidActionError",
        "EpisodeOrderError",
      ]
    ) {
      assert.ok(name in envs, name);
    }
  });
});
