/**
 * The `vq-planning` figures, drawn from a result's metrics: games won by each model against each
 * opponent beside the exact expectimax ceiling (after Ozair et al. 2021's chess comparison), the
 * training losses, and the codebook against the categorical latents on MinAtar frames.
 */
import { barChart, lineChart } from "../../viz/charts.ts";
import { saveFigure } from "../../viz/plot.ts";
import { tableFigure } from "../../viz/table_figure.ts";
import { mean, meanCurve, std, stdCurve } from "../stats.ts";
import type { ExperimentResult } from "../types.ts";
import { won } from "../muzero/stages.ts";
import type { FrameCodes, ModelKind, VqPlanningMetrics } from "./config.ts";

const MODEL_LABEL: Record<ModelKind, string> = {
  vq: "VQ model, chance nodes",
  deterministic: "deterministic model (one code)",
};

export async function drawVqPlanningFigures(
  result: ExperimentResult<VqPlanningMetrics>,
  resDir: string,
): Promise<string[]> {
  const m = result.metrics;
  const name = result.experiment;
  const written: string[] = [];
  const bars = m.opponents.flatMap((o) => {
    const group = o.opponent === "stochastic"
      ? `tactical + ${Math.round(100 * o.randomShare)}% random`
      : "tactical (deterministic)";
    const row = (label: string, values: number[]) => ({
      group,
      label,
      value: 100 * mean(values),
      std: 100 * std(values),
    });
    return [
      row(`${MODEL_LABEL.vq}, ${m.simulations} sims`, o.seeds.map((s) => won(s.vq.searched))),
      row(
        `${MODEL_LABEL.deterministic}, ${m.simulations} sims`,
        o.seeds.map((s) => won(s.deterministic.searched)),
      ),
      row("VQ model, prior only", o.seeds.map((s) => won(s.vq.prior))),
      row("deterministic model, prior only", o.seeds.map((s) => won(s.deterministic.prior))),
      row("exact expectimax", [won(o.optimal)]),
      row("tactical player", [won(o.tactical)]),
    ];
  });
  written.push(
    await saveFigure(
      barChart({
        title: "Planning against an opponent inside the environment",
        subtitle: `Tic-tac-toe as first player, % of games won; mean ± std over ` +
          `${m.opponents[0]?.seeds.length ?? 0} seed(s); same data, networks and simulations`,
        caption: "The deterministic model is the VQ model with one code: its chance node has " +
          "one outcome. Exact expectimax knows the opponent's move distribution.",
        bars,
        yLabel: "% of games won",
        width: 760,
      }),
      `${resDir}/${name}-wins.svg`,
    ),
  );
  const stochastic = m.opponents.find((o) => o.opponent === "stochastic");
  if (stochastic && stochastic.seeds.length > 0) {
    const series = (model: ModelKind, term: "value" | "reconstruction" | "prior") => {
      const curves = stochastic.seeds.map((s) => s[model].curve.map((p) => p[term]));
      return {
        name: `${MODEL_LABEL[model]}: ${term}`,
        x: stochastic.seeds[0][model].curve.map((p) => p.update),
        y: meanCurve(curves),
        yStd: stdCurve(curves),
      };
    };
    written.push(
      await saveFigure(
        lineChart({
          title: "What one code cannot represent",
          subtitle: "Training losses against the stochastic opponent, mean ± std over seeds",
          caption: "With one code the next board can only be a blur of the opponent's replies; " +
            "the gap between the two reconstruction curves is what the codes carry. The prior's " +
            "loss is the uncertainty left in the reply given the afterstate.",
          series: [
            series("vq", "reconstruction"),
            series("deterministic", "reconstruction"),
            series("vq", "value"),
            series("deterministic", "value"),
            series("vq", "prior"),
          ],
          xLabel: "Updates",
          yLabel: "Loss",
          yType: "symlog",
        }),
        `${resDir}/${name}-losses.svg`,
      ),
    );
  }
  const frames = m.frames;
  const column = (pick: (codes: FrameCodes) => number, digits: number) =>
    (["codebook", "categorical"] as const).map((kind) => {
      const values = frames.seeds.map((s) => pick(s[kind]));
      return `${mean(values).toFixed(digits)} ± ${std(values).toFixed(digits)}`;
    });
  const ce = column((c) => c.crossEntropy, 2);
  const wrong = column((c) => c.wrongCells, 2);
  const perplexity = column((c) => c.perplexity, 1);
  const distinct = column((c) => c.distinctCodes, 0);
  const top = column((c) => c.maxProbability, 3);
  written.push(
    await saveFigure(
      tableFigure(
        [
          { measure: "cross-entropy per frame", codebook: ce[0], categorical: ce[1] },
          {
            measure: `wrong cells per frame (${frames.litCells.toFixed(1)} lit)`,
            codebook: wrong[0],
            categorical: wrong[1],
          },
          {
            measure: "codes used per slot (perplexity)",
            codebook: perplexity[0],
            categorical: perplexity[1],
          },
          {
            measure: `distinct codes (${frames.variables} slots of ${frames.classes})`,
            codebook: distinct[0],
            categorical: distinct[1],
          },
          { measure: "top class probability", codebook: top[0], categorical: top[1] },
        ],
        {
          title: `${frames.game.replace("MinAtar/", "")}: VQ codebook vs DreamerV2's codes`,
          columns: ["measure", "codebook", "categorical"],
        },
      ),
      `${resDir}/${name}-codes.svg`,
    ),
  );
  return written;
}
