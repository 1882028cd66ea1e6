/**
 * The Dreamer experiments' figures and tables (Hafner et al. 2020, Figure 6 and the appendix's
 * learning curves; Hafner et al. 2021, Table 2), drawn from a result's metrics: learning curves
 * against PlaNet and SAC, the virtuous cycle, imagined against real data, the cost of a decision;
 * and on MinAtar, DreamerV2 against DQN and the ablations.
 */
import * as Plot from "@observablehq/plot";
import { barChart, lineChart } from "../../viz/charts.ts";
import { saveFigure } from "../../viz/plot.ts";
import { formatMeanStd, mean, std } from "../stats.ts";
import type { ExperimentResult } from "../types.ts";
import type { DreamerMinatarMetrics, DreamerSwingupMetrics } from "./config.ts";
import { NOTES_IMAGINATION_RATIO } from "./claims.ts";

/** A series without its missing (non-finite) points. */
function finitePoints(series: { name: string; x: number[]; y: number[] }) {
  const keep = series.y.map((y) => Number.isFinite(y));
  return {
    name: series.name,
    x: series.x.filter((_, i) => keep[i]),
    y: series.y.filter((_, i) => keep[i]),
  };
}

const gameName = (game: string) => game.replace("MinAtar/", "").replace("-v0", "");

export async function drawSwingupFigures(
  result: ExperimentResult<DreamerSwingupMetrics>,
  resDir: string,
): Promise<string[]> {
  const m = result.metrics;
  const name = result.experiment;
  const written: string[] = [];
  const curves = lineChart({
    title: "Dreamer against PlaNet and SAC on the cart-pole swing-up",
    subtitle: `Return per training episode, mean ± std over ${result.seeds.length} seed(s)`,
    // Each published line in its agent's colour: PlaNet orange, Dreamer blue.
    caption: `Grey dashed: threshold ${m.returnThreshold}; orange dotted: PlaNet's published ` +
      `${m.published.planet} after 1M steps; blue dotted: Dreamer's ${m.published.dreamerAt500k}` +
      " after 500k steps (from pixels, as tabulated by Laskin et al. 2020)",
    series: [
      { name: "Dreamer", x: m.dreamer.envSteps, y: m.dreamer.mean, yStd: m.dreamer.std },
      { name: "PlaNet", x: m.planet.envSteps, y: m.planet.mean, yStd: m.planet.std },
      { name: "SAC (model-free)", x: m.sac.envSteps, y: m.sac.mean, yStd: m.sac.std },
    ],
    xLabel: "Environment steps",
    yLabel: "Episode return",
    marks: [
      Plot.ruleY([m.returnThreshold], { stroke: "#888", strokeDasharray: "4,4" }),
      Plot.ruleY([m.published.planet], { stroke: "#efb118", strokeDasharray: "2,3" }),
      Plot.ruleY([m.published.dreamerAt500k], { stroke: "#4269d0", strokeDasharray: "2,3" }),
    ],
  });
  written.push(await saveFigure(curves, `${resDir}/${name}-learning-curves.svg`));

  if (m.cycle && m.cycle.episodes.length > 1) {
    const c = m.cycle;
    const cycle = lineChart({
      title: "The virtuous cycle: the world model on data it has not trained on",
      subtitle: `Open-loop observation error ${c.horizon} steps ahead after ${c.context} ` +
        "filtered steps, per episode of the actor (mean over seeds)",
      caption: "New episode: measured before it enters the replay; replayed data: windows the " +
        "model has trained on; after one round: the same new episode, measured at the end of " +
        "the next episode",
      series: [
        { name: "new episode, before training on it", x: c.episodes, y: c.fresh },
        { name: "replayed data", x: c.episodes, y: c.replay },
        { name: "the previous new episode, after one round", x: c.episodes, y: c.afterTraining },
      ].map(finitePoints).filter((series) => series.x.length > 1),
      xLabel: "Episode",
      yLabel: "Mean squared error per observation number",
      yType: "log",
    });
    written.push(await saveFigure(cycle, `${resDir}/${name}-virtuous-cycle.svg`));
  }

  const im = m.imagination;
  const imagination = lineChart({
    title: "Imagined transitions per real environment step",
    subtitle: "What the actor and critic learned from, against what the agent did in the world",
    caption: `Red dashed: the notes' ${NOTES_IMAGINATION_RATIO.toLocaleString("en-US")}; ` +
      `green dotted: the paper's settings, ${
        Math.round(im.paperPerEnvStep).toLocaleString("en-US")
      }`,
    series: [{ name: "Dreamer (ours)", x: im.envSteps, y: im.perEnvStep }],
    xLabel: "Environment steps",
    yLabel: "Imagined transitions per environment step",
    marks: [
      Plot.ruleY([NOTES_IMAGINATION_RATIO], { stroke: "#ff725c", strokeDasharray: "4,4" }),
      Plot.ruleY([im.paperPerEnvStep], { stroke: "#3ca951", strokeDasharray: "2,3" }),
    ],
  });
  written.push(await saveFigure(imagination, `${resDir}/${name}-imagination.svg`));

  const t = m.timing;
  const timing = barChart({
    title: "Cost of choosing one action",
    subtitle: `Filtering the observation, then the actor (Dreamer) or CEM with ` +
      `${t.planner.candidates} candidates x ${t.planner.iterations} iterations (PlaNet)`,
    bars: [
      { label: "filtering alone", value: t.filterMs },
      { label: "Dreamer: filtering + actor", value: t.actorMs },
      { label: "PlaNet: filtering + CEM", value: t.cemMs },
    ],
    yLabel: "Milliseconds",
  });
  written.push(await saveFigure(timing, `${resDir}/${name}-decision-cost.svg`));
  return written;
}

