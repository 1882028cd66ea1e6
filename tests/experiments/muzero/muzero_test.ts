/**
 * The MuZero experiments at the quick budget: every stage and claim runs end to end, a rerun
 * reads finished stages back, stage files of another config are refused, workers give the same
 * numbers, bad configs name the field, and the claim rules decide from the numbers they are given.
 */
import assert from "node:assert/strict";
import { UserError } from "../../../lib/errors.ts";
import { Rng } from "../../../lib/rng.ts";
import { resolveConfig } from "../../../lib/experiments/runner.ts";
import { getExperiment } from "../../../lib/experiments/registry.ts";
import { muZeroTicTacToe } from "../../../lib/experiments/muzero/tictactoe.ts";
import {
  alphaBetaPlayer,
  bothSides,
  muZeroConnectFour,
} from "../../../lib/experiments/muzero/connect4.ts";
import { muZeroCartPole } from "../../../lib/experiments/muzero/cartpole.ts";
import { muZeroPlanning } from "../../../lib/experiments/muzero/planning.ts";
import {
  cartPoleClaims,
  connectFourClaims,
  planningClaims,
  ticTacToeClaims,
} from "../../../lib/experiments/muzero/claims.ts";
import type {
  CartPoleMetrics,
  ConnectFourMetrics,
  PlanningMetrics,
  TicTacToeMatches,
  TicTacToeMetrics,
} from "../../../lib/experiments/muzero/config.ts";
import { BoardGameEnvironment, type MatchRecord } from "../../../lib/agents/muzero_play.ts";
import { makeMuZeroNetwork } from "../../../lib/agents/muzero.ts";
import {
  CONNECT_FOUR,
  type ConnectFourState,
  formatBoard,
} from "../../../lib/envs/connect_four.ts";
import type { Experiment } from "../../../lib/experiments/types.ts";

// deno-lint-ignore no-explicit-any
const EXPERIMENTS: Experiment<any, any>[] = [
  muZeroTicTacToe,
  muZeroConnectFour,
  muZeroCartPole,
  muZeroPlanning,
];

Deno.test("MuZero experiments: registry and budgets", async (t) => {
  await t.step("all four are registered and every budget passes its schema", () => {
    for (const experiment of EXPERIMENTS) {
      assert.equal(getExperiment(experiment.name), experiment);
      assert.equal(experiment.notebook, "notebooks/05-muzero.ipynb");
      for (const budget of ["quick", "laptop", "paper"] as const) resolveConfig(experiment, budget);
      assert.ok(experiment.expectedSeconds.quick < 60);
      assert.ok(experiment.expectedSeconds.laptop <= 3600);
    }
  });

  await t.step("the issue's evaluation sizes hold at the laptop budget", () => {
    const tictactoe = muZeroTicTacToe.budgets.laptop;
    assert.ok(tictactoe.evaluation.gamesPerSide >= 100);
    assert.equal(muZeroCartPole.budgets.laptop.evaluation.episodes, 10);
    const sweep = muZeroConnectFour.budgets.laptop.evaluation.simulationSweep;
    assert.equal(sweep[0], 1);
    assert.equal(sweep.at(-1), 200);
    // The paper's unroll and search constants are kept at every budget.
    for (const experiment of EXPERIMENTS) {
      for (const budget of ["quick", "laptop", "paper"] as const) {
        const agent =
          (experiment.budgets[budget] as { agent: { training: { unrollSteps: number } } })
            .agent;
        assert.equal(agent.training.unrollSteps, 5);
      }
    }
  });

  await t.step("a bad value names the field", () => {
    assert.throws(
      () =>
        resolveConfig(muZeroTicTacToe, "quick", {
          overrides: { "agent.search.numSimulations": 0 },
        }),
      (error: unknown) =>
        error instanceof UserError && error.message.includes("agent.search.numSimulations"),
    );
    assert.throws(
      () =>
        resolveConfig(muZeroConnectFour, "quick", { overrides: { "evaluation.sweepDepth": 0 } }),
      (error: unknown) =>
        error instanceof UserError && /evaluation\.sweepDepth/.test(error.message),
    );
  });
});

