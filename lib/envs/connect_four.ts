/**
 * Connect Four on the standard 6 x 7 board, a second exact board game for the search of MuZero
 * (Schrittwieser et al. 2020, Appendix B), deeper than tic-tac-toe yet quick to play out.
 *
 * A move is a column, 0..6 from the left; the stone falls to the lowest empty cell. Four in a row,
 * column, or either diagonal wins; a full board is a draw.
 *
 * A state is a 51-byte `Uint8Array`: cells 0..41 (row-major from the bottom row, 0 empty, 1 first
 * player, 2 second), the seven column heights, the number of moves, and the outcome (0 running,
 * 1 first player won, 2 second won, 3 draw), so every query is O(1) and a copy is one `slice`.
 * `play` returns a new state; `playInPlace` and `undoInPlace` serve searches that step and undo.
 *
 * `ConnectFourAlphaBeta` is a fixed-depth alpha-beta player with a window-counting heuristic, as
 * a baseline opponent.
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

export type ConnectFourState = Uint8Array;

export const CONNECT_FOUR_ROWS = 6;
export const CONNECT_FOUR_COLUMNS = 7;
const ROWS = CONNECT_FOUR_ROWS;
const COLUMNS = CONNECT_FOUR_COLUMNS;
const CELLS = ROWS * COLUMNS;
const HEIGHTS = CELLS;
const MOVES = HEIGHTS + COLUMNS;
const OUTCOME = MOVES + 1;
const STATE_SIZE = OUTCOME + 1;
const RUNNING = 0;
const DRAW = 3;

export function initialState(): ConnectFourState {
  return new Uint8Array(STATE_SIZE);
}

export function moveCount(state: ConnectFourState): number {
  return state[MOVES];
}

export function toPlay(state: ConnectFourState): Player {
  return (state[MOVES] & 1) as Player;
}

export function winner(state: ConnectFourState): Player | typeof NO_WINNER {
  const outcome = state[OUTCOME];
  return outcome === 1 ? 0 : outcome === 2 ? 1 : NO_WINNER;
}

export function isTerminal(state: ConnectFourState): boolean {
  return state[OUTCOME] !== RUNNING;
}

export function isLegal(state: ConnectFourState, column: number): boolean {
  return Number.isInteger(column) && column >= 0 && column < COLUMNS &&
    state[OUTCOME] === RUNNING && state[HEIGHTS + column] < ROWS;
}

export function legalMoves(state: ConnectFourState): number[] {
  const moves: number[] = [];
  for (let column = 0; column < COLUMNS; column++) if (isLegal(state, column)) moves.push(column);
  return moves;
}

export function writeLegalMask(state: ConnectFourState, out: Uint8Array, offset = 0): number {
  let count = 0;
  for (let column = 0; column < COLUMNS; column++) {
    const legal = state[OUTCOME] === RUNNING && state[HEIGHTS + column] < ROWS ? 1 : 0;
    out[offset + column] = legal;
    count += legal;
  }
  return count;
}

/** Stones of `color` in a line through (row, column) along (rowStep, columnStep), both ways. */
function lineLength(
  state: ConnectFourState,
  row: number,
  column: number,
  rowStep: number,
  columnStep: number,
  color: number,
): number {
  let length = 1;
  for (let sign = -1; sign <= 1; sign += 2) {
    let r = row + sign * rowStep;
    let c = column + sign * columnStep;
    while (r >= 0 && r < ROWS && c >= 0 && c < COLUMNS && state[r * COLUMNS + c] === color) {
      length++;
      r += sign * rowStep;
      c += sign * columnStep;
    }
  }
  return length;
}

/** Drops a stone of the player to move into `column`, updating `state`; the move must be legal. */
export function playInPlace(state: ConnectFourState, column: number): void {
  const row = state[HEIGHTS + column];
  const color = (state[MOVES] & 1) + 1;
  state[row * COLUMNS + column] = color;
  state[HEIGHTS + column] = row + 1;
  state[MOVES]++;
  // Only lines through the new stone can have been completed.
  if (
    lineLength(state, row, column, 0, 1, color) >= 4 ||
    lineLength(state, row, column, 1, 0, color) >= 4 ||
    lineLength(state, row, column, 1, 1, color) >= 4 ||
    lineLength(state, row, column, 1, -1, color) >= 4
  ) {
    state[OUTCOME] = color;
  } else if (state[MOVES] === CELLS) {
    state[OUTCOME] = DRAW;
  }
}