/** The swing-up's numbers beside the papers', as Markdown. */
export function swingupTableMarkdown(result: ExperimentResult<DreamerSwingupMetrics>): string {
  const m = result.metrics;
  const pub = m.published;
  const steps = (m.dreamer.envSteps.at(-1) ?? 0).toLocaleString("en-US");
  const fmt = (n: number) => n.toLocaleString("en-US");
  return [
    "| agent | experience | return | source |",
    "| --- | --- | --- | --- |",
    `| Dreamer (pixels) | 100k / 500k steps | ${pub.dreamerAt100k} / ${pub.dreamerAt500k} | ` +
    "Laskin et al. 2020, Table 1 |",
    `| PlaNet (pixels) | ${fmt(pub.planetSteps)} steps | ${pub.planet} | PlaNet, Table 1 |`,
    `| D4PG (pixels) / A3C (states) | ${fmt(pub.modelFreeSteps)} steps | ${pub.d4pg} / ` +
    `${pub.a3c} | PlaNet, Table 1 |`,
    `| Dreamer (states, ours) | ${steps} steps | test ${formatMeanStd(m.test.dreamer)}; last ` +
    `training episode ${formatMeanStd(m.dreamer.perSeed.map((c) => c.at(-1)!))} | ` +
    `${result.budget} budget |`,
    `| PlaNet (states, ours, same RSSM) | ${steps} steps | test ${formatMeanStd(m.test.planet)}; ` +
    `last training episode ${formatMeanStd(m.planet.perSeed.map((c) => c.at(-1)!))} | ` +
    `${result.budget} budget |`,
    `| SAC (states, ours) | ${fmt(m.sacLongRun.envSteps)} steps | last training episode ` +
    `${formatMeanStd(m.sacLongRun.returns)} | ${result.budget} budget |`,
  ].join("\n");
}

