import assert from "node:assert/strict";
import { UserError } from "../../../lib/errors.ts";
import { resolveConfig } from "../../../lib/experiments/runner.ts";
import { getExperiment } from "../../../lib/experiments/registry.ts";
import { dreamerCartpoleSwingup } from "../../../lib/experiments/dreamer/swingup.ts";
import { binnedReturns, dreamerV2Minatar } from "../../../lib/experiments/dreamer/minatar.ts";
import {
  drawMinatarFigures,
  drawSwingupFigures,
  minatarTableMarkdown,
  swingupTableMarkdown,
} from "../../../lib/experiments/dreamer/figures.ts";
import { minatarVariantSettings } from "../../../lib/experiments/dreamer/stages.ts";

Deno.test("Dreamer experiments: configs", async (t) => {
  await t.step("both are registered and every budget passes its schema", () => {
    for (const budget of ["quick", "laptop", "paper"] as const) {
      resolveConfig(dreamerCartpoleSwingup, budget);
      resolveConfig(dreamerV2Minatar, budget);
    }
    assert.equal(getExperiment("dreamer-cartpole-swingup"), dreamerCartpoleSwingup);
    assert.equal(getExperiment("dreamerv2-minatar"), dreamerV2Minatar);
  });

  await t.step("a value out of range fails naming the field", () => {
    assert.throws(
      () =>
        resolveConfig(dreamerCartpoleSwingup, "quick", {
          overrides: { "dreamer.behavior.lambda": 2 },
        }),
      (error: unknown) =>
        error instanceof UserError && error.message.includes("dreamer.behavior.lambda"),
    );
    assert.throws(
      () =>
        resolveConfig(dreamerV2Minatar, "quick", {
          overrides: { "dreamer.model.stochasticSize": 15 },
        }),
      (error: unknown) =>
        error instanceof UserError && error.message.includes("dreamer.model.stochasticSize") &&
        error.message.includes("variables x classes"),
    );
    assert.throws(
      () => resolveConfig(dreamerV2Minatar, "quick", { overrides: { games: ["MinAtar/Pong-v0"] } }),
      (error: unknown) => error instanceof UserError && error.message.includes("games"),
    );
  });

  await t.step("the ablations change one thing each", () => {
    const config = resolveConfig(dreamerV2Minatar, "laptop");
    const full = minatarVariantSettings(config, "categorical");
    const gaussian = minatarVariantSettings(config, "gaussian");
    const unbalanced = minatarVariantSettings(config, "no-kl-balancing");
    assert.equal(full.model.latent?.kind, "categorical");
    assert.equal(full.model.latent?.kind === "categorical" && full.model.latent.variables, 32);
    assert.equal(full.model.klBalance, 0.8);
    assert.deepEqual(gaussian.model.latent, { kind: "gaussian" });
    assert.equal(gaussian.model.klBalance, 0.8);
    assert.deepEqual({ ...unbalanced.model, klBalance: 0.8 }, full.model);
    assert.equal(unbalanced.model.klBalance, undefined);
  });

  await t.step("binned curves average the episodes ending in each bin", () => {
    const binned = binnedReturns(
      { envSteps: [10, 20, 45, 90, 100], returns: [1, 3, 5, 7, 9] },
      100,
      4,
    );
    assert.deepEqual(binned.envSteps, [25, 50, 75, 100]);
    // Bins end at 25, 50, 75, 100; the third is empty and repeats the second.
    assert.deepEqual(binned.returns, [2, 5, 5, 8]);
  });
});

Deno.test("Dreamer experiments: the quick budgets run end to end", async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "dreamer-experiments-" });
  const resDir = await Deno.makeTempDir({ prefix: "dreamer-figures-" });

  await t.step("swing-up: every stage, claim and figure", async () => {
    const config = resolveConfig(dreamerCartpoleSwingup, "quick");
    const started = performance.now();
    const result = await dreamerCartpoleSwingup.run(config, {
      dataDir: `${dataDir}/swingup`,
      budget: "quick",
    });
    assert.ok(performance.now() - started < 30_000, "the quick budget took over 30 s");
    assert.deepEqual(Object.keys(result.stageSeconds!), ["dreamer", "planet", "sac", "timing"]);
    assert.deepEqual(result.claims.map((c) => c.id), [
      "final-return",
      "dreamer-matches-planet",
      "data-efficiency",
      "10000-times-more-data",
      "virtuous-cycle",
      "actor-chooses-faster-than-cem",
    ]);
    for (const claim of result.claims) assert.equal(typeof claim.holds, "boolean");
    const m = result.metrics;
    const steps = config.episodes * config.episodeSteps;
    assert.deepEqual(m.dreamer.envSteps, [config.episodeSteps, steps]);
    assert.deepEqual(m.planet.envSteps, m.dreamer.envSteps);
    assert.equal(m.test.dreamer.length, 1);
    assert.ok(m.imagination.finalPerEnvStep > 0);
    assert.equal(m.imagination.paperPerEnvStep, 3750);
    assert.ok(m.timing.actorMs > 0 && m.timing.cemMs > 0);
    assert.ok(m.cycle && m.cycle.fresh.length === 1);
    const figures = await drawSwingupFigures(result, resDir);
    assert.ok(figures.some((path) => path.endsWith("-learning-curves.svg")));
    assert.ok(figures.some((path) => path.endsWith("-imagination.svg")));
    assert.match(swingupTableMarkdown(result), /PlaNet, Table 1/);
    // A rerun reads every stage back.
    const rerunStarted = performance.now();
    const again = await dreamerCartpoleSwingup.run(config, { dataDir: `${dataDir}/swingup` });
    assert.ok(performance.now() - rerunStarted < 2000, "stages were recomputed");
    assert.deepEqual(again.metrics.dreamer, m.dreamer);
  });

  await t.step("MinAtar: every game, the ablations and DQN", async () => {
    const config = resolveConfig(dreamerV2Minatar, "quick");
    const result = await dreamerV2Minatar.run(config, {
      dataDir: `${dataDir}/minatar`,
      budget: "quick",
    });
    assert.deepEqual(result.claims.map((c) => c.id), [
      "dreamerv2-beats-dqn",
      "categorical-beats-gaussian",
      "kl-balancing-helps",
      "discrete-codes-like-vq",
    ]);
    const m = result.metrics;
    assert.deepEqual(m.games.map((g) => g.game), config.games);
    for (const game of m.games) {
      assert.equal(game.dreamer.final.length, config.seeds.length);
      assert.equal(game.dqn.mean.length, config.curvePoints);
    }
    assert.equal(m.ablations.length, 1);
    assert.ok(m.codes.maxProbability > 0 && m.codes.maxProbability <= 1);
    assert.equal(m.codes.classes, 4);
    const figures = await drawMinatarFigures(result, resDir);
    assert.ok(figures.some((path) => path.endsWith("-ablations.svg")));
    assert.match(minatarTableMarkdown(result), /\| Breakout \|/);
  });

  await Deno.remove(dataDir, { recursive: true });
  await Deno.remove(resDir, { recursive: true });
});
