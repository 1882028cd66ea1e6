/**
 * EfficientZero on MinAtar with limited data (Ye et al. 2021, "Mastering Atari Games with Limited
 * Data": Section 5 and Table 1 for the comparison with MuZero at 100k steps, Section 5.3 and Table
 * 3 for the ablation): MuZero, EfficientZero and EfficientZero with each addition removed, on
 * three MinAtar games (Young & Tian 2019) at one environment-step budget, with the MinAtar paper's
 * DQN and the Dreamer experiment's DreamerV2 at the same steps.
 *
 * The paper plays 26 Atari games from 96x96 frames, 100k agent steps each (400k frames). MinAtar's
 * observation is a 10x10 grid of 0/1 object channels and one frame per decision; our agents read
 * it with the MuZero networks of lib/models/muzero.ts (an MLP at the laptop budget, the paper's
 * one-block residual network of 64 channels at the paper budget). Each run's score is the mean
 * return of greedy episodes after training (the search without noise, the most visited action).
 */
import { ATARI_TEMPERATURE_SCHEDULE } from "../muzero/config.ts";
import { MINATAR_REFERENCE_RANDOM_POLICY } from "../../envs/minatar/shared.ts";
import { MINATAR_DQN_CONFIG } from "../../agents/dqn.ts";
import type { MuZeroConfig } from "../../agents/muzero.ts";
import { meanCurve, stdCurve } from "../stats.ts";
import type { StageJob } from "../stage_pool.ts";
import type { Experiment, ExperimentResult, Progress, RunOptions } from "../types.ts";
import { muZeroResult, runStagesThenRead, stageGroupJobs } from "../muzero/stages.ts";
import { binnedReturns, dreamerMinatarBudgets } from "../dreamer/minatar.ts";
import {
  type AgentScores,
  EFFICIENT_ZERO_PUBLISHED,
  EFFICIENT_ZERO_VARIANTS,
  type EfficientZeroMinatarConfig,
  efficientZeroMinatarConfig,
  type EfficientZeroMinatarMetrics,
  type EfficientZeroRun,
  type EfficientZeroVariant,
  VARIANT_LABELS,
} from "./config.ts";
import {
  type EfficientZeroStage,
  type EfficientZeroStageArgs,
  efficientZeroStages,
  runEfficientZeroStage,
  stageLabel,
} from "./stages.ts";
import { efficientZeroClaims } from "./claims.ts";
import { drawEfficientZeroFigures } from "./figures.ts";
import { finalScores } from "../shared_tasks.ts";

const NAME = "efficientzero-minatar";
const PAPER = "Ye et al. (2021), EfficientZero, Table 1 and the ablation of Table 3, on three " +
  "MinAtar games at one environment-step budget";

const GAMES = [
  "MinAtar/Breakout-v0",
  "MinAtar/SpaceInvaders-v0",
  "MinAtar/Asterix-v0",
] as const;

/**
 * The paper's Atari settings (Appendix A.1 and the reference implementation's config) that do
 * not depend on scale: K = 5, n = 5, γ = 0.997 per frame over 4 frames a decision (0.988 a
 * decision), value loss weight 0.25, consistency weight 2, value-prefix horizon 5, the
 * temperature falling 1, 0.5, 0.25, Dirichlet α 0.3, priorities α = 0.6, gradients clipped at 5.
 */
