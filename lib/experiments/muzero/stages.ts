/**
 * What the MuZero experiments (Schrittwieser et al. 2020) share in running their stages: a stage
 * keeps its result in `dataDir/<name>.json` with a hash of the inputs it depends on, so a rerun
 * reads it back and a stage file of another config is refused; independent stages run in the
 * stage pool's workers (one per core), which import the experiment's module and call its
 * `runStage`, and the experiment then reads every finished stage back in order.
 */
import { UserError } from "../../errors.ts";
import { configHash } from "../../hash.ts";
import { readJsonIfExists, REPO_ROOT, writeJsonAtomic } from "../../io.ts";
import { chainGroups, runExperimentStages, type StageJob } from "../stage_pool.ts";
import type { Claim, ExperimentResult, Progress, RunOptions } from "../types.ts";
import { backend, describeBackend } from "../../tensor/mod.ts";
import type { MatchRecord } from "../../agents/muzero_play.ts";

/** Runs `compute` unless `dataDir/name.json` holds its result for the same inputs. */
export async function stageFile<T>(
  dataDir: string,
  name: string,
  inputs: unknown,
  compute: () => Promise<T>,
): Promise<{ value: T; seconds: number }> {
  const path = `${dataDir}/${name}.json`;
  const hash = configHash(inputs);
  let saved: { hash: string; seconds: number; value: T } | null;
  try {
    saved = await readJsonIfExists(path);
  } catch {
    throw new UserError(`stage file ${path} is corrupt; delete it to rerun that stage`);
  }
  if (saved) {
    if (typeof saved !== "object" || !("hash" in saved) || !("value" in saved)) {
      throw new UserError(`stage file ${path} is not a stage file; delete it to rerun that stage`);
    }
    if (saved.hash !== hash) {
      throw new UserError(
        `stage file ${path} was written for another config (hash ${saved.hash}, now ${hash}); ` +
          `delete it (or the folder) to rerun`,
      );
    }
    return { value: saved.value, seconds: saved.seconds };
  }
  const started = performance.now();
  const value = await compute();
  const seconds = Math.round((performance.now() - started) / 10) / 100;
  await writeJsonAtomic(path, { hash, seconds, value });
  return { value, seconds };
}

/** Gives the event loop a turn so progress displays redraw and aborts are noticed. */
export const breathe = () => new Promise((resolve) => setTimeout(resolve, 0));

/** The arguments every MuZero stage function receives. */
export interface StageArgs<Config, Stage> {
  config: Config;
  dataDir: string;
  stage: Stage;
}

/**
 * Groups of stages as jobs of the stage pool: each group waits for the whole group before it
 * (a seed's matches need the trained networks), every stage a call of the module's `runStage`.
 */
export function stageGroupJobs<Config, Stage>(
  groups: Stage[][],
  moduleUrl: string,
  label: (stage: Stage) => string,
  args: { config: Config; dataDir: string },
): StageJob[] {
  return chainGroups(
    groups.map((group) =>
      group.map((stage) => ({
        label: label(stage),
        moduleUrl,
        exportName: "runStage",
        args: { ...args, stage } satisfies StageArgs<Config, Stage>,
      }))
    ),
  );
}

/** Seconds per named stage kind, summed, rounded to hundredths. */
function stageClock(): {
  add: (name: string, seconds: number) => void;
  seconds: Record<string, number>;
} {
  const seconds: Record<string, number> = {};
  return {
    seconds,
    add: (name, value) => {
      seconds[name] = Math.round(((seconds[name] ?? 0) + value) * 100) / 100;
    },
  };
}

/** Reads one finished stage back, adding its seconds to the run's clock under `key`. */
export type StageReader<Stage> = <T>(stage: Stage, key: string) => Promise<T>;

/**
 * The opening every staged run shares: the data folder (`data/<name>` unless the options name
 * one), the stage graph run in the pool (finished stages are left alone), and a reader that
 * takes each stage's value back in the order the experiment assembles its metrics.
 */
export async function runStagesThenRead<Config, Stage>(
  name: string,
  config: Config,
  options: RunOptions,
  stageJobs: (config: Config, dataDir: string) => StageJob[],
  runStage: (
    args: StageArgs<Config, Stage>,
    report: (progress: Progress) => void,
    signal?: AbortSignal,
  ) => Promise<{ value: unknown; seconds: number }>,
): Promise<{ read: StageReader<Stage>; stageSeconds: Record<string, number>; started: number }> {
  const started = performance.now();
  const dataDir = options.dataDir ?? `${REPO_ROOT}/data/${name}`;
  const report = options.onProgress ?? silent;
  const clock = stageClock();
  await runExperimentStages(stageJobs(config, dataDir), options);
  const read = async <T>(stage: Stage, key: string): Promise<T> => {
    const { value, seconds } = await runStage({ config, dataDir, stage }, report, options.signal);
    clock.add(key, seconds);
    await breathe();
    return value as T;
  };
  return { read, stageSeconds: clock.seconds, started };
}

/** A no-op progress callback. */
export const silent = (_: Progress) => {};

/** Share of games not lost. */
export function notLost(record: MatchRecord): number {
  return record.games > 0 ? (record.games - record.losses) / record.games : Number.NaN;
}

/** Share of games won. */
export function won(record: MatchRecord): number {
  return record.games > 0 ? record.wins / record.games : Number.NaN;
}

/** Points per game: 1 a win, 1/2 a draw. */
export function score(record: MatchRecord): number {
  return record.games > 0 ? (record.wins + record.draws / 2) / record.games : Number.NaN;
}

/** "12.3%". */
export function percent(share: number, decimals = 0): string {
  return `${(100 * share).toFixed(decimals)}%`;
}

/**
 * The result a MuZero experiment returns once its stages are read back; the runner fills in the
 * command and its own wall time.
 */
export function muZeroResult<Metrics>(fields: {
  experiment: string;
  paper: string;
  seeds: number[];
  claims: Claim[];
  metrics: Metrics;
  stageSeconds: Record<string, number>;
  started: number;
  options: RunOptions;
}): ExperimentResult<Metrics> {
  const { started, options, ...rest } = fields;
  return {
    ...rest,
    budget: options.budget ?? "custom",
    command: "",
    backend: describeBackend(backend),
    wallSeconds: (performance.now() - started) / 1000,
  };
}
