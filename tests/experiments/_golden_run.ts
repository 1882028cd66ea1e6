/**
 * Runs experiments at the quick budget on the wasm kernels alone (MBRL_BLAS=off, so every x86
 * machine computes the same numbers) in fresh folders, and prints their claims and metrics as
 * JSON, timings left out. tests/experiments/golden_test.ts compares them with the goldens in
 * tests/experiments/golden/; `--write` rewrites those (after a change meant to move results).
 *
 *   MBRL_BLAS=off deno run -A tests/experiments/_golden_run.ts [--write] NAME...
 */
import { getExperiment } from "../../lib/experiments/registry.ts";
import { runExperiment } from "../../lib/experiments/runner.ts";

/** Metric fields that are timings: they differ from run to run. */
const TIMING = /seconds|msper/i;
/** Fields that name files or stages of one run, not results. */
const IGNORED = new Set(["resumedStages", "media"]);
/** Claims whose text reports a timing. */
const TIMED_CLAIMS = new Set(["latent-planning-is-cheaper"]);

export function withoutTimings(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTimings);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !TIMING.test(key) && !/path$/i.test(key) && !IGNORED.has(key))
        .map(([key, v]) => [key, withoutTimings(v)]),
    );
  }
  return value;
}

export async function goldenOf(name: string): Promise<unknown> {
  const folder = await Deno.makeTempDir({ prefix: `golden-${name}-` });
  try {
    const result = await runExperiment(getExperiment(name), {
      budget: "quick",
      dataDir: `${folder}/data`,
      outDir: folder,
      resDir: `${folder}/res`,
    });
    return {
      claims: result.claims.filter((claim) => !TIMED_CLAIMS.has(claim.id)),
      metrics: withoutTimings(result.metrics),
    };
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
}

if (import.meta.main) {
  const write = Deno.args.includes("--write");
  const names = Deno.args.filter((arg) => !arg.startsWith("--"));
  const goldens: Record<string, unknown> = {};
  for (const name of names) {
    goldens[name] = await goldenOf(name);
    if (write) {
      const path = new URL(`./golden/${name}.json`, import.meta.url);
      await Deno.writeTextFile(path, JSON.stringify(goldens[name], null, 1) + "\n");
    }
  }
  console.log(JSON.stringify(goldens));
}
