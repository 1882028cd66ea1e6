/**
 * MuZero on CartPole-v1 against DQN at equal environment steps (Schrittwieser et al. 2020, Section
 * 4 and Table 1: "MuZero Reanalyze achieved 731% median normalized score, compared to 192%, 231%
 * and 431% for previous state-of-the-art model-free approaches", at the same 200 million frames).
 * The agent uses the paper's Atari settings scaled down: discount 0.997, value and reward supports
 * of h-transformed scalars, n-step value targets, prioritised replay and Reanalyse, and the visit
 * temperature falling from 1 to 0.5 and 0.25 over training.
 *
 * Stages, each resumable from its files: MuZero per seed (in the stage pool's workers), then DQN
 * per seed for exactly the environment steps that seed's MuZero used.
 */
import type { StageJob } from "../stage_pool.ts";
import { Rng } from "../../rng.ts";
import { searchConfigOf, trainMuZero } from "../../agents/muzero.ts";
import { DiscreteEnvEnvironment, SearchPlayer, selfPlay } from "../../agents/muzero_play.ts";
import { trainDqn } from "../../agents/dqn.ts";
import type { MuZeroNetwork } from "../../models/muzero.ts";
import { CartPoleEnv } from "../../envs/cartpole.ts";
import { mean } from "../stats.ts";
import type { Experiment, ExperimentResult, Progress, RunOptions } from "../types.ts";
import {
  ATARI_TEMPERATURE_SCHEDULE,
  type CartPoleConfig,
  cartPoleConfigSchema,
  type CartPoleMetrics,
  type CartPoleSeedResult,
  PAPER_PRIORITIES,
} from "./config.ts";
import {
  muZeroResult,
  runStagesThenRead,
  type StageArgs,
  stageFile,
  stageGroupJobs,
} from "./stages.ts";
import { cartPoleClaims } from "./claims.ts";
import { drawCartPoleFigures } from "./figures.ts";
import type { MuZeroConfig } from "../../agents/muzero.ts";
import type { DqnConfig } from "../../agents/dqn.ts";
import { MUZERO_PLACE } from "./place.ts";

const NAME = "muzero-cartpole";
const PAPER = "Schrittwieser et al. (2020), MuZero, Section 4 and Table 1 (Atari settings), on " +
  "CartPole-v1 against DQN";

export const cartPoleEnvironment = new DiscreteEnvEnvironment(() => new CartPoleEnv());

/** The paper's Atari search and schedule, scaled to a laptop. */
export const CARTPOLE_AGENT: MuZeroConfig = {
  network: {
    architecture: { kind: "mlp", latentSize: 32, hiddenSize: 64, hiddenLayers: 2 },
    value: { kind: "support", size: 20 },
    reward: { kind: "support", size: 5 },
  },
  search: {
    numSimulations: 50,
    discount: 0.997,
    dirichletAlpha: 0.25,
    explorationFraction: 0.25,
    // Ours: the returns of CartPole lie in [0, 1 / (1 - γ)], and starting the min-max
    // normalisation there keeps an early, confident policy from taking every simulation (with
    // the tree's own range the search collapsed onto one action in our runs).
    valueBounds: { min: 0, max: 333 },
  },
  selfPlay: {
    gamesPerIteration: 4,
    parallelGames: 4,
    temperatureSchedule: ATARI_TEMPERATURE_SCHEDULE,
    greedyFromMove: null,
    maxRandomOpeningMoves: 0,
  },
  training: {
    iterations: 200,
    updatesPerIteration: 100,
    batchSize: 128,
    unrollSteps: 5,
    tdSteps: 10,
    learningRate: 1e-3,
    learningRateDecayRate: 0.1,
    learningRateDecaySteps: 20_000,
    optimizer: "adam",
    weightDecay: 1e-4,
    // MuZero Reanalyze weighs the value loss down to 0.25 (Appendix H).
    valueLossWeight: 0.25,
    gradClipNorm: 0,
  },
  replay: { ...PAPER_PRIORITIES, capacityGames: 200, priorityFloor: 1 },
  reanalyse: { positionsPerIteration: 1000, batchSize: 250 },
};

/** DQN for CartPole: an MLP of two 64-unit layers; warm-up and annealing sized to short runs. */
export const CARTPOLE_DQN: DqnConfig = {
  network: { kind: "mlp", hiddenSize: 64, hiddenLayers: 2 },
  batchSize: 64,
  replayCapacity: 50_000,
  replayStart: 1000,
  trainEvery: 1,
  targetUpdateEvery: 500,
  epsilonStart: 1,
  epsilonEnd: 0.05,
  epsilonDecaySteps: 10_000,
  evaluationEpsilon: 0,
  learningRate: 1e-3,
  rmspropDecay: 0.95,
  rmspropMomentum: 0,
  rmspropEpsilon: 0.01,
  discount: 0.99,
};