Deno.test("Connect Four matches are many different games", async (t) => {
  // The agent searches at temperature 0 without noise and alpha-beta rarely has tied moves, so
  // from the empty board a match plays one game again and again: 0 or 100% of the games won.
  const config = resolveConfig(muZeroConnectFour, "quick");
  const network = makeMuZeroNetwork(config.agent, new BoardGameEnvironment(CONNECT_FOUR), 0);
  /** The positions alpha-beta faces at its first move of each game, and the match records. */
  const firstReplies = (openingPlies: number) => {
    const faced = new Set<string>();
    const inner = alphaBetaPlayer(1, 5);
    const opponent = {
      name: inner.name,
      chooseMove(state: ConnectFourState, rng: Rng) {
        if (CONNECT_FOUR.moveCount(state) <= openingPlies + 1) faced.add(formatBoard(state));
        return inner.chooseMove(state, rng);
      },
    };
    const evaluation = { ...config.evaluation, openingPlies };
    const records = bothSides(network, { ...config, evaluation }, 2, opponent, 20, 7);
    return { faced: faced.size, ...records };
  };

  await t.step("from the empty board every game is the same", () => {
    // The empty board as first player, the agent's one first move as second, in all 20 games.
    assert.equal(firstReplies(0).faced, 2);
  });

  await t.step("two random opening plies make them different games", () => {
    const { faced, first, second } = firstReplies(2);
    // 20 openings, each once a side: as second player after the agent's reply to each, as
    // first player in the opening itself.
    assert.ok(faced >= 30, `alpha-beta faced ${faced} different positions`);
    assert.equal(first.games + second.games, 40);
  });
  network.dispose();
});

Deno.test("MuZero experiments run end to end at the quick budget", async (t) => {
  const expectedClaims: Record<string, string[]> = {
    "muzero-tictactoe": ["learned-model-does-not-lose", "beats-random-play", "matches-the-rules"],
    "muzero-connect4": [
      "more-search-stronger-play",
      "longer-search-than-trained",
      "beats-alpha-beta",
    ],
    "muzero-cartpole": ["cartpole-solved", "beats-dqn-at-equal-steps"],
    "muzero-planning": ["policy-and-value-beat-long-plans"],
  };
  for (const experiment of EXPERIMENTS) {
    await t.step(experiment.name, async () => {
      const dataDir = await Deno.makeTempDir({ prefix: `${experiment.name}-` });
      const config = resolveConfig(experiment, "quick");
      const started = performance.now();
      const result = await experiment.run(config, { dataDir, budget: "quick" });
      assert.ok(performance.now() - started < 60_000, "the quick budget takes under a minute");
      assert.equal(result.experiment, experiment.name);
      assert.deepEqual(
        result.claims.map((c: { id: string }) => c.id),
        expectedClaims[experiment.name],
      );
      for (const claim of result.claims) {
        assert.equal(typeof claim.holds, "boolean");
        assert.ok(claim.quote.length > 20 && claim.paper.length > 0 && claim.ours.length > 0);
      }
      const figures = await experiment.drawFigures!(result, dataDir);
      assert.ok(figures.length >= 1);
      for (const path of figures) assert.match(await Deno.readTextFile(path), /<svg/);
      // A rerun reads every stage back.
      const rerun = performance.now();
      const again = await experiment.run(config, { dataDir, budget: "quick" });
      assert.ok(performance.now() - rerun < 1500, "stages were recomputed");
      assert.equal(JSON.stringify(again.metrics), JSON.stringify(result.metrics));
      await Deno.remove(dataDir, { recursive: true });
    });
  }

  await t.step("stages in two workers give the same numbers", async () => {
    const config = resolveConfig(muZeroTicTacToe, "quick", { numSeeds: 2 });
    const here = await Deno.makeTempDir({ prefix: "muzero-one-worker-" });
    const there = await Deno.makeTempDir({ prefix: "muzero-two-workers-" });
    const one = await muZeroTicTacToe.run(config, { dataDir: here, workers: 1 });
    const two = await muZeroTicTacToe.run(config, { dataDir: there, workers: 2 });
    // Timings aside, everything is the same; the raw network's error over 4,520 positions at
    // once may differ in the last bits with the BLAS threads a worker gets.
    const strip = (metrics: TicTacToeMetrics) =>
      JSON.stringify(metrics.seeds.map(({ trainingSeconds: _, network: __, ...rest }) => rest));
    assert.equal(strip(two.metrics), strip(one.metrics));
    two.metrics.seeds.forEach((seed, i) => {
      const other = one.metrics.seeds[i].network;
      assert.equal(seed.network.policyOptimal, other.policyOptimal);
      assert.ok(Math.abs(seed.network.valueRmse - other.valueRmse) < 1e-6);
    });
    assert.deepEqual(two.claims, one.claims);
    await Deno.remove(here, { recursive: true });
    await Deno.remove(there, { recursive: true });
  });

  await t.step("stage files of another config are refused, naming the file", async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "muzero-refuse-" });
    const config = resolveConfig(muZeroCartPole, "quick");
    await muZeroCartPole.run(config, { dataDir });
    const other = resolveConfig(muZeroCartPole, "quick", {
      overrides: { "evaluation.episodes": 3 },
    });
    await assert.rejects(
      muZeroCartPole.run(other, { dataDir }),
      (error: unknown) =>
        error instanceof UserError && error.message.includes("muzero-seed-0.json") &&
        error.message.includes("another config"),
    );
    await Deno.remove(dataDir, { recursive: true });
  });
});

