import assert from "node:assert/strict";
import {
  mixedOpponent,
  observeOneSided,
  OneSidedGameEnv,
  OneSidedSolver,
  oneSidedStep,
  sampleOpponentMove,
} from "../../lib/envs/one_sided_game.ts";
import { parseBoard, play, TIC_TAC_TOE, type TicTacToeState } from "../../lib/envs/tictactoe.ts";
import { tacticalMove } from "../../lib/envs/tictactoe_tactics.ts";
import { EpisodeOrderError } from "../../lib/envs/classic_env.ts";
import { Rng } from "../../lib/rng.ts";

const tactical = (randomShare: number) =>
  mixedOpponent(TIC_TAC_TOE, `tactical ${randomShare}`, tacticalMove, randomShare);
const key = (state: TicTacToeState) => state;

Deno.test("the tactical player wins, blocks, then prefers the centre and corners", () => {
  assert.equal(tacticalMove(parseBoard("XX. OO. ...")), 2, "X completes its row");
  assert.equal(tacticalMove(parseBoard("XX. .O. ...")), 2, "O blocks X's row");
  assert.equal(tacticalMove(parseBoard("X.. ... ...")), 4);
  assert.equal(tacticalMove(parseBoard("... .X. ...")), 0);
  assert.equal(tacticalMove(parseBoard("O.. .XX ...")), 3, "O blocks the middle row");
});

Deno.test("the tactical player falls to a fork", () => {
  // X corner, O centre, X opposite corner, O corner 2, X blocks at 6 with two threats (3, 7).
  let state = play(0, 0);
  for (const xMove of [8, 6]) {
    state = play(state, tacticalMove(state));
    state = play(state, xMove);
  }
  assert.equal(TIC_TAC_TOE.format(state), "X.O\n.O.\nX.X");
  const block = tacticalMove(state);
  assert.equal(block, 3);
  assert.equal(TIC_TAC_TOE.winner(play(play(state, block), 7)), 0);
});

Deno.test("a mixed opponent's moves: the good one with 1 - ε + ε/n, the rest ε/n", () => {
  const state = parseBoard("X.. ... ...");
  const probabilities = tactical(0.4).moveProbabilities(state);
  assert.equal(probabilities.length, 8);
  const total = probabilities.reduce((sum, p) => sum + p.probability, 0);
  assert.ok(Math.abs(total - 1) < 1e-12);
  for (const { move, probability } of probabilities) {
    const expected = 0.4 / 8 + (move === 4 ? 0.6 : 0);
    assert.ok(Math.abs(probability - expected) < 1e-12, `move ${move}: ${probability}`);
  }
  assert.deepEqual(tactical(0).moveProbabilities(state), [{ move: 4, probability: 1 }]);
  // Drawn moves follow the distribution.
  const rng = new Rng(1);
  let good = 0;
  for (let i = 0; i < 4000; i++) {
    good += sampleOpponentMove(tactical(0.4), state, rng) === 4 ? 1 : 0;
  }
  assert.ok(Math.abs(good / 4000 - 0.65) < 0.03, `centre ${good / 4000}`);
});

Deno.test("one agent step: the agent's move, then the reply, with their rewards", () => {
  const rng = new Rng(0);
  const win = oneSidedStep(TIC_TAC_TOE, tactical(0), parseBoard("XX. OO. ..."), 2, rng);
  assert.deepEqual([win.moveReward, win.replyReward, win.reply, win.terminated], [1, 0, -1, true]);
  const loss = oneSidedStep(TIC_TAC_TOE, tactical(0), parseBoard("X.. OO. X.."), 1, rng);
  assert.deepEqual([loss.moveReward, loss.replyReward, loss.reply, loss.terminated], [
    0,
    -1,
    5,
    true,
  ]);
  const quiet = oneSidedStep(TIC_TAC_TOE, tactical(0), 0, 0, rng);
  assert.equal(quiet.next, play(play(0, 0), 4));
  assert.equal(quiet.afterstate, play(0, 0));
});

Deno.test("the agent's view swaps the planes when the opponent is to move", () => {
  const state = parseBoard("X.. .O. ..X"); // O to move
  const out = observeOneSided(TIC_TAC_TOE, state, 0, new Float32Array(18));
  const own = [0, 8].map((cell) => out[cell * 2]);
  const other = [4].map((cell) => out[cell * 2 + 1]);
  assert.deepEqual([...own, ...other], [1, 1, 1]);
  assert.equal(out.reduce((a, b) => a + b), 3);
});

Deno.test("expectimax: a forced win against the tactical player, and its value played out", () => {
  const deterministic = new OneSidedSolver(TIC_TAC_TOE, tactical(0), key);
  assert.equal(deterministic.value(0), 1, "X forks the tactical player from the empty board");
  assert.equal(deterministic.value(parseBoard("XX. OO. ...")), 1);
  // Against the mixed opponent, the solver's policy earns its computed value on average.
  const opponent = tactical(0.5);
  const solver = new OneSidedSolver(TIC_TAC_TOE, opponent, key);
  const expected = solver.value(0);
  const rng = new Rng(2);
  const games = 3000;
  let total = 0;
  for (let game = 0; game < games; game++) {
    let state: TicTacToeState = 0;
    for (;;) {
      const moves = solver.bestMoves(state);
      const step = oneSidedStep(TIC_TAC_TOE, opponent, state, moves[0], rng);
      total += step.moveReward + step.replyReward;
      if (step.terminated) break;
      state = step.next;
    }
  }
  // Returns lie in [-1, 1]: the standard error is at most 1/sqrt(3000) = 0.018.
  assert.ok(
    Math.abs(total / games - expected) < 0.055,
    `played ${total / games}, expected ${expected}`,
  );
  assert.ok(expected > 0.8 && expected < 1, `value ${expected}`);
});

Deno.test("the one-sided env: seeded replies, the agent's rewards, episode order", () => {
  const play = (seed: number) => {
    const env = new OneSidedGameEnv(TIC_TAC_TOE, tactical(0.5), (s) => new Rng(s));
    env.reset(seed);
    const rewards: number[] = [];
    const boards: string[] = [];
    for (;;) {
      const move = env.legalActionMask.indexOf(1);
      const { reward, terminated } = env.step(move);
      rewards.push(reward);
      boards.push(TIC_TAC_TOE.format(env.state));
      if (terminated) {
        assert.throws(() => env.step(0), EpisodeOrderError);
        return { rewards, boards };
      }
    }
  };
  assert.deepEqual(play(3), play(3));
  const { rewards } = play(3);
  assert.ok(rewards.slice(0, -1).every((r) => r === 0));
  // An opponent who moves first has played when reset returns.
  const second = new OneSidedGameEnv(TIC_TAC_TOE, tactical(0), (s) => new Rng(s), 1);
  const observation = second.reset(0);
  assert.equal(observation[4 * 2 + 1], 1, "the tactical player opened in the centre");
});
