import assert from "node:assert/strict";
import { UserError } from "../../../lib/errors.ts";
import { resolveConfig } from "../../../lib/experiments/runner.ts";
import { planetCartpoleSwingup } from "../../../lib/experiments/planet/swingup.ts";
import { planetPendulum } from "../../../lib/experiments/planet/pendulum.ts";
import { planetClaims } from "../../../lib/experiments/planet/claims.ts";
import type { PlanetMetrics } from "../../../lib/experiments/planet/config.ts";
import { thresholdSweepMarkdown } from "../../../lib/experiments/planet/figures.ts";

Deno.test("PlaNet experiments", async (t) => {
  await t.step("every budget passes its schema", () => {
    for (const experiment of [planetCartpoleSwingup, planetPendulum]) {
      for (const budget of ["quick", "laptop", "paper"] as const) {
        resolveConfig(experiment, budget);
      }
    }
  });

  await t.step("a value out of range fails naming the field", () => {
    assert.throws(
      () =>
        resolveConfig(planetCartpoleSwingup, "quick", {
          overrides: {
            planet: {
              ...planetCartpoleSwingup.budgets.quick.planet,
              planner: { planningHorizon: 6, candidates: 10, elites: 20, iterations: 2 },
            },
          },
        }),
      (error: unknown) =>
        error instanceof UserError && error.message.includes("planet.planner.elites"),
    );
  });

  await t.step("a dotted --set field changes one nested setting and nothing else", () => {
    const config = resolveConfig(planetCartpoleSwingup, "quick", {
      overrides: { "planet.model.freeNats": 0.5 },
    });
    assert.equal(config.planet.model.freeNats, 0.5);
    assert.deepEqual(
      { ...config.planet.model, freeNats: 0 },
      { ...planetCartpoleSwingup.budgets.quick.planet.model, freeNats: 0 },
    );
    assert.notEqual(planetCartpoleSwingup.budgets.quick.planet.model.freeNats, 0.5);
    assert.throws(
      () => resolveConfig(planetCartpoleSwingup, "quick", { overrides: { "seeds.x.y": 1 } }),
      (error: unknown) => error instanceof UserError && /seeds is not a group/.test(error.message),
    );
    assert.throws(
      () => resolveConfig(planetCartpoleSwingup, "quick", { overrides: { "planet.modle.x": 1 } }),
      (error: unknown) => error instanceof UserError && /planet\.modle/.test(error.message),
    );
  });

  const dataDir = await Deno.makeTempDir({ prefix: "planet-experiment-" });
  const config = resolveConfig(planetCartpoleSwingup, "quick");
  let firstClaims = "";

  await t.step("the quick budget runs end to end with every stage and claim", async () => {
    const result = await planetCartpoleSwingup.run(config, { dataDir, budget: "quick" });
    assert.equal(result.experiment, "planet-cartpole-swingup");
    assert.match(result.backend, /\(/);
    assert.deepEqual(Object.keys(result.stageSeconds!), [
      "planet",
      "sac",
      "true-simulator-cem",
      "checkpoint-planning",
      "pixels",
    ]);
    const ids = result.claims.map((c) => c.id);
    assert.deepEqual(ids, [
      "data-efficiency",
      "final-return",
      "cem-true-simulator",
      "better-model-better-actions",
      "cem-beats-random-shooting",
      "latent-planning-is-cheaper",
    ]);
    for (const claim of result.claims) assert.equal(typeof claim.holds, "boolean");
    const m = result.metrics;
    assert.deepEqual(m.planet.envSteps, [200, 400]);
    // SAC runs twice PlaNet's steps at the quick budget; its return at PlaNet's last step is kept.
    assert.equal(m.sac.envSteps.at(-1), 800);
    assert.equal(m.sacLongRun.envSteps, 800);
    assert.equal(m.finalReturn.sac.length, 1);
    assert.ok(Number.isFinite(m.finalReturn.sac[0]));
    assert.ok(m.pixels!.latentMsPerPlan > 0 && m.pixels!.framesMsPerPlan > 0);
    // The sweep holds the claim's threshold too, with the same numbers.
    const atClaim = m.thresholdSweep.find((row) => row.threshold === m.returnThreshold)!;
    assert.deepEqual({ ...atClaim, threshold: undefined }, {
      ...m.stepsToThreshold,
      threshold: undefined,
    });
    assert.match(thresholdSweepMarkdown(m), /\| 400 \(the claim's\) \|/);
    firstClaims = JSON.stringify(result.claims.slice(0, 5));
  });

  await t.step("a rerun reuses every finished stage", async () => {
    const started = performance.now();
    const again = await planetCartpoleSwingup.run(config, { dataDir, budget: "quick" });
    // Timing claims are measured again only if the pixel stage reruns; it does not.
    assert.equal(JSON.stringify(again.claims.slice(0, 5)), firstClaims);
    assert.ok(performance.now() - started < 1500, "stages were recomputed");
  });

  await t.step("stages run in two workers give the same results", async () => {
    const parallelDir = await Deno.makeTempDir({ prefix: "planet-workers-" });
    const parallel = await planetCartpoleSwingup.run(config, {
      dataDir: parallelDir,
      budget: "quick",
      workers: 2,
    });
    assert.equal(JSON.stringify(parallel.claims.slice(0, 5)), firstClaims);
    await Deno.remove(parallelDir, { recursive: true });
  });

  await t.step("PlaNet can learn from frames while SAC keeps its states", async () => {
    const pixelDir = await Deno.makeTempDir({ prefix: "planet-frames-" });
    const fromFrames = resolveConfig(planetCartpoleSwingup, "quick", {
      overrides: {
        "planet.observationImageSize": 32,
        "planet.model.convDepth": 2,
        pixels: null,
        trueSimulatorEpisodes: 0,
      },
    });
    const result = await planetCartpoleSwingup.run(fromFrames, { dataDir: pixelDir });
    assert.deepEqual(result.metrics.planet.envSteps, [200, 400]);
    assert.equal(result.metrics.checkpoints!.late.length, 1);
    const manifest = JSON.parse(
      await Deno.readTextFile(`${pixelDir}/planet-seed-0/model/model.json`),
    );
    assert.ok(
      JSON.stringify(manifest).includes("encoder/conv1"),
      "PlaNet's model has no convolution",
    );
    await Deno.remove(pixelDir, { recursive: true });
  });

  await t.step("stage files of another config are refused, naming the file", async () => {
    await assert.rejects(
      planetCartpoleSwingup.run({ ...config, trueSimulatorEpisodes: 2 }, { dataDir }),
      (error: unknown) =>
        error instanceof UserError && error.message.includes("true-simulator-cem.json") &&
        error.message.includes("another config"),
    );
  });

  await Deno.remove(dataDir, { recursive: true });
});

function metrics(overrides: Partial<PlanetMetrics>): PlanetMetrics {
  return {
    returnThreshold: 400,
    episodeSteps: 1000,
    actionRepeat: 8,
    planet: { envSteps: [1000, 2000], mean: [100, 500], std: [0, 0], perSeed: [[100, 500]] },
    sac: { envSteps: [1000, 2000], mean: [50, 60], std: [0, 0], perSeed: [[50, 60]] },
    sacEvaluation: { envSteps: [], mean: [], std: [] },
    stepsToThreshold: { planet: [2000], sac: [null], ratio: 1, ratioIsLowerBound: true },
    thresholdSweep: [],
    finalReturn: { planet: [500], sac: [60] },
    sacLongRun: { envSteps: 20000, returns: [70] },
    trueSimulator: null,
    checkpoints: null,
    pixels: null,
    published: null,
    ...overrides,
  };
}

Deno.test("PlaNet claim rules", async (t) => {
  await t.step("data efficiency holds only at a ratio of ten or more", () => {
    const low = planetClaims(metrics({}))[0];
    assert.equal(low.holds, false);
    assert.match(low.ours, /at least 1\.0x/);
    const high = planetClaims(
      metrics({
        stepsToThreshold: { planet: [2000], sac: [30000], ratio: 15, ratioIsLowerBound: false },
      }),
    )[0];
    assert.equal(high.holds, true);
  });
  await t.step("no ratio when PlaNet never reached the threshold", () => {
    const claim = planetClaims(
      metrics({
        stepsToThreshold: { planet: [null], sac: [null], ratio: null, ratioIsLowerBound: false },
      }),
    )[0];
    assert.equal(claim.holds, false);
    assert.match(claim.ours, /no ratio/);
  });
  await t.step("the final return is judged on noise-free planning when it was measured", () => {
    const published = {
      planet: 821,
      d4pg: 862,
      a3c: 558,
      cemTrueSimulator: 850,
      planetEpisodes: 1000,
      modelFreeEpisodes: 100_000,
    };
    const base = { earlyEpisode: 5, finalEpisode: 15, randomShooting: [10], modelEvaluations: 1 };
    const finalOf = (m: PlanetMetrics) => planetClaims(m).find((c) => c.id === "final-return")!;
    // Training episode 500 (with noise), test 650: holds on the test.
    const tested = finalOf(
      metrics({ published, checkpoints: { ...base, early: [100], late: [650] } }),
    );
    assert.equal(tested.holds, true);
    assert.match(tested.ours, /650\.0 ± 0\.0 planning without exploration noise/);
    // No test episodes: the training episode (500) decides, below 600.
    assert.equal(finalOf(metrics({ published })).holds, false);
  });
  await t.step("without a paper number, the true simulator must match PlaNet's test", () => {
    const base = { earlyEpisode: 2, finalEpisode: 12, randomShooting: [-300], modelEvaluations: 1 };
    const trueSimulator = { returns: [-200], secondsPerEpisode: 1 };
    const verdict = (late: number) =>
      planetClaims(
        metrics({ trueSimulator, checkpoints: { ...base, early: [-900], late: [late] } }),
      )
        .find((c) => c.id === "cem-true-simulator")!;
    assert.equal(verdict(-250).holds, true);
    assert.equal(verdict(-150).holds, false);
    assert.match(verdict(-150).ours, /PlaNet's final model -150\.0 ± 0\.0 from the same start/);
  });
  await t.step("early against late model follows the measured returns", () => {
    const base = { earlyEpisode: 5, finalEpisode: 15, randomShooting: [10], modelEvaluations: 1 };
    const better = planetClaims(metrics({ checkpoints: { ...base, early: [100], late: [300] } }));
    assert.equal(better.find((c) => c.id === "better-model-better-actions")!.holds, true);
    const worse = planetClaims(metrics({ checkpoints: { ...base, early: [300], late: [100] } }));
    assert.equal(worse.find((c) => c.id === "better-model-better-actions")!.holds, false);
  });
});
