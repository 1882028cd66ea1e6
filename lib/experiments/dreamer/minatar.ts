/**
 * DreamerV2 on MinAtar (Hafner et al. 2021, "Mastering Atari with Discrete World Models", Section 2
 * for the agent, Table 2 and Section 4 for the ablations) against the MinAtar paper's DQN (Young &
 * Tian 2019, Section 4), at equal environment steps, on three of the five games; and the ablations
 * of the paper on the same budget: Gaussian instead of categorical latents, and KL balancing off.
 * Also what DreamerV2's discrete codes look like against a vector quantiser's.
 *
 * The DreamerV2 paper plays Atari from 64x64 frames; MinAtar's observation is a 10x10 grid of 0/1
 * object channels, which the world model encodes and reconstructs with MLPs (as Dreamer does state
 * vectors). Each run's final score is the mean return of greedy episodes (the policy's most likely
 * action; DQN's greedy action) after training, each capped at the time limit.
 */
import { backend, describeBackend } from "../../tensor/mod.ts";
import { REPO_ROOT } from "../../io.ts";
import { MINATAR_REFERENCE_RANDOM_POLICY } from "../../envs/minatar/shared.ts";
import { MINATAR_DQN_CONFIG } from "../../agents/dqn.ts";
import type { ImaginationFidelity } from "../../agents/dreamer_foresight.ts";
import { mean, meanCurve, stdCurve } from "../stats.ts";
import { runExperimentStages, type StageJob } from "../stage_pool.ts";
import type { Experiment, ExperimentResult, Progress, RunOptions } from "../types.ts";
import { breathe } from "../planet/stages.ts";
import {
  type Curve,
  DREAMER_V2_BEHAVIOR,
  DREAMER_V2_MODEL,
  type DreamerAgentSettings,
  type DreamerMinatarConfig,
  dreamerMinatarConfig,
  type DreamerMinatarMetrics,
  MINATAR_PUBLISHED,
} from "./config.ts";
import {
  type MinatarRun,
  type MinatarStage,
  type MinatarStageArgs,
  minatarStages,
  minatarStageWeight,
  type MinatarVariant,
  runMinatarStage,
  stageLabel,
} from "./stages.ts";
import { minatarClaims } from "./claims.ts";
import { drawMinatarFigures } from "./figures.ts";
import { finalScores } from "../shared_tasks.ts";

const NAME = "dreamerv2-minatar";

const GAMES = [
  "MinAtar/Breakout-v0",
  "MinAtar/SpaceInvaders-v0",
  "MinAtar/Asterix-v0",
] as const;

const QUICK_AGENT: DreamerAgentSettings = {
  seedEpisodes: 2,
  trainEvery: 10,
  updatesPerTrain: 1,
  pretrainUpdates: 1,
  batchSize: 4,
  chunkLength: 8,
  modelLearningRate: 3e-4,
  modelAdamEpsilon: 1e-5,
  modelGradClipNorm: 100,
  explorationNoise: 0,
  model: {
    ...DREAMER_V2_MODEL,
    deterministicSize: 16,
    hiddenSize: 16,
    embedSize: 16,
    stochasticSize: 16,
    latent: { kind: "categorical", variables: 4, classes: 4 },
  },
  behavior: { ...DREAMER_V2_BEHAVIOR, horizon: 5, hiddenSize: 16, hiddenLayers: 1 },
  openLoop: null,
};

/**
 * The budgets. The laptop budget's size comes from costs measured at small scale with one BLAS
 * thread, scaled to an unloaded machine by the bench's reference RSSM step (see swingup.ts): a
 * DreamerV2 update (model on 16 x 16 steps with 32 x 32 categorical latents, actor and critic on
 * 256 x 15 imagined steps) 0.18 s, about 0.23 s inside the training loop; with Gaussian latents
 * 0.09 s; a DQN step (action and update) 2.8 ms. A DreamerV2 run of 12,000 steps (1,600 updates)
 * takes about 6 minutes, a Gaussian one 3, a DQN one under 1: 12 categorical runs (three games
 * and the KL ablation, three seeds each), 3 Gaussian and 9 DQN make about 45 minutes on two
 * workers.
 */
