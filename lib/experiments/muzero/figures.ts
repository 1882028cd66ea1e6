/**
 * The MuZero experiments' figures (Schrittwieser et al. 2020, after Figures 2 and 3), drawn from a
 * result's metrics: learning curves, the final agent against each opponent beside the true-rules
 * lines, playing strength against simulations per move, CartPole against DQN, and the notes'
 * guess as return against planning budget.
 */
import * as Plot from "@observablehq/plot";
import { barChart, lineChart } from "../../viz/charts.ts";
import { saveFigure } from "../../viz/plot.ts";
import { mean, meanCurve, std, stdCurve } from "../stats.ts";
import type { ExperimentResult } from "../types.ts";
import type {
  CartPoleMetrics,
  ConnectFourMetrics,
  PlanningMetrics,
  TicTacToeMatches,
  TicTacToeMetrics,
} from "./config.ts";
import { notLost, score, won } from "./stages.ts";

const percentOf = (values: number[]) => values.map((v) => 100 * v);

export async function drawTicTacToeFigures(
  result: ExperimentResult<TicTacToeMetrics>,
  resDir: string,
): Promise<string[]> {
  const m = result.metrics;
  const name = result.experiment;
  const written: string[] = [];
  const curves = m.seeds.map((s) => s.curve);
  const games = curves[0]?.map((p) => p.games) ?? [];
  const series = (pick: (p: (typeof curves)[0][0]) => number, label: string) => {
    const values = curves.map((c) => percentOf(c.map(pick)));
    return { name: label, x: games, y: meanCurve(values), yStd: stdCurve(values) };
  };
  written.push(
    await saveFigure(
      lineChart({
        title: "MuZero learning tic-tac-toe without the rules",
        subtitle: `Mean ± std over ${m.seeds.length} seed(s), ${m.simulations} simulations per ` +
          "move, search on the learned model",
        caption: "Grey dashed: the 95% and 90% bars",
        series: [
          series((p) => p.firstNotLost, "not lost vs perfect, first player"),
          series((p) => p.secondNotLost, "not lost vs perfect, second player"),
          series((p) => p.randomWins, "won vs random, first player"),
        ],
        xLabel: "Self-play games",
        yLabel: "% of games",
        yDomain: [0, 100],
        marks: [Plot.ruleY([95, 90], { stroke: "#888", strokeDasharray: "4,4" })],
      }),
      `${resDir}/${name}-learning.svg`,
    ),
  );
  const bars = (label: string, matches: TicTacToeMatches[]) => [
    {
      group: "vs perfect, first",
      label,
      value: 100 * mean(matches.map((x) => notLost(x.perfectFirst))),
      std: 100 * std(matches.map((x) => notLost(x.perfectFirst))),
    },
    {
      group: "vs perfect, second",
      label,
      value: 100 * mean(matches.map((x) => notLost(x.perfectSecond))),
      std: 100 * std(matches.map((x) => notLost(x.perfectSecond))),
    },
    {
      group: "vs random, first (won)",
      label,
      value: 100 * mean(matches.map((x) => won(x.randomFirst))),
      std: 100 * std(matches.map((x) => won(x.randomFirst))),
    },
  ];
  written.push(
    await saveFigure(
      barChart({
        title: "Learned model against the true rules",
        subtitle: `% of games not lost (won, against random play); ${m.simulations} simulations`,
        bars: [
          ...bars("MuZero (learned model)", m.seeds.map((s) => s.muzero)),
          ...bars("true rules + MuZero's network (AlphaZero)", m.seeds.map((s) => s.alphaZero)),
          ...bars("true rules alone (random playouts)", [m.rulesOnly]),
        ],
        yLabel: "% of games",
      }),
      `${resDir}/${name}-matches.svg`,
    ),
  );
  return written;
}

