/**
 * The offline data a VQ model for planning learns from (Ozair et al. 2021, Section 5.1: the chess
 * models learn from a fixed set of games, "an offline version of MuZero" beside them): games of a
 * behaviour policy against the opponent inside the environment, seen from the agent's side
 * (lib/envs/one_sided_game.ts), and the unrolled batches both models train on.
 *
 * A batch is MuZero's (Schrittwieser et al. 2020, Appendix G): from a uniformly drawn position,
 * the K actions actually played and, for each of the K + 1 states, the value target (the
 * discounted return to the end of the game), the behaviour's action as the policy target, and the
 * two rewards of each step (the agent's move, the opponent's reply). Past the end of a game the
 * state is absorbing: value and rewards 0, a random action, no policy target, the last
 * observation repeated, and no code to learn (`stepMask` 0).
 */
import type { Rng } from "../rng.ts";
import type { BoardGame, Player } from "../envs/board_game.ts";
import {
  observeOneSided,
  ONE_SIDED_PLANES,
  oneSidedStep,
  type Opponent,
  sampleOpponentMove,
} from "../envs/one_sided_game.ts";

/** One game from the agent's side: T steps, T + 1 observations. */
export interface OneSidedGameRecord {
  /** o_0 .. o_T, [(T + 1) * observationSize]. */
  observations: Float32Array;
  actions: Int32Array;
  /** r^a_t: +1 where the agent's move won. */
  moveRewards: Float32Array;
  /** r^c_t: -1 where the opponent's reply won. */
  replyRewards: Float32Array;
}

/** The agent's move in a position: the behaviour that collects the data. */
export type MovePolicy<State> = (state: State, rng: Rng) => number;

/**
 * With probability `randomShare` a uniformly random legal move, else `goodMove`: the behaviour of
 * the datasets (a competent but noisy player, so the data covers good and bad lines).
 */
export function noisyPolicy<State>(
  game: BoardGame<State>,
  goodMove: (state: State) => number,
  randomShare: number,
): MovePolicy<State> {
  return (state, rng) =>
    rng.next() < randomShare ? rng.choice(game.legalMoves(state)) : goodMove(state);
}

/**
 * Plays `games` games of `policy` (the first player) against `opponent`, each opened by
 * `openingMoves` uniformly random moves of both sides (as the evaluation games are, so the data
 * covers the positions the agent will meet); an odd opening ends with the opponent's own reply.
 */
export function collectGames<State>(
  game: BoardGame<State>,
  opponent: Opponent<State>,
  policy: MovePolicy<State>,
  games: number,
  rng: Rng,
  openingMoves = 0,
): OneSidedGameRecord[] {
  const agent: Player = 0;
  const size = game.rows * game.columns * ONE_SIDED_PLANES;
  const records: OneSidedGameRecord[] = [];
  const scratch = new Float32Array(size);
  for (let g = 0; g < games; g++) {
    const observations: number[] = [];
    const actions: number[] = [];
    const moveRewards: number[] = [];
    const replyRewards: number[] = [];
    let state = openingPosition(game, opponent, openingMoves, rng);
    if (game.isTerminal(state)) continue;
    const observe = () => observations.push(...observeOneSided(game, state, agent, scratch));
    observe();
    for (;;) {
      const move = policy(state, rng);
      const step = oneSidedStep(game, opponent, state, move, rng);
      actions.push(move);
      moveRewards.push(step.moveReward);
      replyRewards.push(step.replyReward);
      state = step.next;
      observe();
      if (step.terminated) break;
    }
    records.push({
      observations: Float32Array.from(observations),
      actions: Int32Array.from(actions),
      moveRewards: Float32Array.from(moveRewards),
      replyRewards: Float32Array.from(replyRewards),
    });
  }
  return records;
}

/**
 * The position after `openingMoves` uniformly random moves from the empty board, both sides in
 * turn, and the opponent's reply if that leaves it to move: where a game of the first player
 * against `opponent` starts. May be a finished game.
 */
export function openingPosition<State>(
  game: BoardGame<State>,
  opponent: Opponent<State>,
  openingMoves: number,
  rng: Rng,
): State {
  let state = game.initialState();
  for (let move = 0; move < openingMoves && !game.isTerminal(state); move++) {
    state = game.play(state, rng.choice(game.legalMoves(state)));
  }
  if (!game.isTerminal(state) && game.toPlay(state) !== 0) {
    state = game.play(state, sampleOpponentMove(opponent, state, rng));
  }
  return state;
}

