/**
 * The VQ planning agent (Ozair et al. 2021, "Vector Quantized Models for Planning", Sections 3-5):
 * a VQ model learned offline from a fixed set of games against an opponent inside the environment,
 * then played by the search with chance nodes (lib/planners/chance_mcts.ts). With one code the same
 * agent is the deterministic, MuZero-style baseline ("an offline version of MuZero", Section 5.1):
 * same networks, same data, same losses, same search at the same number of simulations.
 *
 * Matches are played many games at once; every position where the agent is to move goes into one
 * batched search, without root noise and taking the most visited action, as in evaluation.
 */
import { z } from "zod";
import { Rng } from "../rng.ts";
import type { Progress } from "../progress.ts";
import { type BoardGame, NO_WINNER, type Player } from "../envs/board_game.ts";
import {
  observeOneSided,
  ONE_SIDED_PLANES,
  oneSidedStep,
  type Opponent,
} from "../envs/one_sided_game.ts";
import { ChanceSearch } from "../planners/chance_mcts.ts";
import { VqPlanningNetwork } from "../models/vq_planning.ts";
import { type OneSidedDataset, openingPosition } from "./one_sided_data.ts";
import { VqPlanningLearner, type VqPlanningLosses } from "./vq_planning_learner.ts";
import type { MatchRecord } from "./muzero_play.ts";

const positive = z.number().positive();
const count = (max: number) => z.number().int().min(1).max(max);

export const vqPlanningConfigSchema = z.object({
  model: z.object({
    latentSize: count(4096),
    hiddenSize: count(4096),
    /** K; 1 is the deterministic baseline. */
    numCodes: count(4096),
    codeSize: count(1024),
    commitmentCost: z.number().min(0),
    codebookDecay: z.number().min(0).lt(1),
    restartBelow: z.number().min(0),
  }).strict(),
  training: z.object({
    updates: count(10_000_000),
    batchSize: count(65_536),
    /** K of MuZero's unroll (the paper: 5). */
    unrollSteps: count(50),
    learningRate: positive,
    reconstructionWeight: z.number().min(0),
    /** γ of the value targets (1 in board games). */
    discount: z.number().min(0).max(1),
  }).strict(),
  search: z.object({
    numSimulations: count(100_000),
    /** c1 of pUCT (MuZero: 1.25). */
    pbCInit: positive,
  }).strict(),
}).strict();

export type VqPlanningConfig = z.infer<typeof vqPlanningConfigSchema>;

/** The loss terms every `every` updates, for the learning-curve figure. */
export interface VqTrainingPoint extends VqPlanningLosses {
  update: number;
}

export interface TrainOptions {
  seed: number;
  onProgress?: (progress: Progress) => void;
  label?: string;
  /** Loss points recorded (default 20). */
  points?: number;
  signal?: AbortSignal;
}

/** Trains a VQ model (or, with one code, the deterministic one) on a dataset. */
export function trainVqPlanningModel(
  dataset: OneSidedDataset,
  config: VqPlanningConfig,
  options: TrainOptions,
): { network: VqPlanningNetwork; curve: VqTrainingPoint[] } {
  const { model, training } = config;
  const network = new VqPlanningNetwork({
    observationSize: dataset.observationSize,
    numActions: dataset.numActions,
    ...model,
  }, new Rng(options.seed));
  const learner = new VqPlanningLearner(network, {
    learningRate: training.learningRate,
    reconstructionWeight: training.reconstructionWeight,
  });
  const rng = new Rng(options.seed + 1_000_003);
  const every = Math.max(1, Math.floor(training.updates / (options.points ?? 20)));
  const curve: VqTrainingPoint[] = [];
  const label = options.label ?? `VQ model, ${model.numCodes} codes`;
  try {
    for (let update = 1; update <= training.updates; update++) {
      if (options.signal?.aborted) throw options.signal.reason;
      const losses = learner.step(
        dataset.sample(training.batchSize, training.unrollSteps, rng),
        rng,
      );
      if (update % every === 0 || update === training.updates) {
        curve.push({ update, ...losses });
        options.onProgress?.({
          stage: label,
          done: update,
          total: training.updates,
          message: `loss ${losses.total.toFixed(3)}`,
        });
      }
    }
  } finally {
    learner.dispose();
  }
  return { network, curve };
}

/** Chooses the agent's moves for a batch of positions, all with the agent to move. */
export type OneSidedMover<State> = (
  states: readonly State[],
  observations: Float32Array,
  legal: Uint8Array,
) => ArrayLike<number>;

/** The search with chance nodes on a trained network: most visited action, no noise. */
export function searchMover<State>(
  network: VqPlanningNetwork,
  search: VqPlanningConfig["search"],
  rng: Rng,
): OneSidedMover<State> {
  const planner = new ChanceSearch(network, {
    numSimulations: search.numSimulations,
    pbCInit: search.pbCInit,
    discount: 1,
    dirichletAlpha: 1,
    valueBounds: { min: -1, max: 1 },
  });
  return (states, observations, legal) =>
    planner.run(observations, states.length, {
      rng,
      legalActions: legal,
      addNoise: false,
      temperature: 0,
    }).actions;
}

/** A mover that needs no model: a function of the position (a solver, a fixed player). */
export function positionMover<State>(
  choose: (state: State) => number,
): OneSidedMover<State> {
  return (states) => states.map(choose);
}

export interface OneSidedMatchOptions<State> {
  game: BoardGame<State>;
  opponent: Opponent<State>;
  mover: OneSidedMover<State>;
  games: number;
  /** Uniformly random moves, both sides in turn, opening every game (variety against a fixed
   * opponent). */
  openingMoves: number;
  rng: Rng;
  /** Games played at once (default 100). */
  parallel?: number;
}

/** Plays the agent (the first player) against the opponent; counts from the agent's side. */
export function playOneSided<State>(options: OneSidedMatchOptions<State>): MatchRecord {
  const { game, opponent, mover, rng } = options;
  const agent: Player = 0;
  const size = game.rows * game.columns * ONE_SIDED_PLANES;
  const parallel = options.parallel ?? 100;
  const record: MatchRecord = { games: 0, wins: 0, draws: 0, losses: 0 };
  const tally = (state: State) => {
    const winner = game.winner(state);
    record.games++;
    if (winner === NO_WINNER) record.draws++;
    else if (winner === agent) record.wins++;
    else record.losses++;
  };
  let started = 0;
  while (started < options.games) {
    let live: State[] = [];
    while (live.length < parallel && started < options.games) {
      started++;
      const state = openingPosition(game, opponent, options.openingMoves, rng);
      if (game.isTerminal(state)) tally(state);
      else live.push(state);
    }
    const observations = new Float32Array(live.length * size);
    const legal = new Uint8Array(live.length * game.numActions);
    while (live.length > 0) {
      live.forEach((state, row) => {
        observeOneSided(game, state, agent, observations.subarray(row * size, (row + 1) * size));
        game.writeLegalMask(state, legal, row * game.numActions);
      });
      const moves = mover(
        live,
        observations.subarray(0, live.length * size),
        legal.subarray(0, live.length * game.numActions),
      );
      const next: State[] = [];
      live.forEach((state, row) => {
        const step = oneSidedStep(game, opponent, state, moves[row], rng);
        if (step.terminated) tally(step.next);
        else next.push(step.next);
      });
      live = next;
    }
  }
  return record;
}
