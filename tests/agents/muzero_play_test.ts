/**
 * Playing with MuZero's search (Schrittwieser et al. 2020, Appendix B): self-play records what
 * training needs, the search never plays an illegal root move even when the model prefers one,
 * an outside player's illegal move stops the match with one line naming the player, the move and
 * the legal moves, and the true rules with a network's prediction (AlphaZero's setting) take
 * wins and never pick illegal moves.
 */
import assert from "node:assert/strict";
import {
  BoardGameEnvironment,
  type BoardPlayer,
  DiscreteEnvEnvironment,
  learnedAgent,
  playMatch,
  playOutsideMove,
  randomOpenings,
  randomPlayer,
  rulesAgent,
  SearchPlayer,
  selfPlay,
} from "../../lib/agents/muzero_play.ts";
import { RulesWithPredictionModel } from "../../lib/agents/muzero_rules_model.ts";
import { MuZeroNetwork } from "../../lib/models/muzero.ts";
import type { InferenceOutput, MuZeroModel } from "../../lib/planners/mcts.ts";
import { TrueRulesModel } from "../../lib/planners/rules_model.ts";
import { IllegalMoveError } from "../../lib/envs/board_game.ts";
import {
  legalMoves,
  parseBoard,
  TIC_TAC_TOE,
  TicTacToeSolver,
  type TicTacToeState,
} from "../../lib/envs/tictactoe.ts";
import {
  CONNECT_FOUR,
  type ConnectFourState,
  formatBoard,
  playMoves,
} from "../../lib/envs/connect_four.ts";
import { CartPoleEnv } from "../../lib/envs/cartpole.ts";
import { TimeLimitEnv } from "../../lib/envs/wrappers.ts";
import { Rng } from "../../lib/rng.ts";

const BOARD_SEARCH = {
  numSimulations: 16,
  discount: 1,
  twoPlayer: true,
  dirichletAlpha: 1,
  valueBounds: { min: -1, max: 1 },
};

/** A model that puts all its prior on the lowest-numbered action, legal or not. */
class StubbornModel implements MuZeroModel<Float32Array> {
  readonly latentSize = 1;
  constructor(readonly numActions: number) {}
  #output(batch: number): InferenceOutput {
    const policyLogits = new Float32Array(batch * this.numActions).fill(-20);
    for (let row = 0; row < batch; row++) policyLogits[row * this.numActions] = 20;
    return {
      latents: new Float32Array(batch),
      rewards: new Float32Array(batch),
      values: new Float32Array(batch),
      policyLogits,
    };
  }
  initialInference(_observations: Float32Array, batchSize: number): InferenceOutput {
    return this.#output(batchSize);
  }
  recurrentInference(_latents: Float32Array, actions: Int32Array): InferenceOutput {
    return this.#output(actions.length);
  }
}

function tinyNetwork(shape: number[], actions: number): MuZeroNetwork {
  return new MuZeroNetwork({
    observationShape: shape,
    numActions: actions,
    architecture: { kind: "mlp", latentSize: 8, hiddenSize: 16, hiddenLayers: 1 },
    value: { kind: "scalar" },
    reward: { kind: "scalar" },
  }, new Rng(0));
}

Deno.test("self-play records", async (t) => {
  await t.step("tic-tac-toe: whole games, legal moves, visit policies, the winner's reward", () => {
    const environment = new BoardGameEnvironment(TIC_TAC_TOE);
    const network = tinyNetwork([3, 3, 3], 9);
    const player = new SearchPlayer(network, BOARD_SEARCH);
    const records = selfPlay(environment, player, {
      episodes: 12,
      parallel: 5,
      seedOf: (i) => i,
      temperature: (move) => (move < 3 ? 1 : 0),
      addNoise: true,
      rng: new Rng(1),
    });
    assert.equal(records.length, 12);
    for (const record of records) {
      assert.ok(record.terminated);
      assert.ok(record.length >= 5 && record.length <= 9);
      // Replaying the actions gives a finished game whose last mover alone can have won.
      let state: TicTacToeState = TIC_TAC_TOE.initialState();
      for (let t = 0; t < record.length; t++) {
        const observation = new Float32Array(27);
        TIC_TAC_TOE.observe(state, observation);
        assert.deepEqual(record.observations.subarray(t * 27, (t + 1) * 27), observation);
        const action = record.actions[t];
        assert.equal(record.legalMasks[t * 9 + action], 1);
        const policy = record.policies.subarray(t * 9, (t + 1) * 9);
        assert.ok(Math.abs(policy.reduce((a, b) => a + b, 0) - 1) < 1e-5);
        policy.forEach((p, a) => assert.ok(p === 0 || TIC_TAC_TOE.isLegal(state, a)));
        state = TIC_TAC_TOE.play(state, action);
        const won = TIC_TAC_TOE.winner(state) !== -1;
        assert.equal(record.rewards[t], won ? 1 : 0);
      }
      assert.ok(TIC_TAC_TOE.isTerminal(state));
      assert.equal(record.finalValue, 0);
    }
    network.dispose();
  });

  await t.step("CartPole: cut episodes bootstrap from the network's value", () => {
    const environment = new DiscreteEnvEnvironment(() => new TimeLimitEnv(new CartPoleEnv(), 20));
    assert.equal(environment.maxMoves, 20);
    const network = tinyNetwork([4], 2);
    const player = new SearchPlayer(network, {
      numSimulations: 4,
      discount: 0.997,
      twoPlayer: false,
      dirichletAlpha: 0.25,
    });
    const records = selfPlay(environment, player, {
      episodes: 6,
      parallel: 6,
      seedOf: (i) => 100 + i,
      temperature: () => 1,
      addNoise: true,
      rng: new Rng(2),
    });
    for (const record of records) {
      assert.ok(record.rewards.every((r) => r === 1));
      if (record.length === 20) {
        assert.equal(record.terminated, false);
        const value = network.initialInference(record.finalObservation, 1).values[0];
        assert.ok(Math.abs(record.finalValue - value) < 1e-6);
      } else {
        assert.ok(record.terminated);
      }
    }
    network.dispose();
  });
});

