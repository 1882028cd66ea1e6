/**
 * The MuZero experiments' configurations and metrics (Schrittwieser et al. 2020, "Mastering
 * Atari, Go, chess and shogi by planning with a learned model"): a zod schema per experiment,
 * the agent settings their budgets share, and what each run records for its claims and figures.
 */
import { z } from "zod";
import { type MuZeroConfig, muZeroConfigSchema } from "../../agents/muzero.ts";
import { dqnConfigSchema } from "../../agents/dqn.ts";
import type { MatchRecord } from "../../agents/muzero_play.ts";

const seeds = z.array(z.number().int().nonnegative()).min(1);
const count = (max: number) => z.number().int().min(1).max(max);

// ---------------------------------------------------------------------------------------------
// Tic-tac-toe

export const ticTacToeConfigSchema = z.object({
  seeds,
  agent: muZeroConfigSchema,
  evaluation: z.object({
    /** Simulations per move when the trained agent is tested. */
    simulations: count(100_000),
    /** Games against the perfect player as first and as second player (the issue: 100). */
    gamesPerSide: count(100_000),
    /** Games against uniformly random play as first and as second player. */
    randomGames: count(100_000),
    /**
     * The search with the true rules and no network: its simulations per move and random
     * playouts per leaf (the search's tests play perfectly with 3,200 and 2).
     */
    rulesSimulations: count(1_000_000),
    rulesRollouts: count(100),
    /** Learning-curve evaluations every this many iterations (0: at the end only). */
    curveEvery: z.number().int().min(0),
    /** Games per side in each learning-curve evaluation. */
    curveGames: count(10_000),
  }).strict(),
}).strict();

export type TicTacToeConfig = z.infer<typeof ticTacToeConfigSchema>;

/** One learning-curve point: the agent after some iterations. */
export interface TicTacToeCurvePoint {
  iteration: number;
  games: number;
  /** Shares of games not lost against the perfect player, first and second to move. */
  firstNotLost: number;
  secondNotLost: number;
  /** Share of games won as first player against random play. */
  randomWins: number;
}

/** The final agent of one seed against each opponent. */
export interface TicTacToeSeedResult {
  seed: number;
  games: number;
  envSteps: number;
  updates: number;
  trainingSeconds: number;
  curve: TicTacToeCurvePoint[];
  losses: { iteration: number; value: number; reward: number; policy: number }[];
  /** The learned model: MuZero. */
  muzero: TicTacToeMatches;
  /** The same search on the true rules with MuZero's h and f: AlphaZero's setting. */
  alphaZero: TicTacToeMatches;
  /** The raw network, no search, over every position a game can reach. */
  network: { policyOptimal: number; valueRmse: number; positions: number };
}

export interface TicTacToeMatches {
  perfectFirst: MatchRecord;
  perfectSecond: MatchRecord;
  randomFirst: MatchRecord;
  randomSecond: MatchRecord;
}

export interface TicTacToeMetrics {
  simulations: number;
  seeds: TicTacToeSeedResult[];
  /** The true rules alone (uniform priors, values from random playouts), no learning at all. */
  rulesOnly: TicTacToeMatches;
}

// ---------------------------------------------------------------------------------------------
// Shared agent settings

/** MuZero's board-game settings at laptop scale: K = 5, Adam, the paper's weight decay. */
export const BOARD_TRAINING = {
  unrollSteps: 5,
  optimizer: "adam",
  weightDecay: 1e-4,
  valueLossWeight: 1,
  gradClipNorm: 0,
} as const satisfies Partial<MuZeroConfig["training"]>;

/** The pseudocode's Atari temperature schedule: 1, then 0.5 and 0.25 in the last half of training. */
export const ATARI_TEMPERATURE_SCHEDULE: MuZeroConfig["selfPlay"]["temperatureSchedule"] = [
  { untilProgress: 0.5, temperature: 1 },
  { untilProgress: 0.75, temperature: 0.5 },
  { untilProgress: 1, temperature: 0.25 },
];

/** Prioritised replay as the paper's Atari agent samples (α = β = 1). */
export const PAPER_PRIORITIES: MuZeroConfig["replay"] = {
  capacityGames: 1_000_000,
  priorityExponent: 1,
  importanceExponent: 1,
  priorityFloor: 0.05,
};

/** The paper's board-game agent: 800 simulations, batch 2048, 1M updates, SGD at 0.1. */
export function paperBoardAgent(
  architecture: MuZeroConfig["network"]["architecture"],
  dirichletAlpha: number,
  maxMoves: number,
): MuZeroConfig {
  return {
    network: { architecture, value: { kind: "scalar" }, reward: { kind: "scalar" } },
    search: {
      numSimulations: 800,
      discount: 1,
      dirichletAlpha,
      explorationFraction: 0.25,
      // The pseudocode's known bounds for board games.
      valueBounds: { min: -1, max: 1 },
    },
    selfPlay: {
      gamesPerIteration: 2048,
      parallelGames: 256,
      temperatureSchedule: [{ untilProgress: 1, temperature: 1 }],
      greedyFromMove: 30,
      maxRandomOpeningMoves: 0,
    },
    training: {
      iterations: 1000,
      updatesPerIteration: 1000,
      batchSize: 2048,
      tdSteps: maxMoves,
      learningRate: 0.1,
      learningRateDecayRate: 0.1,
      learningRateDecaySteps: 400_000,
      ...BOARD_TRAINING,
      optimizer: "momentum",
    },
    replay: { ...PAPER_PRIORITIES, priorityExponent: 0, importanceExponent: 0 },
    reanalyse: { positionsPerIteration: 0, batchSize: 256 },
  };
}