function efficientZeroAgent(sizes: {
  network: MuZeroConfig["network"];
  numSimulations: number;
  batchSize: number;
  updatesPerEnvironmentStep: number;
  optimizer: Pick<
    MuZeroConfig["training"],
    "learningRate" | "learningRateDecayRate" | "learningRateDecaySteps" | "optimizer"
  >;
  reanalysePositions: number;
  consistency: { projectionHidden: number; projectionSize: number; predictionHidden: number };
  lstmHiddenSize: number;
  environmentSteps: number;
  bootstrapSimulations: number;
  gamesPerIteration: number;
}): MuZeroConfig {
  return {
    network: sizes.network,
    search: {
      numSimulations: sizes.numSimulations,
      discount: 0.988,
      dirichletAlpha: 0.3,
      explorationFraction: 0.25,
      valueBounds: null,
    },
    selfPlay: {
      gamesPerIteration: sizes.gamesPerIteration,
      parallelGames: sizes.gamesPerIteration,
      temperatureSchedule: ATARI_TEMPERATURE_SCHEDULE,
      greedyFromMove: null,
      maxRandomOpeningMoves: 0,
    },
    training: {
      // The step budget ends the run; this only bounds it.
      iterations: 1_000_000,
      updatesPerIteration: 0,
      updatesPerEnvironmentStep: sizes.updatesPerEnvironmentStep,
      batchSize: sizes.batchSize,
      unrollSteps: 5,
      tdSteps: 5,
      ...sizes.optimizer,
      weightDecay: 1e-4,
      valueLossWeight: 0.25,
      gradClipNorm: 5,
    },
    // Every game stays: the buffer is the whole run, as the reference keeps all 100k steps.
    replay: {
      capacityGames: 1_000_000,
      priorityExponent: 0.6,
      importanceExponent: 1,
      priorityFloor: 0.01,
    },
    reanalyse: { positionsPerIteration: sizes.reanalysePositions, batchSize: 128 },
    efficientZero: {
      consistency: { weight: 2, ...sizes.consistency },
      valuePrefix: { lstmHiddenSize: sizes.lstmHiddenSize, horizon: 5 },
      // The reference: one step of horizon per 0.3 of the run's length in age.
      offPolicyCorrection: {
        ageStepsPerHorizonStep: Math.max(1, Math.round(0.3 * sizes.environmentSteps)),
        bootstrapSimulations: sizes.bootstrapSimulations,
      },
    },
  };
}

const ADAM = {
  optimizer: "adam",
  learningRate: 1e-3,
  learningRateDecayRate: 1,
  learningRateDecaySteps: 1,
} as const;

const QUICK_STEPS = 60;
/**
 * The laptop budget's steps, from costs measured with one worker on a 2-core machine that another
 * experiment kept busy (load average 7 to 8): training seconds per environment step, self-play,
 * Reanalyse, updates and checkpoints together, were 7.3 ms for MuZero and 10.3 ms for
 * EfficientZero (3,000 steps of Space Invaders), and relative to EfficientZero 0.72 without
 * consistency, 0.71 without the value prefix and 0.84 without the correction (1,000 steps of
 * Breakout); a DQN step took 11 ms there against 2.8 ms measured on a quiet machine (the Dreamer
 * experiment's figure), so we divide by 4: about 11 ms per step for the five variants together
 * on one game and seed. DreamerV2 at its laptop size takes about 0.23 s an update on a quiet
 * machine (the Dreamer experiment's figure); here it trains every 16 steps, not 8. At 15,000 steps
 * a game and seed costs about 165 s for the five variants, 225 s for DreamerV2 (990 updates) and
 * 42 s for DQN: with 3 games and 3 seeds about 65 minutes of one core, 33 minutes on two workers
 * (the evaluation episodes add about a minute). Atari 100k's 100,000 steps would take 7 times as
 * long at these sizes; the paper budget keeps them, with the paper's far larger networks.
 */
const LAPTOP_STEPS = 15_000;
const PAPER_STEPS = 100_000;

/** The budgets: quick for tests, laptop for a 2-core machine (see above), paper as published. */
export const efficientZeroMinatarBudgets: Record<
  "quick" | "laptop" | "paper",
  EfficientZeroMinatarConfig
