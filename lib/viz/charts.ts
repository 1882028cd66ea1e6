/**
 * Ready-made figures the experiments draw again and again: learning curves with ±std bands,
 * bar charts of final scores with error bars, and tables drawn as SVG. Each returns SVG text
 * from `renderPlot`, ready for `saveFigure` or `showFigure`.
 */
import * as Plot from "@observablehq/plot";
import { renderPlot } from "./plot.ts";

/** One curve: `y[i]` measured at `x[i]`, with an optional standard deviation for a band. */
export interface LineSeries {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Standard deviation at each point; draws a shaded band from y - std to y + std. */
  yStd?: ArrayLike<number>;
}

/** Options shared by every chart builder. */
export interface ChartFrameOptions {
  title?: string;
  subtitle?: string;
  caption?: string;
  /** Pixels (default 640 by 400). */
  width?: number;
  height?: number;
  /** Colors of the series in order (default: Plot's observable10 scheme). */
  colors?: readonly string[];
  /** Extra Plot marks drawn on top, e.g. a paper's reported value as `Plot.ruleY([195])`. */
  marks?: readonly Plot.Markish[];
}

export interface LineChartOptions extends ChartFrameOptions {
  series: readonly LineSeries[];
  xLabel: string;
  yLabel: string;
  xType?: "linear" | "log" | "symlog";
  yType?: "linear" | "log" | "symlog";
  xDomain?: readonly [number, number];
  yDomain?: readonly [number, number];
  /** Show the legend (default: when there is more than one series). */
  legend?: boolean;
  /** Opacity of the ±std bands (default 0.2). */
  bandOpacity?: number;
}

interface CurvePoint {
  series: string;
  x: number;
  y: number;
  low: number;
  high: number;
}

/**
 * Line chart of several series with optional shaded ±std bands and a legend: one SVG path
 * per series, series colored in the order given.
 */
export function lineChart(options: LineChartOptions): string {
  const points: CurvePoint[] = [];
  const bandPoints: CurvePoint[] = [];
  for (const series of options.series) {
    if (series.x.length !== series.y.length) {
      throw new RangeError(
        `lineChart: series "${series.name}" has ${series.x.length} x values but ` +
          `${series.y.length} y values`,
      );
    }
    if (series.yStd !== undefined && series.yStd.length !== series.y.length) {
      throw new RangeError(
        `lineChart: series "${series.name}" has ${series.yStd.length} yStd values but ` +
          `${series.y.length} y values`,
      );
    }
    for (let index = 0; index < series.y.length; index++) {
      const y = series.y[index];
      const std = series.yStd?.[index] ?? 0;
      const point = { series: series.name, x: series.x[index], y, low: y - std, high: y + std };
      points.push(point);
      if (series.yStd !== undefined) bandPoints.push(point);
    }
  }
  const names = options.series.map((series) => series.name);
  const marks: Plot.Markish[] = [];
  if (bandPoints.length > 0) {
    marks.push(Plot.areaY(bandPoints, {
      x: "x",
      y1: "low",
      y2: "high",
      fill: "series",
      fillOpacity: options.bandOpacity ?? 0.2,
    }));
  }
  marks.push(Plot.lineY(points, { x: "x", y: "y", stroke: "series", strokeWidth: 2 }));
  marks.push(...options.marks ?? []);
  return renderPlot({
    title: options.title,
    subtitle: options.subtitle,
    caption: options.caption,
    width: options.width,
    height: options.height,
    marginRight: 24,
    legendSwatch: "line",
    x: {
      label: options.xLabel,
      type: options.xType,
      domain: options.xDomain ? [...options.xDomain] : undefined,
    },
    y: {
      label: options.yLabel,
      type: options.yType,
      domain: options.yDomain ? [...options.yDomain] : undefined,
      grid: true,
    },
    color: {
      domain: names,
      range: options.colors ? [...options.colors] : undefined,
      legend: options.legend ?? names.length > 1,
    },
    marks,
  });
}

/** One bar: a value with an optional ±std error bar, optionally inside a named group. */
export interface Bar {
  label: string;
  value: number;
  std?: number;
  /** Bars sharing a group are drawn side by side under the group's name. */
  group?: string;
}

export interface BarChartOptions extends ChartFrameOptions {
  bars: readonly Bar[];
  yLabel: string;
  /** Label under the bars (groups when grouped); default none. */
  xLabel?: string;
  /** Show the legend (default: when bars are grouped). */
  legend?: boolean;
}

/**
 * Vertical bar chart with ±std error bars, bars in the order given. Grouped bars (e.g. one
 * group per environment, one bar per method) share colors by label across groups.
 */
export function barChart(options: BarChartOptions): string {
  const labels = [...new Set(options.bars.map((bar) => bar.label))];
  const groups = [...new Set(options.bars.flatMap((bar) => bar.group ?? []))];
  const grouped = groups.length > 0;
  const rows = options.bars.map((bar) => ({
    ...bar,
    low: bar.value - (bar.std ?? 0),
    high: bar.value + (bar.std ?? 0),
  }));
  const withError = rows.filter((row) => row.std !== undefined);
  const facet = grouped ? { fx: "group" } : {};
  const marks: Plot.Markish[] = [
    Plot.barY(rows, { x: "label", y: "value", fill: "label", ...facet }),
    Plot.ruleX(withError, { x: "label", y1: "low", y2: "high", strokeWidth: 2, ...facet }),
    Plot.ruleY([0]),
    ...options.marks ?? [],
  ];
  return renderPlot({
    title: options.title,
    subtitle: options.subtitle,
    caption: options.caption,
    width: options.width,
    height: options.height,
    marginBottom: grouped ? 30 : 40,
    // Grouped bars are named by the legend, so the axis inside each group stays clean.
    x: grouped
      ? { domain: labels, axis: null, paddingInner: 0.1 }
      : { domain: labels, label: options.xLabel ?? null, paddingInner: 0.2 },
    fx: grouped ? { domain: groups, label: options.xLabel ?? null, padding: 0.15 } : undefined,
    y: { label: options.yLabel, grid: true },
    color: {
      domain: labels,
      range: options.colors ? [...options.colors] : undefined,
      legend: options.legend ?? grouped,
    },
    marks,
  });
}
