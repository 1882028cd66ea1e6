/**
 * `partial-observability` at the quick budget end to end, its probe on data with a known answer,
 * and its claim rules on given numbers.
 */
import assert from "node:assert/strict";
import { Rng } from "../../../lib/rng.ts";
import { resolveConfig } from "../../../lib/experiments/runner.ts";
import { getExperiment } from "../../../lib/experiments/registry.ts";
import { partialObservability } from "../../../lib/experiments/partial-observability/experiment.ts";
import { partialObservabilityClaims } from "../../../lib/experiments/partial-observability/claims.ts";
import type {
  ModelResult,
  PartialObservabilityMetrics,
} from "../../../lib/experiments/partial-observability/config.ts";
import {
  fitRidge,
  heldOutRSquared,
  predictRidge,
  rSquared,
} from "../../../lib/experiments/partial-observability/probe.ts";
import { hiddenVelocitySwingup } from "../../../lib/experiments/partial-observability/stages.ts";

Deno.test("the probe: exact on a linear relation, near 0 on noise, R² by its definition", () => {
  const rng = new Rng(1);
  const rows = 400, width = 3;
  const features = new Float64Array(rows * width).map(() => rng.normal());
  const targets = Array.from(
    { length: rows },
    (_, i) => 2 * features[i * width] - 0.5 * features[i * width + 2] + 3,
  );
  const weights = fitRidge(features, targets, width, 0);
  assert.ok(Math.abs(weights[0] - 2) < 1e-9 && Math.abs(weights[1]) < 1e-9);
  assert.ok(Math.abs(weights[2] + 0.5) < 1e-9 && Math.abs(weights[3] - 3) < 1e-9);
  assert.ok(rSquared(predictRidge(weights, features, width), targets) > 1 - 1e-12);
  const noise = Array.from({ length: rows }, () => rng.normal());
  const half = (rows / 2) * width;
  const r2 = heldOutRSquared(
    features.subarray(0, half),
    noise.slice(0, rows / 2),
    features.subarray(half),
    noise.slice(rows / 2),
    width,
  );
  assert.ok(r2 < 0.05, `R² ${r2} on unrelated targets`);
  // Predicting the mean gives 0; predicting the targets gives 1.
  assert.equal(rSquared([2, 2, 2], [1, 2, 3]), 0);
  assert.equal(rSquared([1, 2, 3], [1, 2, 3]), 1);
});

Deno.test("the swing-up without velocities shows positions only", () => {
  const config = resolveConfig(partialObservability, "quick");
  const env = hiddenVelocitySwingup(config);
  const observation = env.reset(3);
  assert.equal(observation.length, 3);
  env.step(Float32Array.of(1));
  const full = env.fullObservation;
  const { observation: shown } = env.step(Float32Array.of(1));
  assert.deepEqual([...shown], [...env.fullObservation.slice(0, 3)]);
  assert.notEqual(full[3], 0, "the hidden cart velocity moves");
});

Deno.test("partial-observability runs end to end at the quick budget", async () => {
  assert.equal(getExperiment("partial-observability"), partialObservability);
  for (const budget of ["quick", "laptop", "paper"] as const) {
    const config = resolveConfig(partialObservability, budget);
    if (budget !== "quick") assert.ok(config.seeds.length >= 3);
  }
  const dataDir = await Deno.makeTempDir({ prefix: "partial-observability-" });
  const config = resolveConfig(partialObservability, "quick");
  const started = performance.now();
  const result = await partialObservability.run(config, { dataDir, workers: 1 });
  assert.ok(performance.now() - started < 60_000);
  assert.deepEqual(result.claims.map((c) => c.id), [
    "memory-recovers-hidden-state",
    "memory-plans-better",
  ]);
  for (const seed of result.metrics.seeds) {
    for (const run of [seed.rssm, seed.memoryless]) {
      assert.equal(run.returns.length, config.evaluation.episodes);
      assert.ok(Number.isFinite(run.probe.cart) && Number.isFinite(run.probe.pole));
    }
  }
  const figures = await partialObservability.drawFigures!(result, dataDir);
  assert.equal(figures.length, 2);
  const again = await partialObservability.run(config, { dataDir, workers: 1 });
  const strip = (m: PartialObservabilityMetrics) =>
    JSON.stringify(m, (key, value) => (key === "seconds" ? undefined : value));
  assert.equal(strip(again.metrics), strip(result.metrics));
  // Seeded: a fresh run learns and plays the same.
  const fresh = await Deno.makeTempDir({ prefix: "partial-observability-fresh-" });
  const other = await partialObservability.run(config, { dataDir: fresh, workers: 1 });
  assert.equal(strip(other.metrics), strip(result.metrics));
  await Deno.remove(dataDir, { recursive: true });
  await Deno.remove(fresh, { recursive: true });
});

function model(probe: number, returns: number[]): ModelResult {
  return { curve: [], returns, probe: { cart: probe, pole: probe }, seconds: 0 };
}

Deno.test("partial-observability claim rules", () => {
  const metrics = (rssm: number, memoryless: number, rssmReturns: number[], other: number[]) =>
    ({
      episodeSteps: 1000,
      seeds: rssmReturns.map((r, seed) => ({
        seed,
        rssm: model(rssm, [r]),
        memoryless: model(memoryless, [other[seed]]),
      })),
    }) satisfies PartialObservabilityMetrics;
  const holds = (m: PartialObservabilityMetrics) =>
    partialObservabilityClaims(m).map((c) => c.holds);
  assert.deepEqual(holds(metrics(0.9, 0.4, [700, 720, 740], [300, 320, 340])), [true, true]);
  // Below 0.8, or less than 0.3 above the memoryless model, does not count.
  assert.deepEqual(holds(metrics(0.75, 0.2, [700, 720, 740], [300, 320, 340]))[0], false);
  assert.deepEqual(holds(metrics(0.95, 0.7, [700, 720, 740], [300, 320, 340]))[0], false);
  // A return gap inside the spread does not count.
  assert.deepEqual(holds(metrics(0.9, 0.4, [400, 700, 1000], [500, 500, 500]))[1], false);
});
