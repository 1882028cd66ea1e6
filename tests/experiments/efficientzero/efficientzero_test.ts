/**
 * The EfficientZero experiment at the quick budget: every stage and claim runs end to end within a
 * minute, the same seeds give the same numbers, a rerun reads finished stages back, workers give
 * the same numbers, every variant is the full agent less exactly the additions it names, bad
 * configs name the field, and the claim rules decide from the numbers they are given.
 */
import assert from "node:assert/strict";
import { UserError } from "../../../lib/errors.ts";
import { resolveConfig } from "../../../lib/experiments/runner.ts";
import { getExperiment } from "../../../lib/experiments/registry.ts";
import { efficientZeroMinatar } from "../../../lib/experiments/efficientzero/minatar.ts";
import {
  aboveBySpread,
  efficientZeroClaims,
} from "../../../lib/experiments/efficientzero/claims.ts";
import {
  EFFICIENT_ZERO_PUBLISHED,
  EFFICIENT_ZERO_VARIANTS,
  type EfficientZeroMinatarConfig,
  type EfficientZeroMinatarMetrics,
  type EfficientZeroVariant,
  variantAgent,
} from "../../../lib/experiments/efficientzero/config.ts";

const strip = (metrics: EfficientZeroMinatarMetrics) =>
  JSON.stringify({ ...metrics, secondsPerStep: null });

Deno.test("EfficientZero experiment: registry, budgets and variants", async (t) => {
  await t.step("registered, every budget passes its schema, the paper's constants kept", () => {
    assert.equal(getExperiment("efficientzero-minatar"), efficientZeroMinatar);
    assert.equal(efficientZeroMinatar.notebook, "notebooks/06-efficientzero.ipynb");
    for (const budget of ["quick", "laptop", "paper"] as const) {
      const config = resolveConfig(efficientZeroMinatar, budget);
      assert.ok(config.games.length >= 3 && config.variants.length === 5);
      assert.equal(config.agent.training.unrollSteps, 5);
      assert.equal(config.agent.efficientZero!.valuePrefix!.horizon, 5);
      assert.equal(config.agent.efficientZero!.consistency!.weight, 2);
      if (budget !== "quick") assert.ok(config.seeds.length >= 3);
    }
    const paper = efficientZeroMinatar.budgets.paper;
    assert.equal(paper.environmentSteps, 100_000);
    assert.equal(paper.agent.search.numSimulations, 50);
    assert.equal(paper.agent.efficientZero!.consistency!.projectionSize, 1024);
    assert.equal(paper.agent.efficientZero!.valuePrefix!.lstmHiddenSize, 512);
    assert.ok(efficientZeroMinatar.expectedSeconds.quick < 60);
    assert.ok(efficientZeroMinatar.expectedSeconds.laptop <= 3600);
  });

  await t.step("each variant is EfficientZero less exactly the additions it names", () => {
    const config = efficientZeroMinatar.budgets.laptop;
    const full = variantAgent(config, "efficientzero");
    const removed: Record<EfficientZeroVariant, string[]> = {
      "muzero": ["consistency", "valuePrefix", "offPolicyCorrection"],
      "efficientzero": [],
      "no-consistency": ["consistency"],
      "no-value-prefix": ["valuePrefix"],
      "no-off-policy-correction": ["offPolicyCorrection"],
    };
    for (const variant of EFFICIENT_ZERO_VARIANTS) {
      const agent = variantAgent(config, variant);
      const { efficientZero, ...rest } = agent;
      const { efficientZero: fullAdditions, ...fullRest } = full;
      assert.deepEqual(rest, fullRest, `${variant}: all but the additions is shared`);
      assert.equal(agent.training.environmentSteps, config.environmentSteps);
      if (variant === "muzero") {
        assert.equal(efficientZero, undefined);
        continue;
      }
      for (const [key, value] of Object.entries(efficientZero!)) {
        const expected: unknown = removed[variant].includes(key)
          ? null
          : fullAdditions![key as keyof typeof fullAdditions];
        assert.deepEqual(value, expected, `${variant}: ${key}`);
      }
    }
  });

  await t.step("a bad value names the field", () => {
    assert.throws(
      () =>
        resolveConfig(efficientZeroMinatar, "quick", {
          overrides: { "agent.efficientZero.valuePrefix.horizon": 0 },
        }),
      (error: unknown) =>
        error instanceof UserError && error.message.includes("agent.efficientZero.valuePrefix"),
    );
    assert.throws(
      () =>
        resolveConfig(efficientZeroMinatar, "quick", {
          overrides: { "agent.efficientZero.consistency": null },
        }),
      (error: unknown) =>
        error instanceof UserError && /every EfficientZero addition/.test(
          error.message,
        ),
    );
  });
});

