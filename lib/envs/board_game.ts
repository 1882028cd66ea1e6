/**
 * What the two-player board games of the MuZero reproduction (Schrittwieser et al. 2020,
 * "Mastering Atari, Go, chess and shogi by planning with a learned model", Section 2 and
 * Appendix A) share: a functional rules API that a search can call on cheap, copyable states,
 * and one `Env` over those rules.
 *
 * Both players alternate moves. Rewards follow the paper's board games: +1 to the player who just
 * moved and won, 0 otherwise (a draw included). Observations are planes seen by the player to
 * move, as in AlphaZero and MuZero's board inputs: its own stones, the opponent's stones, and a
 * plane of ones when the first player is to move, laid out [rows, columns, 3] (channels last, as
 * TensorFlow.js convolutions expect).
 */
import { assertCanStep, type EpisodePhase } from "./classic_env.ts";
import {
  type Action,
  type BoxSpec,
  boxSpec,
  checkDiscreteAction,
  type Env,
  InvalidActionError,
  type StepResult,
} from "./types.ts";

/** The first player (0, who moves on the empty board) or the second (1). */
export type Player = 0 | 1;

/** `winner` of a game nobody has won (yet, or at all: a draw). */
export const NO_WINNER = -1;

/** Planes of a board observation: own stones, opponent stones, first player to move. */
export const BOARD_PLANES = 3;

/**
 * A move that the rules forbid in this position (an occupied cell, a full column, any move after
 * the game ended). It is an `InvalidActionError`, so code that catches those catches this too.
 */
export class IllegalMoveError extends InvalidActionError {
  readonly legalMoves: readonly number[];

  constructor(gameId: string, move: unknown, legalMoves: readonly number[], why: string) {
    super(
      gameId,
      `${String(move)} (${why})`,
      legalMoves.length > 0 ? `the legal moves ${legalMoves.join(", ")}` : "none: the game is over",
    );
    this.name = "IllegalMoveError";
    this.legalMoves = legalMoves;
  }
}

/**
 * The rules of a two-player, zero-sum, perfect-information board game. Moves are integers in
 * [0, numActions). States are values the functions never mutate: `play` returns a new state.
 */
export interface BoardGame<State> {
  /** OpenSpiel's name of the game, e.g. "tic_tac_toe". */
  readonly id: string;
  readonly rows: number;
  readonly columns: number;
  readonly numActions: number;
  /** The longest possible game, in moves. */
  readonly maxMoves: number;
  /** Numbers in the row `encode` writes. */
  readonly encodedSize: number;
  initialState(): State;
  /** Moves played so far. */
  moveCount(state: State): number;
  toPlay(state: State): Player;
  /** Whether `move` is allowed now; false for anything after the game ended. */
  isLegal(state: State, move: number): boolean;
  legalMoves(state: State): number[];
  /** Writes 1 for each legal move into out[offset .. offset + numActions); returns how many. */
  writeLegalMask(state: State, out: Uint8Array, offset?: number): number;
  /** The state after `move`; throws `IllegalMoveError` naming the legal moves if it is illegal. */
  play(state: State, move: number): State;
  /** The player who completed a line, or `NO_WINNER`. */
  winner(state: State): Player | typeof NO_WINNER;
  /** A win or a full board. */
  isTerminal(state: State): boolean;
  /** Writes the state as `encodedSize` numbers, exactly recoverable by `decode`. */
  encode(state: State, out: Float32Array, offset?: number): void;
  decode(row: Float32Array, offset?: number): State;
  /** Writes the planes seen by the player to move ([rows, columns, 3]) into `out`. */
  observe(state: State, out: Float32Array): Float32Array;
  /** The board as text, top row first: `X` first player, `O` second, `.` empty. */
  format(state: State): string;
}

/** Observation planes for a board of `rows` x `columns`, all in [0, 1]. */
export function boardObservationSpec(rows: number, columns: number): BoxSpec {
  return boxSpec([rows, columns, BOARD_PLANES], 0, 1);
}

/**
 * One episode of a board game as an `Env`: both players act through the same `step`, in turn.
 * The observation is always the view of the player to move next; the reward is that of the player
 * who just moved. A move outside [0, numActions) is an `InvalidActionError`, an occupied cell or
 * full column an `IllegalMoveError`; either leaves the position unchanged.
 */
export class BoardGameEnv<State> implements Env<Float32Array> {
  readonly id: string;
  readonly observationSpec: BoxSpec;
  readonly actionSpec: { readonly kind: "discrete"; readonly n: number };
  readonly maxEpisodeSteps: number;
  readonly game: BoardGame<State>;
  /** 1 for each legal move of the player to move; refreshed by `reset`, `step` and `setState`. */
  readonly legalActionMask: Uint8Array;
  readonly #observation: Float32Array;
  readonly #result: StepResult<Float32Array>;
  #state: State;
  #phase: EpisodePhase = "before-reset";

  constructor(game: BoardGame<State>) {
    this.game = game;
    this.id = game.id;
    this.observationSpec = boardObservationSpec(game.rows, game.columns);
    this.actionSpec = { kind: "discrete", n: game.numActions };
    this.maxEpisodeSteps = game.maxMoves;
    this.legalActionMask = new Uint8Array(game.numActions);
    this.#observation = new Float32Array(game.rows * game.columns * BOARD_PLANES);
    this.#result = {
      observation: this.#observation,
      reward: 0,
      terminated: false,
      truncated: false,
    };
    this.#state = game.initialState();
  }

  /** The current position (an immutable value: keep it to come back later). */
  get state(): State {
    return this.#state;
  }

  get toPlay(): Player {
    return this.game.toPlay(this.#state);
  }

  get winner(): Player | typeof NO_WINNER {
    return this.game.winner(this.#state);
  }

  get elapsedSteps(): number {
    return this.game.moveCount(this.#state);
  }

  legalMoves(): number[] {
    return this.game.legalMoves(this.#state);
  }

  /** Starts from the empty board. The games are deterministic; the seed is accepted and unused. */
  reset(_seed?: number): Float32Array {
    return this.setState(this.game.initialState());
  }

  /** Continues from a given position (to set up puzzles, or to replay a search's choice). */
  setState(state: State): Float32Array {
    this.#state = state;
    this.#phase = this.game.isTerminal(state) ? "ended" : "running";
    this.#refresh();
    return this.#observation;
  }

  step(action: Action): StepResult<Float32Array> {
    assertCanStep(this.id, this.#phase, this.elapsedSteps);
    const move = checkDiscreteAction(this.id, action, this.game.numActions);
    const mover = this.game.toPlay(this.#state);
    this.#state = this.game.play(this.#state, move);
    const terminated = this.game.isTerminal(this.#state);
    if (terminated) this.#phase = "ended";
    this.#refresh();
    const result = this.#result;
    result.reward = this.game.winner(this.#state) === mover ? 1 : 0;
    result.terminated = terminated;
    result.truncated = false;
    return result;
  }

  #refresh(): void {
    this.game.writeLegalMask(this.#state, this.legalActionMask);
    this.game.observe(this.#state, this.#observation);
  }
}

/** Throws the `IllegalMoveError` for `move` in `state`, saying why it is illegal. */
export function throwIllegalMove<State>(
  game: BoardGame<State>,
  state: State,
  move: number,
  why: string,
): never {
  throw new IllegalMoveError(game.id, move, game.legalMoves(state), why);
}
