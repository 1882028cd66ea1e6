/**
 * MuZero's search (Schrittwieser et al. 2020, Appendix B) checked where the answer is known:
 * trees small enough to work out by hand, the Dirichlet mix at the root, legal masks under an
 * adversarial policy, and perfect play of tic-tac-toe with the true rules as the model.
 */
import assert from "node:assert/strict";
import {
  type InferenceOutput,
  MUZERO_BOARD_GAME_SETTINGS,
  type MuZeroModel,
  MuZeroSearch,
  sampleDirichlet,
  selectByVisitCount,
} from "../../lib/planners/mcts.ts";
import { TrueRulesModel } from "../../lib/planners/rules_model.ts";
import {
  isTerminal,
  parseBoard,
  play,
  TIC_TAC_TOE,
  TicTacToeSolver,
  type TicTacToeState,
  toPlay,
  winner,
} from "../../lib/envs/tictactoe.ts";
import { CONNECT_FOUR, playMoves } from "../../lib/envs/connect_four.ts";
import type { Player } from "../../lib/envs/board_game.ts";
import { Rng } from "../../lib/rng.ts";
import { assertAllClose, assertClose } from "../envs/_helpers.ts";

/** What a `TableModel` node returns: the reward into it, its value, its logits. */
interface TableEntry {
  reward: number;
  value: number;
  logits?: number[];
  terminal?: boolean;
}

/**
 * A model whose latent is the path taken, as a number: the root is 0 and the child of code c by
 * action a is 10c + a + 1 (so "12" is action 0 then action 1). Outputs come from a table; every
 * call is recorded as [parent code, action].
 */
class TableModel implements MuZeroModel<null> {
  readonly latentSize = 1;
  readonly calls: [number, number][][] = [];

  constructor(
    readonly numActions: number,
    readonly root: { value: number; logits: number[] },
    readonly table: Record<number, TableEntry>,
    readonly fallback: TableEntry,
  ) {}

  initialInference(_observations: null, batchSize: number): InferenceOutput {
    const policyLogits = new Float32Array(batchSize * this.numActions);
    for (let row = 0; row < batchSize; row++) {
      policyLogits.set(this.root.logits, row * this.numActions);
    }
    return {
      latents: new Float32Array(batchSize),
      rewards: new Float32Array(batchSize),
      values: new Float32Array(batchSize).fill(this.root.value),
      policyLogits,
    };
  }

  recurrentInference(parentLatents: Float32Array, actions: Int32Array): InferenceOutput {
    const batch = actions.length;
    const out = {
      latents: new Float32Array(batch),
      rewards: new Float32Array(batch),
      values: new Float32Array(batch),
      policyLogits: new Float32Array(batch * this.numActions),
      terminal: new Uint8Array(batch),
    };
    this.calls.push(Array.from(actions, (action, row) => [parentLatents[row], action]));
    for (let row = 0; row < batch; row++) {
      const code = parentLatents[row] * 10 + actions[row] + 1;
      const entry = this.table[code] ?? this.fallback;
      out.latents[row] = code;
      out.rewards[row] = entry.reward;
      out.values[row] = entry.value;
      out.terminal[row] = entry.terminal ? 1 : 0;
      if (entry.logits) out.policyLogits.set(entry.logits, row * this.numActions);
    }
    return out;
  }
}

/** The pUCT exploration weight of the paper: (c1 + log((N + c2 + 1) / c2)) · sqrt(N). */
function explorationWeight(parentVisits: number): number {
  return (1.25 + Math.log((parentVisits + 19652 + 1) / 19652)) * Math.sqrt(parentVisits);
}

const NO_NOISE = { rng: new Rng(0), addNoise: false, temperature: 0 } as const;