> = {
  quick: {
    seeds: [0],
    games: [...GAMES],
    environmentSteps: QUICK_STEPS,
    maxEpisodeSteps: 40,
    agent: efficientZeroAgent({
      network: {
        architecture: { kind: "mlp", latentSize: 8, hiddenSize: 16, hiddenLayers: 1 },
        value: { kind: "support", size: 5 },
        reward: { kind: "support", size: 3 },
      },
      numSimulations: 2,
      batchSize: 8,
      updatesPerEnvironmentStep: 0.05,
      optimizer: ADAM,
      reanalysePositions: 10,
      consistency: { projectionHidden: 8, projectionSize: 8, predictionHidden: 4 },
      lstmHiddenSize: 4,
      environmentSteps: QUICK_STEPS,
      bootstrapSimulations: 1,
      gamesPerIteration: 4,
    }),
    variants: [...EFFICIENT_ZERO_VARIANTS],
    dqn: dreamerMinatarBudgets.quick.dqn,
    dreamer: dreamerMinatarBudgets.quick.dreamer,
    evaluation: { episodes: 1, simulations: 2 },
    curvePoints: 3,
  },
  laptop: {
    seeds: [0, 1, 2],
    games: [...GAMES],
    environmentSteps: LAPTOP_STEPS,
    maxEpisodeSteps: 1000,
    agent: efficientZeroAgent({
      network: {
        architecture: { kind: "mlp", latentSize: 64, hiddenSize: 128, hiddenLayers: 1 },
        value: { kind: "support", size: 20 },
        reward: { kind: "support", size: 5 },
      },
      numSimulations: 8,
      batchSize: 64,
      updatesPerEnvironmentStep: 0.1,
      optimizer: ADAM,
      reanalysePositions: 256,
      consistency: { projectionHidden: 128, projectionSize: 128, predictionHidden: 64 },
      lstmHiddenSize: 32,
      environmentSteps: LAPTOP_STEPS,
      bootstrapSimulations: 4,
      // Fewer, larger iterations: fewer checkpoints of the growing replay, larger search batches.
      gamesPerIteration: 16,
    }),
    variants: [...EFFICIENT_ZERO_VARIANTS],
    // The MinAtar paper's DQN with its warm-up and annealing shortened to the run's length.
    dqn: { ...MINATAR_DQN_CONFIG, replayStart: 1000, epsilonDecaySteps: 5000 },
    // The Dreamer experiment's laptop agent, trained half as often to fit the hour.
    dreamer: { ...dreamerMinatarBudgets.laptop.dreamer, trainEvery: 16, pretrainUpdates: 50 },
    evaluation: { episodes: 10, simulations: 8 },
    curvePoints: 10,
  },
  paper: {
    seeds: [0, 1, 2],
    games: [...GAMES],
    environmentSteps: PAPER_STEPS,
    maxEpisodeSteps: 10_000,
    // The paper's Atari model and training: a residual block of 64 channels, supports of
    // -300..300, 50 simulations, batch 256, one update per step with SGD at 0.2 decayed 10x.
    agent: efficientZeroAgent({
      network: {
        architecture: { kind: "residual", channels: 64, blocks: 1, headHidden: 32 },
        value: { kind: "support", size: 300 },
        reward: { kind: "support", size: 300 },
      },
      numSimulations: 50,
      batchSize: 256,
      updatesPerEnvironmentStep: 1,
      optimizer: {
        optimizer: "momentum",
        learningRate: 0.2,
        learningRateDecayRate: 0.1,
        learningRateDecaySteps: 100_000,
      },
      reanalysePositions: 2_000,
      consistency: { projectionHidden: 1024, projectionSize: 1024, predictionHidden: 512 },
      lstmHiddenSize: 512,
      environmentSteps: PAPER_STEPS,
      bootstrapSimulations: 50,
      gamesPerIteration: 8,
    }),
    variants: [...EFFICIENT_ZERO_VARIANTS],
    dqn: MINATAR_DQN_CONFIG,
    dreamer: dreamerMinatarBudgets.paper.dreamer,
    // The reference implementation tests on 32 episodes.
    evaluation: { episodes: 32, simulations: 50 },
    curvePoints: 50,
  },
};

/** The experiment's stages for the stage pool, `--stage` and `--slurm`: all independent. */
function stageJobs(config: EfficientZeroMinatarConfig, dataDir: string): StageJob[] {
  return stageGroupJobs<EfficientZeroMinatarConfig, EfficientZeroStage>(
    [efficientZeroStages(config)],
    import.meta.url,
    stageLabel,
    { config, dataDir },
  );
}

/** One stage of this experiment, for the workers of the stage pool. */
export async function runStage(
  args: EfficientZeroStageArgs,
  report: (progress: Progress) => void,
): Promise<void> {
  await runEfficientZeroStage(args, report);
}