export async function drawConnectFourFigures(
  result: ExperimentResult<ConnectFourMetrics>,
  resDir: string,
): Promise<string[]> {
  const m = result.metrics;
  const name = result.experiment;
  const counts = m.seeds[0]?.sweep.map((p) => p.simulations) ?? [];
  const perSeed = m.seeds.map((s) => s.sweep.map((p) => 100 * score(sum(p.first, p.second))));
  const written = [
    await saveFigure(
      lineChart({
        title: "More search, stronger play (after the paper's Figure 3)",
        subtitle: `Score against alpha-beta depth ${m.sweepDepth}, one network trained at ` +
          `${m.trainingSimulations} simulations; mean ± std over ${m.seeds.length} seed(s)`,
        caption: "Grey dashed: the training search; the score counts a draw as half a win",
        series: [{ name: "MuZero", x: counts, y: meanCurve(perSeed), yStd: stdCurve(perSeed) }],
        xLabel: "Simulations per move",
        yLabel: "Score %",
        xType: "log",
        yDomain: [0, 100],
        marks: [
          Plot.ruleX([m.trainingSimulations], { stroke: "#888", strokeDasharray: "4,4" }),
        ],
      }),
      `${resDir}/${name}-search-scaling.svg`,
    ),
  ];
  const depths = m.seeds[0]?.alphaBeta.map((r) => r.depth) ?? [];
  written.push(
    await saveFigure(
      barChart({
        title: "MuZero against alpha-beta of increasing depth",
        subtitle: `Score % over both sides, ${m.evaluationSimulations} simulations per move`,
        bars: depths.map((depth) => {
          const scores = m.seeds.map((s) => {
            const row = s.alphaBeta.find((r) => r.depth === depth)!;
            return 100 * score(sum(row.first, row.second));
          });
          return { label: `depth ${depth}`, value: mean(scores), std: std(scores) };
        }),
        yLabel: "Score %",
        marks: [Plot.ruleY([50], { stroke: "#888", strokeDasharray: "4,4" })],
      }),
      `${resDir}/${name}-alpha-beta.svg`,
    ),
  );
  return written;
}

function sum(
  a: { games: number; wins: number; draws: number; losses: number },
  b: { games: number; wins: number; draws: number; losses: number },
) {
  return {
    games: a.games + b.games,
    wins: a.wins + b.wins,
    draws: a.draws + b.draws,
    losses: a.losses + b.losses,
  };
}

export async function drawCartPoleFigures(
  result: ExperimentResult<CartPoleMetrics>,
  resDir: string,
): Promise<string[]> {
  const m = result.metrics;
  const name = result.experiment;
  const series = m.seeds.flatMap((s) => [
    {
      name: `MuZero self-play, seed ${s.seed}`,
      x: s.muzero.selfPlay.envSteps,
      y: s.muzero.selfPlay.returns,
    },
    {
      name: `DQN training episodes, seed ${s.seed}`,
      x: s.dqn.episodes.envSteps,
      y: s.dqn.episodes.returns,
    },
  ]);
  return [
    await saveFigure(
      lineChart({
        title: "CartPole-v1: MuZero against DQN at equal environment steps",
        subtitle: "Episode returns while learning (with exploration)",
        caption: "Grey dashed: the largest return, 500",
        series,
        xLabel: "Environment steps",
        yLabel: "Episode return",
        yDomain: [0, 520],
        marks: [Plot.ruleY([500], { stroke: "#888", strokeDasharray: "4,4" })],
      }),
      `${resDir}/${name}-learning.svg`,
    ),
    await saveFigure(
      barChart({
        title: "Greedy evaluation after training",
        subtitle: `Mean return over ${m.evaluationEpisodes} episodes, mean ± std over seeds`,
        bars: [
          {
            label: "MuZero",
            value: mean(m.seeds.map((s) => mean(s.muzero.evaluation))),
            std: std(m.seeds.map((s) => mean(s.muzero.evaluation))),
          },
          {
            label: "DQN (same environment steps)",
            value: mean(m.seeds.map((s) => mean(s.dqn.evaluation))),
            std: std(m.seeds.map((s) => mean(s.dqn.evaluation))),
          },
        ],
        yLabel: "Return",
      }),
      `${resDir}/${name}-evaluation.svg`,
    ),
  ];
}