Deno.test("MuZero search: trees worked out by hand", async (t) => {
  // One player, γ = 0.5, no known bounds. Root priors [0.2, 0.8], root value 0.
  // Action 0 from the root: reward 1, value 2 (Q = 1 + 0.5 · 2 = 2).
  // Action 1 from the root: reward 0, value -2 (Q = -1).
  // Every deeper node: reward 0, value -2, uniform priors.
  const singlePlayer = () =>
    new TableModel(2, { value: 0, logits: [0, Math.log(4)] }, {
      1: { reward: 1, value: 2 },
      2: { reward: 0, value: -2 },
    }, { reward: 0, value: -2, logits: [0, 0] });
  const singlePlayerConfig = {
    numSimulations: 4,
    discount: 0.5,
    twoPlayer: false,
    dirichletAlpha: 1,
  };

  await t.step("pUCT choices, discounting and min-max normalisation, step by step", () => {
    // Simulation 1 (N = 1, nothing visited): 0.2·E(1) < 0.8·E(1), so action 1. Backup: Q(root, 1)
    //   = 0 + 0.5·(-2) = -1, the only Q so far; root sum 0 - 1.
    // Simulation 2 (N = 2): min = max, so Q is used unnormalised, as in the pseudocode:
    //   action 0 scores 0.2·E(2) = 0.354, action 1 scores -1 + 0.8·E(2)/2 = -0.293: action 0.
    //   Q(root, 0) = 1 + 0.5·2 = 2, so the range becomes [-1, 2]; root sum -1 + 2 = 1.
    // Simulation 3 (N = 3): action 0: 1 + 0.2·E(3)/2 = 1.217; action 1: 0 + 0.8·E(3)/2 = 0.866.
    //   Inside node "1" both children are new with equal priors: the lower action, 0. Its
    //   value -2 gives Q("1", 0) = -1; node "1" averages (2 - 1)/2 = 0.5, so Q(root, 0) =
    //   1 + 0.5·0.5 = 1.25; the return 1 + 0.5·(-1) = 0.5 makes the root sum 1.5.
    // Simulation 4 (N = 4): action 0: (1.25 + 1)/3 + 0.2·E(4)/3 = 0.9167; action 1: 0 +
    //   0.8·E(4)/2 = 1.0002: action 1, although its raw Q (-1) is far below 1.25 — the
    //   normalisation puts Q on the prior's scale. Node "2" expands its action 0: Q("2", 0) =
    //   -1, node "2" averages (-2 - 1)/2 = -1.5, Q(root, 1) = -0.75, root sum 1.5 - 0.5 = 1.
    const expectedCalls = [[0, 1], [0, 0], [1, 0], [2, 0]];
    const scores = {
      simulation2: [0.2 * explorationWeight(2), -1 + 0.8 * explorationWeight(2) / 2],
      simulation4: [0.75 + 0.2 * explorationWeight(4) / 3, 0.8 * explorationWeight(4) / 2],
    };
    assert.ok(scores.simulation2[0] > scores.simulation2[1]);
    assert.ok(scores.simulation4[1] > scores.simulation4[0]);
    for (let simulations = 1; simulations <= 4; simulations++) {
      const model = singlePlayer();
      const search = new MuZeroSearch(model, {
        ...singlePlayerConfig,
        numSimulations: simulations,
      });
      search.run(null, 1, NO_NOISE);
      assert.deepEqual(model.calls.flat(), expectedCalls.slice(0, simulations));
    }
    const result = new MuZeroSearch(singlePlayer(), singlePlayerConfig).run(null, 1, NO_NOISE);
    assert.deepEqual(Array.from(result.visitCounts), [2, 2]);
    assertAllClose(result.qValues, [1.25, -0.75], 1e-6, "Q(root, ·)");
    // The model's value (0) and the four returns -1, 2, 0.5, -0.5, over five visits.
    assertClose(result.rootValues[0], 0.2, 1e-6, "root value");
    assert.deepEqual([result.minQ[0], result.maxQ[0]], [-1, 2]);
    assertAllClose(result.rootPriors, [0.2, 0.8], 1e-6, "priors");
    assert.equal(result.actions[0], 0, "equal visits: the lower action");
    assert.equal(result.modelCalls, 4);
  });

  await t.step(
    "two players: values flip sign at every ply; terminal states are not expanded",
    () => {
      // Two players, γ = 1, Q known to lie in [-1, 1]. Uniform priors everywhere, root value 0.
      // Action 0 leads to a state worth +0.5 to the opponent (Q = -0.5 for the root's player),
      // action 1 to one worth -0.5 to the opponent (Q = +0.5). Any move after that wins for the
      // opponent and ends the game (reward +1 to the opponent, terminal).
      const model = new TableModel(2, { value: 0, logits: [0, 0] }, {
        1: { reward: 0, value: 0.5, logits: [0, 0] },
        2: { reward: 0, value: -0.5, logits: [0, 0] },
      }, { reward: 1, value: 0.3, terminal: true });
      const search = new MuZeroSearch(model, {
        ...MUZERO_BOARD_GAME_SETTINGS,
        numSimulations: 5,
        dirichletAlpha: 1,
      });
      const result = search.run(null, 1, NO_NOISE);
      // 1: tie, action 0: Q(root, 0) = -0.5. 2: 0.25 + 0.5·E(2)/2 = 0.692 < 0.5·E(2) = 0.884:
      //   action 1, Q(root, 1) = +0.5. 3: 0.25 + 0.541 < 0.75 + 0.541: action 1, then the
      //   opponent's action 0 wins: Q("2", 0) = 1 for the opponent; node "2" averages
      //   (-0.5 + 1)/2 = 0.25 for the opponent, so Q(root, 1) = -0.25 and the return is -1.
      // 4: action 0 scores 0.25 + 0.5·E(4)/2 = 0.875, action 1 0.375 + 0.5·E(4)/3 = 0.792:
      //   action 0, and again the opponent wins: node "1" averages (0.5 + 1)/2, Q(root, 0) = -0.75.
      // 5: action 0: 0.125 + 0.5·E(5)/3 = 0.591, action 1: 0.375 + 0.466 = 0.841: action 1, where
      //   the winning move is already known (1 + 0.5·E(2)/2 > 0.5·E(2)): the terminal node backs
      //   up 0 without a model call, and node "2" averages (-0.5 + 1 + 1)/3 = 0.5.
      assert.ok(0.25 + 0.5 * explorationWeight(4) / 2 > 0.375 + 0.5 * explorationWeight(4) / 3);
      assert.deepEqual(model.calls.flat(), [[0, 0], [0, 1], [2, 0], [1, 0]]);
      assert.equal(result.modelCalls, 4);
      assert.deepEqual(Array.from(result.visitCounts), [2, 3]);
      assertAllClose(result.qValues, [-0.75, -0.5], 1e-6, "Q(root, ·)");
      // (0 - 0.5 + 0.5 - 1 - 1 - 1) / 6: the terminal node's value 0.3 is never used.
      assertClose(result.rootValues[0], -0.5, 1e-6, "root value");
      assert.deepEqual([result.minQ[0], result.maxQ[0]], [-1, 1]);
      assert.equal(result.actions[0], 1);
    },
  );

  await t.step("roots in one batch do not see each other's trees or Q ranges", () => {
    const config = { ...singlePlayerConfig, numSimulations: 6 };
    const alone = new MuZeroSearch(singlePlayer(), config).run(null, 1, NO_NOISE);
    const model = singlePlayer();
    const batched = new MuZeroSearch(model, config).run(null, 3, NO_NOISE);
    for (let root = 0; root < 3; root++) {
      assert.deepEqual(Array.from(batched.visitCounts.slice(2 * root, 2 * root + 2)), [
        ...alone.visitCounts,
      ]);
      assert.equal(batched.rootValues[root], alone.rootValues[0]);
      assert.equal(batched.minQ[root], alone.minQ[0]);
    }
    // One model call per simulation, each for the whole batch.
    assert.equal(model.calls.length, 6);
    for (const call of model.calls) assert.equal(call.length, 3);
  });

  await t.step("a search object gives the same results when reused at other batch sizes", () => {
    const config = { ...singlePlayerConfig, numSimulations: 6 };
    const fresh = new MuZeroSearch(singlePlayer(), config).run(null, 1, NO_NOISE);
    const reused = new MuZeroSearch(singlePlayer(), config);
    reused.run(null, 4, NO_NOISE);
    reused.run(null, 2, NO_NOISE);
    assert.deepEqual(reused.run(null, 1, NO_NOISE), fresh);
  });
});

