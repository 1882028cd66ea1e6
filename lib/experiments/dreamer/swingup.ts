/**
 * Dreamer on the cart-pole swing-up (Hafner et al. 2020, "Dream to Control", Section 5 and the
 * appendix's learning curves) against PlaNet, with the same RSSM, action repeat and environment
 * steps (the PlaNet code of lib/agents/planet.ts), and against SAC: return against environment
 * steps, the cost of choosing an action with an actor against a CEM plan, the imagined transitions
 * the actor and critic learn from against the real steps, and the virtuous cycle: the world model's
 * open-loop error on each new episode before it enters the replay, against replayed data and
 * against the same episode after one round of training.
 *
 * The laptop budget learns from the state vector (5 numbers), with PlaNet's laptop RSSM (GRU 64,
 * 16 Gaussian units, observation std 0.1, 1 free nat) and action repeat 8 (PlaNet's for this task;
 * the Dreamer paper used 2 everywhere), smaller actor and critic than the paper's 400 units, and
 * batches of 16 x 50 start states; see `dreamerCartpoleBudgets` for the numbers and why.
 */
import { backend, describeBackend } from "../../tensor/mod.ts";
import { REPO_ROOT } from "../../io.ts";
import { mean, meanCurve, stdCurve } from "../stats.ts";
import { runExperimentStages, type StageJob } from "../stage_pool.ts";
import type { Experiment, ExperimentResult, Progress, RunOptions } from "../types.ts";
import { breathe, firstReaching } from "../planet/stages.ts";
import {
  DREAMER_PAPER_IMAGINATION,
  DREAMER_V1_BEHAVIOR,
  type DreamerAgentSettings,
  type DreamerSwingupConfig,
  dreamerSwingupConfig,
  type DreamerSwingupMetrics,
  SWINGUP_PUBLISHED,
} from "./config.ts";
import {
  type DreamerSwingupRun,
  type EpisodeCurve,
  runSwingupStage,
  stageLabel,
  type SwingupStage,
  type SwingupStageArgs,
  swingupStages,
  swingupStageWeight,
  type TimingResult,
} from "./stages.ts";
import { swingupClaims } from "./claims.ts";
import { drawSwingupFigures } from "./figures.ts";
import { curveFrom } from "../shared_tasks.ts";

const NAME = "dreamer-cartpole-swingup";

/** Half of PlaNet's published 821, as the PlaNet experiment uses; fixed before any run. */
const THRESHOLD = 400;

/** PlaNet's laptop RSSM (lib/experiments/planet/config.ts `LAPTOP_MODEL`), shared by both. */
const LAPTOP_MODEL: DreamerAgentSettings["model"] = {
  deterministicSize: 64,
  stochasticSize: 16,
  hiddenSize: 64,
  embedSize: 64,
  convDepth: 32,
  minStd: 0.1,
  freeNats: 1,
  observationStd: 0.1,
};

const QUICK_MODEL: DreamerAgentSettings["model"] = {
  ...LAPTOP_MODEL,
  deterministicSize: 16,
  stochasticSize: 4,
  hiddenSize: 16,
  embedSize: 16,
};

/**
 * The budgets. The laptop budget's size comes from costs measured at small scale with one BLAS
 * thread (as each of two stage workers has), scaled to an unloaded machine by the bench's reference
 * RSSM step (105.6 ms in data/bench/tensor.json, timed alongside): a Dreamer update (model on
 * 16 x 50 steps, actor and critic on 800 x 15 imagined steps) 0.23 s, 0.30 s inside the training
 * loop; a PlaNet update (32 x 50) 0.09 s; a CEM decision (300 x 5 x 12) 40 ms; a SAC step 1.7 ms;
 * choosing an action with the actor 0.12 ms. Per seed that is about 14 minutes for Dreamer's 2,900
 * updates, 7 for PlaNet's 2,900 updates and 3,900 planned decisions and 1 for SAC's 37,500 steps:
 * 35 minutes for the whole experiment on two workers.
 */