export const dreamerMinatarBudgets: Record<"quick" | "laptop" | "paper", DreamerMinatarConfig> = {
  quick: {
    seeds: [0],
    games: [...GAMES],
    environmentSteps: 120,
    maxEpisodeSteps: 100,
    dreamer: QUICK_AGENT,
    ablations: { games: ["MinAtar/Breakout-v0"], gaussianStochasticSize: 4 },
    dqn: {
      ...MINATAR_DQN_CONFIG,
      network: { kind: "minatar-conv", filters: 4, hiddenSize: 16 },
      replayStart: 20,
      epsilonDecaySteps: 50,
      targetUpdateEvery: 20,
    },
    evaluationEpisodes: 1,
    curvePoints: 4,
  },
  laptop: {
    seeds: [0, 1, 2],
    games: [...GAMES],
    environmentSteps: 12_000,
    maxEpisodeSteps: 1000,
    dreamer: {
      seedEpisodes: 20,
      trainEvery: 8,
      updatesPerTrain: 1,
      pretrainUpdates: 100,
      batchSize: 16,
      chunkLength: 16,
      modelLearningRate: 3e-4,
      modelAdamEpsilon: 1e-5,
      modelGradClipNorm: 100,
      explorationNoise: 0,
      // The paper's 32 x 32 categorical latents, KL balancing 0.8 and scales; GRU 64, not 600.
      model: { ...DREAMER_V2_MODEL, deterministicSize: 64, hiddenSize: 64, embedSize: 64 },
      // About 2,000 updates instead of millions: step sizes raised from 4e-5 and 1e-4.
      behavior: {
        ...DREAMER_V2_BEHAVIOR,
        hiddenSize: 64,
        hiddenLayers: 2,
        actorLearningRate: 2e-4,
        criticLearningRate: 3e-4,
      },
      openLoop: null,
    },
    ablations: { games: ["MinAtar/Breakout-v0"], gaussianStochasticSize: 32 },
    // The paper's DQN with its warm-up and annealing shortened to the run's length.
    dqn: { ...MINATAR_DQN_CONFIG, replayStart: 1000, epsilonDecaySteps: 5000 },
    evaluationEpisodes: 10,
    curvePoints: 12,
  },
  paper: {
    seeds: [0, 1, 2, 3, 4],
    games: [...GAMES],
    // The MinAtar paper's 5 million frames.
    environmentSteps: 5_000_000,
    maxEpisodeSteps: 10_000,
    dreamer: {
      // About the reference's 50,000 steps of random prefill.
      seedEpisodes: 1000,
      trainEvery: 16,
      updatesPerTrain: 1,
      pretrainUpdates: 0,
      batchSize: 50,
      chunkLength: 50,
      modelLearningRate: 2e-4,
      modelAdamEpsilon: 1e-5,
      modelGradClipNorm: 100,
      explorationNoise: 0,
      model: DREAMER_V2_MODEL,
      behavior: DREAMER_V2_BEHAVIOR,
      openLoop: null,
    },
    ablations: { games: [...GAMES], gaussianStochasticSize: 32 },
    dqn: MINATAR_DQN_CONFIG,
    evaluationEpisodes: 30,
    curvePoints: 50,
  },
};

export const dreamerV2Minatar: Experiment<DreamerMinatarConfig, DreamerMinatarMetrics> = {
  name: NAME,
  paper: "Hafner et al. (2021), DreamerV2, Section 2 and Table 2, on MinAtar (Young & Tian 2019)",
  summary: "DreamerV2 (categorical latents, KL balancing, REINFORCE actor) against DQN on three " +
    "MinAtar games at equal environment steps; ablations: Gaussian latents, KL balancing off",
  notebook: "notebooks/04-dreamer.ipynb",
  taxonomy: {
    model: "learned",
    modelPredicts: "next latent state, frame, reward, discount (RSSM with categorical latents)",
    representation: "latent, discrete codes",
    planningStart: "previously visited states",
    planningBudget: "imagined rollouts of 15 steps from every replayed posterior state",
    search: "policy gradient in imagination",
    serves: "learning",
  },
  configSchema: dreamerMinatarConfig,
  budgets: dreamerMinatarBudgets,
  expectedSeconds: { quick: 10, laptop: 2700, paper: 60 * 24 * 3600 },
  run: runMinatarExperiment,
  stageJobs: dreamerMinatarStageJobs,
  drawFigures: drawMinatarFigures,
  sharedTasks: (result) =>
    result.metrics.games.flatMap((game) => [
      ...finalScores(
        game.game,
        "DreamerV2",
        "greedy return after training",
        result.metrics.environmentSteps,
        game.dreamer?.final,
      ),
      ...finalScores(
        game.game,
        "DQN",
        "greedy return after training",
        result.metrics.environmentSteps,
        game.dqn?.final,
      ),
    ]),
};