/** Each agent's scores on each game from the runs, keyed as `stageKey`. */
export function efficientZeroMetrics(
  config: EfficientZeroMinatarConfig,
  runs: Map<string, EfficientZeroRun>,
): EfficientZeroMinatarMetrics {
  const scoresOf = (stages: EfficientZeroStage[]): AgentScores => {
    const list = stages.map((stage) => runs.get(stageKey(stage))!);
    const binned = list.map((run) =>
      binnedReturns(run, config.environmentSteps, config.curvePoints)
    );
    const perSeed = binned.map((b) => b.returns);
    return {
      final: list.map((run) => meanOf(run.evaluation)),
      curve: { envSteps: binned[0].envSteps, mean: meanCurve(perSeed), std: stdCurve(perSeed) },
    };
  };
  const games = config.games.map((game) => {
    const seedsOf = (make: (seed: number) => EfficientZeroStage) => config.seeds.map(make);
    const variants: Partial<Record<EfficientZeroVariant, AgentScores>> = {};
    for (const variant of config.variants) {
      variants[variant] = scoresOf(seedsOf((seed) => ({ kind: "agent", variant, game, seed })));
    }
    return {
      game,
      randomReturn: MINATAR_REFERENCE_RANDOM_POLICY[game].returnMean,
      variants,
      dqn: scoresOf(seedsOf((seed) => ({ kind: "dqn", game, seed }))),
      dreamer: config.dreamer
        ? scoresOf(seedsOf((seed) => ({ kind: "dreamer", game, seed })))
        : null,
    };
  });
  const secondsPerStep: Partial<Record<EfficientZeroVariant, number>> = {};
  for (const variant of config.variants) {
    const costs = config.games.flatMap((game) =>
      config.seeds.map((seed) =>
        runs.get(stageKey({ kind: "agent", variant, game, seed }))!.secondsPerStep ?? Number.NaN
      )
    );
    secondsPerStep[variant] = meanOf(costs);
  }
  return {
    environmentSteps: config.environmentSteps,
    seeds: config.seeds,
    variants: config.variants,
    games,
    secondsPerStep,
    published: EFFICIENT_ZERO_PUBLISHED,
  };
}

const meanOf = (values: number[]) =>
  values.length ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN;

export function stageKey(stage: EfficientZeroStage): string {
  return stageLabel(stage);
}

async function runEfficientZeroMinatar(
  config: EfficientZeroMinatarConfig,
  options: RunOptions = {},
): Promise<ExperimentResult<EfficientZeroMinatarMetrics>> {
  const { read, stageSeconds, started } = await runStagesThenRead(
    NAME,
    config,
    options,
    stageJobs,
    runEfficientZeroStage,
  );
  const runs = new Map<string, EfficientZeroRun>();
  for (const stage of efficientZeroStages(config)) {
    const key = stage.kind === "agent" ? stage.variant : stage.kind;
    runs.set(stageKey(stage), await read<EfficientZeroRun>(stage, key));
  }
  const metrics = efficientZeroMetrics(config, runs);
  return muZeroResult({
    experiment: NAME,
    paper: PAPER,
    seeds: config.seeds,
    claims: efficientZeroClaims(metrics),
    metrics,
    stageSeconds,
    started,
    options,
  });
}

export const efficientZeroMinatar: Experiment<
  EfficientZeroMinatarConfig,
  EfficientZeroMinatarMetrics
> = {
  name: NAME,
  paper: PAPER,
  summary: "MuZero, EfficientZero and its ablations (no consistency, no value prefix, no " +
    "off-policy correction) on three MinAtar games at equal environment steps, beside DQN and " +
    "DreamerV2",
  notebook: "notebooks/06-efficientzero.ipynb",
  taxonomy: {
    model: "learned",
    modelPredicts: "value prefix, value and policy of latent states, kept consistent with " +
      "encoded next frames",
    representation: "latent, value-equivalent",
    planningStart: "current state",
    planningBudget: "a fixed number of MCTS simulations per move, again when reanalysing targets",
    search: "tree search (MCTS)",
    serves: "acting and learning",
  },
  configSchema: efficientZeroMinatarConfig,
  budgets: efficientZeroMinatarBudgets,
  expectedSeconds: { quick: 30, laptop: 2100, paper: 90 * 24 * 3600 },
  run: runEfficientZeroMinatar,
  stageJobs,
  drawFigures: drawEfficientZeroFigures,
  sharedTasks: (result) => {
    const steps = result.metrics.environmentSteps;
    // MuZero and the full agent; the ablations stay in this experiment's own tables.
    const shared = (variant: string) => variant === "muzero" || variant === "efficientzero";
    return result.metrics.games.flatMap((game) => [
      ...Object.entries(game.variants).filter(([variant]) => shared(variant)).flatMap((
        [variant, scores],
      ) =>
        finalScores(
          game.game,
          VARIANT_LABELS[variant as EfficientZeroVariant],
          "greedy return after training",
          steps,
          scores?.final,
        )
      ),
      ...finalScores(game.game, "DQN", "greedy return after training", steps, game.dqn?.final),
      ...finalScores(
        game.game,
        "DreamerV2",
        "greedy return after training",
        steps,
        game.dreamer?.final,
      ),
    ]);
  },
};