export async function drawMinatarFigures(
  result: ExperimentResult<DreamerMinatarMetrics>,
  resDir: string,
): Promise<string[]> {
  const m = result.metrics;
  const name = result.experiment;
  const written: string[] = [];
  for (const game of m.games) {
    const chart = lineChart({
      title: `DreamerV2 against DQN on MinAtar ${gameName(game.game)}`,
      subtitle: `Training-episode return, binned by environment steps; mean ± std over ` +
        `${result.seeds.length} seed(s)`,
      caption: `Grey dashed: a uniformly random policy (${game.randomReturn})`,
      series: [
        {
          name: "DreamerV2",
          x: game.dreamer.envSteps,
          y: game.dreamer.mean,
          yStd: game.dreamer.std,
        },
        { name: "DQN", x: game.dqn.envSteps, y: game.dqn.mean, yStd: game.dqn.std },
      ],
      xLabel: "Environment steps",
      yLabel: "Episode return",
      marks: [Plot.ruleY([game.randomReturn], { stroke: "#888", strokeDasharray: "4,4" })],
    });
    const short = gameName(game.game).toLowerCase();
    written.push(await saveFigure(chart, `${resDir}/${name}-${short}-learning-curves.svg`));
  }
  const finals = barChart({
    title: "Greedy return after training, at equal environment steps",
    subtitle: `${m.environmentSteps.toLocaleString("en-US")} steps per run; mean ± std over seeds`,
    bars: m.games.flatMap((game) => [
      {
        group: gameName(game.game),
        label: "DreamerV2",
        value: mean(game.dreamer.final),
        std: std(game.dreamer.final),
      },
      {
        group: gameName(game.game),
        label: "DQN",
        value: mean(game.dqn.final),
        std: std(game.dqn.final),
      },
      { group: gameName(game.game), label: "random policy", value: game.randomReturn },
    ]),
    yLabel: "Return",
  });
  written.push(await saveFigure(finals, `${resDir}/${name}-final-returns.svg`));
  if (m.ablations.length > 0) {
    const ablations = barChart({
      title: "Ablations: categorical against Gaussian latents, KL balancing on and off",
      subtitle: "Greedy return after training; mean ± std over seeds",
      bars: m.ablations.flatMap((a) => [
        {
          group: gameName(a.game),
          label: "DreamerV2 (categorical, balanced)",
          value: mean(a.categorical),
          std: std(a.categorical),
        },
        {
          group: gameName(a.game),
          label: "Gaussian latents",
          value: mean(a.gaussian),
          std: std(a.gaussian),
        },
        {
          group: gameName(a.game),
          label: "no KL balancing",
          value: mean(a.noKlBalancing),
          std: std(a.noKlBalancing),
        },
      ]),
      yLabel: "Return",
    });
    written.push(await saveFigure(ablations, `${resDir}/${name}-ablations.svg`));
  }
  return written;
}

/** DreamerV2 and DQN per game as Markdown, with the random policy's return. */
export function minatarTableMarkdown(result: ExperimentResult<DreamerMinatarMetrics>): string {
  const m = result.metrics;
  const rows = [
    "| game | DreamerV2 | DQN | random policy |",
    "| --- | --- | --- | --- |",
  ];
  for (const game of m.games) {
    rows.push(
      `| ${gameName(game.game)} | ${formatMeanStd(game.dreamer.final)} | ` +
        `${formatMeanStd(game.dqn.final)} | ${game.randomReturn} |`,
    );
  }
  return rows.join("\n");
}

/** What the final models foresee where their actors learn (dreamer_foresight.ts), as Markdown. */
export function foresightMarkdown(result: ExperimentResult<DreamerMinatarMetrics>): string {
  const rows = [
    "| game | P(continue) at the real end, filtered | the same, imagined H steps ahead | " +
    "last H rewards, real | the same, imagined | actor's H-step return, real | imagined | " +
    "H-step length, real | imagined |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const f of result.metrics.foresight ?? []) {
    const cells = [
      f.terminalFiltered,
      f.terminalImagined,
      f.lastRewardsReal,
      f.lastRewardsImagined,
      f.realReturn,
      f.imaginedReturn,
      f.realLength,
      f.imaginedLength,
    ].map((x) => x.toFixed(2));
    rows.push(`| ${gameName(f.game)} | ${cells.join(" | ")} |`);
  }
  return rows.join("\n");
}
