import assert from "node:assert/strict";
import { InterruptedError } from "../../lib/errors.ts";
import { tf } from "../../lib/tensor/mod.ts";
import { UserError } from "../../lib/errors.ts";
import { PendulumEnv } from "../../lib/envs/pendulum.ts";
import { loadCheckpoint, readCheckpointManifest } from "../../lib/tensor/checkpoint.ts";
import {
  type EpisodeRecord,
  makeRssm,
  type PlanetCheckpointMetadata,
  type PlanetConfig,
  planetFiles,
  trainPlanet,
} from "../../lib/agents/planet.ts";
import { PixelFloatEnv, TimeLimitEnv } from "../../lib/envs/wrappers.ts";
import { CartPoleSwingupEnv } from "../../lib/envs/cartpole_swingup.ts";
import { TINY_RSSM } from "./_tiny_rssm.ts";

const TINY: PlanetConfig = {
  actionRepeat: 2,
  seedEpisodes: 1,
  planningEpisodes: 2,
  updatesPerEpisode: 3,
  batchSize: 3,
  chunkLength: 8,
  learningRate: 1e-3,
  adamEpsilon: 1e-4,
  gradClipNorm: 1000,
  explorationNoise: 0.3,
  planner: { planningHorizon: 4, candidates: 20, elites: 4, iterations: 2 },
  model: { ...TINY_RSSM, freeNats: 3 },
  snapshotEpisodes: [1],
};

const makeEnv = () => new TimeLimitEnv(new PendulumEnv(), 30);

