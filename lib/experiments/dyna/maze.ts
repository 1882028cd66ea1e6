/**
 * Sutton & Barto (2018), chapter 8: Example 8.1 (Figure 8.2), Dyna-Q on the Dyna maze with
 * n = 0, 5 and 50 planning steps; and Example 8.2 (Figure 8.4), Dyna-Q against Dyna-Q+ on the
 * blocking maze, whose short path closes after 1000 steps.
 */
import { z } from "zod";
import { DynaQAgent } from "../../agents/dyna_q.ts";
import {
  BLOCKING_MAZE_AFTER,
  BLOCKING_MAZE_BEFORE,
  DYNA_MAZE,
  GridMaze,
} from "../../envs/grid_maze.ts";
import { throwIfInterrupted } from "../../errors.ts";
import { Rng } from "../../rng.ts";
import { lineChart } from "../../viz/charts.ts";
import * as Plot from "@observablehq/plot";
import { saveFigure } from "../../viz/plot.ts";
import { formatMeanStd, mean, meanCurve, range, std, stdCurve } from "../stats.ts";
import type { Claim, Experiment, ExperimentResult, RunOptions } from "../types.ts";

const blockingSchema = z.object({
  /** Real time steps of one run (the book: 3000). */
  totalSteps: z.number().int().min(100).max(1_000_000),
  /** Time step at which the short path closes (the book: 1000). */
  changeAt: z.number().int().min(1),
  planningSteps: z.number().int().min(0).max(1000),
  stepSize: z.number().gt(0).max(1),
  /** kappa of Dyna-Q+. */
  explorationBonus: z.number().gt(0).max(1),
});

export const dynaMazeConfig = z.object({
  /** One independent run per seed (the book averages 30). */
  seeds: z.array(z.number().int().nonnegative()).min(1),
  numEpisodes: z.number().int().min(3).max(100_000),
  /** The values of n compared in Figure 8.2. */
  planningSteps: z.array(z.number().int().min(0).max(10_000)).min(1),
  /** alpha */
  stepSize: z.number().gt(0).max(1),
  epsilon: z.number().min(0).max(1),
  /** gamma */
  discount: z.number().gt(0).max(1),
  /** The blocking-maze comparison of Example 8.2; null to skip it. */
  blocking: blockingSchema.nullable(),
}).refine((c) => !c.blocking || c.blocking.changeAt < c.blocking.totalSteps, {
  message: "blocking.changeAt must be smaller than blocking.totalSteps",
  path: ["blocking", "changeAt"],
});

export type DynaMazeConfig = z.infer<typeof dynaMazeConfig>;

const BOOK = {
  planningSteps: [0, 5, 50],
  stepSize: 0.1,
  epsilon: 0.1,
  discount: 0.95,
};

/** Example 8.2's timing; n, alpha and kappa are ours (the book gives none for Figure 8.4). */
const BLOCKING = {
  totalSteps: 3000,
  changeAt: 1000,
  planningSteps: 10,
  stepSize: 1,
  explorationBonus: 1e-3,
};

export const dynaMazeBudgets: Record<"quick" | "laptop" | "paper", DynaMazeConfig> = {
  quick: {
    ...BOOK,
    seeds: range(5),
    numEpisodes: 30,
    blocking: BLOCKING,
  },
  laptop: {
    ...BOOK,
    seeds: range(30),
    numEpisodes: 50,
    blocking: BLOCKING,
  },
  paper: {
    ...BOOK,
    seeds: range(30),
    numEpisodes: 50,
    blocking: BLOCKING,
  },
};

export interface DynaMazeMetrics {
  shortestPath: number;
  /** Per n: steps per episode, mean and std over runs, episode 1 first. */
  stepsPerEpisode: { planningSteps: number; mean: number[]; std: number[] }[];
  /** Per n: the first episode whose mean length is within the epsilon-optimal band. */
  episodesToOptimal: { planningSteps: number; episode: number | null }[];
  /** The epsilon-optimal band: mean length of the best agent's last episodes, times 1.1. */
  optimalBand: number;
  blocking: null | {
    changeAt: number;
    /** Cumulative reward every `every` steps, mean over runs. */
    every: number;
    dynaQ: number[];
    dynaQPlus: number[];
    finalDynaQ: number[];
    finalDynaQPlus: number[];
  };
}