Deno.test("EfficientZero experiment runs end to end at the quick budget", async (t) => {
  const config = resolveConfig(efficientZeroMinatar, "quick") as EfficientZeroMinatarConfig;
  const dataDir = await Deno.makeTempDir({ prefix: "efficientzero-quick-" });

  await t.step("every stage, claim and figure, in under a minute", async () => {
    const started = performance.now();
    const result = await efficientZeroMinatar.run(config, { dataDir, budget: "quick" });
    assert.ok(performance.now() - started < 60_000, "the quick budget takes under a minute");
    assert.deepEqual(result.claims.map((c) => c.id), [
      "efficientzero-beats-muzero",
      "consistency-helps",
      "value-prefix-helps",
      "off-policy-correction-helps",
      "consistency-matters-most",
      "atari-100k-headline",
    ]);
    for (const claim of result.claims) {
      assert.equal(typeof claim.holds, "boolean");
      assert.ok(claim.quote.length > 20 && claim.paper.length > 0 && claim.ours.length > 0);
    }
    for (const game of result.metrics.games) {
      for (const variant of EFFICIENT_ZERO_VARIANTS) {
        assert.equal(game.variants[variant]!.final.length, config.seeds.length);
      }
      assert.ok(game.dqn.final.length === 1 && game.dreamer!.final.length === 1);
    }
    const figures = await efficientZeroMinatar.drawFigures!(result, dataDir);
    assert.equal(figures.length, config.games.length + 2);
    for (const path of figures) assert.match(await Deno.readTextFile(path), /<svg/);
    // A rerun reads every stage back.
    const rerun = performance.now();
    const again = await efficientZeroMinatar.run(config, { dataDir, budget: "quick" });
    assert.ok(performance.now() - rerun < 1500, "stages were recomputed");
    assert.equal(JSON.stringify(again.metrics), JSON.stringify(result.metrics));
  });

  await t.step("the same seeds give the same numbers, in one worker or two", async () => {
    const first = await efficientZeroMinatar.run(config, { dataDir, budget: "quick" });
    const elsewhere = await Deno.makeTempDir({ prefix: "efficientzero-one-worker-" });
    const second = await efficientZeroMinatar.run(config, { dataDir: elsewhere, workers: 1 });
    assert.equal(strip(second.metrics), strip(first.metrics));
    assert.deepEqual(second.claims, first.claims);
    await Deno.remove(elsewhere, { recursive: true });
  });

  await t.step("stage files of another config are refused, naming the file", async () => {
    const other = resolveConfig(efficientZeroMinatar, "quick", {
      overrides: { "evaluation.episodes": 2 },
    });
    await assert.rejects(
      efficientZeroMinatar.run(other, { dataDir }),
      (error: unknown) =>
        error instanceof UserError && error.message.includes("another config") &&
        error.message.includes("seed-0.json"),
    );
  });
  await Deno.remove(dataDir, { recursive: true });
});

/** Metrics of one game per entry, with given final scores per agent. */
function metricsOf(
  games: Partial<Record<EfficientZeroVariant | "dqn", number[]>>[],
): EfficientZeroMinatarMetrics {
  const curve = { envSteps: [1], mean: [0], std: [0] };
  const names = ["MinAtar/Breakout-v0", "MinAtar/SpaceInvaders-v0", "MinAtar/Asterix-v0"] as const;
  return {
    environmentSteps: 1000,
    seeds: [0, 1, 2],
    variants: [...EFFICIENT_ZERO_VARIANTS],
    games: games.map((scores, i) => {
      const variants: EfficientZeroMinatarMetrics["games"][number]["variants"] = {};
      for (const variant of EFFICIENT_ZERO_VARIANTS) {
        if (scores[variant]) variants[variant] = { final: scores[variant]!, curve };
      }
      return {
        game: names[i],
        randomReturn: 0.5,
        variants,
        dqn: { final: scores.dqn ?? [0, 0, 0], curve },
        dreamer: null,
      };
    }),
    secondsPerStep: {},
    published: EFFICIENT_ZERO_PUBLISHED,
  };
}

Deno.test("EfficientZero claim rules", async (t) => {
  await t.step("above by more than the spread over seeds", () => {
    assert.equal(aboveBySpread([10, 11, 12], [5, 6, 7]), true);
    // Means 2 apart, but one spread is larger than 2.
    assert.equal(aboveBySpread([6, 8, 10], [3, 6, 9]), false);
    assert.equal(aboveBySpread([5, 5, 5], [5, 5, 5]), false);
  });

  const game = (ez: number[], muzero: number[], ablations: [number, number, number]) => ({
    "efficientzero": ez,
    "muzero": muzero,
    "no-consistency": [ablations[0], ablations[0], ablations[0]],
    "no-value-prefix": [ablations[1], ablations[1], ablations[1]],
    "no-off-policy-correction": [ablations[2], ablations[2], ablations[2]],
    "dqn": [4, 4, 4],
  });
  const holds = (m: EfficientZeroMinatarMetrics) =>
    Object.fromEntries(efficientZeroClaims(m).map((c) => [c.id, c.holds]));

  await t.step("two of three games decide; the paper's ordering holds", () => {
    const m = metricsOf([
      game([10, 11, 12], [5, 6, 7], [3, 8, 9]),
      game([10, 11, 12], [9, 11, 13], [3, 8, 9]),
      game([10, 11, 12], [5, 6, 7], [3, 8, 9]),
    ]);
    assert.deepEqual(holds(m), {
      "efficientzero-beats-muzero": true,
      "consistency-helps": true,
      "value-prefix-helps": true,
      "off-policy-correction-helps": true,
      "consistency-matters-most": true,
      "atari-100k-headline": true,
    });
  });

  await t.step("one game of three is not enough; an addition that does not help fails", () => {
    const m = metricsOf([
      game([10, 11, 12], [5, 6, 7], [9, 3, 12]),
      game([10, 11, 12], [9, 11, 13], [9, 3, 12]),
      game([3, 3, 3], [9, 11, 13], [9, 3, 12]),
    ]);
    assert.deepEqual(holds(m), {
      "efficientzero-beats-muzero": false,
      "consistency-helps": true,
      "value-prefix-helps": true,
      "off-policy-correction-helps": false,
      "consistency-matters-most": false,
      "atari-100k-headline": true,
    });
  });

  await t.step("a variant not run makes its claims fail, saying so", () => {
    const m = metricsOf([{ efficientzero: [1, 1, 1] }, { efficientzero: [1, 1, 1] }]);
    const claims = efficientZeroClaims(m);
    for (const claim of claims.slice(0, 5)) {
      assert.equal(claim.holds, false);
      assert.match(claim.ours, /not run/);
    }
    assert.match(claims[5].ours, /not measurable here/);
  });
});
