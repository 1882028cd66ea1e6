/**
 * The EfficientZero experiment's figures (Ye et al. 2021, after Table 3 and the learning curves
 * of its appendix), drawn from a result's metrics: each game's learning curves of every agent,
 * the final greedy scores side by side, and each ablation's score relative to the full agent
 * beside the paper's Table 3 ratio.
 */
import * as Plot from "@observablehq/plot";
import { barChart, lineChart, type LineSeries } from "../../viz/charts.ts";
import { saveFigure } from "../../viz/plot.ts";
import { formatMeanStd, mean, std } from "../stats.ts";
import type { ExperimentResult } from "../types.ts";
import {
  type AgentScores,
  EFFICIENT_ZERO_PUBLISHED,
  type EfficientZeroMinatarMetrics,
  VARIANT_LABELS,
} from "./config.ts";

const gameName = (game: string) => game.replace("MinAtar/", "").replace("-v0", "");

/** Every agent's scores on a game, labelled, in the order of the legend. */
function agentsOf(game: EfficientZeroMinatarMetrics["games"][number]) {
  const agents: { label: string; scores: AgentScores }[] = [];
  for (const [variant, scores] of Object.entries(game.variants)) {
    if (scores) {
      agents.push({ label: VARIANT_LABELS[variant as keyof typeof VARIANT_LABELS], scores });
    }
  }
  agents.push({ label: "DQN", scores: game.dqn });
  if (game.dreamer) agents.push({ label: "DreamerV2", scores: game.dreamer });
  return agents;
}

export async function drawEfficientZeroFigures(
  result: ExperimentResult<EfficientZeroMinatarMetrics>,
  resDir: string,
): Promise<string[]> {
  const m = result.metrics;
  const name = result.experiment;
  const written: string[] = [];
  for (const game of m.games) {
    const series: LineSeries[] = agentsOf(game).map(({ label, scores }) => ({
      name: label,
      x: scores.curve.envSteps,
      y: scores.curve.mean,
      yStd: m.seeds.length > 1 ? scores.curve.std : undefined,
    }));
    written.push(
      await saveFigure(
        lineChart({
          title: `MinAtar ${gameName(game.game)} with limited data`,
          subtitle: `Training-episode return, binned over environment steps; mean ± std over ` +
            `${m.seeds.length} seed(s)`,
          caption: `Grey dashed: a uniformly random policy (${game.randomReturn.toFixed(2)})`,
          series,
          xLabel: "Environment steps",
          yLabel: "Episode return",
          marks: [Plot.ruleY([game.randomReturn], { stroke: "#888", strokeDasharray: "4,4" })],
        }),
        `${resDir}/${name}-learning-${gameName(game.game).toLowerCase()}.svg`,
      ),
    );
  }
  written.push(
    await saveFigure(
      barChart({
        title: `Greedy return after ${m.environmentSteps.toLocaleString("en-US")} steps`,
        subtitle: `Mean ± std over ${m.seeds.length} seed(s) of each run's greedy episodes`,
        bars: m.games.flatMap((game) => [
          ...agentsOf(game).map(({ label, scores }) => ({
            group: gameName(game.game),
            label,
            value: mean(scores.final),
            std: std(scores.final),
          })),
          { group: gameName(game.game), label: "random policy", value: game.randomReturn },
        ]),
        yLabel: "Return",
      }),
      `${resDir}/${name}-final.svg`,
    ),
  );
  // Each ablation's score over the full agent's, both above random play, beside Table 3's ratio
  // of normalised means.
  const ablations = ["no-consistency", "no-value-prefix", "no-off-policy-correction"] as const;
  const bars = ablations.flatMap((variant) => {
    const paper = EFFICIENT_ZERO_PUBLISHED.ablation;
    const group = VARIANT_LABELS[variant].replace("EfficientZero ", "");
    const ours = m.games.flatMap((game) => {
      const full = game.variants.efficientzero;
      const without = game.variants[variant];
      if (!full || !without) return [];
      const above = mean(full.final) - game.randomReturn;
      return [{
        group,
        label: gameName(game.game),
        value: above > 0 ? (mean(without.final) - game.randomReturn) / above : Number.NaN,
      }];
    });
    return [
      {
        group,
        label: "paper (Atari 100k, Table 3)",
        value: paper[variant].mean / paper.efficientzero.mean,
      },
      ...ours.filter((bar) => Number.isFinite(bar.value)),
    ];
  });
  written.push(
    await saveFigure(
      barChart({
        title: "What each addition is worth: the ablation against the full agent",
        subtitle: "Score without the addition over EfficientZero's score, both measured above a " +
          "random policy (ours) or human-normalised (the paper)",
        caption: "Grey dashed: 1, no difference. Below 1 the addition helped. A game where " +
          "EfficientZero was not above random play is left out",
        bars,
        yLabel: "Ratio to EfficientZero",
        marks: [Plot.ruleY([1], { stroke: "#888", strokeDasharray: "4,4" })],
      }),
      `${resDir}/${name}-ablation.svg`,
    ),
  );
  return written;
}

