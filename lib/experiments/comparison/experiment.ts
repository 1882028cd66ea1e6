/**
 * `comparison`: one table across papers. It runs nothing itself: it reads the results files in
 * data/results, asks each file's experiment for the curves it reports on shared tasks
 * (`Experiment.sharedTasks`), and on each task puts every method side by side at one number of
 * environment steps, the largest that every method on that task reached. Each row names the
 * results file it comes from, that file's budget, wall time and the command that regenerates it.
 */
import { z } from "zod";
import { REPO_ROOT } from "../../io.ts";
import { backend, describeBackend } from "../../tensor/mod.ts";
import type { Experiment, ExperimentResult, RunOptions } from "../types.ts";
import type { SharedTaskCurve } from "../shared_tasks.ts";
import { valuesAtStep } from "../shared_tasks.ts";
import { mean, std } from "../stats.ts";
import { NO_PLANNING } from "../taxonomy.ts";

const NAME = "comparison";

export const comparisonSchema = z.object({
  /** Folder of the results files to read (default data/results). */
  resultsDir: z.string().min(1).optional(),
}).strict();
export type ComparisonConfig = z.infer<typeof comparisonSchema>;

export interface ComparisonRow {
  task: string;
  method: string;
  measure: string;
  /** The shared step count the row is read at. */
  envSteps: number;
  meanReturn: number;
  stdReturn: number;
  seeds: number;
  /** The furthest steps this method's curve reached, and its mean return there. */
  finalEnvSteps: number;
  finalMeanReturn: number;
  /** Where the row comes from. */
  experiment: string;
  budget: string;
  wallSeconds: number;
  command: string;
}

export interface ComparisonMetrics {
  rows: ComparisonRow[];
  /** Results files read, by experiment name. */
  sources: string[];
}

/** The experiments a result may come from, looked up by name (the registry, in practice). */
export type ExperimentLookup = (
  name: string,
) => Pick<Experiment<unknown, unknown>, "sharedTasks"> | undefined;

/** Rows from results already read: per task, every method at the steps all of them reached. */
export function comparisonRows(
  results: readonly ExperimentResult<unknown>[],
  lookup: ExperimentLookup,
): ComparisonRow[] {
  const curves: { curve: SharedTaskCurve; source: ExperimentResult<unknown> }[] = [];
  for (const result of results) {
    const experiment = lookup(result.experiment);
    for (const curve of experiment?.sharedTasks?.(result) ?? []) {
      if (curve.envSteps.length > 0) curves.push({ curve, source: result });
    }
  }
  const rows: ComparisonRow[] = [];
  const tasks = [...new Set(curves.map(({ curve }) => curve.task))].sort();
  for (const task of tasks) {
    for (const { sharedStep, members } of stepGroups(curves.filter((c) => c.curve.task === task))) {
      for (const { curve, source } of members) {
        const values = valuesAtStep(curve, sharedStep)!;
        const finalEnvSteps = curve.envSteps.at(-1)!;
        const finalValues = valuesAtStep(curve, finalEnvSteps) ?? values;
        // The same method with the same numbers from another results file (one experiment rerunning
        // another's agent as its baseline, same seeds and settings) adds nothing: keep the first.
        const duplicate = rows.some((r) =>
          r.task === task && r.method === curve.method && r.seeds === values.length &&
          r.meanReturn === mean(values) && r.stdReturn === std(values) &&
          r.finalEnvSteps === finalEnvSteps &&
          r.finalMeanReturn === mean(finalValues)
        );
        if (duplicate) continue;
        rows.push({
          task,
          method: curve.method,
          measure: curve.measure,
          envSteps: sharedStep,
          meanReturn: mean(values),
          stdReturn: std(values),
          seeds: values.length,
          finalEnvSteps,
          finalMeanReturn: mean(finalValues),
          experiment: source.experiment,
          budget: source.budget,
          wallSeconds: source.wallSeconds,
          command: source.command,
        });
      }
    }
  }
  return rows;
}

