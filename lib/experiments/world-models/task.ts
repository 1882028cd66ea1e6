/**
 * The skeleton both World Models experiments share (Ha & Schmidhuber 2018, sections 3 and 5):
 * per seed, the world model (random rollouts, V, z sequences, M), then one controller stage per
 * variant (CarRacing: what C sees; TakeCover: the dream's temperature), then a last stage on the
 * first seed (media, iterative training), then the gathered metrics, claims and figures. A task
 * fills in its environment, its controller stages and its claims and figures; the rest is here.
 *
 * Stages run in the stage pool (lib/experiments/stage_pool.ts), one worker per core: every stage
 * saves its outcome under the run's data folder (lib/experiments/world-models/store.ts) and the
 * gathering code reads them back, so results never depend on how many workers ran them, and an
 * interrupted run resumes from the stages already on disk.
 */
import { REPO_ROOT } from "../../io.ts";
import { throwIfInterrupted } from "../../errors.ts";
import { backend, describeBackend } from "../../tensor/mod.ts";
import type { Progress } from "../../progress.ts";
import type { Claim, Experiment, ExperimentResult, RunOptions } from "../types.ts";
import { runStageJobs, type StageJob } from "../stage_pool.ts";
import { type LoadedStage, StageStore } from "./store.ts";
import {
  type MemoryConfig,
  prepareWorldModel,
  type RolloutsConfig,
  StageClock,
  type TaskAdapter,
  type VisionConfig,
  type WorldModel,
} from "./stages.ts";
import type { VisionLosses } from "./vision.ts";
import type { SurveyPlace } from "../taxonomy.ts";

/** The config fields every World Models task has. */
export interface WorldModelsConfig {
  seeds: number[];
  rollouts: RolloutsConfig;
  vision: VisionConfig;
  memory: MemoryConfig;
}

/** M's fixed architecture choices for a task (done head, episode-start input). */
export interface MemoryShape {
  predictDone: boolean;
  episodeStartInput: boolean;
  doneLossWeight: number;
}

/** What a stage hands to the store: named arrays and JSON metadata. */
export interface StageOutput {
  arrays: Record<string, Float32Array | Uint8Array | Int32Array>;
  meta: Record<string, unknown>;
}

/** Everything a controller or finishing stage of one seed works with. */
export interface SeedContext<Config> {
  config: Config;
  seed: number;
  world: WorldModel;
  store: StageStore;
  dataDir: string;
  report: (progress: Progress) => void;
  signal?: AbortSignal;
}

/** What the world-model stage of a seed leaves for the gathering code. */
export interface WorldSummary {
  randomReturns: number[];
  visionCurve: VisionLosses[];
  memoryCurve: number[];
  /** Seconds of each step of the world model (rollouts, V, encoding, M). */
  stepSeconds: Record<string, number>;
  /** The steps that were loaded from disk rather than computed in that stage. */
  resumed: string[];
  /** What the task measured of its world model (`WorldModelsTask.describeWorld`). */
  description: Record<string, unknown>;
}

/** One seed's stages, loaded back from the store. */
export interface SeedRecord {
  seed: number;
  world: WorldSummary;
  controllers: Map<string, LoadedStage>;
  /** The finishing stage, on the first seed only. */
  finish: LoadedStage | null;
}

export interface WorldModelsTask<Config extends WorldModelsConfig, Metrics> {
  name: string;
  paper: string;
  summary: string;
  notebook: string;
  taxonomy: SurveyPlace;
  configSchema: Experiment<Config, Metrics>["configSchema"];
  budgets: Experiment<Config, Metrics>["budgets"];
  expectedSeconds: Experiment<Config, Metrics>["expectedSeconds"];
  adapter: TaskAdapter;
  /** URL of the task's module, which exports `runStage = worldModelsStageRunner(task)`. */
  moduleUrl: string;
  memoryShape(config: Config): MemoryShape;
  /** Measurements of a seed's trained world model, kept with its summary (e.g. M's deaths). */
  describeWorld?(context: SeedContext<Config>): Promise<Record<string, unknown>>;
  /** The config fields those measurements depend on. */
  describeFields?(config: Config): Record<string, unknown>;
  /** The controller stages of one seed, e.g. what C sees or the dream's temperature. */
  controllerIds(config: Config): string[];
  /** Shown in progress and stage timings, e.g. "evolve C (zh)". */
  controllerLabel(id: string): string;
  /** The config fields a controller stage depends on (its stage file is refused otherwise). */
  controllerFields(config: Config, id: string): Record<string, unknown>;
  runController(context: SeedContext<Config>, id: string): Promise<StageOutput>;
  /** A last stage on the first seed, after its controllers (media, iterative training). */
  finish?: {
    label: string;
    fields(config: Config): Record<string, unknown>;
    run(context: SeedContext<Config>, controllers: Map<string, LoadedStage>): Promise<StageOutput>;
  };
  /**
   * The metrics of a run from its seeds' stages (may run cheap environment episodes); `resumed`
   * names the stages that were on disk before the run.
   */
  summarize(config: Config, seeds: SeedRecord[], resumed: string[]): Promise<Metrics>;
  claims(metrics: Metrics, config: Config): Claim[];
  drawFigures(result: ExperimentResult<Metrics>, resDir: string): Promise<string[]>;
}

