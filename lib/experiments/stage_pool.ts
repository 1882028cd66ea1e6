/**
 * Stages of an experiment (one seed of an agent, one baseline run) spread over the machine's
 * cores, each starting as soon as the stages it needs (`after`) are done. Each job names a module and one of its exported functions; a Deno worker per
 * core imports the module and calls
 *
 *   export async function myStage(args: Args, report: (p: Progress) => void): Promise<void>
 *
 * A stage function writes its result to disk (stage files, checkpoints) and returns nothing: the
 * experiment then runs its usual sequential code, which finds every stage finished and reads it.
 * Results therefore do not depend on how many workers ran them, up to the last bits of float
 * rounding (a worker's BLAS gets cores / workers threads, and a GEMM split over more threads may
 * round differently), and `workers: 1` runs the jobs in this thread, one after another, through
 * the same functions.
 *
 * Progress from all jobs is folded into one stage ("N stages on W workers") whose `done` is the
 * sum of the jobs' fractions, so a display shows one bar rather than flickering between jobs.
 */
import { InterruptedError, UserError } from "../errors.ts";
import { availableCores } from "../evolution/parallel.ts";
import { shareBlasThreads } from "../tensor/blas.ts";
import type { Progress } from "./types.ts";

export interface StageJob {
  /** Shown in progress messages, e.g. "PlaNet seed 1". */
  label: string;
  /** URL of the module exporting the stage function (`new URL("./x.ts", import.meta.url)`). */
  moduleUrl: string | URL;
  exportName: string;
  /** Structured-cloneable arguments (plain objects, arrays, numbers, strings). */
  args: unknown;
  /**
   * Indices of earlier jobs in the same list that must finish before this one starts. A worker
   * takes the first job whose prerequisites are done, so a later seed's first stage can overlap
   * an earlier seed's last one instead of a core idling at the end of each level.
   */
  after?: readonly number[];
  /**
   * Rough relative cost (default 1), so the folded progress, and the ETA shown from it, follow
   * time rather than the count of jobs when some jobs take far longer than others.
   */
  weight?: number;
}

export interface StagePoolOptions {
  /** Default: one per core. 1 runs the jobs here, in order, without workers. */
  workers?: number;
  onProgress?: (progress: Progress) => void;
  /** Stops the workers; jobs already written to disk stay there. */
  signal?: AbortSignal;
  /** Name of the folded progress stage (default "N stages on W workers"). */
  stageName?: string;
}

/** Messages between the pool and a stage worker. */
export type ToStageWorker = { kind: "run"; moduleUrl: string; exportName: string; args: unknown };
export type FromStageWorker =
  | { kind: "progress"; progress: Progress }
  | { kind: "done" }
  | { kind: "error"; message: string; userError: boolean };

type StageFunction = (args: unknown, report: (progress: Progress) => void) => Promise<void>;

/** Imports `moduleUrl` and returns its `exportName`, or says clearly what is wrong. */
export async function loadStageFunction(
  moduleUrl: string,
  exportName: string,
): Promise<StageFunction> {
  const module = await import(moduleUrl);
  const fn = module[exportName];
  if (typeof fn !== "function") {
    throw new Error(`${moduleUrl} has no exported function ${exportName}`);
  }
  return fn as StageFunction;
}