Deno.test("legal moves at the root", async (t) => {
  await t.step("the search never plays an illegal root move, whatever the model prefers", () => {
    const environment = new BoardGameEnvironment(TIC_TAC_TOE);
    const player = new SearchPlayer(new StubbornModel(9), BOARD_SEARCH);
    // Cell 0 is the model's favourite; games where it is taken must still be legal.
    const records = selfPlay(environment, player, {
      episodes: 20,
      parallel: 20,
      seedOf: (i) => i,
      temperature: () => 1,
      addNoise: true,
      rng: new Rng(3),
    });
    // Replaying every game through the rules throws on any illegal move.
    for (const record of records) {
      let state = TIC_TAC_TOE.initialState();
      for (const action of record.actions) state = TIC_TAC_TOE.play(state, action);
      assert.ok(TIC_TAC_TOE.isTerminal(state));
    }
    assert.ok(records.every((record) => record.actions[0] === 0));
  });

  await t.step("an outside player's illegal move is one line naming it and the legal moves", () => {
    const cheat: BoardPlayer<TicTacToeState> = { name: "a person", chooseMove: () => 4 };
    const state = parseBoard("... .X. ...");
    assert.throws(
      () => playOutsideMove(TIC_TAC_TOE, state, 4, cheat),
      (error: unknown) =>
        error instanceof IllegalMoveError && !error.message.includes("\n") &&
        error.message ===
          "a person: tic_tac_toe: invalid action 4 (cell 4 is taken); valid actions are the " +
            "legal moves 0, 1, 2, 3, 5, 6, 7, 8",
    );
    // In a match, the same error stops it.
    const player = new SearchPlayer(new TrueRulesModel(TIC_TAC_TOE), BOARD_SEARCH);
    assert.throws(
      () =>
        playMatch({
          game: TIC_TAC_TOE,
          agent: rulesAgent(player),
          opponent: cheat,
          agentFirst: true,
          games: 2,
          rng: new Rng(4),
        }),
      (error: unknown) => error instanceof IllegalMoveError && /^a person: /.test(error.message),
    );
    const column: BoardPlayer<ConnectFourState> = { name: "alpha-beta", chooseMove: () => 9 };
    assert.throws(
      () => playOutsideMove(CONNECT_FOUR, playMoves([3]), 9, column),
      /alpha-beta: connect_four: invalid action 9 \(not a column of the board\); valid actions are the legal moves 0, 1, 2, 3, 4, 5, 6/,
    );
  });
});

