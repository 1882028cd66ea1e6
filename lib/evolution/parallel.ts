/**
 * Fitness evaluation spread over all cores, for evolution strategies such as the CMA-ES of the
 * World Models paper (Ha & Schmidhuber 2018, appendix: a population of 64, each candidate
 * scored by the mean return of 16 rollouts, evaluated on many CPU workers).
 *
 * The caller names a fitness module by URL; it exports
 *
 *   export function fitness(candidate: Float64Array, task: FitnessTask): number | Promise<number>
 *   export function setup(payload: unknown): void | Promise<void>   // optional, once per worker
 *
 * `FitnessPool` loads it in one Deno worker per core (lib/evolution/fitness_worker.ts hosts it),
 * hands out candidates one at a time to whichever worker is free, and returns the fitnesses in
 * the candidates' order. A candidate's fitness may depend only on the candidate and its task
 * (index, seed, generation), never on which worker ran it, so `workers: 1` (run in this thread,
 * without workers) gives identical numbers: that is the sequential fallback and the reference.
 */
import { shareBlasThreads } from "../tensor/blas.ts";
import { availableCores } from "../cores.ts";

/** What a fitness function learns about the candidate it scores. */
export interface FitnessTask {
  /** The candidate's position in the population. */
  index: number;
  /** The seed for this candidate's rollouts. */
  seed: number;
  /** Generation number given by the caller (0 when not given). */
  generation: number;
}

/** The shape of a fitness module. */
export interface FitnessModule {
  fitness(candidate: Float64Array, task: FitnessTask): number | Promise<number>;
  setup?(payload: unknown): void | Promise<void>;
}

export interface FitnessPoolOptions {
  /** URL of the fitness module (use `new URL("./my_fitness.ts", import.meta.url)`). */
  moduleUrl: string | URL;
  /** Workers to run; default one per core. 1 evaluates in this thread, without workers. */
  workers?: number;
  /** Sent once to each worker's `setup` (structured-cloneable: numbers, typed arrays, ...). */
  setupPayload?: unknown;
}

export interface EvaluateOptions {
  /** One seed per candidate, or one number from which candidate i gets `seeds + i`. */
  seeds?: number | readonly number[];
  generation?: number;
}

/** Messages between the pool and its workers. */
export type ToWorker =
  | { kind: "init"; moduleUrl: string; setupPayload: unknown }
  | { kind: "evaluate"; job: number; candidate: Float64Array; task: FitnessTask };
export type FromWorker =
  | { kind: "ready" }
  | { kind: "result"; job: number; fitness: number }
  | { kind: "error"; job: number; message: string };

/** Re-exported where the stage pool and the fitness pool have always found it. */
export { availableCores };

export class FitnessPool {
  readonly workerCount: number;
  readonly moduleUrl: string;
  readonly #setupPayload: unknown;
  #workers: Worker[] = [];
  #local: FitnessModule | null = null;
  #started: Promise<void> | null = null;
  #closed = false;
  #busy = false;
  /** Restores the BLAS thread count the workers' share replaced. */
  #restoreBlasThreads: () => void = () => {};

  constructor(options: FitnessPoolOptions) {
    const workers = options.workers ?? availableCores();
    if (!Number.isInteger(workers) || workers < 1) {
      throw new RangeError(`FitnessPool: workers must be a positive integer, got ${workers}`);
    }
    this.workerCount = workers;
    this.moduleUrl = options.moduleUrl.toString();
    this.#setupPayload = options.setupPayload;
  }

  /** Whether evaluation runs in this thread (workers: 1). */
  get sequential(): boolean {
    return this.workerCount === 1;
  }