/** One stage of a World Models run, as sent to a stage worker. */
export type WorldModelsStage =
  | { kind: "world"; seed: number }
  | { kind: "controller"; seed: number; id: string }
  | { kind: "finish"; seed: number };

export interface WorldModelsStageArgs {
  config: unknown;
  dataDir: string;
  stage: WorldModelsStage;
}

const CONTROLLER_PREFIX = "controller-";
const SUMMARY_STAGE = "world-summary";

function seedStore(dataDir: string, seed: number, clock?: StageClock): StageStore {
  return new StageStore(`${dataDir}/seed-${seed}`, clock);
}

function worldFields<Config extends WorldModelsConfig>(
  task: WorldModelsTask<Config, unknown>,
  config: Config,
  seed: number,
): Record<string, unknown> {
  return {
    seed,
    rollouts: config.rollouts,
    vision: config.vision,
    memory: config.memory,
    task: task.adapter.name,
    shape: task.memoryShape(config),
  };
}

function prepare<Config extends WorldModelsConfig>(
  task: WorldModelsTask<Config, unknown>,
  config: Config,
  seed: number,
  store: StageStore,
  clock: StageClock,
  report: (progress: Progress) => void,
  signal?: AbortSignal,
): Promise<WorldModel> {
  return prepareWorldModel({
    task: task.adapter,
    store,
    seed,
    rollouts: config.rollouts,
    vision: config.vision,
    memory: config.memory,
    memoryShape: task.memoryShape(config),
    clock,
    onProgress: report,
    signal,
  });
}

/** The stage file a stage writes: its name in the seed's folder and the fields it hashes. */
function stageFile<Config extends WorldModelsConfig>(
  task: WorldModelsTask<Config, unknown>,
  config: Config,
  stage: WorldModelsStage,
): { name: string; fields: Record<string, unknown> } {
  const world = worldFields(task, config, stage.seed);
  if (stage.kind === "world") {
    return { name: SUMMARY_STAGE, fields: { ...world, describe: task.describeFields?.(config) } };
  }
  if (stage.kind === "controller") {
    return {
      name: `${CONTROLLER_PREFIX}${stage.id}`,
      fields: { world, controller: task.controllerFields(config, stage.id) },
    };
  }
  return { name: "finish", fields: { world, finish: task.finish!.fields(config) } };
}

/** Runs one stage; does nothing when its outcome is already on disk. */
export async function runWorldModelsStage<Config extends WorldModelsConfig>(
  task: WorldModelsTask<Config, unknown>,
  args: WorldModelsStageArgs,
  report: (progress: Progress) => void,
  signal?: AbortSignal,
): Promise<void> {
  const config = args.config as Config;
  const { stage } = args;
  const clock = new StageClock();
  const store = seedStore(args.dataDir, stage.seed, clock);
  const { name: stageName, fields } = stageFile(task, config, stage);
  if (await store.exists(stageName, fields)) return;

  const world = await prepare(task, config, stage.seed, store, clock, report, signal);
  try {
    throwIfInterrupted(signal);
    const context: SeedContext<Config> = {
      config,
      seed: stage.seed,
      world,
      store,
      dataDir: args.dataDir,
      report,
      signal,
    };
    if (stage.kind === "world") {
      const summary: WorldSummary = {
        randomReturns: world.randomReturns,
        visionCurve: world.visionCurve,
        memoryCurve: world.memoryCurve,
        stepSeconds: { ...clock.seconds },
        resumed: [...clock.resumed],
        description: await task.describeWorld?.(context) ?? {},
      };
      await store.save(stageName, fields, {}, { ...summary });
      return;
    }
    const started = performance.now();
    const output = stage.kind === "controller"
      ? await task.runController(context, stage.id)
      : await task.finish!.run(context, await loadControllers(task, config, stage.seed, store));
    throwIfInterrupted(signal);
    const seconds = (performance.now() - started) / 1000;
    // The stage's own seconds, not the world model's it loaded first.
    await new StageStore(store.dir).save(stageName, fields, output.arrays, {
      ...output.meta,
      seconds,
    });
  } finally {
    world.vision.dispose();
    world.model.dispose();
  }
}