/** The experiment's stages for the stage pool, `--stage` and `--slurm`: all independent. */
function dreamerMinatarStageJobs(config: DreamerMinatarConfig, dataDir: string): StageJob[] {
  const stages = minatarStages(config);
  // A foresight stage reads the saved model of its game and seed's categorical run.
  const runOf = (stage: MinatarStage) =>
    stages.findIndex((s) =>
      s.kind === "dreamer" && s.variant === "categorical" && s.game === stage.game &&
      s.seed === stage.seed
    );
  return stages.map((stage) => ({
    label: stageLabel(stage),
    moduleUrl: import.meta.url,
    exportName: "runStage",
    args: { config, dataDir, stage } satisfies MinatarStageArgs,
    ...(stage.kind === "foresight" ? { after: [runOf(stage)] } : {}),
    weight: minatarStageWeight(config, stage),
  }));
}

/** One stage of this experiment, for the workers of `runStageJobs`. */
export async function runStage(
  args: MinatarStageArgs,
  report: (progress: Progress) => void,
): Promise<void> {
  await runMinatarStage(args, report);
}

export async function runMinatarExperiment(
  config: DreamerMinatarConfig,
  options: RunOptions = {},
): Promise<ExperimentResult<DreamerMinatarMetrics>> {
  const started = performance.now();
  const dataDir = options.dataDir ?? `${REPO_ROOT}/data/${NAME}`;
  const report = options.onProgress ?? ((_: Progress) => {});
  const stageSeconds: Record<string, number> = {};
  const stages = minatarStages(config);
  await runExperimentStages(
    dreamerMinatarStageJobs(config, dataDir),
    { workers: options.workers, onProgress: report, signal: options.signal },
  );
  const results = new Map<string, MinatarRun>();
  const foresight = new Map<string, ImaginationFidelity | null>();
  const key = (stage: MinatarStage) =>
    `${stage.kind}/${stage.kind === "dreamer" ? stage.variant : ""}/${stage.game}/${stage.seed}`;
  for (const stage of stages) {
    const { value, seconds } = await runMinatarStage(
      { config, dataDir, stage },
      report,
      options.signal,
    );
    const name = stage.kind === "dreamer" ? `dreamer (${stage.variant})` : stage.kind;
    stageSeconds[name] = Math.round(((stageSeconds[name] ?? 0) + seconds) * 100) / 100;
    if (stage.kind === "foresight") foresight.set(key(stage), value as ImaginationFidelity | null);
    else results.set(key(stage), value as MinatarRun);
    await breathe();
  }
  const runsOf = (kind: "dreamer" | "dqn", game: string, variant?: MinatarVariant) =>
    config.seeds.map((seed) => results.get(key({ kind, game, seed, variant } as MinatarStage))!);
  const foresightOf = (game: string) =>
    config.seeds.map((seed) =>
      foresight.get(key({ kind: "foresight", game, seed } as MinatarStage))
    )
      .filter((f): f is ImaginationFidelity => !!f);
  const metrics = minatarMetrics(config, runsOf, foresightOf);
  return {
    experiment: NAME,
    paper: dreamerV2Minatar.paper,
    budget: options.budget ?? "custom",
    command: "",
    seeds: config.seeds,
    backend: describeBackend(backend),
    wallSeconds: (performance.now() - started) / 1000,
    claims: minatarClaims(metrics),
    metrics,
    stageSeconds,
  };
}

/**
 * Training-episode returns averaged within `points` equal bins of environment steps; an empty
 * bin repeats the previous bin's value (the first: the first episode's return).
 */