export const dreamerCartpoleBudgets: Record<"quick" | "laptop" | "paper", DreamerSwingupConfig> = {
  quick: {
    seeds: [0],
    episodeSteps: 96,
    actionRepeat: 8,
    episodes: 2,
    returnThreshold: THRESHOLD,
    dreamer: {
      seedEpisodes: 1,
      trainEvery: 4,
      updatesPerTrain: 1,
      pretrainUpdates: 1,
      batchSize: 4,
      chunkLength: 8,
      modelLearningRate: 6e-4,
      modelAdamEpsilon: 1e-5,
      modelGradClipNorm: 100,
      explorationNoise: 0.3,
      model: QUICK_MODEL,
      behavior: { ...DREAMER_V1_BEHAVIOR, horizon: 5, hiddenSize: 16, hiddenLayers: 2 },
      openLoop: { context: 3, horizon: 3, windows: 2 },
    },
    planet: {
      seedEpisodes: 1,
      updatesPerEpisode: 2,
      batchSize: 4,
      chunkLength: 8,
      learningRate: 1e-3,
      adamEpsilon: 1e-4,
      gradClipNorm: 1000,
      explorationNoise: 0.3,
      planner: { planningHorizon: 6, candidates: 40, elites: 4, iterations: 2 },
    },
    sac: { hiddenSize: 16, batchSize: 16, randomSteps: 10, updateAfter: 10, stepsMultiplier: 1 },
    testEpisodes: 1,
    timingDecisions: 3,
  },
  laptop: {
    seeds: [0, 1, 2],
    episodeSteps: 1000,
    actionRepeat: 8,
    // Twice PlaNet's laptop run: Dreamer's actor and critic need gradient steps PlaNet's planner
    // does not; PlaNet runs the same 30 episodes here.
    episodes: 30,
    returnThreshold: THRESHOLD,
    dreamer: {
      seedEpisodes: 2,
      // 100 updates per 1,000-step episode (125 decisions at action repeat 8), as Dreamer v1.
      trainEvery: 5,
      updatesPerTrain: 4,
      pretrainUpdates: 100,
      batchSize: 16,
      chunkLength: 50,
      // PlaNet's laptop learning rate for the shared RSSM.
      modelLearningRate: 1e-3,
      modelAdamEpsilon: 1e-4,
      modelGradClipNorm: 100,
      explorationNoise: 0.3,
      model: LAPTOP_MODEL,
      // About 3,000 updates instead of the paper's 500,000: step sizes 3e-4, not 8e-5.
      behavior: {
        ...DREAMER_V1_BEHAVIOR,
        hiddenSize: 64,
        hiddenLayers: 2,
        actorLearningRate: 3e-4,
        criticLearningRate: 3e-4,
      },
      openLoop: { context: 5, horizon: 10, windows: 16 },
    },
    planet: {
      seedEpisodes: 2,
      updatesPerEpisode: 100,
      batchSize: 32,
      chunkLength: 50,
      learningRate: 1e-3,
      adamEpsilon: 1e-4,
      gradClipNorm: 1000,
      explorationNoise: 0.3,
      planner: { planningHorizon: 12, candidates: 300, elites: 30, iterations: 5 },
    },
    sac: { hiddenSize: 64, batchSize: 64, randomSteps: 500, updateAfter: 250, stepsMultiplier: 10 },
    testEpisodes: 3,
    timingDecisions: 50,
  },
  paper: {
    seeds: [0, 1, 2, 3, 4],
    episodeSteps: 1000,
    actionRepeat: 2,
    // 5 million steps, the Dreamer paper's Figure 6.
    episodes: 5000,
    returnThreshold: THRESHOLD,
    dreamer: {
      seedEpisodes: 5,
      // 100 updates per 1,000 environment steps (500 decisions at action repeat 2).
      trainEvery: 5,
      updatesPerTrain: 1,
      pretrainUpdates: 0,
      batchSize: 50,
      chunkLength: 50,
      modelLearningRate: 6e-4,
      modelAdamEpsilon: 1e-5,
      modelGradClipNorm: 100,
      explorationNoise: 0.3,
      model: {
        ...LAPTOP_MODEL,
        deterministicSize: 200,
        stochasticSize: 30,
        hiddenSize: 200,
        embedSize: 200,
        freeNats: 3,
        observationStd: 1,
      },
      behavior: DREAMER_V1_BEHAVIOR,
      openLoop: { context: 5, horizon: 10, windows: 16 },
    },
    planet: {
      seedEpisodes: 5,
      updatesPerEpisode: 100,
      batchSize: 50,
      chunkLength: 50,
      learningRate: 1e-3,
      adamEpsilon: 1e-4,
      gradClipNorm: 1000,
      explorationNoise: 0.3,
      planner: { planningHorizon: 12, candidates: 1000, elites: 100, iterations: 10 },
    },
    sac: {
      hiddenSize: 256,
      batchSize: 256,
      randomSteps: 5000,
      updateAfter: 1000,
      stepsMultiplier: 10,
    },
    testEpisodes: 10,
    timingDecisions: 100,
  },
};