  /**
   * Fitness of every candidate, in the candidates' order. Rejects with the fitness module's
   * error message if any evaluation throws.
   */
  async evaluate(
    candidates: readonly Float64Array[],
    options: EvaluateOptions = {},
  ): Promise<Float64Array> {
    if (this.#closed) throw new Error("FitnessPool.evaluate called after close()");
    if (this.#busy) throw new Error("FitnessPool.evaluate called while another is running");
    const seeds = options.seeds ?? 0;
    if (typeof seeds !== "number" && seeds.length !== candidates.length) {
      throw new RangeError(
        `FitnessPool.evaluate: ${seeds.length} seeds for ${candidates.length} candidates`,
      );
    }
    const taskOf = (index: number): FitnessTask => ({
      index,
      seed: typeof seeds === "number" ? seeds + index : seeds[index],
      generation: options.generation ?? 0,
    });
    this.#busy = true;
    try {
      await this.#start();
      const results = new Float64Array(candidates.length);
      if (this.sequential) {
        for (let i = 0; i < candidates.length; i++) {
          results[i] = checkFitness(await this.#local!.fitness(candidates[i], taskOf(i)), i);
        }
        return results;
      }
      await this.#dispatch(candidates, taskOf, results);
      return results;
    } finally {
      this.#busy = false;
    }
  }

  /** Stops the workers. */
  close(): void {
    this.#closed = true;
    for (const worker of this.#workers) worker.terminate();
    this.#workers = [];
    this.#restoreBlasThreads();
    this.#restoreBlasThreads = () => {};
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #start(): Promise<void> {
    this.#started ??= this.sequential ? this.#startLocal() : this.#startWorkers();
    return this.#started;
  }

  async #startLocal(): Promise<void> {
    const module = await import(this.moduleUrl) as Partial<FitnessModule>;
    this.#local = checkModule(module, this.moduleUrl);
    await this.#local.setup?.(this.#setupPayload);
  }

  async #startWorkers(): Promise<void> {
    this.#restoreBlasThreads = shareBlasThreads(this.workerCount);
    const hostUrl = new URL("./fitness_worker.ts", import.meta.url).href;
    const ready: Promise<void>[] = [];
    for (let w = 0; w < this.workerCount; w++) {
      const worker = new Worker(hostUrl, { type: "module" });
      this.#workers.push(worker);
      ready.push(
        new Promise<void>((resolve, reject) => {
          worker.onmessage = (event: MessageEvent<FromWorker>) => {
            if (event.data.kind === "ready") resolve();
            else if (event.data.kind === "error") reject(new Error(event.data.message));
          };
          worker.onerror = (event: ErrorEvent) => {
            event.preventDefault();
            reject(new Error(`fitness worker failed to start: ${event.message}`));
          };
        }),
      );
      const init: ToWorker = {
        kind: "init",
        moduleUrl: this.moduleUrl,
        setupPayload: this.#setupPayload,
      };
      worker.postMessage(init);
    }
    try {
      await Promise.all(ready);
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Hands out candidates one at a time to whichever worker is free. */
  #dispatch(
    candidates: readonly Float64Array[],
    taskOf: (index: number) => FitnessTask,
    results: Float64Array,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let next = 0;
      let finished = 0;
      let failed = false;
      if (candidates.length === 0) {
        resolve();
        return;
      }
      const send = (worker: Worker) => {
        if (next >= candidates.length || failed) return;
        const job = next++;
        const message: ToWorker = {
          kind: "evaluate",
          job,
          candidate: candidates[job],
          task: taskOf(job),
        };
        worker.postMessage(message);
      };
      for (const worker of this.#workers) {
        worker.onmessage = (event: MessageEvent<FromWorker>) => {
          const data = event.data;
          if (failed) return;
          if (data.kind === "error") {
            failed = true;
            reject(new Error(`fitness of candidate ${data.job} failed: ${data.message}`));
            return;
          }
          if (data.kind !== "result") return;
          try {
            results[data.job] = checkFitness(data.fitness, data.job);
          } catch (error) {
            failed = true;
            reject(error);
            return;
          }
          if (++finished === candidates.length) resolve();
          else send(worker);
        };
        worker.onerror = (event: ErrorEvent) => {
          event.preventDefault();
          if (failed) return;
          failed = true;
          reject(new Error(`fitness worker crashed: ${event.message}`));
        };
        send(worker);
      }
    });
  }
}

/** Checks that a loaded module has a `fitness` function (and `setup`, if any, is one). */
export function checkModule(module: Partial<FitnessModule>, url: string): FitnessModule {
  if (typeof module.fitness !== "function") {
    throw new TypeError(`fitness module ${url} does not export a function named "fitness"`);
  }
  if (module.setup !== undefined && typeof module.setup !== "function") {
    throw new TypeError(`fitness module ${url} exports "setup", but not as a function`);
  }
  return module as FitnessModule;
}

function checkFitness(value: unknown, index: number): number {
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(`fitness of candidate ${index} is ${String(value)}, not a number`);
  }
  return value;
}
