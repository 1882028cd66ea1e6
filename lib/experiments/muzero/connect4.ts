/**
 * MuZero on Connect Four without the rules (Schrittwieser et al. 2020, Section 4 and Figure 3A:
 * "the learned model is able to scale well to up to two orders of magnitude longer searches than
 * seen during training"): the trained agent against alpha-beta players of increasing depth, and
 * its playing strength as the simulations per move grow from 1 (the policy network alone) to 200
 * with the network fixed, the shape of the paper's Figure 3.
 *
 * Stages, each resumable from its files: MuZero per seed (in the stage pool's workers), then each
 * seed's matches against alpha-beta and its simulation sweep.
 */
import type { StageJob } from "../stage_pool.ts";
import { Rng } from "../../rng.ts";
import { loadMuZeroNetwork, searchConfigOf, trainMuZero } from "../../agents/muzero.ts";
import {
  BoardGameEnvironment,
  type BoardPlayer,
  learnedAgent,
  type MatchRecord,
  playMatch,
  randomOpenings,
  randomPlayer,
  SearchPlayer,
} from "../../agents/muzero_play.ts";
import type { MuZeroNetwork } from "../../models/muzero.ts";
import {
  CONNECT_FOUR,
  ConnectFourAlphaBeta,
  type ConnectFourState,
} from "../../envs/connect_four.ts";
import type { Experiment, ExperimentResult, Progress, RunOptions } from "../types.ts";
import {
  BOARD_TRAINING,
  type ConnectFourConfig,
  connectFourConfigSchema,
  type ConnectFourMetrics,
  type ConnectFourSeedResult,
  PAPER_PRIORITIES,
  paperBoardAgent,
} from "./config.ts";
import {
  breathe,
  muZeroResult,
  runStagesThenRead,
  score,
  type StageArgs,
  stageFile,
  stageGroupJobs,
} from "./stages.ts";
import { connectFourClaims } from "./claims.ts";
import { drawConnectFourFigures } from "./figures.ts";
import { MUZERO_PLACE } from "./place.ts";

const NAME = "muzero-connect4";
const PAPER = "Schrittwieser et al. (2020), MuZero, Section 4 and Figure 3A (search scaling), on " +
  "Connect Four against alpha-beta";

const environment = new BoardGameEnvironment(CONNECT_FOUR);

/** About 10 over the typical number of legal moves (7), AlphaZero's rule. */
const CONNECT_FOUR_ALPHA = 1;

export const connectFourBudgets: Record<"quick" | "laptop" | "paper", ConnectFourConfig> = {
  quick: {
    seeds: [0],
    agent: {
      network: {
        architecture: { kind: "residual", channels: 4, blocks: 1, headHidden: 8 },
        value: { kind: "scalar" },
        reward: { kind: "scalar" },
      },
      search: {
        numSimulations: 4,
        discount: 1,
        dirichletAlpha: CONNECT_FOUR_ALPHA,
        explorationFraction: 0.25,
        valueBounds: { min: -1, max: 1 },
      },
      selfPlay: {
        gamesPerIteration: 4,
        parallelGames: 4,
        temperatureSchedule: [{ untilProgress: 1, temperature: 1 }],
        greedyFromMove: 8,
        maxRandomOpeningMoves: 1,
      },
      training: {
        iterations: 2,
        updatesPerIteration: 4,
        batchSize: 16,
        tdSteps: 42,
        learningRate: 2e-3,
        learningRateDecayRate: 1,
        learningRateDecaySteps: 1,
        ...BOARD_TRAINING,
      },
      replay: { ...PAPER_PRIORITIES, capacityGames: 100 },
      reanalyse: { positionsPerIteration: 16, batchSize: 16 },
    },
    evaluation: {
      simulations: 4,
      alphaBetaDepths: [1, 2],
      gamesPerSide: 2,
      simulationSweep: [1, 4],
      sweepDepth: 1,
      sweepGamesPerSide: 2,
      curveEvery: 1,
      curveGames: 1,
      openingPlies: 2,
    },
  },
  laptop: {
    seeds: [0, 1],
    agent: {
      network: {
        architecture: { kind: "mlp", latentSize: 64, hiddenSize: 256, hiddenLayers: 2 },
        value: { kind: "scalar" },
        reward: { kind: "scalar" },
      },
      search: {
        numSimulations: 50,
        discount: 1,
        dirichletAlpha: CONNECT_FOUR_ALPHA,
        explorationFraction: 0.25,
        valueBounds: { min: -1, max: 1 },
      },
      selfPlay: {
        gamesPerIteration: 64,
        parallelGames: 64,
        temperatureSchedule: [{ untilProgress: 1, temperature: 1 }],
        greedyFromMove: 30,
        maxRandomOpeningMoves: 2,
      },
      training: {
        // 240 iterations took 10.3 minutes (two seeds on two workers) and learned nothing that
        // beats depth 1; 1,100 fill about 48 of the laptop hour. The step size falls tenfold
        // over the run and self-play samples by visit counts for the first 30 moves (the
        // paper's rule), as tic-tac-toe's check chose.
        iterations: 1100,
        updatesPerIteration: 50,
        batchSize: 128,
        tdSteps: 42,
        learningRate: 2e-3,
        learningRateDecayRate: 0.1,
        learningRateDecaySteps: 1100 * 50,
        ...BOARD_TRAINING,
      },
      replay: { ...PAPER_PRIORITIES, capacityGames: 3000 },
      reanalyse: { positionsPerIteration: 256, batchSize: 128 },
    },
    evaluation: {
      simulations: 50,
      alphaBetaDepths: [1, 2, 3, 4],
      gamesPerSide: 50,
      simulationSweep: [1, 3, 10, 30, 100, 200],
      sweepDepth: 1,
      sweepGamesPerSide: 50,
      curveEvery: 25,
      curveGames: 20,
      openingPlies: 2,
    },
  },
  paper: {
    seeds: [0, 1, 2],
    agent: paperBoardAgent(
      { kind: "residual", channels: 128, blocks: 8, headHidden: 128 },
      CONNECT_FOUR_ALPHA,
      CONNECT_FOUR.maxMoves,
    ),
    evaluation: {
      simulations: 800,
      alphaBetaDepths: [1, 2, 3, 4, 5, 6],
      gamesPerSide: 200,
      simulationSweep: [1, 3, 10, 30, 100, 300, 800, 3200],
      sweepDepth: 4,
      sweepGamesPerSide: 200,
      curveEvery: 50,
      curveGames: 100,
      openingPlies: 2,
    },
  },
};

