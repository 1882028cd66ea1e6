import assert from "node:assert/strict";
import { EpisodeOrderError } from "../../lib/envs/classic_env.ts";
import { IllegalMoveError } from "../../lib/envs/board_game.ts";
import {
  formatBoard,
  isLegal,
  isTerminal,
  legalMoves,
  moveCount,
  parseBoard,
  play,
  TIC_TAC_TOE,
  TicTacToeEnv,
  TicTacToeSolver,
  type TicTacToeState,
  toPlay,
  winner,
} from "../../lib/envs/tictactoe.ts";
import { InvalidActionError } from "../../lib/envs/types.ts";
import { Rng } from "../../lib/rng.ts";

/** The position after playing `cells` in turn from the empty board. */
function after(...cells: number[]): TicTacToeState {
  return cells.reduce((state, cell) => play(state, cell), 0);
}

Deno.test("tic-tac-toe rules", async (t) => {
  await t.step("players alternate, X first; a state is a plain number", () => {
    const state = after(4, 0);
    assert.equal(typeof state, "number");
    assert.equal(toPlay(0), 0);
    assert.equal(toPlay(after(4)), 1);
    assert.equal(toPlay(state), 0);
    assert.equal(moveCount(state), 2);
    assert.equal(formatBoard(state), "O..\n.X.\n...");
    assert.equal(parseBoard("O.. .X. ..."), state);
    assert.deepEqual(legalMoves(state), [1, 2, 3, 5, 6, 7, 8]);
  });

  await t.step("three in a row, column or diagonal wins; a full board without one draws", () => {
    const wins: [string, number][] = [
      ["XXX OO. ...", 0], // top row
      ["XO. XO. X..", 0], // left column
      ["X.O .XO ..X", 0], // main diagonal
      ["XXO XO. O.X", 1], // anti-diagonal, O
      ["X.X XX. OOO", 1], // bottom row, O
    ];
    for (const [board, player] of wins) {
      const state = parseBoard(board);
      assert.equal(winner(state), player, board);
      assert.ok(isTerminal(state), board);
      assert.deepEqual(legalMoves(state), [], board);
    }
    const draw = parseBoard("XOX XOO OXX");
    assert.equal(winner(draw), -1);
    assert.ok(isTerminal(draw));
    assert.ok(!isTerminal(parseBoard("XOX XOO OX.")));
  });

  await t.step("illegal moves name the move and the legal ones", () => {
    const state = after(4, 0);
    assert.throws(() => play(state, 4), (error: Error) => {
      assert.ok(error instanceof IllegalMoveError);
      assert.ok(error instanceof InvalidActionError);
      assert.equal(
        error.message,
        "tic_tac_toe: invalid action 4 (cell 4 is taken); valid actions are the legal moves " +
          "1, 2, 3, 5, 6, 7, 8",
      );
      assert.deepEqual((error as IllegalMoveError).legalMoves, [1, 2, 3, 5, 6, 7, 8]);
      return true;
    });
    assert.throws(() => play(state, 9), /invalid action 9 \(not a cell of the board\)/);
    assert.throws(() => play(state, 1.5), IllegalMoveError);
    assert.throws(
      () => play(parseBoard("XXX OO. ..."), 8),
      /\(the game is over\); valid actions are none: the game is over/,
    );
    assert.ok(!isLegal(state, 0) && isLegal(state, 1) && !isLegal(state, -1));
    assert.throws(() => parseBoard("OO. ... ..."), /cannot happen/);
  });

  await t.step("the game object encodes a state in one float exactly", () => {
    const row = new Float32Array(3);
    const state = parseBoard("XOX XOO OX.");
    TIC_TAC_TOE.encode(state, row, 2);
    assert.equal(TIC_TAC_TOE.decode(row, 2), state);
    const mask = new Uint8Array(9);
    assert.equal(TIC_TAC_TOE.writeLegalMask(state, mask), 1);
    assert.deepEqual(Array.from(mask), [0, 0, 0, 0, 0, 0, 0, 0, 1]);
  });
});

Deno.test("tic-tac-toe environment", async (t) => {
  await t.step("observations are planes seen by the player to move", () => {
    const env = new TicTacToeEnv();
    assert.deepEqual(env.observationSpec.shape, [3, 3, 3]);
    assert.equal(env.maxEpisodeSteps, 9);
    const first = env.reset(0);
    assert.deepEqual(Array.from(first.filter((_, i) => i % 3 === 2)), new Array(9).fill(1));
    const { observation, reward, terminated } = env.step(4);
    assert.equal(observation, first, "the buffer is reused");
    assert.equal(reward, 0);
    assert.equal(terminated, false);
    // O to move: X's stone on 4 is the opponent's plane; the to-move plane is 0.
    assert.deepEqual([observation[12], observation[13], observation[14]], [0, 1, 0]);
    env.step(0);
    // X to move again: own stone on 4, opponent on 0.
    assert.deepEqual([observation[12], observation[13]], [1, 0]);
    assert.deepEqual([observation[0], observation[1]], [0, 1]);
    assert.deepEqual(Array.from(env.legalActionMask), [0, 1, 1, 1, 0, 1, 1, 1, 1]);
  });

  await t.step("the winner gets +1 and the episode ends", () => {
    const env = new TicTacToeEnv();
    env.reset();
    for (const cell of [0, 3, 1, 4]) assert.equal(env.step(cell).reward, 0);
    const result = env.step(2);
    assert.equal(result.reward, 1);
    assert.equal(result.terminated, true);
    assert.equal(env.winner, 0);
    assert.throws(() => env.step(5), EpisodeOrderError);
  });

  await t.step("invalid and illegal moves are rejected and change nothing", () => {
    const env = new TicTacToeEnv();
    assert.throws(() => env.step(0), /step\(\) called before reset\(\)/);
    env.reset();
    env.step(4);
    for (const action of [-1, 9, 0.5, Number.NaN, [0]]) {
      assert.throws(() => env.step(action), InvalidActionError);
    }
    assert.throws(() => env.step(4), /invalid action 4 \(cell 4 is taken\)/);
    assert.equal(env.elapsedSteps, 1);
    assert.equal(env.toPlay, 1);
  });

  await t.step("setState continues from a given position", () => {
    const env = new TicTacToeEnv();
    env.setState(parseBoard("XX. OO. ..."));
    const result = env.step(2);
    assert.equal(result.reward, 1);
    assert.equal(env.state, parseBoard("XXX OO. ..."));
  });
});

