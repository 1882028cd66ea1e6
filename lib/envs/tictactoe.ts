/**
 * Tic-tac-toe, the smallest exact testbed for the search of MuZero (Schrittwieser et al. 2020,
 * Appendix B): small enough to solve outright, so a search can be checked against perfect play.
 *
 * A state is one integer: bit i holds a stone of the first player (X) on cell i, bit 9 + i one of
 * the second player (O). Cells are numbered row by row from the top left, 0..8, and a move is the
 * cell to mark. Copying a state is free and `play` allocates nothing.
 *
 * `TicTacToeSolver` is a perfect player: negamax with a memo over the 5,478 positions reachable
 * from the empty board, giving the game-theoretic value of each and its set of optimal moves.
 */
import type { Rng } from "../rng.ts";
import {
  BOARD_PLANES,
  type BoardGame,
  BoardGameEnv,
  NO_WINNER,
  type Player,
  throwIllegalMove,
} from "./board_game.ts";

/** A tic-tac-toe position: X stones in bits 0-8, O stones in bits 9-17. */
export type TicTacToeState = number;

const CELLS = 9;
const FULL_BOARD = (1 << CELLS) - 1;
const LINES = [
  [0, 1, 2],
  [3, 4, 5],
  [6, 7, 8],
  [0, 3, 6],
  [1, 4, 7],
  [2, 5, 8],
  [0, 4, 8],
  [2, 4, 6],
] as const;

/** HAS_LINE[mask] = 1 when the 9-bit stone mask holds three in a row. */
const HAS_LINE = (() => {
  const table = new Uint8Array(1 << CELLS);
  const lineMasks = LINES.map(([a, b, c]) => (1 << a) | (1 << b) | (1 << c));
  for (let mask = 0; mask < table.length; mask++) {
    table[mask] = lineMasks.some((line) => (mask & line) === line) ? 1 : 0;
  }
  return table;
})();

/** STONES[mask] = number of stones in a 9-bit mask. */
const STONES = (() => {
  const table = new Uint8Array(1 << CELLS);
  for (let mask = 1; mask < table.length; mask++) table[mask] = (mask & 1) + table[mask >> 1];
  return table;
})();

function crosses(state: TicTacToeState): number {
  return state & FULL_BOARD;
}

function noughts(state: TicTacToeState): number {
  return (state >> CELLS) & FULL_BOARD;
}

export function initialState(): TicTacToeState {
  return 0;
}

export function moveCount(state: TicTacToeState): number {
  return STONES[crosses(state)] + STONES[noughts(state)];
}

/** X moves when both have as many stones, O when X has one more. */
export function toPlay(state: TicTacToeState): Player {
  return STONES[crosses(state)] === STONES[noughts(state)] ? 0 : 1;
}

export function winner(state: TicTacToeState): Player | typeof NO_WINNER {
  if (HAS_LINE[crosses(state)]) return 0;
  if (HAS_LINE[noughts(state)]) return 1;
  return NO_WINNER;
}

export function isTerminal(state: TicTacToeState): boolean {
  const x = crosses(state);
  const o = noughts(state);
  return HAS_LINE[x] === 1 || HAS_LINE[o] === 1 || (x | o) === FULL_BOARD;
}

export function isLegal(state: TicTacToeState, move: number): boolean {
  if (!Number.isInteger(move) || move < 0 || move >= CELLS) return false;
  return ((crosses(state) | noughts(state)) & (1 << move)) === 0 && !isTerminal(state);
}

export function legalMoves(state: TicTacToeState): number[] {
  const moves: number[] = [];
  if (isTerminal(state)) return moves;
  const occupied = crosses(state) | noughts(state);
  for (let cell = 0; cell < CELLS; cell++) if ((occupied & (1 << cell)) === 0) moves.push(cell);
  return moves;
}

export function writeLegalMask(state: TicTacToeState, out: Uint8Array, offset = 0): number {
  const open = isTerminal(state) ? 0 : ~(crosses(state) | noughts(state)) & FULL_BOARD;
  for (let cell = 0; cell < CELLS; cell++) out[offset + cell] = (open >> cell) & 1;
  return STONES[open];
}

/** The position after the player to move marks `move`. */
export function play(state: TicTacToeState, move: number): TicTacToeState {
  if (!isLegal(state, move)) {
    const why = !Number.isInteger(move) || move < 0 || move >= CELLS
      ? "not a cell of the board"
      : isTerminal(state)
      ? "the game is over"
      : `cell ${move} is taken`;
    throwIllegalMove(TIC_TAC_TOE, state, move, why);
  }
  return state | (1 << (move + (toPlay(state) === 0 ? 0 : CELLS)));
}

/** A position from text, top row first: `X`, `O`, and `.` (or `-`) for empty; spaces ignored. */
export function parseBoard(text: string): TicTacToeState {
  const symbols = text.replace(/\s/g, "");
  if (symbols.length !== CELLS) throw new RangeError(`a board has 9 cells, got "${text}"`);
  let state = 0;
  for (let cell = 0; cell < CELLS; cell++) {
    const symbol = symbols[cell].toUpperCase();
    if (symbol === "X") state |= 1 << cell;
    else if (symbol === "O") state |= 1 << (cell + CELLS);
    else if (symbol !== "." && symbol !== "-") {
      throw new RangeError(`unknown symbol '${symbols[cell]}' in "${text}"`);
    }
  }
  const x = STONES[crosses(state)];
  const o = STONES[noughts(state)];
  if (x !== o && x !== o + 1) {
    throw new RangeError(`"${text}" has ${x} X and ${o} O; X moves first, so that cannot happen`);
  }
  return state;
}

