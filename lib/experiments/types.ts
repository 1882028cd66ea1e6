/**
 * What every reproduced experiment provides, and the results file it writes (DESIGN.md, "The
 * results file and the CLI"). The CLI and the notebooks both go through `Experiment.run`.
 */
import type { z } from "zod";
import type { Progress } from "../progress.ts";
import type { StageJob } from "./stage_pool.ts";
import type { SurveyPlace } from "./taxonomy.ts";
import type { SharedTaskCurve } from "./shared_tasks.ts";

export const BUDGETS = ["quick", "laptop", "paper"] as const;
/** `quick` for tests and CI, `laptop` for a 2-core machine (the default), `paper` as published. */
export type Budget = typeof BUDGETS[number];

/** One claim of a paper, checked against our measurement by a rule in the experiment module. */
export interface Claim {
  id: string;
  /** The paper's (or the notes') own words the claim comes from. */
  quote: string;
  /** What the paper reports, as text or a number. */
  paper: string;
  /** What we measured, mean ± std where there are seeds. */
  ours: string;
  /** Computed from the measured data, never typed in. */
  holds: boolean;
}

export interface ExperimentResult<Metrics = Record<string, unknown>> {
  experiment: string;
  paper: string;
  budget: Budget | "custom";
  command: string;
  seeds: number[];
  backend: string;
  wallSeconds: number;
  claims: Claim[];
  /** Curves and tables the figures are drawn from, so figures redraw without a rerun. */
  metrics: Metrics;
  /** Seconds each named stage took, in order. */
  stageSeconds?: Record<string, number>;
  /** Figures written under res/, relative to the repository root. */
  figures?: string[];
}

export type { Progress } from "../progress.ts";

export interface RunOptions {
  onProgress?: (progress: Progress) => void;
  /** Where checkpoints and datasets go (default data/<experiment>). */
  dataDir?: string;
  /** The budget name the config came from, recorded in the result. */
  budget?: Budget | "custom";
  /** Stops the run between steps; stages already finished stay on disk. */
  signal?: AbortSignal;
  /**
   * Workers for experiments whose stages are independent (default: one per core; 1 runs
   * everything in this thread). Results do not depend on it.
   */
  workers?: number;
}

export interface Experiment<Config = unknown, Metrics = Record<string, unknown>> {
  /** Kebab-case name used on the command line, e.g. "dyna-maze". */
  name: string;
  /** The paper and the part of it reproduced. */
  paper: string;
  /** One line on what is run. */
  summary: string;
  /** Notebook that presents it, relative to the repository root. */
  notebook: string;
  /**
   * Where it sits in the survey's taxonomy (Moerland et al. 2020): the map in notebook 00 is
   * drawn from these declarations.
   */
  taxonomy: SurveyPlace;
  configSchema: z.ZodType<Config>;
  budgets: Record<Budget, Config>;
  /** Rough wall-clock seconds of each budget on a 2-core laptop. */
  expectedSeconds: Record<Budget, number>;
  run(config: Config, options?: RunOptions): Promise<ExperimentResult<Metrics>>;
  /**
   * The independent pieces `run` hands to the stage pool (one seed of an agent, a baseline...),
   * each naming the earlier ones it needs. `run` with one worker runs them itself, in order, and
   * with every stage already on disk only reads them back; `--stage K` and `--slurm` run them
   * one per process. Absent for experiments that run in one piece.
   */
  stageJobs?(config: Config, dataDir: string): StageJob[];
  /**
   * The learning curves it reports on tasks other experiments share, read from a result's
   * metrics, for the cross-paper `comparison`. Absent when it runs no shared task.
   */
  sharedTasks?(result: ExperimentResult<Metrics>): SharedTaskCurve[];
  /** Draws the figures of a result to SVG files under `resDir`; returns their paths. */
  drawFigures?(result: ExperimentResult<Metrics>, resDir: string): Promise<string[]>;
}