/** Steps per episode of one Dyna-Q run on the Dyna maze. */
export function runDynaMaze(
  seed: number,
  planningSteps: number,
  config: Pick<DynaMazeConfig, "numEpisodes" | "stepSize" | "epsilon" | "discount">,
): number[] {
  const env = new GridMaze(DYNA_MAZE);
  // Acting and planning draw from separate streams, so with the same seed the first episode
  // is identical for every n, as in the book.
  const actingRng = new Rng(seed);
  const planningRng = new Rng(seed + 1_000_003);
  const agent = new DynaQAgent(
    {
      numStates: env.numStates,
      numActions: 4,
      planningSteps,
      stepSize: config.stepSize,
      epsilon: config.epsilon,
      discount: config.discount,
    },
    { acting: actingRng, planning: planningRng },
  );
  const lengths: number[] = [];
  for (let episode = 0; episode < config.numEpisodes; episode++) {
    env.reset();
    let steps = 0;
    let done = false;
    while (!done) {
      const state = env.state;
      const action = agent.act(state);
      const { reward, terminated } = env.step(action);
      agent.learn(state, action, reward, env.state, terminated);
      steps++;
      done = terminated;
    }
    lengths.push(steps);
  }
  return lengths;
}

/** Cumulative reward, sampled every `every` steps, of one run on the blocking maze. */
export function runBlockingMaze(
  seed: number,
  explorationBonus: number,
  config: NonNullable<DynaMazeConfig["blocking"]> & Pick<DynaMazeConfig, "epsilon" | "discount">,
  every: number,
): number[] {
  const env = new GridMaze(BLOCKING_MAZE_BEFORE);
  const agent = new DynaQAgent(
    {
      numStates: env.numStates,
      numActions: 4,
      planningSteps: config.planningSteps,
      stepSize: config.stepSize,
      epsilon: config.epsilon,
      discount: config.discount,
      explorationBonus,
    },
    { acting: new Rng(seed), planning: new Rng(seed + 1_000_003) },
  );
  const curve: number[] = [];
  let total = 0;
  env.reset();
  for (let t = 1; t <= config.totalSteps; t++) {
    if (t === config.changeAt + 1) env.changeLayout(BLOCKING_MAZE_AFTER);
    const state = env.state;
    const action = agent.act(state);
    const { reward, terminated } = env.step(action);
    agent.learn(state, action, reward, env.state, terminated);
    total += reward;
    if (terminated) env.reset();
    if (t % every === 0) curve.push(total);
  }
  return curve;
}