Deno.test("matches", async (t) => {
  const solver = new TicTacToeSolver();
  const perfect: BoardPlayer<TicTacToeState> = {
    name: "perfect player",
    chooseMove: (state, rng) => solver.bestMove(state, rng),
  };

  await t.step("a one-simulation search with uniform priors loses every game to it", () => {
    const asAgent = new SearchPlayer(new TrueRulesModel(TIC_TAC_TOE), {
      ...BOARD_SEARCH,
      numSimulations: 1,
    });
    // A one-simulation search with uniform priors plays the lowest free cell: easy prey.
    const record = playMatch({
      game: TIC_TAC_TOE,
      agent: rulesAgent(asAgent),
      opponent: perfect,
      agentFirst: true,
      games: 10,
      rng: new Rng(5),
    });
    assert.deepEqual(record, { games: 10, wins: 0, draws: 0, losses: 10 });
  });

  await t.step("counts add up, from given starting positions, in batches", () => {
    const player = new SearchPlayer(
      new TrueRulesModel(TIC_TAC_TOE, { rollouts: 2, rng: new Rng(6) }),
      {
        ...BOARD_SEARCH,
        numSimulations: 200,
      },
    );
    const record = playMatch({
      game: TIC_TAC_TOE,
      agent: rulesAgent(player),
      opponent: randomPlayer(TIC_TAC_TOE),
      agentFirst: true,
      games: 30,
      parallel: 7,
      rng: new Rng(7),
      starts: [TIC_TAC_TOE.initialState(), parseBoard("X.. .O. ...")],
    });
    assert.equal(record.games, 30);
    assert.equal(record.wins + record.draws + record.losses, 30);
    assert.ok(record.wins >= 24, `won ${record.wins} of 30 against random play`);
  });

  await t.step("a learned model plays through the same harness", () => {
    const network = tinyNetwork([3, 3, 3], 9);
    const record = playMatch({
      game: TIC_TAC_TOE,
      agent: learnedAgent(new SearchPlayer(network, BOARD_SEARCH)),
      opponent: randomPlayer(TIC_TAC_TOE),
      agentFirst: false,
      games: 8,
      rng: new Rng(8),
    });
    assert.equal(record.games, 8);
    network.dispose();
  });
});

Deno.test("random openings", async (t) => {
  await t.step("Connect Four, two plies: all 49 openings once, then again, seeded", () => {
    const starts = randomOpenings(CONNECT_FOUR, 60, 2, new Rng(3));
    assert.equal(starts.length, 60);
    for (const state of starts) {
      assert.equal(CONNECT_FOUR.moveCount(state), 2);
      assert.equal(CONNECT_FOUR.toPlay(state), 0);
    }
    const boards = starts.map(formatBoard);
    assert.equal(new Set(boards.slice(0, 49)).size, 49);
    assert.equal(new Set(boards).size, 49);
    const again = randomOpenings(CONNECT_FOUR, 60, 2, new Rng(3)).map(formatBoard);
    assert.deepEqual(again, boards);
    const other = randomOpenings(CONNECT_FOUR, 60, 2, new Rng(4)).map(formatBoard);
    assert.notDeepEqual(other, boards);
  });

  await t.step("no plies is the empty board; openings that end the game are left out", () => {
    const empty = randomOpenings(TIC_TAC_TOE, 3, 0, new Rng(1));
    assert.deepEqual(empty, [0, 1, 2].map(() => TIC_TAC_TOE.initialState()));
    // Five plies of tic-tac-toe can already be a win for the first player.
    for (const state of randomOpenings(TIC_TAC_TOE, 500, 5, new Rng(2))) {
      assert.equal(TIC_TAC_TOE.isTerminal(state), false);
      assert.equal(TIC_TAC_TOE.moveCount(state), 5);
    }
    assert.throws(() => randomOpenings(TIC_TAC_TOE, 1, -1, new Rng(1)), RangeError);
    assert.throws(() => randomOpenings(TIC_TAC_TOE, 1, 10, new Rng(1)), RangeError);
  });
});

Deno.test("the true rules with a network's prediction (AlphaZero's setting)", async (t) => {
  await t.step("rewards and ends come from the rules, illegal moves get prior 0", () => {
    const network = tinyNetwork([3, 3, 3], 9);
    const model = new RulesWithPredictionModel(TIC_TAC_TOE, network);
    const state = parseBoard("XX. OO. ...");
    const initial = model.initialInference([state], 1);
    for (let a = 0; a < 9; a++) {
      assert.equal(Number.isFinite(initial.policyLogits[a]), TIC_TAC_TOE.isLegal(state, a));
    }
    const latents = new Float32Array([state, state, state]);
    const out = model.recurrentInference(latents, Int32Array.of(2, 8, 0));
    assert.deepEqual(Array.from(out.rewards), [1, 0, -1]);
    assert.deepEqual(Array.from(out.terminal!), [1, 0, 1]);
    assert.equal(out.values[0], 0);
    assert.equal(out.latents[1], TIC_TAC_TOE.play(state, 8));
    // The search with it takes the win.
    const player = new SearchPlayer(model, BOARD_SEARCH);
    const mask = new Uint8Array(9);
    TIC_TAC_TOE.writeLegalMask(state, mask);
    const { actions } = player.search([state], mask, 1, {
      rng: new Rng(9),
      addNoise: false,
      temperature: 0,
    });
    assert.equal(actions[0], 2);
    assert.deepEqual(legalMoves(state), [2, 5, 6, 7, 8]);
    network.dispose();
  });
});