async function loadControllers<Config extends WorldModelsConfig>(
  task: WorldModelsTask<Config, unknown>,
  config: Config,
  seed: number,
  store: StageStore,
): Promise<Map<string, LoadedStage>> {
  const fieldsOfWorld = worldFields(task, config, seed);
  const controllers = new Map<string, LoadedStage>();
  for (const id of task.controllerIds(config)) {
    const fields = { world: fieldsOfWorld, controller: task.controllerFields(config, id) };
    const loaded = await store.load(`${CONTROLLER_PREFIX}${id}`, fields);
    if (!loaded) throw new Error(`${store.dir}: the ${task.controllerLabel(id)} stage is missing`);
    controllers.set(id, loaded);
  }
  return controllers;
}

/** The function a task module exports as `runStage`, for the stage workers. */
export function worldModelsStageRunner<Config extends WorldModelsConfig>(
  task: WorldModelsTask<Config, unknown>,
): (args: WorldModelsStageArgs, report: (progress: Progress) => void) => Promise<void> {
  return (args, report) => runWorldModelsStage(task, args, report);
}

/** The stages of a run, level by level: a level's stages need only earlier levels. */
export function worldModelsStages<Config extends WorldModelsConfig>(
  task: WorldModelsTask<Config, unknown>,
  config: Config,
): WorldModelsStage[][] {
  const levels: WorldModelsStage[][] = [
    config.seeds.map((seed) => ({ kind: "world", seed })),
    config.seeds.flatMap((seed) =>
      task.controllerIds(config).map((id) => ({ kind: "controller" as const, seed, id }))
    ),
  ];
  if (task.finish) levels.push([{ kind: "finish", seed: config.seeds[0] }]);
  return levels;
}

/**
 * The stages as one list for the stage pool, each with the stages it needs: a controller needs
 * its seed's world model, the finish stage its seed's controllers. The finish stage comes right
 * after its seed's controllers, so it overlaps the other seeds' evolution rather than running
 * alone at the end.
 */
export function stageSchedule(
  levels: WorldModelsStage[][],
): { stage: WorldModelsStage; after: number[] }[] {
  const [worlds, controllers, finishes = []] = levels;
  const schedule: { stage: WorldModelsStage; after: number[] }[] = [];
  const worldIndex = new Map<number, number>();
  for (const stage of worlds) {
    worldIndex.set(stage.seed, schedule.length);
    schedule.push({ stage, after: [] });
  }
  const seeds = [...new Set(controllers.map((stage) => stage.seed))];
  for (const seed of seeds) {
    const mine: number[] = [];
    for (const stage of controllers.filter((c) => c.seed === seed)) {
      mine.push(schedule.length);
      schedule.push({ stage, after: [worldIndex.get(seed)!] });
    }
    for (const stage of finishes.filter((f) => f.seed === seed)) {
      schedule.push({ stage, after: [...mine, worldIndex.get(seed)!] });
    }
  }
  return schedule;
}

/** The stages of a run as jobs of the stage pool, in the order of `stageSchedule`. */
export function worldModelsStageJobs<Config extends WorldModelsConfig>(
  task: WorldModelsTask<Config, unknown>,
  config: Config,
  dataDir: string,
): StageJob[] {
  const generic = task as unknown as WorldModelsTask<never, unknown>;
  return stageSchedule(worldModelsStages(task, config)).map(({ stage, after }) => ({
    label: stageLabel(generic, stage),
    moduleUrl: task.moduleUrl,
    exportName: "runStage",
    args: { config, dataDir, stage } satisfies WorldModelsStageArgs,
    after,
  }));
}

function stageLabel(task: WorldModelsTask<never, unknown>, stage: WorldModelsStage): string {
  if (stage.kind === "world") return `world model, seed ${stage.seed}`;
  if (stage.kind === "controller") return `${task.controllerLabel(stage.id)}, seed ${stage.seed}`;
  return `${task.finish!.label}, seed ${stage.seed}`;
}

function addSeconds(total: Record<string, number>, name: string, seconds: unknown): void {
  if (typeof seconds !== "number") return;
  total[name] = Math.round(((total[name] ?? 0) + seconds) * 100) / 100;
}