/** Every agent's final greedy return per game (mean ± std over seeds), and each variant's cost. */
export function finalScoresMarkdown(m: EfficientZeroMinatarMetrics): string {
  const agents = agentsOf(m.games[0]).map((a) => a.label);
  const rows = [
    `| agent | ${m.games.map((g) => gameName(g.game)).join(" | ")} | ms per step |`,
    `| --- | ${m.games.map(() => "---:").join(" | ")} | ---: |`,
  ];
  const costs = Object.entries(m.secondsPerStep).map(([variant, seconds]) => ({
    label: VARIANT_LABELS[variant as keyof typeof VARIANT_LABELS],
    ms: 1000 * (seconds ?? Number.NaN),
  }));
  for (const label of agents) {
    const cells = m.games.map((game) => {
      const scores = agentsOf(game).find((a) => a.label === label)?.scores;
      return scores ? formatMeanStd(scores.final) : "n/a";
    });
    const cost = costs.find((c) => c.label === label);
    rows.push(`| ${label} | ${cells.join(" | ")} | ${cost ? cost.ms.toFixed(1) : "-"} |`);
  }
  rows.push(
    `| random policy | ${m.games.map((g) => g.randomReturn.toFixed(2)).join(" | ")} | - |`,
  );
  return rows.join("\n");
}

/**
 * What each addition did in this run, in words decided by the numbers: on which games removing
 * it lowered the mean greedy return and on which it did not.
 */
export function ablationReadingMarkdown(m: EfficientZeroMinatarMetrics): string {
  const ablations = [
    ["no-consistency", "the consistency loss"],
    ["no-value-prefix", "the value prefix"],
    ["no-off-policy-correction", "the off-policy correction"],
  ] as const;
  const lines = ablations.map(([variant, what]) => {
    const helped: string[] = [];
    const notHelped: string[] = [];
    for (const game of m.games) {
      const full = game.variants.efficientzero;
      const without = game.variants[variant];
      if (!full || !without) continue;
      (mean(full.final) > mean(without.final) ? helped : notHelped).push(gameName(game.game));
    }
    if (helped.length + notHelped.length === 0) return `- *${what}*: not run.`;
    const did = helped.length ? `helped on ${helped.join(", ")}` : "helped on no game";
    const didNot = notHelped.length
      ? `; it did not help on ${notHelped.join(", ")}, where the agent without it scored as ` +
        "well or better (see that game's curves above)"
      : "";
    return `- *${what}*: ${did}${didNot}.`;
  });
  return [
    `At ${m.environmentSteps.toLocaleString("en-US")} steps and ${m.seeds.length} seed(s), ` +
    "comparing mean greedy returns:",
    ...lines,
  ].join("\n");
}