Deno.test("MuZero search: Dirichlet noise at the root", async (t) => {
  await t.step("draws have the moments of a symmetric Dirichlet, even for Go's tiny alpha", () => {
    const rng = new Rng(3);
    const count = 9;
    const draws = 20_000;
    for (const alpha of [0.3, 0.03, 2.5]) {
      let sum = 0;
      let sumSquares = 0;
      const sample = new Float64Array(count);
      for (let i = 0; i < draws; i++) {
        sampleDirichlet(alpha, count, rng, sample);
        const total = sample.reduce((a, b) => a + b, 0);
        assertClose(total, 1, 1e-9, "sum of a draw");
        assert.ok(sample.every((x) => x >= 0 && Number.isFinite(x)));
        sum += sample[0];
        sumSquares += sample[0] * sample[0];
      }
      const mean = sum / draws;
      const variance = sumSquares / draws - mean * mean;
      // Each share is Beta(α, (K - 1)α): mean 1/K, variance (1/K)(1 - 1/K)/(Kα + 1).
      const expectedVariance = (1 / count) * (1 - 1 / count) / (count * alpha + 1);
      // Four standard errors for the mean; the variance of a tiny-alpha share is heavy-tailed.
      const meanTolerance = 4 * Math.sqrt(expectedVariance / draws);
      assertClose(mean, 1 / count, meanTolerance, `mean share, alpha ${alpha}`);
      assertClose(variance, expectedVariance, 0.08 * expectedVariance, `variance, alpha ${alpha}`);
    }
  });

  await t.step("the root prior is 0.75 · policy + 0.25 · noise over the legal actions", () => {
    const logits = [0, 1, 2, 3, 0.5];
    const legal = Uint8Array.from([1, 1, 0, 1, 1, 0, 1, 1, 1, 1]); // two roots, 5 actions each
    const model = new TableModel(5, { value: 0, logits }, {}, { reward: 0, value: 0 });
    const alpha = 0.3;
    const search = new MuZeroSearch(model, {
      numSimulations: 1,
      discount: 1,
      twoPlayer: false,
      dirichletAlpha: alpha,
    });
    const result = search.run(null, 2, { rng: new Rng(11), legalActions: legal });
    // The same generator, in the same order: one draw per root over its legal actions.
    const rng = new Rng(11);
    for (let root = 0; root < 2; root++) {
      const mask = legal.subarray(5 * root, 5 * root + 5);
      const legalActions = [0, 1, 2, 3, 4].filter((a) => mask[a] === 1);
      const noise = sampleDirichlet(alpha, legalActions.length, rng);
      const weights = legalActions.map((a) => Math.exp(logits[a]));
      const total = weights.reduce((a, b) => a + b, 0);
      const expected = [0, 0, 0, 0, 0];
      legalActions.forEach((a, k) => expected[a] = 0.75 * weights[k] / total + 0.25 * noise[k]);
      assertAllClose(result.rootPriors.subarray(5 * root, 5 * root + 5), expected, 1e-6, "prior");
    }
    const again = search.run(null, 2, { rng: new Rng(11), legalActions: legal });
    assert.deepEqual(again.rootPriors, result.rootPriors);
    const other = search.run(null, 2, { rng: new Rng(12), legalActions: legal });
    assert.notDeepEqual(other.rootPriors, result.rootPriors);
  });

  await t.step("alpha sets how even the noise is", () => {
    const model = new TableModel(4, { value: 0, logits: [5, 0, 0, 0] }, {}, {
      reward: 0,
      value: 0,
    });
    const policy0 = Math.exp(5) / (Math.exp(5) + 3);
    const spread = (alpha: number) => {
      const search = new MuZeroSearch(model, {
        numSimulations: 1,
        discount: 1,
        twoPlayer: false,
        dirichletAlpha: alpha,
      });
      const priors = search.run(null, 1, { rng: new Rng(5) }).rootPriors;
      return Math.max(
        Math.abs(priors[0] - (0.75 * policy0 + 0.25 / 4)),
        ...[1, 2, 3].map((a) => Math.abs(priors[a] - (0.75 * (1 - policy0) / 3 + 0.25 / 4))),
      );
    };
    // A huge alpha gives noise close to uniform; a tiny one puts nearly all of it on one action.
    assert.ok(spread(10_000) < 0.005, `alpha 10000: ${spread(10_000)}`);
    assert.ok(spread(0.01) > 0.15, `alpha 0.01: ${spread(0.01)}`);
  });

  await t.step("exploration fraction 0 or addNoise false leave the policy as it is", () => {
    const model = new TableModel(3, { value: 0, logits: [0, 0, Math.log(2)] }, {}, {
      reward: 0,
      value: 0,
    });
    const config = { numSimulations: 1, discount: 1, twoPlayer: false, dirichletAlpha: 0.3 };
    const off = new MuZeroSearch(model, { ...config, explorationFraction: 0 });
    assertAllClose(off.run(null, 1, { rng: new Rng(0) }).rootPriors, [0.25, 0.25, 0.5], 1e-6);
    const on = new MuZeroSearch(model, config);
    assertAllClose(
      on.run(null, 1, { rng: new Rng(0), addNoise: false }).rootPriors,
      [0.25, 0.25, 0.5],
      1e-6,
    );
  });
});