Deno.test("PlaNet agent loop", async (t) => {
  const dirA = await Deno.makeTempDir({ prefix: "planet-a-" });
  const dirB = await Deno.makeTempDir({ prefix: "planet-b-" });
  let uninterrupted: EpisodeRecord[] = [];

  await t.step(
    "a run collects seed and planning episodes and counts environment steps",
    async () => {
      const run = await trainPlanet(makeEnv, TINY, { seed: 3, dataDir: dirA });
      assert.deepEqual(run.curve.map((e) => e.kind), ["random", "planning", "planning"]);
      assert.deepEqual(run.curve.map((e) => e.envSteps), [30, 60, 90]);
      assert.equal(run.replay.numEpisodes, 3);
      // 30 steps at action repeat 2: 15 decisions, plus the first observation.
      assert.equal(run.replay.episodes[0].length, 16);
      assert.ok(
        run.curve.slice(0).every((e) => e.losses !== null && Number.isFinite(e.losses.total)),
      );
      uninterrupted = run.curve;
      run.model.dispose();
    },
  );

  await t.step("an interrupted run resumes with no episode lost and the same results", async () => {
    const controller = new AbortController();
    await assert.rejects(
      trainPlanet(makeEnv, TINY, {
        seed: 3,
        dataDir: dirB,
        signal: controller.signal,
        onProgress: (p) => {
          // Stop once the second episode has finished.
          if (p.message?.startsWith("episode 2 return")) controller.abort();
        },
      }),
      (error: unknown) => error instanceof InterruptedError && /interrupted/.test(error.message),
    );
    const saved = JSON.parse(await Deno.readTextFile(planetFiles(dirB).progress));
    assert.equal(saved.curve.length, 2);
    const resumed = await trainPlanet(makeEnv, TINY, { seed: 3, dataDir: dirB });
    assert.equal(resumed.resumedEpisodes, 2);
    assert.equal(resumed.replay.numEpisodes, 3);
    assert.deepEqual(resumed.curve.map((e) => e.return), uninterrupted.map((e) => e.return));
    // The optimiser's state was restored too: the updates after resuming lose the same.
    assert.deepEqual(resumed.curve.map((e) => e.losses), uninterrupted.map((e) => e.losses));
    resumed.model.dispose();
  });

  await t.step("a finished run reloads without collecting anything", async () => {
    const before = tf.memory().numTensors;
    const again = await trainPlanet(makeEnv, TINY, { seed: 3, dataDir: dirA });
    assert.equal(again.resumedEpisodes, 3);
    again.model.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  await t.step("files of another config are refused, naming the file", async () => {
    await assert.rejects(
      trainPlanet(makeEnv, { ...TINY, updatesPerEpisode: 4 }, { seed: 3, dataDir: dirA }),
      (error: unknown) =>
        error instanceof UserError && error.message.includes("progress.json") &&
        error.message.includes("another config"),
    );
  });

  await t.step("the model and its snapshots are checkpoint directories", async () => {
    const files = planetFiles(dirA);
    const model = await readCheckpointManifest<PlanetCheckpointMetadata>(files.model);
    // Three rounds of three updates (training starts after the only seed episode).
    assert.equal(model.userDefinedMetadata.updates, 9);
    assert.equal(model.optimizer, "Adam");
    const snapshot = await readCheckpointManifest<PlanetCheckpointMetadata>(files.snapshot(1));
    assert.equal(snapshot.userDefinedMetadata.configHash, model.userDefinedMetadata.configHash);
    assert.equal(snapshot.optimizer, null);
  });

  await t.step("a corrupt or foreign checkpoint is refused, naming the file", async () => {
    const model = makeRssm(makeEnv(), TINY.model, 3);
    const dir = `${dirA}/broken`;
    await Deno.mkdir(dir);
    await Deno.writeTextFile(`${dir}/model.json`, "{ not json");
    const refused = (pattern: RegExp, where: string) => (error: unknown) =>
      error instanceof UserError && error.message.includes(where) && pattern.test(error.message) &&
      !error.message.includes("\n");
    await assert.rejects(loadCheckpoint(dir, model.params), refused(/not valid JSON/, dir));
    const files = planetFiles(dirA);
    await assert.rejects(
      loadCheckpoint(files.model, model.params, { expectedMetadata: { configHash: "other" } }),
      refused(/configHash/, files.model),
    );
    await assert.rejects(
      loadCheckpoint(`${dirA}/none`, model.params),
      refused(/not found/, `${dirA}/none`),
    );
    model.dispose();
  });

  await t.step("progress without its model checkpoint is refused, naming both", async () => {
    const files = planetFiles(dirB);
    await Deno.remove(files.model, { recursive: true });
    await assert.rejects(
      trainPlanet(makeEnv, TINY, { seed: 3, dataDir: dirB }),
      (error: unknown) =>
        error instanceof UserError && error.message.includes(files.model) &&
        error.message.includes(files.progress) && error.message.includes("missing"),
    );
  });

  await t.step("from pixels: the convolutional RSSM learns, saves and resumes", async () => {
    const makePixelEnv = () =>
      new TimeLimitEnv(new PixelFloatEnv(new CartPoleSwingupEnv(), 32), 16);
    const config: PlanetConfig = {
      ...TINY,
      actionRepeat: 4,
      planningEpisodes: 1,
      chunkLength: 3,
      planner: { planningHorizon: 3, candidates: 8, elites: 2, iterations: 2 },
      observationImageSize: 32,
    };
    const dir = await Deno.makeTempDir({ prefix: "planet-pixels-" });
    const run = await trainPlanet(makePixelEnv, config, { seed: 1, dataDir: dir });
    assert.equal(run.curve.length, 2);
    assert.equal(run.curve[1].kind, "planning");
    assert.ok(run.model.params.list().some((v) => v.shape.length === 4), "no convolution");
    assert.equal(run.replay.observationSize, 32 * 32 * 3);
    run.model.dispose();
    const again = await trainPlanet(makePixelEnv, config, { seed: 1, dataDir: dir });
    assert.equal(again.resumedEpisodes, 2);
    again.model.dispose();
    await Deno.remove(dir, { recursive: true });
  });

  await t.step("pixels asked of a state-vector environment are refused", async () => {
    await assert.rejects(
      trainPlanet(makeEnv, { ...TINY, observationImageSize: 32 }, { seed: 0 }),
      (error: unknown) => error instanceof UserError && /PixelFloatEnv/.test(error.message),
    );
  });

  await Deno.remove(dirA, { recursive: true });
  await Deno.remove(dirB, { recursive: true });
});
