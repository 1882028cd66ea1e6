/**
 * Vector Quantized Models for Planning (Ozair et al. 2021, Section 5.1, chess "where the opponent
 * is considered part of the environment") on tic-tac-toe: the agent plays first against the
 * tactical player, who is the environment's response. A VQ model whose chance nodes range over
 * codes of the opponent's reply, and the same model with one code (deterministic, MuZero-style),
 * both learn offline from the same games of a noisy tactical behaviour and search with the same
 * number of simulations (lib/planners/chance_mcts.ts). Against an opponent that mixes good and
 * random moves the one-code model must average the replies; against the tactical player alone
 * there is nothing to average. Beside them, exact expectimax (the ceiling) and the tactical player.
 *
 * And the study notes' line on DreamerV2: a VQ codebook and DreamerV2's categorical latents in
 * the same autoencoder on the same MinAtar frames (lib/experiments/vq-planning/frames.ts).
 */
import type { Experiment, ExperimentResult, RunOptions } from "../types.ts";
import type { MatchRecord } from "../../agents/muzero_play.ts";
import { muZeroResult, runStagesThenRead } from "../muzero/stages.ts";
import {
  type FrameCodes,
  type ModelRun,
  type OpponentResult,
  OPPONENTS,
  type VqPlanningExperimentConfig,
  vqPlanningExperimentSchema,
  type VqPlanningMetrics,
} from "./config.ts";
import {
  runVqPlanningStage,
  type VqPlanningStage,
  vqPlanningStageJobs,
  vqPlanningStages,
} from "./stages.ts";
import { vqPlanningClaims } from "./claims.ts";
import { drawVqPlanningFigures } from "./figures.ts";
import { randomFrames } from "./frames.ts";

const NAME = "vq-planning";
const PAPER =
  "Ozair et al. (2021), Vector Quantized Models for Planning, Section 5.1 (chess with " +
  "the opponent inside the environment), on tic-tac-toe; and DreamerV2's codes against a VQ " +
  "codebook (the study notes)";

/** The model every budget shares in shape: K = 16 codes of 8 numbers, MuZero's K = 3 unroll. */
const MODEL = {
  codeSize: 8,
  numCodes: 16,
  commitmentCost: 0.25,
  codebookDecay: 0.99,
  // A code taking under half a row of a batch's real steps (on average) is restarted.
  restartBelow: 0.5,
};

export const vqPlanningBudgets: Record<"quick" | "laptop" | "paper", VqPlanningExperimentConfig> = {
  quick: {
    seeds: [0],
    opponentRandomShare: 0.5,
    openingMoves: 2,
    data: { games: 200, behaviourRandomShare: 0.5 },
    agent: {
      model: { ...MODEL, latentSize: 16, hiddenSize: 32 },
      training: {
        updates: 30,
        batchSize: 32,
        unrollSteps: 3,
        learningRate: 2e-3,
        reconstructionWeight: 1,
        discount: 1,
      },
      search: { numSimulations: 4, pbCInit: 1.25 },
    },
    evaluation: { games: 20 },
    frames: {
      game: "MinAtar/Breakout-v0",
      trainFrames: 500,
      testFrames: 100,
      updates: 20,
      batchSize: 32,
      hiddenSize: 32,
      variables: 8,
      classes: 8,
      codeSize: 4,
      klScale: 0.1,
      learningRate: 1e-3,
    },
  },
  // Sized from timed runs (see expectedSeconds).
  laptop: {
    seeds: [0, 1, 2],
    opponentRandomShare: 0.5,
    openingMoves: 2,
    data: { games: 3000, behaviourRandomShare: 0.5 },
    agent: {
      model: { ...MODEL, latentSize: 32, hiddenSize: 64 },
      training: {
        updates: 3000,
        batchSize: 128,
        unrollSteps: 3,
        learningRate: 2e-3,
        reconstructionWeight: 1,
        discount: 1,
      },
      search: { numSimulations: 50, pbCInit: 1.25 },
    },
    evaluation: { games: 500 },
    frames: {
      game: "MinAtar/Breakout-v0",
      trainFrames: 20_000,
      testFrames: 2_000,
      updates: 3000,
      batchSize: 64,
      hiddenSize: 256,
      variables: 32,
      classes: 32,
      codeSize: 16,
      klScale: 0.1,
      learningRate: 1e-3,
    },
  },
  paper: {
    seeds: [0, 1, 2, 3, 4],
    opponentRandomShare: 0.5,
    openingMoves: 2,
    data: { games: 50_000, behaviourRandomShare: 0.5 },
    agent: {
      model: { ...MODEL, latentSize: 128, hiddenSize: 256, numCodes: 32 },
      training: {
        updates: 100_000,
        batchSize: 256,
        // The paper's (and MuZero's) unroll of 5.
        unrollSteps: 5,
        learningRate: 1e-3,
        reconstructionWeight: 1,
        discount: 1,
      },
      // MuZero's board-game search budget.
      search: { numSimulations: 800, pbCInit: 1.25 },
    },
    evaluation: { games: 5000 },
    frames: {
      game: "MinAtar/Breakout-v0",
      trainFrames: 200_000,
      testFrames: 10_000,
      updates: 50_000,
      batchSize: 128,
      hiddenSize: 512,
      variables: 32,
      classes: 32,
      codeSize: 32,
      klScale: 0.1,
      learningRate: 3e-4,
    },
  },
};

