import assert from "node:assert/strict";
import { IllegalMoveError } from "../../lib/envs/board_game.ts";
import { EpisodeOrderError } from "../../lib/envs/classic_env.ts";
import {
  cellAt,
  CONNECT_FOUR,
  ConnectFourAlphaBeta,
  ConnectFourEnv,
  type ConnectFourState,
  formatBoard,
  heuristicValue,
  initialState,
  isTerminal,
  legalMoves,
  NUM_WINDOWS,
  play,
  playMoves,
  toPlay,
  winner,
} from "../../lib/envs/connect_four.ts";
import { InvalidActionError } from "../../lib/envs/types.ts";
import { Rng } from "../../lib/rng.ts";

/**
 * A full board with no four in a row, filled in this order (bottom row first in the picture's
 * last line):
 *
 *   OOXXOOX
 *   XXOOXXO
 *   OOXXOOX
 *   XXOOXXO
 *   OOXXOOX
 *   XXOOXXO
 */
const DRAWN_GAME = [
  ...[0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 4, 2, 2, 2, 2, 2, 2, 3, 3],
  ...[3, 3, 3, 3, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 5],
];

/** Plays `columns` and checks that only the last move ends the game, won by `player`. */
function assertWinsOnLastMove(columns: number[], player: 0 | 1, what: string): ConnectFourState {
  const before = playMoves(columns.slice(0, -1));
  assert.ok(!isTerminal(before), `${what}: over too early\n${formatBoard(before)}`);
  const state = play(before, columns[columns.length - 1]);
  assert.equal(winner(state), player, `${what}\n${formatBoard(state)}`);
  assert.ok(isTerminal(state));
  assert.deepEqual(legalMoves(state), []);
  return state;
}

Deno.test("Connect Four rules", async (t) => {
  await t.step("stones fall to the lowest empty cell; players alternate", () => {
    const state = playMoves([3, 3, 4]);
    assert.equal(cellAt(state, 0, 3), 1);
    assert.equal(cellAt(state, 1, 3), 2);
    assert.equal(cellAt(state, 0, 4), 1);
    assert.equal(toPlay(state), 1);
    assert.equal(formatBoard(state).split("\n").slice(-2).join("\n"), "...O...\n...XX..");
  });

  await t.step("play returns a new state and leaves its argument alone", () => {
    const start = initialState();
    const next = play(start, 3);
    assert.notEqual(next, start);
    assert.deepEqual(start, initialState());
  });

  await t.step("four in a column, a row and both diagonals win", () => {
    assertWinsOnLastMove([0, 1, 0, 1, 0, 1, 0], 0, "vertical");
    assertWinsOnLastMove([0, 0, 1, 1, 2, 2, 3], 0, "horizontal");
    assertWinsOnLastMove([6, 0, 5, 1, 6, 2, 5, 3], 1, "horizontal, second player");
    // Rising diagonal (0,0) (1,1) (2,2) (3,3) for the first player.
    assertWinsOnLastMove([0, 1, 1, 2, 3, 2, 2, 3, 3, 6, 3], 0, "rising diagonal");
    // Falling diagonal (3,0) (2,1) (1,2) (0,3) for the first player.
    assertWinsOnLastMove([3, 2, 2, 1, 1, 0, 1, 0, 0, 6, 0], 0, "falling diagonal");
    // A win in the middle of a line: the last stone fills the gap of X X _ X.
    assertWinsOnLastMove([0, 0, 1, 1, 3, 3, 2], 0, "gap filled");
  });

  await t.step("a full board without four in a row is a draw", () => {
    const state = playMoves(DRAWN_GAME);
    assert.ok(isTerminal(state));
    assert.equal(winner(state), -1);
    assert.equal(
      formatBoard(state),
      [
        "OOXXOOX",
        "XXOOXXO",
        "OOXXOOX",
        "XXOOXXO",
        "OOXXOOX",
        "XXOOXXO",
      ].join("\n"),
    );
    assert.ok(!isTerminal(playMoves(DRAWN_GAME.slice(0, -1))));
  });

  await t.step("a full column is illegal, and the error names the legal columns", () => {
    const state = playMoves([2, 2, 2, 2, 2, 2]);
    assert.deepEqual(legalMoves(state), [0, 1, 3, 4, 5, 6]);
    assert.throws(() => play(state, 2), (error: Error) => {
      assert.ok(error instanceof IllegalMoveError);
      assert.ok(error instanceof InvalidActionError);
      assert.equal(
        error.message,
        "connect_four: invalid action 2 (column 2 is full); valid actions are the legal moves " +
          "0, 1, 3, 4, 5, 6",
      );
      return true;
    });
    assert.throws(() => play(state, 7), /not a column of the board/);
    const mask = new Uint8Array(7);
    assert.equal(CONNECT_FOUR.writeLegalMask(state, mask), 6);
    assert.deepEqual(Array.from(mask), [1, 1, 0, 1, 1, 1, 1]);
  });

  await t.step("encode and decode round-trip", () => {
    const state = playMoves([3, 2, 3, 4, 0]);
    const row = new Float32Array(CONNECT_FOUR.encodedSize + 2);
    CONNECT_FOUR.encode(state, row, 2);
    assert.deepEqual(CONNECT_FOUR.decode(row, 2), state);
  });
});

