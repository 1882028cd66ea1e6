/**
 * A fixed, beatable tic-tac-toe player for the one-sided games of Vector Quantized Models for
 * Planning's setting (Ozair et al. 2021, Section 5.1, an opponent inside the environment): it
 * completes its own line when it can, else blocks the other's, else takes the centre, a corner, an
 * edge, the lowest cell first. It never blunders a one-move tactic but falls to a fork (X in
 * opposite corners, say), so a planner can learn to beat it and the two planners being compared
 * have something to find.
 */
import { legalMoves, play, type TicTacToeState, toPlay, winner } from "./tictactoe.ts";

const PREFERENCE = [4, 0, 2, 6, 8, 1, 3, 5, 7] as const;

/** The tactical player's move for the player to move in `state` (which must not be over). */
export function tacticalMove(state: TicTacToeState): number {
  const moves = legalMoves(state);
  if (moves.length === 0) throw new RangeError("tacticalMove: the game is over");
  const mover = toPlay(state);
  const wins = moves.find((move) => winner(play(state, move)) === mover);
  if (wins !== undefined) return wins;
  // A cell where the other player would complete a line if it were its turn.
  const other = 1 - mover;
  const threat = moves.find((move) => winner(placeFor(state, move, other)) === other);
  if (threat !== undefined) return threat;
  return PREFERENCE.find((cell) => moves.includes(cell))!;
}

/** `state` with a stone of `player` on `cell` (ignoring whose turn it is). */
function placeFor(state: TicTacToeState, cell: number, player: number): TicTacToeState {
  return state | (1 << (cell + (player === 0 ? 0 : 9)));
}