/** Takes back the last stone of `column`, the reverse of `playInPlace` on a running game. */
export function undoInPlace(state: ConnectFourState, column: number): void {
  const row = state[HEIGHTS + column] - 1;
  state[row * COLUMNS + column] = 0;
  state[HEIGHTS + column] = row;
  state[MOVES]--;
  state[OUTCOME] = RUNNING;
}

/** The position after the player to move drops a stone into `column`. */
export function play(state: ConnectFourState, column: number): ConnectFourState {
  if (!isLegal(state, column)) {
    const why = !Number.isInteger(column) || column < 0 || column >= COLUMNS
      ? "not a column of the board"
      : isTerminal(state)
      ? "the game is over"
      : `column ${column} is full`;
    throwIllegalMove(CONNECT_FOUR, state, column, why);
  }
  const next = state.slice();
  playInPlace(next, column);
  return next;
}

/** The position after playing `columns` in order from `start` (default: the empty board). */
export function playMoves(
  columns: readonly number[],
  start: ConnectFourState = initialState(),
): ConnectFourState {
  let state = start;
  for (const column of columns) state = play(state, column);
  return state;
}

/** 0 empty, 1 first player, 2 second player at (row, column), row 0 being the bottom. */
export function cellAt(state: ConnectFourState, row: number, column: number): number {
  return state[row * COLUMNS + column];
}

export function formatBoard(state: ConnectFourState): string {
  const lines: string[] = [];
  for (let row = ROWS - 1; row >= 0; row--) {
    let line = "";
    for (let column = 0; column < COLUMNS; column++) line += ".XO"[cellAt(state, row, column)];
    lines.push(line);
  }
  return lines.join("\n");
}

/**
 * Planes seen by the player to move: own stones, opponent stones, ones when the first player
 * moves. Observation rows run from the top of the board down, as in an image.
 */
export function observe(state: ConnectFourState, out: Float32Array): Float32Array {
  const ownColor = (state[MOVES] & 1) + 1;
  const firstToMove = ownColor === 1 ? 1 : 0;
  for (let row = 0; row < ROWS; row++) {
    for (let column = 0; column < COLUMNS; column++) {
      const cell = state[row * COLUMNS + column];
      const base = ((ROWS - 1 - row) * COLUMNS + column) * BOARD_PLANES;
      out[base] = cell === ownColor ? 1 : 0;
      out[base + 1] = cell !== 0 && cell !== ownColor ? 1 : 0;
      out[base + 2] = firstToMove;
    }
  }
  return out;
}

export const CONNECT_FOUR: BoardGame<ConnectFourState> = {
  id: "connect_four",
  rows: ROWS,
  columns: COLUMNS,
  numActions: COLUMNS,
  maxMoves: CELLS,
  encodedSize: STATE_SIZE,
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
    for (let i = 0; i < STATE_SIZE; i++) out[offset + i] = state[i];
  },
  decode(row, offset = 0) {
    const state = new Uint8Array(STATE_SIZE);
    for (let i = 0; i < STATE_SIZE; i++) state[i] = row[offset + i];
    return state;
  },
  observe,
  format: formatBoard,
};

/** Connect Four as an `Env` (see `BoardGameEnv`): observations [6, 7, 3], actions 0..6. */
export class ConnectFourEnv extends BoardGameEnv<ConnectFourState> {
  constructor() {
    super(CONNECT_FOUR);
  }
}

/** The 69 windows of four cells in a line (24 across, 21 up, 12 on each diagonal). */
const WINDOWS = (() => {
  const cells: number[] = [];
  const directions = [[0, 1], [1, 0], [1, 1], [1, -1]];
  for (const [rowStep, columnStep] of directions) {
    for (let row = 0; row < ROWS; row++) {
      for (let column = 0; column < COLUMNS; column++) {
        const endRow = row + 3 * rowStep;
        const endColumn = column + 3 * columnStep;
        if (endRow < 0 || endRow >= ROWS || endColumn < 0 || endColumn >= COLUMNS) continue;
        for (let k = 0; k < 4; k++) {
          cells.push((row + k * rowStep) * COLUMNS + column + k * columnStep);
        }
      }
    }
  }
  return Uint8Array.from(cells);
})();
export const NUM_WINDOWS = WINDOWS.length / 4;