/** Runs every job once; rejects with the first job's error (the other workers are stopped). */
export async function runStageJobs(
  jobs: readonly StageJob[],
  options: StagePoolOptions = {},
): Promise<void> {
  if (jobs.length === 0) return;
  checkPrerequisites(jobs);
  const workers = Math.min(options.workers ?? availableCores(), jobs.length);
  if (!Number.isInteger(workers) || workers < 1) {
    throw new RangeError(`runStageJobs: workers must be a positive integer, got ${workers}`);
  }
  const report = options.onProgress ?? (() => {});
  const stageName = options.stageName ?? `${jobs.length} stages on ${workers} worker(s)`;
  const fractions = new Float64Array(jobs.length);
  // Done is counted in jobs (the total stays jobs.length), each job's share scaled by its weight.
  const weights = jobs.map((job) => Math.max(0, job.weight ?? 1));
  const weightSum = weights.reduce((sum, w) => sum + w, 0);
  const scale = weightSum > 0 ? jobs.length / weightSum : 0;
  const fold = (index: number, progress: Progress) => {
    if (progress.total > 0) fractions[index] = Math.min(1, progress.done / progress.total);
    report({
      stage: stageName,
      done: weightSum > 0
        ? Math.min(jobs.length, fractions.reduce((sum, f, i) => sum + f * weights[i], 0) * scale)
        : fractions.reduce((sum, f) => sum + f, 0),
      total: jobs.length,
      message: `${jobs[index].label}: ${progress.message ?? progress.stage}`,
    });
  };

  if (workers === 1) {
    for (let i = 0; i < jobs.length; i++) {
      if (options.signal?.aborted) throw new InterruptedError(`${jobs[i].label}: interrupted`);
      const fn = await loadStageFunction(jobs[i].moduleUrl.toString(), jobs[i].exportName);
      try {
        await fn(jobs[i].args, (progress) => fold(i, progress));
      } catch (error) {
        if (error instanceof UserError) throw new UserError(`${jobs[i].label}: ${error.message}`);
        throw error;
      }
      fold(i, { stage: jobs[i].label, done: 1, total: 1, message: "done" });
    }
    return;
  }

  if (options.signal?.aborted) throw new InterruptedError("interrupted before the stages ran");
  const pool: Worker[] = [];
  let failure: Error | null = null;
  const stopAll = () => {
    for (const worker of pool) worker.terminate();
  };
  const onAbort = () => {
    failure ??= new InterruptedError("interrupted; finished stages are kept on disk");
    stopAll();
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const restoreBlasThreads = shareBlasThreads(workers);
  try {
    await new Promise<void>((resolve, reject) => {
      let running = 0;
      const started = new Uint8Array(jobs.length);
      const finished = new Uint8Array(jobs.length);
      // Workers with nothing ready to run wait here until a prerequisite finishes.
      const waiting: Worker[] = [];
      const launch = (worker: Worker) => {
        if (failure) return;
        const index = nextReadyJob(jobs, started, finished);
        if (index < 0) {
          if (started.every((s) => s === 1)) {
            worker.terminate();
            if (running === 0) resolve();
          } else {
            waiting.push(worker);
          }
          return;
        }
        started[index] = 1;
        running++;
        worker.onmessage = (event: MessageEvent<FromStageWorker>) => {
          const message = event.data;
          if (message.kind === "progress") {
            fold(index, message.progress);
          } else if (message.kind === "done") {
            running--;
            finished[index] = 1;
            fractions[index] = 1;
            fold(index, { stage: jobs[index].label, done: 1, total: 1, message: "done" });
            for (const idle of waiting.splice(0)) launch(idle);
            launch(worker);
          } else {
            const text = `${jobs[index].label}: ${message.message}`;
            failure ??= message.userError ? new UserError(text) : new Error(text);
            stopAll();
            reject(failure);
          }
        };
        worker.onerror = (event: ErrorEvent) => {
          event.preventDefault();
          failure ??= new Error(`${jobs[index].label}: ${event.message}`);
          stopAll();
          reject(failure);
        };
        const run: ToStageWorker = {
          kind: "run",
          moduleUrl: jobs[index].moduleUrl.toString(),
          exportName: jobs[index].exportName,
          args: jobs[index].args,
        };
        worker.postMessage(run);
      };
      for (let w = 0; w < workers; w++) {
        const worker = new Worker(new URL("./stage_worker.ts", import.meta.url).href, {
          type: "module",
        });
        pool.push(worker);
        launch(worker);
      }
      options.signal?.addEventListener("abort", () => reject(failure), { once: true });
    });
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    stopAll();
    restoreBlasThreads();
  }
}

/**
 * An experiment's stages as the pool runs them: nothing to do with one worker (the experiment
 * then runs each stage itself, in order), else every job in workers, one per core.
 */
export async function runExperimentStages(
  jobs: readonly StageJob[],
  options: Pick<StagePoolOptions, "workers" | "onProgress" | "signal">,
): Promise<void> {
  const workers = options.workers ?? availableCores();
  if (workers <= 1) return;
  await runStageJobs(jobs, { ...options, workers });
}

/** Groups that run one after another, as one list: each job waits for the whole group before. */
export function chainGroups(groups: readonly (readonly Omit<StageJob, "after">[])[]): StageJob[] {
  const jobs: StageJob[] = [];
  let previous: number[] = [];
  for (const group of groups) {
    const current: number[] = [];
    for (const job of group) {
      current.push(jobs.length);
      jobs.push(previous.length ? { ...job, after: previous } : { ...job });
    }
    previous = current;
  }
  return jobs;
}

/**
 * Each job's level in the graph of prerequisites: 0 for a job that waits for nothing, else one
 * more than the deepest job it waits for. Jobs of one level can all run at once.
 */
export function stageLevels(jobs: readonly StageJob[]): number[] {
  checkPrerequisites(jobs);
  const levels: number[] = [];
  for (const job of jobs) {
    levels.push(Math.max(-1, ...(job.after ?? []).map((j) => levels[j])) + 1);
  }
  return levels;
}

/** The first job not yet started whose prerequisites have all finished, or -1. */
function nextReadyJob(
  jobs: readonly StageJob[],
  started: Uint8Array,
  finished: Uint8Array,
): number {
  for (let i = 0; i < jobs.length; i++) {
    if (started[i]) continue;
    if ((jobs[i].after ?? []).every((j) => finished[j] === 1)) return i;
  }
  return -1;
}

/** Prerequisites must name earlier jobs, which also rules out cycles. */
function checkPrerequisites(jobs: readonly StageJob[]): void {
  jobs.forEach((job, i) => {
    for (const j of job.after ?? []) {
      if (!Number.isInteger(j) || j < 0 || j >= i) {
        throw new RangeError(
          `runStageJobs: "${job.label}" (job ${i}) may only wait for earlier jobs, got ${j}`,
        );
      }
    }
  });
}