export function formatBoard(state: TicTacToeState): string {
  const rows: string[] = [];
  for (let row = 0; row < 3; row++) {
    let line = "";
    for (let column = 0; column < 3; column++) {
      const bit = 1 << (row * 3 + column);
      line += crosses(state) & bit ? "X" : noughts(state) & bit ? "O" : ".";
    }
    rows.push(line);
  }
  return rows.join("\n");
}

/** Planes seen by the player to move: own stones, opponent stones, ones when X moves. */
export function observe(state: TicTacToeState, out: Float32Array): Float32Array {
  const mover = toPlay(state);
  const own = mover === 0 ? crosses(state) : noughts(state);
  const other = mover === 0 ? noughts(state) : crosses(state);
  for (let cell = 0; cell < CELLS; cell++) {
    const base = cell * BOARD_PLANES;
    out[base] = (own >> cell) & 1;
    out[base + 1] = (other >> cell) & 1;
    out[base + 2] = mover === 0 ? 1 : 0;
  }
  return out;
}

export const TIC_TAC_TOE: BoardGame<TicTacToeState> = {
  id: "tic_tac_toe",
  rows: 3,
  columns: 3,
  numActions: CELLS,
  maxMoves: CELLS,
  // An 18-bit integer is exact in a float32.
  encodedSize: 1,
  initialState,
  moveCount,
  toPlay,
  isLegal,
  legalMoves,
  writeLegalMask,
  play,
  winner,
  isTerminal,
  encode(state, out, offset = 0) {
    out[offset] = state;
  },
  decode(row, offset = 0) {
    return row[offset];
  },
  observe,
  format: formatBoard,
};

/** Tic-tac-toe as an `Env` (see `BoardGameEnv`): observations [3, 3, 3], actions 0..8. */
export class TicTacToeEnv extends BoardGameEnv<TicTacToeState> {
  constructor() {
    super(TIC_TAC_TOE);
  }
}

/** Value of a position for the player to move under perfect play: win, draw or loss. */
export type GameValue = 1 | 0 | -1;

const UNKNOWN = 2;

/**
 * Solves tic-tac-toe on construction: the game-theoretic value of every position reachable from
 * the empty board, for the player to move (+1 win, 0 draw, -1 loss; how soon is not counted, so
 * every move that keeps a forced win is optimal).
 */
export class TicTacToeSolver {
  /** Positions reachable from the empty board, the empty board and finished games included. */
  readonly reachablePositions: number;
  readonly #values = new Int8Array(1 << (2 * CELLS)).fill(UNKNOWN);

  constructor() {
    let count = 0;
    const visit = (state: TicTacToeState): number => {
      const known = this.#values[state];
      if (known !== UNKNOWN) return known;
      count++;
      // A finished game is lost for the player to move (the other one just won) or drawn.
      let best = winner(state) !== NO_WINNER ? -1 : 0;
      const open = ~(crosses(state) | noughts(state)) & FULL_BOARD;
      if (winner(state) === NO_WINNER && open !== 0) {
        best = -1;
        for (let cell = 0; cell < CELLS; cell++) {
          if (open & (1 << cell)) best = Math.max(best, -visit(play(state, cell)));
        }
      }
      this.#values[state] = best;
      return best;
    };
    visit(0);
    this.reachablePositions = count;
  }

  /** Whether `state` can arise from the empty board by legal play. */
  isReachable(state: TicTacToeState): boolean {
    return Number.isInteger(state) && state >= 0 && state < this.#values.length &&
      this.#values[state] !== UNKNOWN;
  }

  /** The value for the player to move; throws for a position that cannot arise in a game. */
  value(state: TicTacToeState): GameValue {
    if (!this.isReachable(state)) {
      throw new RangeError(`not a reachable tic-tac-toe position:\n${formatBoard(state)}`);
    }
    return this.#values[state] as GameValue;
  }

  /** Value of each move for the player making it (NaN for illegal moves). */
  moveValues(state: TicTacToeState): Float32Array {
    this.value(state);
    const values = new Float32Array(CELLS).fill(Number.NaN);
    for (const move of legalMoves(state)) values[move] = -this.#values[play(state, move)];
    return values;
  }

  /** The moves that keep the position's value; empty once the game is over. */
  optimalMoves(state: TicTacToeState): number[] {
    const target = this.value(state);
    return legalMoves(state).filter((move) => -this.#values[play(state, move)] === target);
  }

  /** An optimal move chosen uniformly at random among the optimal ones. */
  bestMove(state: TicTacToeState, rng: Rng): number {
    const moves = this.optimalMoves(state);
    if (moves.length === 0) throwIllegalMove(TIC_TAC_TOE, state, Number.NaN, "the game is over");
    return rng.choice(moves);
  }
}