function record(wins: number, draws: number, losses: number): MatchRecord {
  return { games: wins + draws + losses, wins, draws, losses };
}

function matches(
  notLostFirst: number,
  notLostSecond: number,
  randomWins: number,
): TicTacToeMatches {
  return {
    perfectFirst: record(0, notLostFirst, 100 - notLostFirst),
    perfectSecond: record(0, notLostSecond, 100 - notLostSecond),
    randomFirst: record(randomWins, 100 - randomWins, 0),
    randomSecond: record(50, 50, 0),
  };
}

Deno.test("MuZero claim rules", async (t) => {
  await t.step("tic-tac-toe: 95% not lost on each side, 90% won against random play", () => {
    const metrics = (first: number, second: number, random: number, rules: number) =>
      ({
        simulations: 50,
        seeds: [{
          seed: 0,
          muzero: matches(first, second, random),
          alphaZero: matches(rules, rules, 100),
        }],
        rulesOnly: matches(100, 100, 100),
      }) as unknown as TicTacToeMetrics;
    const holds = (m: TicTacToeMetrics) => ticTacToeClaims(m).map((c) => c.holds);
    assert.deepEqual(holds(metrics(100, 96, 95, 100)), [true, true, true]);
    assert.deepEqual(holds(metrics(100, 94, 95, 100)), [false, true, true]);
    assert.deepEqual(holds(metrics(97, 97, 89, 100)), [true, false, true]);
    // "Matches the rules": within 5 points of the true rules with the same network.
    assert.deepEqual(holds(metrics(90, 90, 95, 94)).at(-1), true);
    assert.deepEqual(holds(metrics(90, 90, 95, 96)).at(-1), false);
  });

  await t.step("Connect Four: the score grows by 10 points from 1 simulation to the most", () => {
    const sweep = (scores: number[]) =>
      [1, 50, 200].map((simulations, i) => ({
        simulations,
        first: record(scores[i], 0, 100 - scores[i]),
        second: record(scores[i], 0, 100 - scores[i]),
      }));
    const metrics = (scores: number[], depth1: number) =>
      ({
        trainingSimulations: 50,
        evaluationSimulations: 50,
        sweepDepth: 1,
        seeds: [{
          seed: 0,
          sweep: sweep(scores),
          alphaBeta: [
            {
              depth: 1,
              first: record(depth1, 0, 100 - depth1),
              second: record(depth1, 0, 100 - depth1),
            },
            { depth: 2, first: record(10, 0, 90), second: record(10, 0, 90) },
          ],
        }],
      }) as unknown as ConnectFourMetrics;
    assert.deepEqual(connectFourClaims(metrics([30, 45, 50], 60)).map((c) => c.holds), [
      true,
      true,
      true,
    ]);
    assert.deepEqual(connectFourClaims(metrics([30, 45, 35], 50)).map((c) => c.holds), [
      false,
      false,
      false,
    ]);
    // Losing every game at the training search and at the longest shows nothing about the
    // longer search: the claim does not hold vacuously.
    assert.equal(connectFourClaims(metrics([0, 0, 0], 0))[1].holds, false);
  });

  await t.step("CartPole: every evaluation episode at 500, and above DQN", () => {
    const metrics = (muzero: number[], dqn: number[]) =>
      ({
        evaluationEpisodes: muzero.length,
        seeds: [{
          seed: 0,
          muzero: { envSteps: 1000, evaluation: muzero },
          dqn: { evaluation: dqn },
        }],
      }) as unknown as CartPoleMetrics;
    assert.deepEqual(cartPoleClaims(metrics([500, 500], [200, 180])).map((c) => c.holds), [
      true,
      true,
    ]);
    assert.deepEqual(cartPoleClaims(metrics([500, 499], [500, 500])).map((c) => c.holds), [
      false,
      false,
    ]);
  });

  await t.step("the guess: MuZero within 5% of the best value-free plan at every budget", () => {
    const metrics = (muzero: number, shooting: number) =>
      ({
        episodeSteps: 500,
        model: { envSteps: 0, updates: 0, trainingSeconds: 0, finalSelfPlayReturn: 0 },
        cells: [
          { planner: "muzero", horizon: null, budget: 100, returns: [muzero] },
          { planner: "random-shooting", horizon: 10, budget: 100, returns: [shooting] },
          { planner: "cem", horizon: 10, budget: 100, returns: [shooting / 2] },
        ],
      }) as PlanningMetrics;
    assert.equal(planningClaims(metrics(480, 500))[0].holds, true);
    assert.equal(planningClaims(metrics(470, 500))[0].holds, false);
    assert.match(planningClaims(metrics(470, 500))[0].ours, /random-shooting, H = 10/);
  });
});