type ConnectFourStage = { kind: "muzero" | "matches"; seed: number };
type Args = StageArgs<ConnectFourConfig, ConnectFourStage>;

/** Alpha-beta of a given depth as an outside player. */
export function alphaBetaPlayer(depth: number, seed: number): BoardPlayer<ConnectFourState> {
  const player = new ConnectFourAlphaBeta({ depth, rng: new Rng(seed) });
  return { name: `alpha-beta depth ${depth}`, chooseMove: (state) => player.chooseMove(state) };
}

/**
 * Both sides against one opponent at one simulation count. The games open with
 * `openingPlies` random moves (see `randomOpenings`), drawn from `seed`: the same openings on
 * both sides and at every simulation count with the same seed.
 */
export function bothSides(
  network: MuZeroNetwork,
  config: ConnectFourConfig,
  simulations: number,
  opponent: BoardPlayer<ConnectFourState>,
  gamesPerSide: number,
  seed: number,
): { first: MatchRecord; second: MatchRecord } {
  const agent = learnedAgent<ConnectFourState>(
    new SearchPlayer(network, searchConfigOf(config.agent, environment, simulations)),
  );
  const rng = new Rng(seed);
  const { openingPlies } = config.evaluation;
  const starts = openingPlies > 0
    ? randomOpenings(CONNECT_FOUR, gamesPerSide, openingPlies, rng)
    : undefined;
  const match = (agentFirst: boolean) =>
    playMatch({
      game: CONNECT_FOUR,
      agent,
      opponent,
      agentFirst,
      games: gamesPerSide,
      rng,
      starts,
    });
  return { first: match(true), second: match(false) };
}