Deno.test("MuZero search: legal actions at the root", async (t) => {
  // A policy with all its mass on the illegal actions 0 and 1 and a value that rewards them.
  const adversarial = () =>
    new TableModel(4, { value: 0, logits: [50, 50, -50, -50] }, {
      1: { reward: 10, value: 10 },
      2: { reward: 10, value: 10 },
    }, { reward: 0, value: 0, logits: [50, 50, -50, -50] });
  const legal = Uint8Array.from([0, 0, 1, 1, 0, 0, 0, 1]);

  await t.step("never searches or returns an illegal root action", () => {
    for (let seed = 0; seed < 20; seed++) {
      const search = new MuZeroSearch(adversarial(), {
        numSimulations: 30,
        discount: 0.9,
        twoPlayer: seed % 2 === 0,
        dirichletAlpha: 0.3,
      });
      const result = search.run(null, 2, {
        rng: new Rng(seed),
        legalActions: legal,
        temperature: seed % 3,
      });
      for (let i = 0; i < legal.length; i++) {
        if (legal[i] === 0) {
          assert.equal(result.visitCounts[i], 0);
          assert.equal(result.rootPriors[i], 0);
        }
      }
      assert.ok([2, 3].includes(result.actions[0]), `root 0 chose ${result.actions[0]}`);
      assert.equal(result.actions[1], 3);
      assert.equal(result.visitCounts[7], 30);
    }
  });

  await t.step("a policy with -Infinity on every legal action still searches them", () => {
    const model = new TableModel(3, { value: 0, logits: [0, -Infinity, -Infinity] }, {}, {
      reward: 0,
      value: 0,
    });
    const search = new MuZeroSearch(model, {
      numSimulations: 10,
      discount: 1,
      twoPlayer: false,
      dirichletAlpha: 1,
    });
    const result = search.run(null, 1, { ...NO_NOISE, legalActions: Uint8Array.from([0, 1, 1]) });
    assertAllClose(result.rootPriors, [0, 0.5, 0.5], 1e-6, "uniform over the legal actions");
    assert.equal(result.visitCounts[0], 0);
    assert.notEqual(result.actions[0], 0);
  });

  await t.step("a root without legal actions and malformed model outputs fail clearly", () => {
    const search = new MuZeroSearch(adversarial(), {
      numSimulations: 2,
      discount: 1,
      twoPlayer: false,
      dirichletAlpha: 1,
    });
    assert.throws(
      () =>
        search.run(null, 2, {
          ...NO_NOISE,
          legalActions: Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0]),
        }),
      /root 1 has no legal action/,
    );
    assert.throws(
      () => search.run(null, 1, { ...NO_NOISE, legalActions: new Uint8Array(3) }),
      /legalActions has 3 entries, expected batchSize \* numActions = 4/,
    );
    const broken: MuZeroModel<null> = {
      numActions: 2,
      latentSize: 1,
      initialInference: () => ({
        latents: new Float32Array(1),
        rewards: new Float32Array(1),
        values: new Float32Array(1),
        policyLogits: new Float32Array(3),
      }),
      recurrentInference: () => {
        throw new Error("not reached");
      },
    };
    assert.throws(
      () =>
        new MuZeroSearch(broken, {
          numSimulations: 1,
          discount: 1,
          twoPlayer: false,
          dirichletAlpha: 1,
        }).run(null, 1, NO_NOISE),
      /initialInference returned policyLogits of length 3, expected 2/,
    );
    assert.throws(
      () =>
        new MuZeroSearch(broken, {
          numSimulations: 0,
          discount: 1,
          twoPlayer: false,
          dirichletAlpha: 1,
        }),
      /numSimulations/,
    );
    assert.throws(
      () =>
        new MuZeroSearch(broken, {
          numSimulations: 1,
          discount: 1,
          twoPlayer: false,
          dirichletAlpha: 0,
        }),
      /dirichletAlpha/,
    );
  });
});

