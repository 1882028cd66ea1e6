/**
 * A PlaNet task as a registered experiment (Hafner et al. 2019, Section 5): its stages run, in
 * workers where they are independent, then gathered into the metrics, claims and figures.
 */
import { backend, describeBackend } from "../../tensor/mod.ts";
import { REPO_ROOT } from "../../io.ts";
import { type EpisodeRecord } from "../../agents/planet.ts";
import { mean, meanCurve, stdCurve } from "../stats.ts";
import type { Experiment, ExperimentResult, Progress, RunOptions } from "../types.ts";
import { runExperimentStages, type StageJob } from "../stage_pool.ts";
import {
  type PlanetExperimentConfig,
  planetExperimentConfig,
  type PlanetMetrics,
  type PlanetTask,
  type StepsToReturn,
} from "./config.ts";
import {
  breathe,
  type CheckpointReturns,
  firstReaching,
  type PlanetStage,
  type PlanetStageArgs,
  planetStages,
  runPlanetStage,
  type SacRun,
  stageLabel,
} from "./stages.ts";
import { planetClaims } from "./claims.ts";
import { drawPlanetFigures } from "./figures.ts";
import { curveFrom } from "../shared_tasks.ts";

/** A PlaNet task with its budgets as a registered experiment (both share notebook 03). */
export function planetExperiment(
  task: PlanetTask,
  budgets: Experiment<PlanetExperimentConfig, PlanetMetrics>["budgets"],
  details: Pick<Experiment<PlanetExperimentConfig, PlanetMetrics>, "summary" | "expectedSeconds">,
): Experiment<PlanetExperimentConfig, PlanetMetrics> {
  return {
    name: task.name,
    paper: task.paper,
    notebook: "notebooks/03-planet.ipynb",
    // PlaNet plans with CEM from the current belief at every decision (Hafner et al. 2019,
    // Section 4); the same place for every PlaNet task.
    taxonomy: {
      model: "learned",
      modelPredicts: "next latent state, observation and reward (RSSM)",
      representation: "latent state",
      planningStart: "current state",
      planningBudget: "CEM candidates x 12-step horizon x iterations per decision",
      search: "random shooting / CEM",
      serves: "acting",
    },
    configSchema: planetExperimentConfig,
    budgets,
    ...details,
    run: (config, options) => runPlanetExperiment(task, config, options),
    stageJobs: (config, dataDir) => planetStageJobs(task, config, dataDir),
    drawFigures: drawPlanetFigures,
    // Training-episode returns of both agents, on the environment's own id.
    sharedTasks: (result) => {
      const task_ = task.makeEnv().id;
      return [
        ...curveFrom(task_, "PlaNet", "training-episode return", result.metrics.planet),
        ...curveFrom(task_, "SAC", "training-episode return", result.metrics.sac),
      ];
    },
  };
}

/** The stages of a PlaNet task; a seed's checkpoint evaluation waits for that seed's PlaNet run. */
export function planetStageJobs(
  task: PlanetTask,
  config: PlanetExperimentConfig,
  dataDir: string,
): StageJob[] {
  const [independent, dependent] = planetStages(config);
  const job = (stage: PlanetStage, after?: number[]): StageJob => ({
    label: stageLabel(stage),
    moduleUrl: task.stageModule,
    exportName: "runStage",
    args: { config, dataDir, stage } satisfies PlanetStageArgs,
    ...(after ? { after } : {}),
  });
  const planetRun = (seed: number) =>
    independent.findIndex((stage) => stage.kind === "planet" && stage.seed === seed);
  return [
    ...independent.map((stage) => job(stage)),
    ...dependent.map((stage) => job(stage, "seed" in stage ? [planetRun(stage.seed)] : [])),
  ];
}