export async function runConnectFourStage(
  args: Args,
  report: (progress: Progress) => void,
  signal?: AbortSignal,
): Promise<{ value: unknown; seconds: number }> {
  const { config, dataDir, stage } = args;
  const { seed } = stage;
  const runDir = `${dataDir}/muzero-seed-${seed}`;
  const inputs = { agent: config.agent, evaluation: config.evaluation, seed };
  if (stage.kind === "muzero") {
    return await stageFile(dataDir, `muzero-seed-${seed}`, inputs, async () => {
      const { sweepDepth, curveGames, simulations } = config.evaluation;
      const run = await trainMuZero(environment, config.agent, {
        seed,
        dataDir: runDir,
        onProgress: report,
        signal,
        label: `MuZero Connect Four seed ${seed}`,
        evaluateEvery: config.evaluation.curveEvery,
        evaluate: (network, iteration) => {
          const { first, second } = bothSides(
            network,
            config,
            simulations,
            alphaBetaPlayer(sweepDepth, 40_000 + iteration),
            curveGames,
            41_000 + iteration,
          );
          return { score: (score(first) + score(second)) / 2 };
        },
      });
      run.network.dispose();
      const last = run.curve.at(-1)!;
      return {
        games: last.games,
        envSteps: last.envSteps,
        updates: last.updates,
        trainingSeconds: run.curve.reduce((sum, r) => sum + r.seconds, 0),
        curve: run.curve.filter((r) => r.evaluation).map((r) => ({
          iteration: r.iteration,
          games: r.games,
          score: r.evaluation!.score,
        })),
        losses: run.curve.filter((r) => r.losses).map((r) => ({
          iteration: r.iteration,
          value: r.losses!.value,
          reward: r.losses!.reward,
          policy: r.losses!.policy,
        })),
      };
    });
  }
  return await stageFile(dataDir, `matches-seed-${seed}`, inputs, async () => {
    const network = await loadMuZeroNetwork(environment, config.agent, seed, runDir);
    const { alphaBetaDepths, gamesPerSide, sweepDepth, sweepGamesPerSide } = config.evaluation;
    // The training search's count is always on the curve: the claims compare against it.
    const simulationSweep = [
      ...new Set([...config.evaluation.simulationSweep, config.agent.search.numSimulations]),
    ].sort((a, b) => a - b);
    const total = alphaBetaDepths.length + simulationSweep.length + 1;
    let done = 0;
    const alphaBeta: ConnectFourSeedResult["alphaBeta"] = [];
    for (const depth of alphaBetaDepths) {
      const result = bothSides(
        network,
        config,
        config.evaluation.simulations,
        alphaBetaPlayer(depth, 50_000 + seed * 100 + depth),
        gamesPerSide,
        51_000 + seed * 100 + depth,
      );
      alphaBeta.push({ depth, ...result });
      report({ stage: `matches seed ${seed}`, done: ++done, total, message: `depth ${depth}` });
      await breathe();
    }
    const sweep: ConnectFourSeedResult["sweep"] = [];
    for (const simulations of simulationSweep) {
      // The same opponent and games at every count, so only the search differs.
      const result = bothSides(
        network,
        config,
        simulations,
        alphaBetaPlayer(sweepDepth, 60_000 + seed),
        sweepGamesPerSide,
        61_000 + seed,
      );
      sweep.push({ simulations, ...result });
      report({
        stage: `matches seed ${seed}`,
        done: ++done,
        total,
        message: `${simulations} simulations`,
      });
      await breathe();
    }
    const random = bothSides(
      network,
      config,
      config.evaluation.simulations,
      randomPlayer(CONNECT_FOUR),
      gamesPerSide,
      70_000 + seed,
    );
    report({ stage: `matches seed ${seed}`, done: ++done, total, message: "random play" });
    network.dispose();
    return { alphaBeta, sweep, random };
  });
}

/** For the stage pool's workers. */
export async function runStage(args: Args, report: (progress: Progress) => void): Promise<void> {
  await runConnectFourStage(args, report);
}

/** The experiment's stages for the stage pool, `--stage` and `--slurm`. */
function stageJobs(config: ConnectFourConfig, dataDir: string): StageJob[] {
  return stageGroupJobs<ConnectFourConfig, ConnectFourStage>(
    [
      config.seeds.map((seed) => ({ kind: "muzero", seed }) as const),
      config.seeds.map((seed) => ({ kind: "matches", seed }) as const),
    ],
    import.meta.url,
    (stage) => `${stage.kind} seed ${stage.seed}`,
    { config, dataDir },
  );
}

async function runConnectFour(
  config: ConnectFourConfig,
  options: RunOptions = {},
): Promise<ExperimentResult<ConnectFourMetrics>> {
  const { read, stageSeconds, started } = await runStagesThenRead(
    NAME,
    config,
    options,
    stageJobs,
    runConnectFourStage,
  );
  const run = <T>(stage: ConnectFourStage) => read<T>(stage, stage.kind);
  const seeds: ConnectFourSeedResult[] = [];
  for (const seed of config.seeds) {
    const training = await run<
      Omit<ConnectFourSeedResult, "seed" | "alphaBeta" | "sweep" | "random">
    >({
      kind: "muzero",
      seed,
    });
    const matches = await run<Pick<ConnectFourSeedResult, "alphaBeta" | "sweep" | "random">>({
      kind: "matches",
      seed,
    });
    seeds.push({ seed, ...training, ...matches });
  }
  const metrics: ConnectFourMetrics = {
    trainingSimulations: config.agent.search.numSimulations,
    evaluationSimulations: config.evaluation.simulations,
    sweepDepth: config.evaluation.sweepDepth,
    seeds,
  };
  return muZeroResult({
    experiment: NAME,
    paper: PAPER,
    seeds: config.seeds,
    claims: connectFourClaims(metrics),
    metrics,
    stageSeconds,
    started,
    options,
  });
}

export const muZeroConnectFour: Experiment<ConnectFourConfig, ConnectFourMetrics> = {
  name: NAME,
  paper: PAPER,
  summary: "MuZero learns Connect Four without the rules; against alpha-beta of increasing " +
    "depth, and its strength as simulations per move grow from 1 to 200 with one network",
  notebook: "notebooks/05-muzero.ipynb",
  taxonomy: MUZERO_PLACE,
  configSchema: connectFourConfigSchema,
  budgets: connectFourBudgets,
  expectedSeconds: { quick: 10, laptop: 2900, paper: 30 * 24 * 3600 },
  run: runConnectFour,
  stageJobs,
  drawFigures: drawConnectFourFigures,
};