export function binnedReturns(
  run: { envSteps: number[]; returns: number[] },
  totalSteps: number,
  points: number,
): { envSteps: number[]; returns: number[] } {
  const width = totalSteps / points;
  const sums = new Array<number>(points).fill(0);
  const counts = new Array<number>(points).fill(0);
  run.envSteps.forEach((step, i) => {
    const bin = Math.min(points - 1, Math.max(0, Math.ceil(step / width) - 1));
    sums[bin] += run.returns[i];
    counts[bin]++;
  });
  let previous = run.returns[0] ?? 0;
  const returns = sums.map((sum, bin) => (previous = counts[bin] ? sum / counts[bin] : previous));
  return { envSteps: sums.map((_, bin) => Math.round((bin + 1) * width)), returns };
}

export function minatarMetrics(
  config: DreamerMinatarConfig,
  runsOf: (kind: "dreamer" | "dqn", game: string, variant?: MinatarVariant) => MinatarRun[],
  foresightOf: (game: string) => ImaginationFidelity[] = () => [],
): DreamerMinatarMetrics {
  const curveOf = (runs: MinatarRun[]): Curve => {
    const binned = runs.map((r) => binnedReturns(r, config.environmentSteps, config.curvePoints));
    const perSeed = binned.map((b) => b.returns);
    return { envSteps: binned[0].envSteps, mean: meanCurve(perSeed), std: stdCurve(perSeed) };
  };
  const final = (runs: MinatarRun[]) => runs.map((r) => mean(r.evaluation));
  const games = config.games.map((game) => {
    const dreamer = runsOf("dreamer", game, "categorical");
    const dqn = runsOf("dqn", game);
    return {
      game,
      dreamer: { ...curveOf(dreamer), final: final(dreamer) },
      dqn: { ...curveOf(dqn), final: final(dqn) },
      randomReturn: MINATAR_REFERENCE_RANDOM_POLICY[game].returnMean,
    };
  });
  const ablations = (config.ablations?.games ?? []).map((game) => {
    const categorical = runsOf("dreamer", game, "categorical");
    const gaussian = runsOf("dreamer", game, "gaussian");
    const noBalance = runsOf("dreamer", game, "no-kl-balancing");
    return {
      game,
      categorical: final(categorical),
      gaussian: final(gaussian),
      noKlBalancing: final(noBalance),
      curves: {
        categorical: curveOf(categorical),
        gaussian: curveOf(gaussian),
        noKlBalancing: curveOf(noBalance),
      },
    };
  });
  const main = config.games.flatMap((game) => runsOf("dreamer", game, "categorical"));
  const codes = main.flatMap((r) => (r.codes ? [r.codes] : []));
  return {
    environmentSteps: config.environmentSteps,
    games,
    ablations,
    codes: {
      maxProbability: mean(codes.map((c) => c.maxProbability)),
      entropy: mean(codes.map((c) => c.entropy)),
      classesUsed: mean(codes.map((c) => c.classesUsed)),
      classes: codes[0]?.classes ?? 0,
    },
    foresight: config.games.flatMap((game) => {
      const seeds = foresightOf(game);
      if (seeds.length === 0) return [];
      const average = (pick: (f: ImaginationFidelity) => number) => mean(seeds.map(pick));
      return [{
        game,
        seeds: seeds.length,
        horizon: seeds[0].horizon,
        terminalFiltered: average((f) => f.terminalContinuation.filtered),
        terminalImagined: average((f) => f.terminalContinuation.imagined),
        lastRewardsReal: average((f) => f.lastRewards.real),
        lastRewardsImagined: average((f) => f.lastRewards.imagined),
        imaginedReturn: average((f) => f.policy.imaginedReturn),
        realReturn: average((f) => f.policy.realReturn),
        imaginedLength: average((f) => f.policy.imaginedLength),
        realLength: average((f) => f.policy.realLength),
      }];
    }),
    imaginedPerEnvStep: mean(
      main.map((r) => (r.imaginedTransitions ?? 0) / config.environmentSteps),
    ),
    secondsPerUpdate: mean(main.map((r) => r.secondsPerUpdate ?? Number.NaN)),
    published: MINATAR_PUBLISHED,
  };
}