export const cartPoleBudgets: Record<"quick" | "laptop" | "paper", CartPoleConfig> = {
  quick: {
    seeds: [0],
    agent: {
      ...CARTPOLE_AGENT,
      network: {
        architecture: { kind: "mlp", latentSize: 8, hiddenSize: 16, hiddenLayers: 1 },
        value: { kind: "support", size: 5 },
        reward: { kind: "support", size: 2 },
      },
      search: { ...CARTPOLE_AGENT.search, numSimulations: 4 },
      selfPlay: { ...CARTPOLE_AGENT.selfPlay, gamesPerIteration: 2, parallelGames: 2 },
      training: {
        ...CARTPOLE_AGENT.training,
        iterations: 2,
        updatesPerIteration: 4,
        batchSize: 16,
      },
      reanalyse: { positionsPerIteration: 20, batchSize: 20 },
    },
    dqn: { ...CARTPOLE_DQN, replayStart: 20, batchSize: 8, epsilonDecaySteps: 100 },
    evaluation: { episodes: 2, simulations: 4, curveEvery: 1, curveEpisodes: 1 },
  },
  laptop: {
    seeds: [0, 1],
    agent: CARTPOLE_AGENT,
    dqn: CARTPOLE_DQN,
    evaluation: { episodes: 10, simulations: 50, curveEvery: 5, curveEpisodes: 3 },
  },
  paper: {
    seeds: [0, 1, 2],
    agent: {
      ...CARTPOLE_AGENT,
      network: { ...CARTPOLE_AGENT.network, value: { kind: "support", size: 300 } },
      search: { ...CARTPOLE_AGENT.search, numSimulations: 50, valueBounds: null },
      selfPlay: { ...CARTPOLE_AGENT.selfPlay, gamesPerIteration: 32, parallelGames: 32 },
      training: {
        ...CARTPOLE_AGENT.training,
        iterations: 1000,
        updatesPerIteration: 1000,
        batchSize: 1024,
        learningRate: 0.05,
        learningRateDecayRate: 0.1,
        learningRateDecaySteps: 350_000,
        optimizer: "momentum",
      },
      replay: { ...PAPER_PRIORITIES, priorityFloor: 1 },
      reanalyse: { positionsPerIteration: 100_000, batchSize: 1024 },
    },
    dqn: { ...CARTPOLE_DQN, network: { kind: "mlp", hiddenSize: 256, hiddenLayers: 2 } },
    evaluation: { episodes: 100, simulations: 50, curveEvery: 20, curveEpisodes: 10 },
  },
};

type CartPoleStage = { kind: "muzero" | "dqn"; seed: number };
type Args = StageArgs<CartPoleConfig, CartPoleStage>;

/** Returns of greedy episodes (no noise, the most visited action) from given start seeds. */
export function evaluateMuZero(
  network: MuZeroNetwork,
  agent: MuZeroConfig,
  simulations: number,
  episodes: number,
  firstSeed: number,
): number[] {
  const player = new SearchPlayer(
    network,
    searchConfigOf(agent, cartPoleEnvironment, simulations),
  );
  const records = selfPlay(cartPoleEnvironment, player, {
    episodes,
    parallel: episodes,
    seedOf: (episode) => firstSeed + episode,
    temperature: () => 0,
    addNoise: false,
    rng: new Rng(firstSeed),
  });
  return records.map((record) => record.rewards.reduce((a, b) => a + b, 0));
}

/** Start seeds of the final evaluation episodes, the same for MuZero and DQN. */
const evaluationSeed = (seed: number) => 7_000_000 + seed * 1000;