Deno.test("MuZero search: choosing the action from visit counts", async (t) => {
  await t.step("temperature 0 takes the most visited; 1 draws in proportion to visits", () => {
    const counts = [0, 10, 30, 60, 0, 60];
    assert.equal(selectByVisitCount(counts, 0, 6, 0, new Rng(0)), 3);
    const rng = new Rng(1);
    const drawn = new Array(6).fill(0);
    const draws = 40_000;
    for (let i = 0; i < draws; i++) drawn[selectByVisitCount(counts, 0, 6, 1, rng)]++;
    counts.forEach((n, a) => assertClose(drawn[a] / draws, n / 160, 0.01, `share of action ${a}`));
    // T = 0.5 squares the counts.
    const squared = new Array(6).fill(0);
    for (let i = 0; i < draws; i++) squared[selectByVisitCount(counts, 0, 6, 0.5, rng)]++;
    assertClose(squared[1] / draws, 100 / (100 + 900 + 3600 + 3600), 0.005, "T = 0.5");
    // A very low temperature behaves like the argmax without overflowing.
    assert.ok([3, 5].includes(selectByVisitCount(counts, 0, 6, 1e-6, rng)));
  });
});

/** The result of playing out every line where the solver picks any of its optimal moves. */
interface PerfectPlayReport {
  searched: number;
  notOptimal: string[];
  outcomes: { won: number; drawn: number; lost: number };
}