async function run(
  config: DynaMazeConfig,
  options: RunOptions = {},
): Promise<ExperimentResult<DynaMazeMetrics>> {
  const started = performance.now();
  const report = options.onProgress ?? (() => {});
  const totalRuns = config.seeds.length * config.planningSteps.length;
  let finished = 0;

  const stepsPerEpisode: DynaMazeMetrics["stepsPerEpisode"] = [];
  for (const n of config.planningSteps) {
    const runs: number[][] = [];
    for (const seed of config.seeds) {
      runs.push(runDynaMaze(seed, n, config));
      finished++;
      report({ stage: "dyna maze", done: finished, total: totalRuns, message: `n = ${n}` });
      // Let a notebook or terminal redraw between runs.
      if (finished % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
      throwIfInterrupted(options.signal);
    }
    stepsPerEpisode.push({ planningSteps: n, mean: meanCurve(runs), std: stdCurve(runs) });
  }

  const shortestPath = new GridMaze(DYNA_MAZE).shortestPathLength();
  // The epsilon-greedy optimum is longer than the shortest path: measure it as the mean length
  // over the last ten episodes of the most-planning agent, and allow 10 % above it.
  const best = stepsPerEpisode[stepsPerEpisode.length - 1];
  const optimalBand = 1.1 * mean(best.mean.slice(-10));
  const episodesToOptimal = stepsPerEpisode.map(({ planningSteps, mean: curve }) => {
    const index = curve.findIndex((steps, i) => i > 0 && steps <= optimalBand);
    return { planningSteps, episode: index < 0 ? null : index + 1 };
  });

  let blocking: DynaMazeMetrics["blocking"] = null;
  if (config.blocking) {
    const every = 10;
    const settings = { ...config.blocking, epsilon: config.epsilon, discount: config.discount };
    const plain: number[][] = [];
    const plus: number[][] = [];
    for (const seed of config.seeds) {
      plain.push(runBlockingMaze(seed, 0, settings, every));
      plus.push(runBlockingMaze(seed, config.blocking.explorationBonus, settings, every));
      report({
        stage: "blocking maze",
        done: plain.length,
        total: config.seeds.length,
        message: "Dyna-Q vs Dyna-Q+",
      });
    }
    blocking = {
      changeAt: config.blocking.changeAt,
      every,
      dynaQ: meanCurve(plain),
      dynaQPlus: meanCurve(plus),
      finalDynaQ: plain.map((c) => c[c.length - 1]),
      finalDynaQPlus: plus.map((c) => c[c.length - 1]),
    };
  }

  const metrics: DynaMazeMetrics = {
    shortestPath,
    stepsPerEpisode,
    episodesToOptimal,
    optimalBand,
    blocking,
  };
  return {
    experiment: "dyna-maze",
    paper: dynaMaze.paper,
    budget: options.budget ?? "custom",
    command: "",
    seeds: config.seeds,
    backend: "none (tabular)",
    wallSeconds: (performance.now() - started) / 1000,
    claims: dynaMazeClaims(metrics),
    metrics,
  };
}

const episodeOf = (metrics: DynaMazeMetrics, n: number) =>
  metrics.episodesToOptimal.find((e) => e.planningSteps === n)?.episode ?? null;

/** The claims of Examples 8.1 and 8.2, each with the rule that decides it. */
export function dynaMazeClaims(metrics: DynaMazeMetrics): Claim[] {
  const claims: Claim[] = [];
  const describe = (n: number) => {
    const episode = episodeOf(metrics, n);
    return episode === null ? `n = ${n}: not within the run` : `n = ${n}: episode ${episode}`;
  };
  const n0 = episodeOf(metrics, 0);
  const n5 = episodeOf(metrics, 5);
  const n50 = episodeOf(metrics, 50);
  if (n0 !== null || n5 !== null || n50 !== null) {
    claims.push({
      id: "planning-speeds-learning",
      quote: "The nonplanning agent took about 25 episodes to reach (ε-)optimal performance, " +
        "whereas the n = 5 agent took about five episodes, and the n = 50 agent took only three " +
        "episodes.",
      paper: "n = 0: about 25 episodes; n = 5: about 5; n = 50: 3",
      ours: [0, 5, 50].map(describe).join("; ") +
        ` (first episode with mean length ≤ ${metrics.optimalBand.toFixed(1)} steps)`,
      // The book's numbers are read off a figure: allow a band around each.
      holds: n0 !== null && n5 !== null && n50 !== null && n50 <= 4 && n5 >= 3 && n5 <= 8 &&
        n0 >= 15 && n0 <= 40 && n50 <= n5 && n5 < n0,
    });
  }
  const n50Curve = metrics.stepsPerEpisode.find((s) => s.planningSteps === 50);
  if (n50Curve && n50Curve.mean.length >= 3) {
    const third = n50Curve.mean[2];
    claims.push({
      id: "n50-near-shortest-path-by-episode-3",
      quote: "the n = 50 agent took only three episodes",
      paper: `near the ${metrics.shortestPath}-step shortest path by episode 3`,
      ours: `${third.toFixed(1)} steps in episode 3 (shortest path ${metrics.shortestPath})`,
      holds: third <= 1.5 * metrics.shortestPath,
    });
  }
  const first = metrics.stepsPerEpisode.map((s) => s.mean[0]);
  claims.push({
    id: "first-episode-identical-across-n",
    quote: "the first episode was exactly the same (about 1700 steps) for all values of n",
    paper: "the same first episode for every n, about 1700 steps",
    ours: `the same for every n: ${first[0].toFixed(0)} steps (a uniform random walk, ties ` +
      "broken at random)",
    // Length differs with the tie-breaking rule, which the book does not give; identity does not.
    holds: first.every((v) => v === first[0]),
  });
  if (metrics.blocking) {
    const { finalDynaQ, finalDynaQPlus } = metrics.blocking;
    claims.push({
      id: "dyna-q-plus-adapts-to-blocking",
      quote: "Example 8.2 (Blocking Maze): Dyna-Q+ finds the new path sooner than Dyna-Q once " +
        "the old one is blocked (Figure 8.4)",
      paper: "cumulative reward after 3000 steps: Dyna-Q+ above Dyna-Q",
      ours: `Dyna-Q ${formatMeanStd(finalDynaQ)}, Dyna-Q+ ${formatMeanStd(finalDynaQPlus)}`,
      holds: mean(finalDynaQPlus) - mean(finalDynaQ) >
        Math.max(std(finalDynaQ), std(finalDynaQPlus)) / Math.sqrt(finalDynaQ.length),
    });
  }
  return claims;
}

async function drawFigures(
  result: ExperimentResult<DynaMazeMetrics>,
  resDir: string,
): Promise<string[]> {
  const { stepsPerEpisode, shortestPath, blocking } = result.metrics;
  const written: string[] = [];
  // Figure 8.2 leaves out the first episode (a random walk of the same length for every n).
  const learningCurves = lineChart({
    title: "Dyna-Q on the Dyna maze (Sutton & Barto, Figure 8.2)",
    subtitle: `Mean over ${result.seeds.length} runs, ±1 std shaded; dashed: shortest path`,
    series: stepsPerEpisode.map(({ planningSteps, mean, std }) => ({
      name: planningSteps === 0
        ? "0 planning steps (direct RL only)"
        : `${planningSteps} planning steps`,
      x: mean.slice(1).map((_, i) => i + 2),
      y: mean.slice(1),
      yStd: std.slice(1),
    })),
    xLabel: "Episode",
    yLabel: "Steps per episode",
    yDomain: [0, 800],
    marks: [Plot.ruleY([shortestPath], { strokeDasharray: "4,4", stroke: "#888" })],
  });
  written.push(await saveFigure(learningCurves, `${resDir}/dyna-maze-steps-per-episode.svg`));
  if (blocking) {
    const x = blocking.dynaQ.map((_, i) => (i + 1) * blocking.every);
    const blockingCurves = lineChart({
      title: "Blocking maze (Sutton & Barto, Figure 8.4)",
      subtitle:
        `Mean over ${result.seeds.length} runs; the short path closes at step ${blocking.changeAt}`,
      series: [
        { name: "Dyna-Q", x, y: blocking.dynaQ },
        { name: "Dyna-Q+", x, y: blocking.dynaQPlus },
      ],
      xLabel: "Time steps",
      yLabel: "Cumulative reward",
      marks: [Plot.ruleX([blocking.changeAt], { strokeDasharray: "4,4", stroke: "#888" })],
    });
    written.push(await saveFigure(blockingCurves, `${resDir}/dyna-maze-blocking.svg`));
  }
  return written;
}

export const dynaMaze: Experiment<DynaMazeConfig, DynaMazeMetrics> = {
  name: "dyna-maze",
  paper: "Sutton & Barto (2018), Example 8.1, Figure 8.2; Example 8.2, Figure 8.4",
  summary: "Tabular Dyna-Q with n = 0, 5, 50 planning steps on the Dyna maze; Dyna-Q+ on the " +
    "blocking maze",
  notebook: "notebooks/01-dyna.ipynb",
  taxonomy: {
    model: "learned",
    modelPredicts: "the last seen next state and reward of each state-action pair",
    representation: "tabular",
    planningStart: "previously visited states",
    planningBudget: "n = 0, 5 or 50 simulated one-step updates per real step",
    search: "one-step samples (Q-planning)",
    serves: "learning",
  },
  configSchema: dynaMazeConfig,
  budgets: dynaMazeBudgets,
  expectedSeconds: { quick: 2, laptop: 10, paper: 10 },
  run,
  drawFigures,
};