/** K unrolled steps from B positions, row-major. */
export interface UnrollBatch {
  size: number;
  unrollSteps: number;
  observationSize: number;
  /** o_t+k for k = 0..K, [B, K + 1, O]. */
  observations: Float32Array;
  /** a_t+k for k = 0..K-1, [B, K]. */
  actions: Int32Array;
  /** The return from t + k, [B, K + 1]. */
  values: Float32Array;
  /** The behaviour's action at t + k, [B, K + 1], and 1 where there was one. */
  policyActions: Int32Array;
  policyMask: Float32Array;
  /** r^a and r^c of step t + k, [B, K]. */
  moveRewards: Float32Array;
  replyRewards: Float32Array;
  /** 1 where step t + k happened in the game, [B, K]. */
  stepMask: Float32Array;
}

/** Every (game, step) of a dataset, for uniform sampling of positions. */
export class OneSidedDataset {
  readonly records: readonly OneSidedGameRecord[];
  readonly observationSize: number;
  readonly numActions: number;
  readonly discount: number;
  readonly #positions: Int32Array;
  /** The return from each step of each game. */
  readonly #returns: Float32Array[];

  constructor(
    records: readonly OneSidedGameRecord[],
    observationSize: number,
    numActions: number,
    discount: number,
  ) {
    if (records.length === 0) throw new RangeError("a dataset needs at least one game");
    this.records = records;
    this.observationSize = observationSize;
    this.numActions = numActions;
    this.discount = discount;
    const positions: number[] = [];
    this.#returns = records.map((record, g) => {
      const steps = record.actions.length;
      const returns = new Float32Array(steps + 1);
      for (let t = steps - 1; t >= 0; t--) {
        returns[t] = record.moveRewards[t] + record.replyRewards[t] + discount * returns[t + 1];
        positions.push(g, t);
      }
      return returns;
    });
    this.#positions = Int32Array.from(positions);
  }

  /** Positions (agent decisions) in the dataset. */
  get numPositions(): number {
    return this.#positions.length / 2;
  }

  /** B positions drawn uniformly, each unrolled K steps. */
  sample(size: number, unrollSteps: number, rng: Rng): UnrollBatch {
    const O = this.observationSize;
    const K = unrollSteps;
    const batch: UnrollBatch = {
      size,
      unrollSteps: K,
      observationSize: O,
      observations: new Float32Array(size * (K + 1) * O),
      actions: new Int32Array(size * K),
      values: new Float32Array(size * (K + 1)),
      policyActions: new Int32Array(size * (K + 1)),
      policyMask: new Float32Array(size * (K + 1)),
      moveRewards: new Float32Array(size * K),
      replyRewards: new Float32Array(size * K),
      stepMask: new Float32Array(size * K),
    };
    for (let row = 0; row < size; row++) {
      const pick = rng.int(this.numPositions);
      const g = this.#positions[2 * pick];
      const t = this.#positions[2 * pick + 1];
      this.#fill(batch, row, g, t, rng);
    }
    return batch;
  }

  #fill(batch: UnrollBatch, row: number, g: number, t: number, rng: Rng): void {
    const record = this.records[g];
    const returns = this.#returns[g];
    const steps = record.actions.length;
    const O = this.observationSize;
    const K = batch.unrollSteps;
    for (let k = 0; k <= K; k++) {
      const at = Math.min(t + k, steps);
      batch.observations.set(
        record.observations.subarray(at * O, (at + 1) * O),
        (row * (K + 1) + k) * O,
      );
      const inGame = t + k < steps;
      batch.values[row * (K + 1) + k] = inGame ? returns[t + k] : 0;
      batch.policyActions[row * (K + 1) + k] = inGame ? record.actions[t + k] : 0;
      batch.policyMask[row * (K + 1) + k] = inGame ? 1 : 0;
      if (k === K) continue;
      batch.actions[row * K + k] = inGame ? record.actions[t + k] : rng.int(this.numActions);
      batch.moveRewards[row * K + k] = inGame ? record.moveRewards[t + k] : 0;
      batch.replyRewards[row * K + k] = inGame ? record.replyRewards[t + k] : 0;
      batch.stepMask[row * K + k] = inGame ? 1 : 0;
    }
  }
}
