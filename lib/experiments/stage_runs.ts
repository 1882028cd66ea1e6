/**
 * An experiment's stages one per process, as a cluster runs them: `--stage K` runs stage K and
 * leaves a marker saying it finished (for which config), `--stages` lists the stage graph, and a
 * gathering run checks every marker before it reads the stages back into a result, so a missing
 * stage is named instead of being run (or half-read) by the gathering job.
 */
import { UserError } from "../errors.ts";
import { configHash } from "../hash.ts";
import { readJsonIfExists, writeJsonAtomic } from "../io.ts";
import { loadStageFunction, type StageJob, stageLevels } from "./stage_pool.ts";
import type { Experiment, Progress } from "./types.ts";

/** What a finished stage leaves in `dataDir/stages/stage-K.json`. */
export interface StageMarker {
  index: number;
  label: string;
  /** Hash of the experiment's config: a marker of another config does not count. */
  config: string;
  seconds: number;
  finishedAt: string;
}

export function stageMarkerPath(dataDir: string, index: number): string {
  return `${dataDir}/stages/stage-${index}.json`;
}

/** The experiment's stages, or a one-line error for an experiment that runs in one piece. */
export function stagesOf<Config>(
  experiment: Experiment<Config, unknown>,
  config: Config,
  dataDir: string,
): StageJob[] {
  const jobs = experiment.stageJobs?.(config, dataDir) ?? [];
  if (jobs.length === 0) {
    throw new UserError(
      `${experiment.name} runs in one piece and has no stages; run it without --stage or --slurm`,
    );
  }
  return jobs;
}

/** Indices of the stages whose markers say they finished for this config. */
export async function finishedStages(
  jobs: readonly StageJob[],
  config: unknown,
  dataDir: string,
): Promise<Set<number>> {
  const hash = configHash(config);
  const finished = new Set<number>();
  for (let index = 0; index < jobs.length; index++) {
    let marker: StageMarker | null = null;
    try {
      marker = await readJsonIfExists<StageMarker>(stageMarkerPath(dataDir, index));
    } catch {
      marker = null; // A torn or foreign file: the stage runs again (and resumes from its files).
    }
    if (marker && marker.config === hash && marker.label === jobs[index].label) {
      finished.add(index);
    }
  }
  return finished;
}

/** "3 (sac seed 0), 4 (sac seed 1)" */
function nameStages(jobs: readonly StageJob[], indices: readonly number[]): string {
  return indices.map((i) => `${i} (${jobs[i].label})`).join(", ");
}

/**
 * Runs stage `index` in this process (it resumes from its own checkpoints if an earlier attempt
 * was stopped) and writes its marker. Its prerequisites must have finished.
 */
export async function runOneStage<Config>(
  experiment: Experiment<Config, unknown>,
  config: Config,
  dataDir: string,
  index: number,
  onProgress: (progress: Progress) => void = () => {},
): Promise<{ label: string; seconds: number }> {
  const jobs = stagesOf(experiment, config, dataDir);
  if (!Number.isInteger(index) || index < 0 || index >= jobs.length) {
    throw new UserError(
      `--stage ${index}: ${experiment.name} has stages 0 to ${jobs.length - 1} (see --stages)`,
    );
  }
  const job = jobs[index];
  const finished = await finishedStages(jobs, config, dataDir);
  const waiting = (job.after ?? []).filter((j) => !finished.has(j));
  if (waiting.length > 0) {
    throw new UserError(
      `--stage ${index} (${job.label}) needs stage${waiting.length > 1 ? "s" : ""} ` +
        `${nameStages(jobs, waiting)} to finish first`,
    );
  }
  const stageFunction = await loadStageFunction(job.moduleUrl.toString(), job.exportName);
  const started = performance.now();
  try {
    await stageFunction(job.args, onProgress);
  } catch (error) {
    if (error instanceof UserError) throw new UserError(`${job.label}: ${error.message}`);
    throw error;
  }
  const seconds = Math.round((performance.now() - started) / 10) / 100;
  const marker: StageMarker = {
    index,
    label: job.label,
    config: configHash(config),
    seconds,
    finishedAt: new Date().toISOString(),
  };
  await writeJsonAtomic(stageMarkerPath(dataDir, index), marker);
  return { label: job.label, seconds };
}

/** Stops with the stages not finished yet, so a gathering run never writes a partial result. */
export async function requireAllStages<Config>(
  experiment: Experiment<Config, unknown>,
  config: Config,
  dataDir: string,
): Promise<void> {
  const jobs = stagesOf(experiment, config, dataDir);
  const finished = await finishedStages(jobs, config, dataDir);
  const missing = jobs.map((_, i) => i).filter((i) => !finished.has(i));
  if (missing.length > 0) {
    throw new UserError(
      `${experiment.name}: not gathering, stage${missing.length > 1 ? "s" : ""} ` +
        `${nameStages(jobs, missing)} ${missing.length > 1 ? "have" : "has"} not finished ` +
        `(under ${dataDir}); submit the same command again to run what is missing`,
    );
  }
}

/** The stage graph as lines for `--stages`: index, level, label and prerequisites. */
export function describeStages(jobs: readonly StageJob[], finished?: Set<number>): string[] {
  const levels = stageLevels(jobs);
  const width = String(jobs.length - 1).length;
  return jobs.map((job, i) => {
    const after = job.after?.length ? `  after ${job.after.join(", ")}` : "";
    const done = finished?.has(i) ? "  (finished)" : "";
    return `  ${String(i).padStart(width)}  level ${levels[i]}  ${job.label}${after}${done}`;
  });
}
