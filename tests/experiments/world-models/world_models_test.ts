import assert from "node:assert/strict";
import { tf } from "../../../lib/tensor/mod.ts";
import { UserError } from "../../../lib/errors.ts";
import { resolveConfig, runExperiment } from "../../../lib/experiments/runner.ts";
import {
  CAR_RACING_PAPER,
  carRacingBudgets,
  reconstructionErrors,
  worldModelsCarRacing,
} from "../../../lib/experiments/world-models/carracing.ts";
import {
  TAKE_COVER_PAPER,
  takeCoverBudgets,
  takeCoverClaims,
  worldModelsTakeCover,
} from "../../../lib/experiments/world-models/takecover.ts";
import { StageStore } from "../../../lib/experiments/world-models/store.ts";
import { visionParameterCount } from "../../../lib/experiments/world-models/vision.ts";
import { MdnRnn } from "../../../lib/models/mdn_rnn.ts";
import { controllerParameterCount } from "../../../lib/agents/world_models_controller.ts";

Deno.test("World Models experiments", async (t) => {
  await t.step("the paper budgets have the paper's parameter counts", () => {
    const car = carRacingBudgets.paper;
    assert.equal(visionParameterCount(car.vision), CAR_RACING_PAPER.parameters.vision);
    assert.equal(
      MdnRnn.parameterCount({
        latentSize: car.vision.latentSize,
        actionSize: 3,
        hiddenSize: car.memory.hiddenSize,
        numMixtures: car.memory.numMixtures,
        predictDone: false,
        episodeStartInput: false,
      }),
      CAR_RACING_PAPER.parameters.memory,
    );
    assert.equal(
      controllerParameterCount({
        latentSize: 32,
        rnnSize: car.memory.hiddenSize,
        actionSize: 3,
        features: "zh",
        hiddenLayerSize: car.hiddenLayerSize,
      }),
      CAR_RACING_PAPER.parameters.controller,
    );
    const cover = takeCoverBudgets.paper;
    assert.equal(visionParameterCount(cover.vision), TAKE_COVER_PAPER.parameters.vision);
    assert.equal(
      MdnRnn.parameterCount({
        latentSize: cover.vision.latentSize,
        actionSize: 1,
        hiddenSize: cover.memory.hiddenSize,
        numMixtures: cover.memory.numMixtures,
        predictDone: true,
        episodeStartInput: true,
      }),
      TAKE_COVER_PAPER.parameters.memory,
    );
    // C sees [z, c, h]: the paper's 1,088 counts its weights, we add the one bias.
    assert.equal(
      controllerParameterCount({
        latentSize: 64,
        rnnSize: 512,
        actionSize: 1,
        features: "zch",
        hiddenLayerSize: 0,
      }),
      TAKE_COVER_PAPER.parameters.controller + 1,
    );
  });

  await t.step("a config value out of range is refused naming the field", () => {
    assert.throws(
      () =>
        resolveConfig(worldModelsCarRacing, "quick", {
          overrides: { rollouts: { numEpisodes: 0, maxSteps: 60, framesForVision: 64 } },
        }),
      (error: Error) =>
        error instanceof UserError && error.message.includes("rollouts.numEpisodes"),
    );
    assert.throws(
      () => resolveConfig(worldModelsTakeCover, "quick", { overrides: { temperatures: [] } }),
      (error: Error) => error instanceof UserError && error.message.includes("temperatures"),
    );
  });

  await t.step("V's error is measured apart on road pixels", () => {
    // Two pixels: road grey reconstructed as grass, grass reconstructed exactly.
    const original = Uint8Array.from([105, 105, 105, 102, 204, 102]);
    const reconstructed = Uint8Array.from([102, 204, 102, 102, 204, 102]);
    const errors = reconstructionErrors(original, reconstructed);
    assert.equal(errors.roadPixelFraction, 0.5);
    assert.equal(errors.otherError, 0);
    const expected = (((105 - 102) / 255) ** 2 + ((105 - 204) / 255) ** 2 +
      ((105 - 102) / 255) ** 2) / 3;
    assert.ok(Math.abs(errors.roadError - expected) < 1e-12);
    assert.equal(errors.roadRecovered, 0);
  });

  await t.step("TakeCover claims follow their rules", () => {
    const metrics = {
      temperatures: [
        { tau: 0.1, curve: [], dream: [2000, 2100], real: [150, 250] },
        { tau: 1.15, curve: [], dream: [900, 1000], real: [900, 1300] },
      ],
      randomPolicy: [100, 300],
    } as unknown as Parameters<typeof takeCoverClaims>[0];
    const claims = Object.fromEntries(takeCoverClaims(metrics).map((c) => [c.id, c.holds]));
    assert.deepEqual(claims, {
      "low-temperature-dream-is-exploited": true,
      "temperature-near-1.15-transfers-best": true,
      "dream-policy-beats-random": true,
      "take-cover-solved": true,
    });
    metrics.temperatures[1].real = [100, 120];
    const after = Object.fromEntries(takeCoverClaims(metrics).map((c) => [c.id, c.holds]));
    assert.equal(after["temperature-near-1.15-transfers-best"], false);
    assert.equal(after["dream-policy-beats-random"], false);
  });

  const dataDir = await Deno.makeTempDir({ prefix: "world-models-test-" });
  try {
    await t.step("CarRacing quick budget: every stage, resumed on a rerun", async () => {
      const before = tf.memory().numTensors;
      const request = {
        budget: "quick" as const,
        dataDir: `${dataDir}/car`,
        dryRun: true,
      };
      const first = await runExperiment(worldModelsCarRacing, request);
      assert.equal(tf.memory().numTensors, before, "the run left tensors behind");
      for (
        const stage of [
          "random rollouts",
          "train V",
          "train M",
          "evolve C (zh)",
          "iterative training and figures",
        ]
      ) {
        assert.ok(stage in first.stageSeconds!, `no time for ${stage}`);
      }
      assert.equal(first.metrics.variants.length, 3);
      assert.ok(first.metrics.variants.every((v) => v.returns.length === 2));
      assert.ok(first.claims.some((c) => c.id === "z-and-h-beat-z-alone"));
      assert.ok(first.backend.startsWith("wasm") || first.backend.length > 0);
      // The rerun loads every finished stage and gives the same numbers.
      const second = await runExperiment(worldModelsCarRacing, request);
      assert.deepEqual(
        second.metrics.variants.map((v) => v.returns),
        first.metrics.variants.map((v) => v.returns),
      );
      assert.deepEqual(second.metrics.memoryCurve, first.metrics.memoryCurve);
      // Loaded stages report the seconds they took when computed.
      assert.ok(second.metrics.resumedStages.includes("train V"));
      assert.ok(!first.metrics.resumedStages.includes("train V"));
      assert.ok(
        Math.abs(second.stageSeconds!["train V"] - first.stageSeconds!["train V"]) < 0.25,
      );
      assert.equal(tf.memory().numTensors, before);
    });

    await t.step("two stage workers give the results of one thread", async () => {
      const request = { budget: "quick" as const, dryRun: true };
      const oneThread = await runExperiment(worldModelsCarRacing, {
        ...request,
        dataDir: `${dataDir}/one`,
        workers: 1,
      });
      const twoWorkers = await runExperiment(worldModelsCarRacing, {
        ...request,
        dataDir: `${dataDir}/two`,
        workers: 2,
      });
      assert.deepEqual(twoWorkers.claims, oneThread.claims);
      assert.deepEqual(twoWorkers.metrics.variants, oneThread.metrics.variants);
      // The finish stage trains M further; a worker's BLAS has one thread where the lone thread's
      // has all cores, and a GEMM split over threads may round its last bit differently.
      assertNumbersClose(twoWorkers.metrics.iterative, oneThread.metrics.iterative, 1e-6);
    });

    await t.step("a stage from another config or a damaged file is refused", async () => {
      const store = new StageStore(`${dataDir}/car/seed-0`);
      await assert.rejects(
        () => store.load("rollouts", { seed: 1 }),
        (error: Error) =>
          error instanceof UserError && error.message.includes("rollouts.json") &&
          error.message.includes("another config"),
      );
      // A run with another M config finds the stages that depend on M and refuses them, naming
      // the file and the field.
      const other = carRacingBudgets.quick;
      await assert.rejects(
        () =>
          runExperiment(worldModelsCarRacing, {
            budget: "quick",
            overrides: { memory: { ...other.memory, hiddenSize: 17 } },
            dataDir: `${dataDir}/car`,
            dryRun: true,
          }),
        (error: Error) =>
          error instanceof UserError && error.message.includes("seed-0/world-summary.json") &&
          error.message.includes("memory.hiddenSize"),
      );
      // V's weights (a lib/tensor/checkpoint.ts checkpoint) cut short, then its manifest broken;
      // the world model's summary removed, so that the next run has to load V again.
      await Deno.remove(`${dataDir}/car/seed-0/world-summary.json`);
      const weights = `${dataDir}/car/seed-0/vision/weights.bin`;
      const bytes = await Deno.readFile(weights);
      await Deno.writeFile(weights, bytes.subarray(0, bytes.length - 8));
      await assert.rejects(
        () => runExperiment(worldModelsCarRacing, { budget: "quick", dataDir: `${dataDir}/car` }),
        (error: Error) => error instanceof UserError && error.message.includes("vision"),
      );
      await Deno.writeTextFile(`${dataDir}/car/seed-0/vision/model.json`, "{ not json");
      await assert.rejects(
        () => runExperiment(worldModelsCarRacing, { budget: "quick", dataDir: `${dataDir}/car` }),
        (error: Error) => error instanceof UserError && error.message.includes("vision"),
      );
      // A damaged stage file of our own format (the z sequences) is refused too.
      await Deno.writeTextFile(`${dataDir}/car/seed-0/latents.json`, "{ not json");
      await assert.rejects(
        () => store.load("latents", {}),
        (error: Error) =>
          error instanceof UserError && error.message.includes("latents.json is corrupt"),
      );
    });

    await t.step("TakeCover quick budget: dream evolution and real evaluation", async () => {
      const before = tf.memory().numTensors;
      const result = await runExperiment(worldModelsTakeCover, {
        budget: "quick",
        dataDir: `${dataDir}/cover`,
        dryRun: true,
      });
      assert.equal(tf.memory().numTensors, before);
      const rows = result.metrics.temperatures;
      assert.deepEqual(rows.map((r) => r.tau), takeCoverBudgets.quick.temperatures);
      for (const row of rows) {
        assert.equal(row.real.length, 2);
        assert.ok(row.dream.every((steps) => steps >= 1 && steps <= 60));
        assert.ok(row.real.every((steps) => steps >= 1 && steps <= 60));
      }
      assert.equal(result.metrics.randomPolicy.length, 2);
      assert.equal(result.claims.length, 4);
    });
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

/** Deep equality, except that numbers may differ by `relative` of their size. */
function assertNumbersClose(actual: unknown, expected: unknown, relative: number, path = "") {
  if (typeof expected === "number" && typeof actual === "number") {
    const scale = Math.max(Math.abs(expected), Math.abs(actual), 1e-12);
    assert.ok(
      Math.abs(actual - expected) <= relative * scale,
      `${path || "value"}: ${actual} differs from ${expected}`,
    );
  } else if (expected !== null && typeof expected === "object") {
    assert.equal(typeof actual, "object", `${path}: not an object`);
    const keys = Object.keys(expected as object);
    assert.deepEqual(Object.keys(actual as object), keys, `${path}: keys differ`);
    for (const key of keys) {
      assertNumbersClose(
        (actual as Record<string, unknown>)[key],
        (expected as Record<string, unknown>)[key],
        relative,
        `${path}.${key}`,
      );
    }
  } else {
    assert.equal(actual, expected, path);
  }
}
