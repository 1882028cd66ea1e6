/**
 * What a notebook does with an experiment: run it at the notebook's budget with a live progress
 * display, then show its figures and its claims beside the paper's numbers.
 */
import { REPO_ROOT } from "../io.ts";
import { showFigure } from "../viz/plot.ts";
import { showMarkdown } from "../viz/notebook.ts";
import { createProgress } from "../viz/progress.ts";
import { claimsMarkdown } from "./claims_table.ts";
import { notebookBudget, runExperiment, type RunRequest } from "./runner.ts";
import type { Experiment, ExperimentResult } from "./types.ts";

/** Runs an experiment at MBRL_BUDGET (laptop unless set) with a progress display. */
export async function runInNotebook<Config, Metrics>(
  experiment: Experiment<Config, Metrics>,
  request: RunRequest = {},
): Promise<ExperimentResult<Metrics>> {
  const progress = createProgress();
  try {
    return await runExperiment(experiment, {
      budget: notebookBudget(),
      onProgress: (p) => progress.update(p),
      ...request,
    });
  } finally {
    await progress.finish();
  }
}

/** Shows the figures whose file name contains `match` (all of them by default). */
export async function showFigures(result: ExperimentResult<unknown>, match = ""): Promise<void> {
  for (const path of result.figures ?? []) {
    if (!path.includes(match)) continue;
    await showFigure(await Deno.readTextFile(`${REPO_ROOT}/${path}`));
  }
}

/** Shows the claims as a table: the paper's number, ours, and whether the claim holds. */
export async function showClaims(result: ExperimentResult<unknown>): Promise<void> {
  await showMarkdown(
    claimsMarkdown([result]) +
      `\n\n_${result.budget} budget, ${result.seeds.length} seed(s), ${runTime(result)} on ` +
      `${result.backend}; regenerate with \`${result.command}\`._`,
  );
}

/** This run's wall time, and the stages' own compute time when finished stages were reused. */
export function runTime(result: ExperimentResult<unknown>): string {
  const compute = Object.values(result.stageSeconds ?? {}).reduce((sum, s) => sum + s, 0);
  const wall = `${Math.round(result.wallSeconds * 10) / 10} s`;
  // A run that reused its stages takes seconds; the compute they once took is the honest cost.
  return compute > 2 * result.wallSeconds
    ? `${wall} this run, reusing stages that took ${Math.round(compute)} s of compute`
    : wall;
}