/**
 * Plays the search (argmax of visits, no noise) against the perfect solver from `starts`,
 * following every optimal reply of the solver. The search's positions at each depth are searched
 * together as one batch.
 */
function playAgainstSolver(
  search: MuZeroSearch<readonly TicTacToeState[]>,
  solver: TicTacToeSolver,
  searchPlays: Player,
  starts: readonly TicTacToeState[],
): PerfectPlayReport {
  const report: PerfectPlayReport = {
    searched: 0,
    notOptimal: [],
    outcomes: { won: 0, drawn: 0, lost: 0 },
  };
  let frontier = new Set(starts);
  while (frontier.size > 0) {
    const next = new Set<TicTacToeState>();
    const toSearch: TicTacToeState[] = [];
    for (const state of frontier) {
      if (isTerminal(state)) {
        const result = winner(state);
        if (result === -1) report.outcomes.drawn++;
        else if (result === searchPlays) report.outcomes.won++;
        else report.outcomes.lost++;
      } else if (toPlay(state) === searchPlays) {
        toSearch.push(state);
      } else {
        for (const move of solver.optimalMoves(state)) next.add(play(state, move));
      }
    }
    if (toSearch.length > 0) {
      const legal = new Uint8Array(toSearch.length * 9);
      toSearch.forEach((state, i) => TIC_TAC_TOE.writeLegalMask(state, legal, 9 * i));
      const result = search.run(toSearch, toSearch.length, { ...NO_NOISE, legalActions: legal });
      toSearch.forEach((state, i) => {
        const move = result.actions[i];
        if (!solver.optimalMoves(state).includes(move)) {
          report.notOptimal.push(`${TIC_TAC_TOE.format(state)}\nmove ${move}`);
        }
        next.add(play(state, move));
      });
      report.searched += toSearch.length;
    }
    frontier = next;
  }
  return report;
}