async function runVqPlanning(
  config: VqPlanningExperimentConfig,
  options: RunOptions = {},
): Promise<ExperimentResult<VqPlanningMetrics>> {
  const { read, stageSeconds, started } = await runStagesThenRead(
    NAME,
    config,
    options,
    vqPlanningStageJobs,
    runVqPlanningStage,
  );
  const values = new Map<VqPlanningStage, unknown>();
  for (const stage of vqPlanningStages(config)) values.set(stage, await read(stage, stage.kind));
  const find = <T>(match: (stage: VqPlanningStage) => boolean): T =>
    [...values.entries()].find(([stage]) => match(stage))![1] as T;
  const reference = find<Record<string, { optimal: MatchRecord; tactical: MatchRecord }>>((s) =>
    s.kind === "reference"
  );
  const opponents: OpponentResult[] = OPPONENTS.map((opponent) => ({
    opponent,
    randomShare: opponent === "stochastic" ? config.opponentRandomShare : 0,
    ...reference[opponent],
    seeds: config.seeds.map((seed) => {
      const run = (model: "vq" | "deterministic") =>
        find<ModelRun>((s) =>
          s.kind === "games" && s.opponent === opponent && s.model === model && s.seed === seed
        );
      return { seed, vq: run("vq"), deterministic: run("deterministic") };
    }),
  }));
  const test = randomFrames(config.frames.game, config.frames.testFrames, 2);
  const metrics: VqPlanningMetrics = {
    simulations: config.agent.search.numSimulations,
    numCodes: config.agent.model.numCodes,
    opponents,
    frames: {
      game: config.frames.game,
      classes: config.frames.classes,
      variables: config.frames.variables,
      litCells: test.reduce((a, b) => a + b, 0) / config.frames.testFrames,
      seeds: config.seeds.map((seed) => {
        const codes = (bottleneck: "codebook" | "categorical") =>
          find<FrameCodes>((s) =>
            s.kind === "frames" && s.bottleneck === bottleneck && s.seed === seed
          );
        return { seed, codebook: codes("codebook"), categorical: codes("categorical") };
      }),
    },
  };
  return muZeroResult({
    experiment: NAME,
    paper: PAPER,
    seeds: config.seeds,
    claims: vqPlanningClaims(metrics),
    metrics,
    stageSeconds,
    started,
    options,
  });
}

export const vqPlanning: Experiment<VqPlanningExperimentConfig, VqPlanningMetrics> = {
  name: NAME,
  paper: PAPER,
  summary: "a VQ model with chance nodes against a one-code (deterministic) model of the same " +
    "size and data, against a stochastic and a deterministic tic-tac-toe opponent; VQ codes " +
    "against DreamerV2's categoricals on MinAtar frames",
  notebook: "notebooks/07-planning-with-learned-models.ipynb",
  taxonomy: {
    model: "learned",
    modelPredicts: "reward, value, policy and a distribution over discrete codes for the " +
      "environment's reply",
    representation: "latent, discrete codes",
    planningStart: "current state",
    planningBudget: "a fixed number of simulations per move, chance nodes sampling codes",
    search: "tree search (MCTS)",
    serves: "acting",
  },
  configSchema: vqPlanningExperimentSchema,
  budgets: vqPlanningBudgets,
  expectedSeconds: { quick: 15, laptop: 1900, paper: 3 * 24 * 3600 },
  run: runVqPlanning,
  stageJobs: vqPlanningStageJobs,
  drawFigures: drawVqPlanningFigures,
};