Deno.test("tic-tac-toe solver", async (t) => {
  const solver = new TicTacToeSolver();

  await t.step("5,478 positions are reachable; 958 of them end the game", () => {
    assert.equal(solver.reachablePositions, 5478);
    const outcomes = { x: 0, o: 0, draw: 0 };
    let reachable = 0;
    for (let state = 0; state < 1 << 18; state++) {
      if (!solver.isReachable(state)) continue;
      reachable++;
      if (!isTerminal(state)) continue;
      const result = winner(state);
      if (result === 0) outcomes.x++;
      else if (result === 1) outcomes.o++;
      else outcomes.draw++;
    }
    assert.equal(reachable, 5478);
    assert.deepEqual(outcomes, { x: 626, o: 316, draw: 16 });
    assert.ok(!solver.isReachable(parseBoard("XXX OOO ...")), "both cannot have won");
    assert.throws(() => solver.value(parseBoard("XXX OOO ...")), /not a reachable/);
  });

  await t.step("the game is a draw, and so is every opening", () => {
    assert.equal(solver.value(0), 0);
    assert.deepEqual(solver.optimalMoves(0), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  await t.step("the classic replies: center after a corner, a corner after the center", () => {
    // After a corner opening only the center holds the draw.
    assert.deepEqual(solver.optimalMoves(after(0)), [4]);
    assert.equal(solver.value(after(0)), 0);
    assert.equal(solver.value(after(0, 1)), 1, "an edge reply loses for O");
    // After the center, any corner; an edge loses.
    assert.deepEqual(solver.optimalMoves(after(4)), [0, 2, 6, 8]);
    assert.equal(solver.value(after(4, 1)), 1);
    // After an edge: the adjacent corners, the center or the opposite edge.
    assert.deepEqual(solver.optimalMoves(after(1)), [0, 2, 4, 7]);
  });

  await t.step("hand-checked positions", () => {
    // X to move wins at once at 2; anything else lets O complete 3-4-5.
    const winNow = parseBoard("XX. OO. ...");
    assert.equal(solver.value(winNow), 1);
    const values = solver.moveValues(winNow);
    assert.equal(values[2], 1);
    assert.equal(values[6], -1);
    assert.equal(values[8], -1);
    assert.ok(Number.isNaN(values[0]), "occupied");
    // O facing X on opposite corners must take an edge: a corner lets X fork.
    const corners = parseBoard("X.. .O. ..X");
    assert.equal(solver.value(corners), 0);
    assert.deepEqual(solver.optimalMoves(corners), [1, 3, 5, 7]);
    // X must block 2-4-6 at 6, which also threatens 0-3-6 and 6-7-8: a fork, and X wins.
    const fork = parseBoard("X.O .O. ..X");
    assert.deepEqual(solver.optimalMoves(fork), [6]);
    assert.equal(solver.value(fork), 1);
    // A finished game: the player to move has lost; there are no moves.
    assert.equal(solver.value(parseBoard("XXX OO. ...")), -1);
    assert.deepEqual(solver.optimalMoves(parseBoard("XXX OO. ...")), []);
  });

  await t.step("255,168 possible games: 131,184 won by X, 77,904 by O, 46,080 drawn", () => {
    const counts = { x: 0, o: 0, draw: 0 };
    const walk = (state: TicTacToeState) => {
      if (isTerminal(state)) {
        const result = winner(state);
        if (result === 0) counts.x++;
        else if (result === 1) counts.o++;
        else counts.draw++;
        return;
      }
      for (const move of legalMoves(state)) walk(play(state, move));
    };
    walk(0);
    assert.deepEqual(counts, { x: 131_184, o: 77_904, draw: 46_080 });
  });

  await t.step("bestMove draws among the optimal moves by seed", () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 40; seed++) seen.add(solver.bestMove(after(4), new Rng(seed)));
    assert.deepEqual([...seen].sort(), [0, 2, 6, 8]);
    assert.equal(solver.bestMove(after(4), new Rng(7)), solver.bestMove(after(4), new Rng(7)));
  });
});