export async function drawPlanningFigures(
  result: ExperimentResult<PlanningMetrics>,
  resDir: string,
): Promise<string[]> {
  const m = result.metrics;
  const name = result.experiment;
  const budgets = [...new Set(m.cells.map((c) => c.budget))].sort((a, b) => a - b);
  const horizons = [...new Set(m.cells.flatMap((c) => (c.horizon === null ? [] : [c.horizon])))]
    .sort((a, b) => a - b);
  const series = [
    {
      name: "MuZero search (policy and value)",
      x: budgets,
      y: budgets.map((b) =>
        mean(m.cells.find((c) => c.planner === "muzero" && c.budget === b)!.returns)
      ),
    },
    ...(["random-shooting", "cem"] as const).flatMap((planner) =>
      horizons.map((horizon) => ({
        name: `${planner === "cem" ? "CEM" : "random shooting"}, H = ${horizon}`,
        x: budgets,
        y: budgets.map((b) => {
          const cell = m.cells.find((c) =>
            c.planner === planner && c.horizon === horizon && c.budget === b
          );
          return cell ? mean(cell.returns) : Number.NaN;
        }),
      }))
    ),
  ].filter((s) => s.y.some((y) => Number.isFinite(y)));
  // Dots as well as lines: a planner that fits only one budget (CEM at a long horizon) is a
  // single point, which a line alone would not draw.
  const dots = series.flatMap((s) =>
    Array.from(s.x, (x, i) => ({ series: s.name, x, y: s.y[i] })).filter((p) =>
      Number.isFinite(p.y)
    )
  );
  return [
    await saveFigure(
      lineChart({
        title: "The notes' guess: a policy and a value against value-free plans",
        subtitle: `CartPole-v1, one learned MuZero model; mean return of ${
          m.cells[0]?.returns.length ?? 0
        } episodes from the same start states`,
        series,
        xLabel: "Model evaluations per action",
        yLabel: "Return",
        xType: "log",
        yDomain: [0, m.episodeSteps * 1.05],
        marks: [Plot.dot(dots, { x: "x", y: "y", fill: "series", r: 3 })],
      }),
      `${resDir}/${name}-budgets.svg`,
    ),
  ];
}

/** Each agent's games against each opponent, one row a seed, as Markdown. */
export function ticTacToeTableMarkdown(metrics: TicTacToeMetrics): string {
  const rows = [
    "| agent | seed | not lost vs perfect, first | not lost vs perfect, second | won vs random, first | won vs random, second |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  const cells = (m: TicTacToeMatches) =>
    [notLost(m.perfectFirst), notLost(m.perfectSecond), won(m.randomFirst), won(m.randomSecond)]
      .map((v) => `${(100 * v).toFixed(0)}%`).join(" | ");
  for (const seed of metrics.seeds) {
    rows.push(`| MuZero (learned model) | ${seed.seed} | ${cells(seed.muzero)} |`);
  }
  for (const seed of metrics.seeds) {
    rows.push(
      `| true rules + MuZero's network (AlphaZero) | ${seed.seed} | ${cells(seed.alphaZero)} |`,
    );
  }
  rows.push(`| true rules alone (random playouts) | - | ${cells(metrics.rulesOnly)} |`);
  return rows.join("\n");
}

/** The search-scaling curve per seed, as Markdown. */
export function connectFourSweepMarkdown(metrics: ConnectFourMetrics): string {
  const counts = metrics.seeds[0]?.sweep.map((p) => p.simulations) ?? [];
  const rows = [
    `| seed | ${counts.map((n) => `${n} sim.`).join(" | ")} |`,
    `| --- | ${counts.map(() => "---").join(" | ")} |`,
  ];
  for (const seed of metrics.seeds) {
    rows.push(
      `| ${seed.seed} | ${
        seed.sweep.map((p) => `${(100 * score(sum(p.first, p.second))).toFixed(0)}%`).join(" | ")
      } |`,
    );
  }
  return rows.join("\n");
}

/** Mean return of every planner at every horizon and budget, as Markdown. */
export function planningTableMarkdown(metrics: PlanningMetrics): string {
  const budgets = [...new Set(metrics.cells.map((c) => c.budget))].sort((a, b) => a - b);
  const rows = [
    `| planner | horizon | ${budgets.map((b) => `${b} evaluations`).join(" | ")} |`,
    `| --- | --- | ${budgets.map(() => "---").join(" | ")} |`,
  ];
  const keys = [...new Set(metrics.cells.map((c) => `${c.planner}|${c.horizon}`))];
  for (const key of keys) {
    const [planner, horizon] = key.split("|");
    const values = budgets.map((budget) => {
      const cell = metrics.cells.find((c) =>
        c.planner === planner && String(c.horizon) === horizon && c.budget === budget
      );
      return cell ? `${mean(cell.returns).toFixed(0)} ± ${std(cell.returns).toFixed(0)}` : "-";
    });
    const name = planner === "muzero"
      ? "MuZero search (policy, value)"
      : planner === "cem"
      ? "CEM (no value)"
      : "random shooting (no value)";
    rows.push(`| ${name} | ${horizon === "null" ? "-" : horizon} | ${values.join(" | ")} |`);
  }
  return rows.join("\n");
}