Deno.test("MuZero search with the true rules plays tic-tac-toe perfectly", async (t) => {
  const solver = new TicTacToeSolver();
  // 3,200 simulations (4x the paper's 800 with a trained network), each leaf valued by 2 random
  // playouts: with uniform priors and an unvisited edge counted as a loss (Q̄ = 0), fewer
  // simulations or a value of 0 occasionally leave a deep loss unseen.
  const makeSearch = (seed: number) =>
    new MuZeroSearch(new TrueRulesModel(TIC_TAC_TOE, { rollouts: 2, rng: new Rng(seed) }), {
      ...MUZERO_BOARD_GAME_SETTINGS,
      numSimulations: 3200,
      dirichletAlpha: 1,
    });
  const openings = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((cell) => play(0, cell));

  await t.step("as first player, from the empty board and from each of the 9 openings", () => {
    const search = makeSearch(1);
    const own = playAgainstSolver(search, solver, 0, [0]);
    const forced = playAgainstSolver(search, solver, 0, openings);
    for (const report of [own, forced]) {
      assert.equal(report.outcomes.lost, 0);
      assert.deepEqual(report.notOptimal, []);
    }
    // Every opening is a draw under perfect play, so every game is drawn.
    assert.equal(forced.outcomes.won, 0);
    assert.ok(forced.searched > 100, `${forced.searched} positions searched`);
  });

  await t.step("as second player, after each of the 9 openings", () => {
    const report = playAgainstSolver(makeSearch(2), solver, 1, openings);
    assert.equal(report.outcomes.lost, 0);
    assert.deepEqual(report.notOptimal, []);
    assert.ok(report.searched > 100, `${report.searched} positions searched`);
  });

  await t.step("it takes a win and blocks a loss", () => {
    const search = makeSearch(3);
    // X to move can win at 2; O to move must block at 8 (X threatens 0-4-8).
    const positions = [parseBoard("XX. OO. ..."), parseBoard("X.. .X. O..")];
    const legal = new Uint8Array(18);
    positions.forEach((state, i) => TIC_TAC_TOE.writeLegalMask(state, legal, 9 * i));
    const result = search.run(positions, 2, { ...NO_NOISE, legalActions: legal });
    assert.deepEqual(Array.from(result.actions), [2, 8]);
    assertClose(result.qValues[2], 1, 1e-6, "Q of the winning move");
  });
});

