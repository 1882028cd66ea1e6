/**
 * PlaNet's figures and tables (Hafner et al. 2019, Figure 4 and Table 1) drawn from a result's
 * metrics: learning curves against SAC, planning with early and late models, the cost of
 * planning, and Table 1 beside ours.
 */
import * as Plot from "@observablehq/plot";
import { REPO_ROOT } from "../../io.ts";
import { barChart, lineChart } from "../../viz/charts.ts";
import { saveFigure } from "../../viz/plot.ts";
import { saveImage } from "../../viz/image.ts";
import { formatMeanStd, mean, std } from "../stats.ts";
import type { ExperimentResult } from "../types.ts";
import { type PlanetMetrics } from "./config.ts";
import { fmtSteps } from "./claims.ts";

export async function drawPlanetFigures(
  result: ExperimentResult<PlanetMetrics>,
  resDir: string,
): Promise<string[]> {
  const m = result.metrics;
  const name = result.experiment;
  const written: string[] = [];
  const marks = [
    Plot.ruleY([m.returnThreshold], { stroke: "#888", strokeDasharray: "4,4" }),
  ];
  if (m.published) {
    marks.push(Plot.ruleY([m.published.planet], { stroke: "#4269d0", strokeDasharray: "2,3" }));
  }
  if (m.trueSimulator) {
    marks.push(
      Plot.ruleY([mean(m.trueSimulator.returns)], { stroke: "#3ca951", strokeDasharray: "6,3" }),
    );
  }
  const curves = lineChart({
    title: `PlaNet against SAC on ${name.replace(/^planet-/, "")}`,
    subtitle: `Return per training episode, mean ± std over ${result.seeds.length} seed(s)`,
    caption: `Grey dashed: threshold ${m.returnThreshold}` +
      (m.published ? `; blue dotted: PlaNet's published ${m.published.planet}` : "") +
      (m.trueSimulator ? "; green dashed: CEM on the true simulator (ours)" : ""),
    series: [
      { name: "PlaNet", x: m.planet.envSteps, y: m.planet.mean, yStd: m.planet.std },
      { name: "SAC (model-free)", x: m.sac.envSteps, y: m.sac.mean, yStd: m.sac.std },
    ],
    xLabel: "Environment steps",
    yLabel: "Episode return",
    marks,
  });
  written.push(await saveFigure(curves, `${resDir}/${name}-learning-curves.svg`));
  if (m.checkpoints) {
    const c = m.checkpoints;
    const bars = barChart({
      title: "Planning with saved models from the same start states",
      subtitle: `${c.modelEvaluations} model evaluations per action; mean ± std over episodes`,
      bars: [
        {
          label: `CEM, model after ${c.earlyEpisode} episodes`,
          value: mean(c.early),
          std: std(c.early),
        },
        {
          label: `CEM, model after ${c.finalEpisode} episodes`,
          value: mean(c.late),
          std: std(c.late),
        },
        {
          label: `random shooting, model after ${c.finalEpisode} episodes`,
          value: mean(c.randomShooting),
          std: std(c.randomShooting),
        },
      ],
      yLabel: "Real episode return",
    });
    written.push(await saveFigure(bars, `${resDir}/${name}-planning.svg`));
  }
  if (m.pixels) {
    const p = m.pixels;
    try {
      const png = await Deno.readFile(`${REPO_ROOT}/${p.stripPath}`);
      written.push(await saveImage(png, `${resDir}/${name}-open-loop.png`));
    } catch {
      // The strip lives with the run's data; without it only the timing figure is drawn.
    }
    const timing = barChart({
      title: "Cost of one planning pass",
      subtitle: `${p.timingCandidates} candidates x ${p.planningHorizon} imagined steps`,
      bars: [
        { label: "latent states only (PlaNet)", value: p.latentMsPerPlan },
        { label: `decoding ${p.imageSize}x${p.imageSize} frames`, value: p.framesMsPerPlan },
      ],
      yLabel: "Milliseconds",
    });
    written.push(await saveFigure(timing, `${resDir}/${name}-planning-cost.svg`));
  }
  return written;
}

/** Table 1 of the paper (cartpole swing-up) with our numbers beside it, as markdown. */
export function table1Markdown(result: ExperimentResult<PlanetMetrics>): string {
  const m = result.metrics;
  const episodes = m.planet.envSteps.length;
  const steps = (m.planet.envSteps.at(-1) ?? 0).toLocaleString("en-US");
  const rows = [
    "| agent | experience | return | source |",
    "| --- | --- | --- | --- |",
  ];
  const pub = m.published;
  if (pub) {
    const many = pub.modelFreeEpisodes.toLocaleString("en-US");
    rows.push(
      `| PlaNet (pixels) | ${pub.planetEpisodes.toLocaleString("en-US")} episodes | ` +
        `${pub.planet} | paper, Table 1 |`,
      `| D4PG (pixels) | ${many} episodes | ${pub.d4pg} | paper, Table 1 |`,
      `| A3C (proprioceptive) | ${many} episodes | ${pub.a3c} | paper, Table 1 |`,
      `| CEM + true simulator | none (knows the dynamics) | ${pub.cemTrueSimulator} | ` +
        "paper, Table 1 |",
    );
  }
  rows.push(
    `| PlaNet (states, ours) | ${episodes} episodes, ${steps} env steps | ` +
      (m.checkpoints ? `test (no noise) ${formatMeanStd(m.checkpoints.late)}; ` : "") +
      `last training episode ${formatMeanStd(m.finalReturn.planet)}, best ${
        formatMeanStd(m.planet.perSeed.map((c) => Math.max(...c)))
      } | ${result.budget} budget |`,
    `| SAC (states, ours) | the same ${steps} env steps | last episode ` +
      `${formatMeanStd(m.finalReturn.sac)} | ${result.budget} budget |`,
  );
  if (m.trueSimulator) {
    rows.push(
      `| CEM + true simulator (ours) | none (knows the dynamics) | ` +
        `${formatMeanStd(m.trueSimulator.returns)} | ${result.budget} budget |`,
    );
  }
  return rows.join("\n");
}

/** The steps-to-return table at every return of the sweep, as Markdown. */
export function thresholdSweepMarkdown(metrics: PlanetMetrics): string {
  const rows = [
    "| return | PlaNet env steps (per seed) | SAC env steps (per seed) | SAC / PlaNet |",
    "| --- | --- | --- | --- |",
  ];
  for (const row of metrics.thresholdSweep) {
    const ratio = row.ratio === null
      ? "PlaNet did not get there"
      : `${row.ratioIsLowerBound ? "at least " : ""}${row.ratio.toFixed(1)}x`;
    const marker = row.threshold === metrics.returnThreshold ? " (the claim's)" : "";
    rows.push(
      `| ${row.threshold}${marker} | ${row.planet.map(fmtSteps).join(", ")} | ` +
        `${row.sac.map(fmtSteps).join(", ")} | ${ratio} |`,
    );
  }
  return rows.join("\n");
}