// ---------------------------------------------------------------------------------------------
// Connect Four

export const connectFourConfigSchema = z.object({
  seeds,
  agent: muZeroConfigSchema,
  evaluation: z.object({
    /** Simulations per move against the alpha-beta players (the training search's count). */
    simulations: count(100_000),
    /** Depths of the alpha-beta opponents, shallow to deep. */
    alphaBetaDepths: z.array(count(20)).min(1),
    /** Games per side against each opponent. */
    gamesPerSide: count(100_000),
    /** Simulation counts of the search-scaling curve (the paper's Figure 3), with one network. */
    simulationSweep: z.array(count(100_000)).min(2),
    /** Depth of the alpha-beta opponent in the scaling curve. */
    sweepDepth: count(20),
    /** Games per side at each simulation count. */
    sweepGamesPerSide: count(100_000),
    /** Learning-curve evaluations every this many iterations (0: at the end only). */
    curveEvery: z.number().int().min(0),
    curveGames: count(10_000),
    /**
     * Uniformly random moves that open every evaluation game (an even number, so the first
     * player is still to move), each opening once before any repeats and the same ones on both
     * sides. Both players are (almost) deterministic, so without them every game of a match
     * would be the same game; 2 gives 49 openings.
     */
    openingPlies: z.number().int().min(0).max(4).refine((n) => n % 2 === 0, {
      message: "must be even, so that the first player is to move after the opening",
    }),
  }).strict(),
}).strict();

export type ConnectFourConfig = z.infer<typeof connectFourConfigSchema>;

export interface ConnectFourSeedResult {
  seed: number;
  games: number;
  envSteps: number;
  updates: number;
  trainingSeconds: number;
  /** Score (win 1, draw 1/2) against the sweep's alpha-beta player while training. */
  curve: { iteration: number; games: number; score: number }[];
  losses: { iteration: number; value: number; reward: number; policy: number }[];
  /** Against alpha-beta of each depth, both sides pooled. */
  alphaBeta: { depth: number; first: MatchRecord; second: MatchRecord }[];
  /** The search-scaling curve. */
  sweep: { simulations: number; first: MatchRecord; second: MatchRecord }[];
  /**
   * Against uniformly random moves at the evaluation simulations: whether the agent learned
   * anything at all when it cannot beat alpha-beta (random play against random play scores 50%).
   */
  random: { first: MatchRecord; second: MatchRecord };
}

export interface ConnectFourMetrics {
  trainingSimulations: number;
  evaluationSimulations: number;
  sweepDepth: number;
  seeds: ConnectFourSeedResult[];
}

// ---------------------------------------------------------------------------------------------
// CartPole

export const cartPoleConfigSchema = z.object({
  seeds,
  agent: muZeroConfigSchema,
  dqn: dqnConfigSchema,
  evaluation: z.object({
    /** Evaluation episodes of the final agents (the issue: 10). */
    episodes: count(1000),
    /** Simulations per step of MuZero's evaluation episodes. */
    simulations: count(100_000),
    /** Learning-curve evaluations every this many iterations (0: at the end only). */
    curveEvery: z.number().int().min(0),
    curveEpisodes: count(1000),
  }).strict(),
}).strict();

export type CartPoleConfig = z.infer<typeof cartPoleConfigSchema>;

export interface CartPoleSeedResult {
  seed: number;
  muzero: {
    envSteps: number;
    updates: number;
    trainingSeconds: number;
    /** Self-play episode returns against environment steps (with noise and temperature). */
    selfPlay: { envSteps: number[]; returns: number[] };
    /** Greedy evaluations while training. */
    curve: { envSteps: number; meanReturn: number }[];
    evaluation: number[];
  };
  dqn: {
    envSteps: number;
    seconds: number;
    episodes: { envSteps: number[]; returns: number[] };
    evaluation: number[];
  };
}

export interface CartPoleMetrics {
  evaluationEpisodes: number;
  seeds: CartPoleSeedResult[];
}

// ---------------------------------------------------------------------------------------------
// The notes' guess: value-free planning against MuZero's search, in one learned model

export const planningConfigSchema = z.object({
  seed: z.number().int().nonnegative(),
  /** The MuZero agent that learns the model (on CartPole-v1). */
  agent: muZeroConfigSchema,
  /** Planning horizons H of the value-free planners. */
  horizons: z.array(count(1000)).min(1),
  /** Model evaluations per action, the budget every planner gets. */
  budgets: z.array(count(1_000_000)).min(1),
  /** CEM's iterations (its candidates are budget / (iterations H)) and elite share. */
  cemIterations: count(100),
  cemEliteShare: z.number().gt(0).max(1),
  /** Episodes per planner and setting, from the same start states. */
  episodes: count(1000),
  /** Steps each evaluation episode may last (CartPole-v1: 500). */
  episodeSteps: count(100_000),
}).strict();

export type PlanningConfig = z.infer<typeof planningConfigSchema>;

/** Returns of one planner at one setting. */
export interface PlanningCell {
  planner: "random-shooting" | "cem" | "muzero";
  /** The horizon (MuZero's search has none: null). */
  horizon: number | null;
  budget: number;
  returns: number[];
}

export interface PlanningMetrics {
  model: {
    envSteps: number;
    updates: number;
    trainingSeconds: number;
    finalSelfPlayReturn: number;
  };
  cells: PlanningCell[];
  episodeSteps: number;
}