/**
 * Heuristic weight of an open window by its stones: a window that still can become four in a row
 * for only one side is worth 1, 4 or 16 to that side for 1, 2 or 3 of its stones.
 */
export const WINDOW_WEIGHTS: readonly number[] = [0, 1, 4, 16];
/** Score of a won game; far above any heuristic value (69 windows x 16). */
export const WIN_SCORE = 1_000_000;
/** Center columns first: they lie in the most windows, so cut-offs come sooner. */
const MOVE_ORDER = [3, 2, 4, 1, 5, 0, 6];

/**
 * The heuristic value of a running position for the player to move: the sum of `WINDOW_WEIGHTS`
 * over the windows only its stones occupy, minus the same sum for the opponent.
 */
export function heuristicValue(state: ConnectFourState): number {
  const ownColor = (state[MOVES] & 1) + 1;
  let score = 0;
  for (let w = 0; w < WINDOWS.length; w += 4) {
    let own = 0;
    let other = 0;
    for (let k = 0; k < 4; k++) {
      const cell = state[WINDOWS[w + k]];
      if (cell === ownColor) own++;
      else if (cell !== 0) other++;
    }
    if (other === 0) score += WINDOW_WEIGHTS[own];
    else if (own === 0) score -= WINDOW_WEIGHTS[other];
  }
  return score;
}

export interface AlphaBetaOptions {
  /** Plies searched before the heuristic judges the position (1 = look at own moves only). */
  depth: number;
  /** Breaks ties between equally scored moves. */
  rng: Rng;
}

/**
 * A fixed-depth negamax search with alpha-beta pruning. A won game scores `WIN_SCORE` minus the
 * moves played, so a sooner win (and a later loss) is preferred; at the depth limit the position
 * scores `heuristicValue`. Among the moves with the best score one is drawn at random.
 */
export class ConnectFourAlphaBeta {
  readonly depth: number;
  readonly #rng: Rng;
  readonly #scratch = new Uint8Array(STATE_SIZE);

  constructor(options: AlphaBetaOptions) {
    if (!Number.isInteger(options.depth) || options.depth < 1) {
      throw new RangeError(`alpha-beta depth must be a positive integer, got ${options.depth}`);
    }
    this.depth = options.depth;
    this.#rng = options.rng;
  }

  /** All moves sharing the best score, in column order, and that score. */
  bestMoves(state: ConnectFourState): { moves: number[]; score: number } {
    if (isTerminal(state)) throwIllegalMove(CONNECT_FOUR, state, Number.NaN, "the game is over");
    const board = this.#scratch;
    board.set(state);
    let best = -Infinity;
    let moves: number[] = [];
    for (const column of MOVE_ORDER) {
      if (board[HEIGHTS + column] >= ROWS) continue;
      playInPlace(board, column);
      // Scores are integers: a window just below `best` still gives exact scores for ties.
      const floor = best === -Infinity ? -Infinity : best - 0.5;
      const score = -this.#negamax(board, this.depth - 1, -Infinity, -floor);
      undoInPlace(board, column);
      if (score > best) {
        best = score;
        moves = [column];
      } else if (score === best) {
        moves.push(column);
      }
    }
    return { moves: moves.sort((a, b) => a - b), score: best };
  }

  chooseMove(state: ConnectFourState): number {
    return this.#rng.choice(this.bestMoves(state).moves);
  }

  #negamax(board: ConnectFourState, depth: number, alpha: number, beta: number): number {
    const outcome = board[OUTCOME];
    if (outcome === DRAW) return 0;
    // The player who just moved has won.
    if (outcome !== RUNNING) return -(WIN_SCORE - board[MOVES]);
    if (depth === 0) return heuristicValue(board);
    let best = -Infinity;
    for (const column of MOVE_ORDER) {
      if (board[HEIGHTS + column] >= ROWS) continue;
      playInPlace(board, column);
      const score = -this.#negamax(board, depth - 1, -beta, -alpha);
      undoInPlace(board, column);
      if (score > best) best = score;
      if (score > alpha) alpha = score;
      if (alpha >= beta) break;
    }
    return best;
  }
}