Deno.test("the true-rules model", async (t) => {
  await t.step("rewards, terminal states and forfeits follow the rules", () => {
    const model = new TrueRulesModel(TIC_TAC_TOE);
    const state = parseBoard("XX. OO. ...");
    const latents = new Float32Array([state, state, state]);
    // Win at 2; an ordinary move; the occupied cell 0.
    const out = model.recurrentInference(latents, Int32Array.from([2, 8, 0]));
    assert.deepEqual(Array.from(out.rewards), [1, 0, -1]);
    assert.deepEqual(Array.from(out.terminal!), [1, 0, 1]);
    assert.equal(out.latents[0], play(state, 2));
    assert.equal(out.latents[2], state);
    // After 8, O moves with 4 cells left: logits 0 on them, -Infinity elsewhere.
    const logits = Array.from(out.policyLogits.subarray(9, 18));
    assert.deepEqual(logits.map((l) => l === 0), [
      false,
      false,
      true,
      false,
      false,
      true,
      true,
      true,
      false,
    ]);
  });

  await t.step("random playouts estimate the value for the player to move", () => {
    // O to move must block at 8 or lose; random play often does not.
    const model = new TrueRulesModel(TIC_TAC_TOE, { rollouts: 2000, rng: new Rng(4) });
    const out = model.initialInference([parseBoard("X.. .X. O..")], 1);
    assert.ok(out.values[0] < -0.3, `value ${out.values[0]}`);
    assert.throws(() => new TrueRulesModel(TIC_TAC_TOE, { rollouts: 3 }), /need an rng/);
  });

  await t.step("Connect Four works through the same adapter", () => {
    const model = new TrueRulesModel(CONNECT_FOUR);
    const search = new MuZeroSearch(model, {
      ...MUZERO_BOARD_GAME_SETTINGS,
      numSimulations: 200,
      dirichletAlpha: 1,
    });
    // First player threatens 0-1-2-3 along the bottom (win at 3); second player to move
    // elsewhere must block at 3 in the second position.
    const winNow = playMoves([0, 0, 1, 1, 2, 2]);
    const block = playMoves([0, 6, 1, 6, 2]);
    const legal = new Uint8Array(14);
    [winNow, block].forEach((state, i) => CONNECT_FOUR.writeLegalMask(state, legal, 7 * i));
    const result = search.run([winNow, block], 2, { ...NO_NOISE, legalActions: legal });
    assert.deepEqual(Array.from(result.actions), [3, 3]);
  });
});

Deno.test("MuZero search speed with the true tic-tac-toe rules (reported, not asserted)", () => {
  const batch = 64;
  const numSimulations = 200;
  const search = new MuZeroSearch(new TrueRulesModel(TIC_TAC_TOE), {
    ...MUZERO_BOARD_GAME_SETTINGS,
    numSimulations,
    dirichletAlpha: 1,
  });
  const roots = new Array<TicTacToeState>(batch).fill(0);
  const rng = new Rng(0);
  search.run(roots, batch, { rng }); // warm-up
  const started = performance.now();
  const repeats = 5;
  for (let i = 0; i < repeats; i++) search.run(roots, batch, { rng });
  const seconds = (performance.now() - started) / 1000;
  const perSecond = (repeats * batch * numSimulations) / seconds;
  const last = search.run(roots, batch, { rng });
  for (let root = 0; root < batch; root++) {
    const visits = last.visitCounts.subarray(9 * root, 9 * root + 9).reduce((a, b) => a + b, 0);
    assert.equal(visits, numSimulations);
  }
  console.log(
    `MuZero search, tic-tac-toe true rules, ${batch} roots: ${Math.round(perSecond)} simulations/s`,
  );
  assert.ok(perSecond > 0);
});