export async function runCartPoleStage(
  args: Args,
  report: (progress: Progress) => void,
  signal?: AbortSignal,
): Promise<{ value: unknown; seconds: number }> {
  const { config, dataDir, stage } = args;
  const { seed } = stage;
  const muzeroInputs = { agent: config.agent, evaluation: config.evaluation, seed };
  const muzero = () =>
    stageFile(dataDir, `muzero-seed-${seed}`, muzeroInputs, async () => {
      const { simulations, curveEpisodes, episodes } = config.evaluation;
      const run = await trainMuZero(cartPoleEnvironment, config.agent, {
        seed,
        dataDir: `${dataDir}/muzero-seed-${seed}`,
        onProgress: report,
        signal,
        label: `MuZero CartPole seed ${seed}`,
        evaluateEvery: config.evaluation.curveEvery,
        evaluate: (network, iteration) => ({
          meanReturn: mean(
            evaluateMuZero(
              network,
              config.agent,
              simulations,
              curveEpisodes,
              8_000_000 + iteration,
            ),
          ),
        }),
      });
      const evaluation = evaluateMuZero(
        run.network,
        config.agent,
        simulations,
        episodes,
        evaluationSeed(seed),
      );
      run.network.dispose();
      // Each self-play episode's return at the environment step it ended.
      const selfPlayCurve = { envSteps: [] as number[], returns: [] as number[] };
      let steps = 0;
      for (const { record } of run.replay.games()) {
        steps += record.length;
        selfPlayCurve.envSteps.push(steps);
        selfPlayCurve.returns.push(record.rewards.reduce((a, b) => a + b, 0));
      }
      const last = run.curve.at(-1)!;
      return {
        envSteps: last.envSteps,
        updates: last.updates,
        trainingSeconds: run.curve.reduce((sum, r) => sum + r.seconds, 0),
        selfPlay: selfPlayCurve,
        curve: run.curve.filter((r) => r.evaluation).map((r) => ({
          envSteps: r.envSteps,
          meanReturn: r.evaluation!.meanReturn,
        })),
        evaluation,
      } satisfies CartPoleSeedResult["muzero"];
    });
  if (stage.kind === "muzero") return await muzero();
  // DQN gets exactly the environment steps this seed's MuZero used.
  const { value: trained } = await muzero();
  const envSteps = trained.envSteps;
  return await stageFile(
    dataDir,
    `dqn-seed-${seed}`,
    { dqn: config.dqn, envSteps, seed },
    async () => {
      const started = performance.now();
      const result = await trainDqn(new CartPoleEnv(), config.dqn, {
        environmentSteps: envSteps,
        seed,
        onProgress: report,
        signal,
        label: `DQN CartPole seed ${seed}`,
      });
      const evaluation = evaluateDqnFrom(result.agent, config.evaluation.episodes, seed);
      result.agent.dispose();
      return {
        envSteps,
        seconds: (performance.now() - started) / 1000,
        episodes: { envSteps: result.episodes.steps, returns: result.episodes.returns },
        evaluation,
      } satisfies CartPoleSeedResult["dqn"];
    },
  );
}

/** DQN's greedy returns from the same start states as MuZero's evaluation. */
function evaluateDqnFrom(
  agent: Awaited<ReturnType<typeof trainDqn>>["agent"],
  episodes: number,
  seed: number,
): number[] {
  const env = new CartPoleEnv();
  const returns: number[] = [];
  for (let episode = 0; episode < episodes; episode++) {
    let observation = env.reset(evaluationSeed(seed) + episode);
    let total = 0;
    for (;;) {
      const result = env.step(agent.act(observation, 0));
      total += result.reward;
      observation = result.observation;
      if (result.terminated || result.truncated) break;
    }
    returns.push(total);
  }
  return returns;
}

/** For the stage pool's workers. */
export async function runStage(args: Args, report: (progress: Progress) => void): Promise<void> {
  await runCartPoleStage(args, report);
}

/** The experiment's stages for the stage pool, `--stage` and `--slurm`. */
function stageJobs(config: CartPoleConfig, dataDir: string): StageJob[] {
  return stageGroupJobs<CartPoleConfig, CartPoleStage>(
    [
      config.seeds.map((seed) => ({ kind: "muzero", seed }) as const),
      config.seeds.map((seed) => ({ kind: "dqn", seed }) as const),
    ],
    import.meta.url,
    (stage) => `${stage.kind} seed ${stage.seed}`,
    { config, dataDir },
  );
}

async function runCartPole(
  config: CartPoleConfig,
  options: RunOptions = {},
): Promise<ExperimentResult<CartPoleMetrics>> {
  const { read, stageSeconds, started } = await runStagesThenRead(
    NAME,
    config,
    options,
    stageJobs,
    runCartPoleStage,
  );
  const seeds: CartPoleSeedResult[] = [];
  for (const seed of config.seeds) {
    const parts = {} as Pick<CartPoleSeedResult, "muzero" | "dqn">;
    for (const kind of ["muzero", "dqn"] as const) {
      (parts as Record<string, unknown>)[kind] = await read({ kind, seed }, kind);
    }
    seeds.push({ seed, ...parts });
  }
  const metrics: CartPoleMetrics = { evaluationEpisodes: config.evaluation.episodes, seeds };
  return muZeroResult({
    experiment: NAME,
    paper: PAPER,
    seeds: config.seeds,
    claims: cartPoleClaims(metrics),
    metrics,
    stageSeconds,
    started,
    options,
  });
}

export const muZeroCartPole: Experiment<CartPoleConfig, CartPoleMetrics> = {
  name: NAME,
  paper: PAPER,
  summary: "MuZero with the paper's Atari settings on CartPole-v1, against DQN at equal " +
    "environment steps",
  notebook: "notebooks/05-muzero.ipynb",
  taxonomy: MUZERO_PLACE,
  configSchema: cartPoleConfigSchema,
  budgets: cartPoleBudgets,
  expectedSeconds: { quick: 10, laptop: 1800, paper: 30 * 24 * 3600 },
  run: runCartPole,
  stageJobs,
  drawFigures: drawCartPoleFigures,
};