export async function runWorldModelsExperiment<Config extends WorldModelsConfig, Metrics>(
  task: WorldModelsTask<Config, Metrics>,
  config: Config,
  options: RunOptions = {},
): Promise<ExperimentResult<Metrics>> {
  const started = performance.now();
  const dataDir = options.dataDir ?? `${REPO_ROOT}/data/${task.name}`;
  const report = options.onProgress ?? (() => {});
  const generic = task as unknown as WorldModelsTask<never, unknown>;
  const levels = worldModelsStages(task, config);
  const onDisk = new Set<string>();
  for (const stage of levels.flat()) {
    const { name, fields } = stageFile(task, config, stage);
    if (await seedStore(dataDir, stage.seed).exists(name, fields)) {
      onDisk.add(stageLabel(generic, stage));
    }
  }
  await runStageJobs(worldModelsStageJobs(task, config, dataDir), {
    workers: options.workers,
    onProgress: report,
    signal: options.signal,
  });
  throwIfInterrupted(options.signal);

  // Gather: every stage is on disk now.
  const stageSeconds: Record<string, number> = {};
  const resumed = new Set<string>();
  const seeds: SeedRecord[] = [];
  for (const seed of config.seeds) {
    const store = seedStore(dataDir, seed);
    const fieldsOfWorld = worldFields(task, config, seed);
    const summary = await store.load(
      SUMMARY_STAGE,
      stageFile(task, config, { kind: "world", seed }).fields,
    );
    if (!summary) throw new Error(`${store.dir}: the world model stage is missing`);
    const world = summary.meta as unknown as WorldSummary;
    for (const [name, seconds] of Object.entries(world.stepSeconds)) {
      addSeconds(stageSeconds, name, seconds);
    }
    const worldWasOnDisk = onDisk.has(stageLabel(generic, { kind: "world", seed }));
    for (const name of worldWasOnDisk ? Object.keys(world.stepSeconds) : world.resumed) {
      resumed.add(name);
    }
    const controllers = await loadControllers(task, config, seed, store);
    for (const [id, loaded] of controllers) {
      addSeconds(stageSeconds, task.controllerLabel(id), loaded.meta.seconds);
      if (onDisk.has(stageLabel(generic, { kind: "controller", seed, id }))) {
        resumed.add(task.controllerLabel(id));
      }
    }
    let finish: LoadedStage | null = null;
    if (task.finish && seed === config.seeds[0]) {
      finish = await store.load("finish", {
        world: fieldsOfWorld,
        finish: task.finish.fields(config),
      });
      if (!finish) throw new Error(`${store.dir}: the ${task.finish.label} stage is missing`);
      addSeconds(stageSeconds, task.finish.label, finish.meta.seconds);
      if (onDisk.has(stageLabel(generic, { kind: "finish", seed }))) resumed.add(task.finish.label);
    }
    seeds.push({ seed, world, controllers, finish });
  }
  const metrics = await task.summarize(config, seeds, [...resumed]);
  return {
    experiment: task.name,
    paper: task.paper,
    budget: options.budget ?? "custom",
    command: "",
    seeds: config.seeds,
    backend: describeBackend(backend),
    wallSeconds: (performance.now() - started) / 1000,
    claims: task.claims(metrics, config),
    metrics,
    stageSeconds,
  };
}

/** A World Models task as a registered experiment. */
export function worldModelsExperiment<Config extends WorldModelsConfig, Metrics>(
  task: WorldModelsTask<Config, Metrics>,
): Experiment<Config, Metrics> {
  return {
    name: task.name,
    paper: task.paper,
    summary: task.summary,
    notebook: task.notebook,
    taxonomy: task.taxonomy,
    configSchema: task.configSchema,
    budgets: task.budgets,
    expectedSeconds: task.expectedSeconds,
    run: (config, options) => runWorldModelsExperiment(task, config, options),
    stageJobs: (config, dataDir) => worldModelsStageJobs(task, config, dataDir),
    drawFigures: (result, resDir) => task.drawFigures(result, resDir),
  };
}

/**
 * Copies a run's media (GIFs, PNGs written under its data folder; paths relative to the
 * repository root when inside it) next to its figures.
 */
export async function copyMedia(media: readonly string[], resDir: string): Promise<string[]> {
  const written: string[] = [];
  for (const path of media) {
    const target = `${resDir}/${path.split("/").pop()}`;
    await Deno.mkdir(resDir, { recursive: true });
    await Deno.copyFile(path.startsWith("/") ? path : `${REPO_ROOT}/${path}`, target);
    written.push(target);
  }
  return written;
}