Deno.test("Connect Four environment", async (t) => {
  await t.step("planes for the player to move, top row first; +1 to the winner", () => {
    const env = new ConnectFourEnv();
    assert.deepEqual(env.observationSpec.shape, [6, 7, 3]);
    assert.equal(env.maxEpisodeSteps, 42);
    const observation = env.reset();
    env.step(3);
    // O to move: X's stone at the bottom of column 3 is in the last observation row, plane 1.
    const bottom = (5 * 7 + 3) * 3;
    assert.deepEqual(Array.from(observation.subarray(bottom, bottom + 3)), [0, 1, 0]);
    for (const column of [0, 3, 0, 3, 0]) env.step(column);
    assert.equal(env.step(3).reward, 1, "X completes column 3");
    assert.equal(env.winner, 0);
    assert.throws(() => env.step(1), EpisodeOrderError);
  });

  await t.step("an illegal move is rejected and changes nothing", () => {
    const env = new ConnectFourEnv();
    env.reset();
    for (let i = 0; i < 6; i++) env.step(5);
    assert.throws(() => env.step(5), /column 5 is full/);
    assert.equal(env.elapsedSteps, 6);
    assert.equal(env.legalActionMask[5], 0);
  });
});

Deno.test("Connect Four alpha-beta player", async (t) => {
  await t.step("the heuristic counts open windows for each side", () => {
    assert.equal(NUM_WINDOWS, 69);
    assert.equal(heuristicValue(initialState()), 0);
    // One X stone at the bottom of column 3 lies in 7 windows (4 across, 1 up, 1 per diagonal);
    // O, to move, sees -7.
    assert.equal(heuristicValue(playMoves([3])), -7);
  });

  await t.step("takes a win and blocks a loss", () => {
    const player = new ConnectFourAlphaBeta({ depth: 4, rng: new Rng(0) });
    // X to move with three across the bottom: win at 3.
    assert.deepEqual(player.bestMoves(playMoves([0, 0, 1, 1, 2, 2])).moves, [3]);
    // O to move must block column 0, where X has three stacked.
    assert.equal(player.chooseMove(playMoves([0, 1, 0, 2, 0])), 0);
  });

  await t.step("ties are broken by the seed, among moves of equal score", () => {
    // At depth 2 the empty board scores columns 1..5 alike (mirror images pair up).
    const ties = new ConnectFourAlphaBeta({ depth: 2, rng: new Rng(0) }).bestMoves(initialState());
    assert.deepEqual(ties.moves, [1, 2, 3, 4, 5]);
    const chosen = new Set<number>();
    for (let seed = 0; seed < 30; seed++) {
      chosen.add(
        new ConnectFourAlphaBeta({ depth: 2, rng: new Rng(seed) }).chooseMove(initialState()),
      );
    }
    assert.deepEqual([...chosen].sort(), [1, 2, 3, 4, 5]);
    const a = new ConnectFourAlphaBeta({ depth: 2, rng: new Rng(9) }).chooseMove(initialState());
    const b = new ConnectFourAlphaBeta({ depth: 2, rng: new Rng(9) }).chooseMove(initialState());
    assert.equal(a, b);
  });

  await t.step("at depth 4 it beats a random player in most games, first or second", () => {
    const games = 20;
    let wins = 0;
    for (let game = 0; game < games; game++) {
      const player = new ConnectFourAlphaBeta({ depth: 4, rng: new Rng(game) });
      const random = new Rng(1000 + game);
      const side = game % 2;
      let state = initialState();
      while (!isTerminal(state)) {
        const move = toPlay(state) === side
          ? player.chooseMove(state)
          : random.choice(legalMoves(state));
        state = play(state, move);
      }
      if (winner(state) === side) wins++;
    }
    assert.ok(wins >= 18, `won ${wins} of ${games}`);
  });

  await t.step("depth 4 beats depth 1", () => {
    let wins = 0;
    for (let game = 0; game < 10; game++) {
      const deep = new ConnectFourAlphaBeta({ depth: 4, rng: new Rng(game) });
      const shallow = new ConnectFourAlphaBeta({ depth: 1, rng: new Rng(100 + game) });
      const side = game % 2;
      let state = initialState();
      while (!isTerminal(state)) {
        state = play(state, (toPlay(state) === side ? deep : shallow).chooseMove(state));
      }
      if (winner(state) === side) wins++;
    }
    assert.ok(wins >= 7, `won ${wins} of 10`);
    assert.throws(() => new ConnectFourAlphaBeta({ depth: 0, rng: new Rng(0) }), /depth/);
  });
});