export const dreamerCartpoleSwingup: Experiment<DreamerSwingupConfig, DreamerSwingupMetrics> = {
  name: NAME,
  paper: "Hafner et al. (2020), Dreamer, Section 5 and Figure 6 (cartpole swing-up)",
  summary: "Dreamer (actor and critic learned in imagination) against PlaNet (same RSSM) and " +
    "SAC on the cart-pole swing-up from states; decision cost; imagined vs real data; the " +
    "virtuous cycle",
  notebook: "notebooks/04-dreamer.ipynb",
  taxonomy: {
    model: "learned",
    modelPredicts: "next latent state, observation, reward (RSSM)",
    representation: "latent state",
    planningStart: "previously visited states",
    planningBudget: "imagined rollouts of 15 steps from every replayed posterior state",
    search: "gradients through imagined rollouts",
    serves: "learning",
  },
  configSchema: dreamerSwingupConfig,
  budgets: dreamerCartpoleBudgets,
  expectedSeconds: { quick: 10, laptop: 2100, paper: 60 * 24 * 3600 },
  run: runSwingupExperiment,
  stageJobs: dreamerSwingupStageJobs,
  drawFigures: drawSwingupFigures,
  sharedTasks: (result) => [
    ...curveFrom("cartpole-swingup", "Dreamer", "training-episode return", result.metrics.dreamer),
    ...curveFrom("cartpole-swingup", "PlaNet", "training-episode return", result.metrics.planet),
    ...curveFrom("cartpole-swingup", "SAC", "training-episode return", result.metrics.sac),
  ],
};

/** The experiment's stages for the stage pool, `--stage` and `--slurm`: all independent. */
function dreamerSwingupStageJobs(config: DreamerSwingupConfig, dataDir: string): StageJob[] {
  return swingupStages(config).map((stage) => ({
    label: stageLabel(stage),
    moduleUrl: import.meta.url,
    exportName: "runStage",
    args: { config, dataDir, stage } satisfies SwingupStageArgs,

    weight: swingupStageWeight(config, stage),
  }));
}

/** One stage of this experiment, for the workers of `runStageJobs`. */
export async function runStage(
  args: SwingupStageArgs,
  report: (progress: Progress) => void,
): Promise<void> {
  await runSwingupStage(args, report);
}

export async function runSwingupExperiment(
  config: DreamerSwingupConfig,
  options: RunOptions = {},
): Promise<ExperimentResult<DreamerSwingupMetrics>> {
  const started = performance.now();
  const dataDir = options.dataDir ?? `${REPO_ROOT}/data/${NAME}`;
  const report = options.onProgress ?? ((_: Progress) => {});
  const stageSeconds: Record<string, number> = {};
  const run = async <T>(stage: SwingupStage, key: string): Promise<T> => {
    const { value, seconds } = await runSwingupStage(
      { config, dataDir, stage },
      report,
      options.signal,
    );
    stageSeconds[key] = Math.round(((stageSeconds[key] ?? 0) + seconds) * 100) / 100;
    await breathe();
    return value as T;
  };
  await runExperimentStages(
    dreamerSwingupStageJobs(config, dataDir),
    { workers: options.workers, onProgress: report, signal: options.signal },
  );
  const dreamerRuns: DreamerSwingupRun[] = [];
  const planetRuns: (EpisodeCurve & { test: number[] })[] = [];
  const sacRuns: EpisodeCurve[] = [];
  for (const seed of config.seeds) {
    dreamerRuns.push(await run({ kind: "dreamer", seed }, "dreamer"));
  }
  for (const seed of config.seeds) planetRuns.push(await run({ kind: "planet", seed }, "planet"));
  for (const seed of config.seeds) sacRuns.push(await run({ kind: "sac", seed }, "sac"));
  const timing = await run<TimingResult>({ kind: "timing" }, "timing");
  const metrics = swingupMetrics(config, dreamerRuns, planetRuns, sacRuns, timing);
  return {
    experiment: NAME,
    paper: dreamerCartpoleSwingup.paper,
    budget: options.budget ?? "custom",
    command: "",
    seeds: config.seeds,
    backend: describeBackend(backend),
    wallSeconds: (performance.now() - started) / 1000,
    claims: swingupClaims(metrics),
    metrics,
    stageSeconds,
  };
}

