/**
 * The EfficientZero experiment's figures (Ye et al. 2021, after Table 3 and the learning curves
 * of its appendix), drawn from a result's metrics: each game's learning curves of every agent,
 * the final greedy scores side by side, and each ablation's score relative to the full agent
 * beside the paper's Table 3 ratio.
 */
import * as Plot from "@observablehq/plot";
import { barChart, lineChart, type LineSeries } from "../../viz/charts.ts";
import { saveFigure } from "../../viz/plot.ts";
import { mean, std } from "../stats.ts";
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
        bars: m.games.flatMap((game) =>
          agentsOf(game).map(({ label, scores }) => ({
            group: gameName(game.game),
            label,
            value: mean(scores.final),
            std: std(scores.final),
          }))
        ),
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