/**
 * A task's curves in groups that meet at equal environment steps: the furthest point every curve
 * of the group reached. A curve with no point that early (a score measured once, after a longer
 * run) cannot be read there and meets the others that reach its own steps in a later group.
 */
function stepGroups<T extends { curve: SharedTaskCurve }>(
  onTask: T[],
): { sharedStep: number; members: T[] }[] {
  const groups: { sharedStep: number; members: T[] }[] = [];
  let remaining = onTask;
  while (remaining.length > 0) {
    const sharedStep = Math.min(...remaining.map(({ curve }) => curve.envSteps.at(-1)!));
    const members = remaining.filter(({ curve }) =>
      (valuesAtStep(curve, sharedStep)?.length ?? 0) > 0
    );
    groups.push({ sharedStep, members });
    remaining = remaining.filter((c) => !members.includes(c));
  }
  return groups;
}

/** The rows as a markdown table. */
export function comparisonTable(rows: readonly ComparisonRow[]): string {
  return [
    "| task | method | env steps | measure | return (mean ± std) | seeds | at its own last steps | from | its run's wall time | command |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows.map((r) =>
      `| ${r.task} | ${r.method} | ${r.envSteps} | ${r.measure} | ${r.meanReturn.toFixed(1)} ± ` +
      `${r.stdReturn.toFixed(1)} | ${r.seeds} | ${r.finalMeanReturn.toFixed(1)} at ` +
      `${r.finalEnvSteps} | ${r.experiment} (${r.budget}) | ` +
      `${(r.wallSeconds / 60).toFixed(1)} min | \`${r.command}\` |`
    ),
  ].join("\n");
}

async function readResults(dir: string): Promise<ExperimentResult<unknown>[]> {
  const results: ExperimentResult<unknown>[] = [];
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.endsWith(".json") && entry.name !== `${NAME}.json`) {
        names.push(entry.name);
      }
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  for (const name of names.sort()) {
    results.push(JSON.parse(await Deno.readTextFile(`${dir}/${name}`)));
  }
  return results;
}

async function runComparison(
  config: ComparisonConfig,
  options: RunOptions = {},
): Promise<ExperimentResult<ComparisonMetrics>> {
  const started = performance.now();
  const results = await readResults(config.resultsDir ?? `${REPO_ROOT}/data/results`);
  // The registry imports this module, so it is loaded when the comparison runs, not before.
  const { EXPERIMENTS } = await import("../registry.ts");
  const rows = comparisonRows(results, (name) => EXPERIMENTS.find((e) => e.name === name));
  options.onProgress?.({ stage: NAME, done: 1, total: 1, message: `${rows.length} rows` });
  return {
    experiment: NAME,
    paper: "Every method on the tasks several papers share, at equal environment steps, " +
      "from the results files",
    budget: options.budget ?? "custom",
    command: "",
    seeds: [],
    backend: describeBackend(backend),
    wallSeconds: (performance.now() - started) / 1000,
    // A table, not a reproduction: its rows carry the claims of the experiments they come from.
    claims: [],
    metrics: { rows, sources: results.map((r) => r.experiment) },
  };
}

const READ_RESULTS: ComparisonConfig = {};

export const comparison: Experiment<ComparisonConfig, ComparisonMetrics> = {
  name: NAME,
  paper: "Cross-paper comparison on shared tasks",
  summary: "Every method side by side on the tasks several experiments share, at equal " +
    "environment steps, read from data/results",
  notebook: "notebooks/00-map.ipynb",
  taxonomy: {
    model: "not a method (a table of other results)",
    modelPredicts: "nothing: it reads the other experiments' results",
    representation: "none",
    ...NO_PLANNING,
  },
  configSchema: comparisonSchema,
  budgets: { quick: READ_RESULTS, laptop: READ_RESULTS, paper: READ_RESULTS },
  expectedSeconds: { quick: 1, laptop: 1, paper: 1 },
  run: runComparison,
};