/** Gathers the stages' results into the metrics the claims and figures read. */
export function swingupMetrics(
  config: DreamerSwingupConfig,
  dreamerRuns: DreamerSwingupRun[],
  planetRuns: (EpisodeCurve & { test: number[] })[],
  sacRuns: EpisodeCurve[],
  timing: TimingResult,
): DreamerSwingupMetrics {
  const curve = (runs: EpisodeCurve[], envSteps: number[]) => {
    const perSeed = runs.map((r) => r.returns);
    return { envSteps, mean: meanCurve(perSeed), std: stdCurve(perSeed), perSeed };
  };
  const dreamerSteps = dreamerRuns[0].envSteps;
  const totalSteps = dreamerSteps.at(-1) ?? 0;
  // SAC's episodes up to Dreamer's last step, for the curves at equal steps.
  const sacAtEqualSteps = sacRuns.map((r) => {
    const count = r.envSteps.filter((s) => s <= totalSteps).length;
    return { envSteps: r.envSteps.slice(0, count), returns: r.returns.slice(0, count) };
  });
  const sacLength = Math.min(...sacAtEqualSteps.map((r) => r.returns.length));
  const threshold = config.returnThreshold;
  const dreamerReach = dreamerRuns.map((r) => firstReaching(r.envSteps, r.returns, threshold));
  const planetReach = planetRuns.map((r) => firstReaching(r.envSteps, r.returns, threshold));
  const sacReach = sacRuns.map((r) => firstReaching(r.envSteps, r.returns, threshold));
  const sacRunLength = sacRuns[0]?.envSteps.at(-1) ?? totalSteps;
  const sacOverDreamer = dreamerReach.every((s) => s !== null)
    ? mean(sacReach.map((s) => s ?? sacRunLength)) / mean(dreamerReach as number[])
    : null;

  // Imagined transitions per environment step over training, mean over seeds.
  const perEnvStep = meanCurve(
    dreamerRuns.map((r) => r.records.map((e) => e.imaginedTransitions / e.envSteps)),
  );
  const last = dreamerRuns.map((r) => r.records.at(-1)!);
  const finalPerEnvStep = mean(last.map((e) => e.imaginedTransitions / e.envSteps));
  const finalPerDecision = mean(last.map((e) => e.imaginedTransitions / e.decisions));

  const cycle = cycleMetrics(config, dreamerRuns);
  return {
    returnThreshold: threshold,
    episodeSteps: config.episodeSteps,
    actionRepeat: config.actionRepeat,
    dreamer: curve(dreamerRuns, dreamerSteps),
    planet: curve(planetRuns, planetRuns[0].envSteps),
    sac: curve(
      sacAtEqualSteps.map((r) => ({ ...r, returns: r.returns.slice(0, sacLength) })),
      sacAtEqualSteps[0]?.envSteps.slice(0, sacLength) ?? [],
    ),
    sacLongRun: {
      envSteps: sacRunLength,
      returns: sacRuns.map((r) => r.returns.at(-1) ?? Number.NaN),
    },
    test: {
      dreamer: dreamerRuns.map((r) => mean(r.test)),
      planet: planetRuns.map((r) => mean(r.test)),
    },
    stepsToThreshold: {
      dreamer: dreamerReach,
      planet: planetReach,
      sac: sacReach,
      sacOverDreamer,
      lowerBound: sacReach.some((s) => s === null),
    },
    imagination: {
      envSteps: dreamerSteps,
      perEnvStep,
      finalPerEnvStep,
      finalPerDecision,
      paperPerEnvStep: DREAMER_PAPER_IMAGINATION.perEnvStep,
    },
    cycle,
    timing: {
      actorMs: timing.actorMs,
      cemMs: timing.cemMs,
      filterMs: timing.filterMs,
      planner: config.planet.planner,
    },
    secondsPerUpdate: {
      dreamer: mean(dreamerRuns.map((r) => r.secondsPerUpdate)),
      planet: timing.planetUpdateSeconds,
    },
    published: SWINGUP_PUBLISHED,
  };
}

/** The cycle measurements per episode of the actor, averaged over the seeds that have them. */
function cycleMetrics(
  config: DreamerSwingupConfig,
  runs: DreamerSwingupRun[],
): DreamerSwingupMetrics["cycle"] {
  const openLoop = config.dreamer.openLoop;
  if (!openLoop) return null;
  const episodes = runs[0].records.filter((e) => e.cycle).map((e) => e.episode);
  const average = (pick: (e: DreamerSwingupRun["records"][number]) => number | undefined) =>
    episodes.map((episode) => {
      const values = runs.map((r) => pick(r.records[episode - 1])).filter((v) =>
        v !== undefined && Number.isFinite(v)
      ) as number[];
      return values.length ? mean(values) : Number.NaN;
    });
  return {
    episodes,
    fresh: average((e) => e.cycle?.fresh?.observation),
    replay: average((e) => e.cycle?.replay?.observation),
    afterTraining: average((e) => e.cycle?.previousAfterTraining?.observation),
    freshReward: average((e) => e.cycle?.fresh?.reward),
    replayReward: average((e) => e.cycle?.replay?.reward),
    afterTrainingReward: average((e) => e.cycle?.previousAfterTraining?.reward),
    context: openLoop.context,
    horizon: openLoop.horizon,
  };
}