export async function runPlanetExperiment(
  task: PlanetTask,
  config: PlanetExperimentConfig,
  options: RunOptions = {},
): Promise<ExperimentResult<PlanetMetrics>> {
  const started = performance.now();
  const dataDir = options.dataDir ?? `${REPO_ROOT}/data/${task.name}`;
  const report = options.onProgress ?? ((_: Progress) => {});
  const stageSeconds: Record<string, number> = {};
  const addSeconds = (name: string, seconds: number) => {
    stageSeconds[name] = Math.round(((stageSeconds[name] ?? 0) + seconds) * 100) / 100;
  };
  const repeat = config.planet.actionRepeat;
  const run = async <T>(stage: PlanetStage, secondsKey: string): Promise<T> => {
    const { value, seconds } = await runPlanetStage(
      task,
      { config, dataDir, stage },
      report,
      options.signal,
    );
    addSeconds(secondsKey, seconds);
    await breathe();
    return value as T;
  };

  // The stages run in workers, one per core, writing their files; the sequential code below
  // then reads every finished stage back (and runs here whatever a single worker left to do).
  await runExperimentStages(planetStageJobs(task, config, dataDir), {
    workers: options.workers,
    onProgress: report,
    signal: options.signal,
  });

  // 1. PlaNet per seed (resumes episode by episode from its own folder).
  const planetCurves: number[][] = [];
  let planetSteps: number[] = [];
  for (const seed of config.seeds) {
    const curve = await run<EpisodeRecord[]>({ kind: "planet", seed }, "planet");
    planetCurves.push(curve.map((e) => e.return));
    planetSteps = curve.map((e) => e.envSteps);
  }
  const totalEnvSteps = planetSteps.at(-1) ?? 0;

  // 2. SAC on the same environment (same episode length and action repeat), same env steps.
  const sacRuns: SacRun[] = [];
  for (const seed of config.seeds) sacRuns.push(await run<SacRun>({ kind: "sac", seed }, "sac"));

  // 3. CEM on the true simulator.
  const trueSimulator: PlanetMetrics["trueSimulator"] = config.trueSimulatorEpisodes > 0
    ? await run({ kind: "true-simulator" }, "true-simulator-cem")
    : null;

  // 4. Early against final model, and CEM against random shooting.
  let checkpoints: PlanetMetrics["checkpoints"] = null;
  if (config.evaluationEpisodes > 0) {
    const perSeed: CheckpointReturns[] = [];
    for (const seed of config.seeds) {
      perSeed.push(
        await run<CheckpointReturns>({ kind: "checkpoints", seed }, "checkpoint-planning"),
      );
    }
    checkpoints = {
      earlyEpisode: config.planet.seedEpisodes,
      finalEpisode: config.planet.seedEpisodes + config.planet.planningEpisodes,
      early: perSeed.flatMap((s) => s.early),
      late: perSeed.flatMap((s) => s.late),
      randomShooting: perSeed.flatMap((s) => s.randomShooting),
      modelEvaluations: config.planet.planner.candidates * config.planet.planner.iterations,
    };
  }

  // 5. Pixels: open-loop predictions and the cost of planning over frames.
  const pixels: PlanetMetrics["pixels"] = config.pixels
    ? await run({ kind: "pixels" }, "pixels")
    : null;

  const planetStd = stdCurve(planetCurves);
  const sacCurves = sacRuns.map((r) => r.returns);
  const sacSteps = sacRuns[0]?.steps ?? [];
  // A seed of SAC that never got there needed more than its whole run: a lower bound.
  const sacRunLength = sacSteps.at(-1) ?? totalEnvSteps;
  const reachAt = (threshold: number): StepsToReturn => {
    const planet = planetCurves.map((c) => firstReaching(planetSteps, c, threshold));
    const sac = sacRuns.map((r) => firstReaching(r.steps, r.returns, threshold));
    if (!planet.every((steps) => steps !== null)) {
      return { threshold, planet, sac, ratio: null, ratioIsLowerBound: false };
    }
    return {
      threshold,
      planet,
      sac,
      ratio: mean(sac.map((steps) => steps ?? sacRunLength)) / mean(planet as number[]),
      ratioIsLowerBound: sac.some((steps) => steps === null),
    };
  };
  const { threshold: _, ...atThreshold } = reachAt(config.returnThreshold);
  const sacEvaluationCurves = sacRuns.map((r) => r.evaluation.mean);
  const metrics: PlanetMetrics = {
    returnThreshold: config.returnThreshold,
    episodeSteps: config.episodeSteps,
    actionRepeat: repeat,
    planet: {
      envSteps: planetSteps,
      mean: meanCurve(planetCurves),
      std: planetStd,
      perSeed: planetCurves,
    },
    sac: {
      envSteps: sacSteps.slice(0, Math.min(...sacCurves.map((c) => c.length))),
      mean: meanCurve(sacCurves),
      std: stdCurve(sacCurves),
      perSeed: sacCurves,
    },
    sacEvaluation: {
      envSteps: sacRuns[0]?.evaluation.envSteps ?? [],
      mean: meanCurve(sacEvaluationCurves),
      std: stdCurve(sacEvaluationCurves),
    },
    stepsToThreshold: atThreshold,
    thresholdSweep: task.thresholdSweep.map(reachAt),
    finalReturn: {
      planet: planetCurves.map((c) => c.at(-1)!),
      sac: sacRuns.map((r) => {
        const index = r.steps.findLastIndex((steps) => steps <= totalEnvSteps);
        return index < 0 ? Number.NaN : r.returns[index];
      }),
    },
    sacLongRun: {
      envSteps: sacSteps.at(-1) ?? 0,
      returns: sacCurves.map((c) => c.at(-1) ?? Number.NaN),
    },
    trueSimulator,
    checkpoints,
    pixels,
    published: task.published,
  };
  return {
    experiment: task.name,
    paper: task.paper,
    budget: options.budget ?? "custom",
    command: "",
    seeds: config.seeds,
    backend: describeBackend(backend),
    wallSeconds: (performance.now() - started) / 1000,
    claims: planetClaims(metrics),
    metrics,
    stageSeconds,
  };
}
