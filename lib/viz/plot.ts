/**
 * Observable Plot figures rendered to standalone SVG text without a browser. Plot draws into a
 * linkedom document; the result is rewritten as one SVG file (namespace, explicit size, white
 * background, GitHub-safe fonts) with the title, legends and caption drawn in SVG too, since
 * Plot would otherwise wrap them in an HTML <figure> that image viewers and GitHub cannot show.
 */
import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";
import { saveFile } from "./files.ts";
import { inNotebook } from "./notebook.ts";
import { svgToPng } from "./raster.ts";
import { showImage } from "./image.ts";
import {
  escapeXml,
  estimateTextWidth,
  FIGURE_FONT_FAMILY,
  SVG_NAMESPACE,
  svgNumber,
} from "./svg.ts";

// Re-exported so notebooks can build custom figures with the same Plot instance.
export { Plot };

export interface FigureOptions extends Plot.PlotOptions {
  /** How entries of a categorical color legend are drawn: a short line suits line charts. */
  legendSwatch?: "square" | "line";
  /** Background fill of the whole figure (default white, readable in dark-mode viewers). */
  background?: string;
}

/** Text color of axes and labels; Plot draws with `currentColor`, which resolves to this. */
const INK = "#222";
const MUTED_INK = "#555";
const PADDING = 10;
const TITLE_SIZE = 16;
const SUBTITLE_SIZE = 12;
const LEGEND_SIZE = 11;
const CAPTION_SIZE = 11;
/**
 * A generous average width of a character in the figures' sans-serif fonts, in ems (DejaVu Sans,
 * the widest of them, measures about 0.5 on English text), for wrapping text lines.
 */
const AVERAGE_CHAR_EM = 0.55;
const SWATCH_SIZE = 15;
const LEGEND_ROW_HEIGHT = 22;

/** Scales Plot can draw a legend for. */
const LEGEND_SCALES = ["color", "opacity", "symbol"] as const;

/**
 * The few DOM members used here. Deno type-checks without the DOM library, so linkedom's
 * elements are described structurally instead.
 */
interface DomElement {
  readonly tagName: string;
  readonly innerHTML: string;
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
  getAttributeNames(): string[];
  querySelector(selectors: string): DomElement | null;
  querySelectorAll(selectors: string): Iterable<DomElement>;
  remove(): void;
}

/** The element Plot returns, with its scale and legend accessors. */
type PlotElement = DomElement & {
  scale(name: Plot.ScaleName): Plot.Scale | undefined;
  legend(name: Plot.ScaleName): unknown;
};

interface LegendEntry {
  /** SVG markup of the swatch, drawn in a SWATCH_SIZE square at the origin. */
  swatch: string;
  label: string;
}

type LegendPart =
  | { kind: "entries"; entries: LegendEntry[] }
  | { kind: "svg"; element: DomElement }
  | { kind: "markup"; markup: string; height: number };

/**
 * Renders Plot options to the text of a standalone SVG file. Title, subtitle, caption and
 * `legend: true` on the color, opacity or symbol scale are honoured and drawn inside the SVG.
 */
export function renderPlot(options: FigureOptions): string {
  const { document } = parseHTML(
    "<!DOCTYPE html><html><head></head><body></body></html>",
  ) as unknown as { document: unknown };
  const {
    title,
    subtitle,
    caption,
    legendSwatch = "square",
    background = "white",
    ...plotOptions
  } = options;
  // figure: false keeps Plot from building an HTML <figure>; the parts it would hold are
  // drawn below as SVG instead.
  const draw = (extra: Plot.PlotOptions) =>
    Plot.plot({
      ...withoutLegends(plotOptions),
      ...extra,
      document: document as never,
      figure: false,
    }) as unknown as PlotElement;
  let plot = draw({});
  // Plot's default left margin fits short tick labels only; widen it when labels would be cut.
  if (plotOptions.marginLeft === undefined && plotOptions.margin === undefined) {
    const overflow = leftOverflow(plot);
    if (overflow > 0) plot = draw({ marginLeft: leftMarginOf(plot) + overflow });
  }
  if (plot.tagName.toLowerCase() !== "svg") {
    throw new Error(`Plot returned <${plot.tagName}> instead of <svg>`);
  }
  const plotWidth = Number(plot.getAttribute("width"));
  const plotHeight = Number(plot.getAttribute("height"));
  const legendParts = collectLegends(plot, plotOptions, legendSwatch);

  const body: string[] = [];
  let y = 0;
  const textLine = (text: string, size: number, fill: string, weight?: string) => {
    const weightAttribute = weight ? ` font-weight="${weight}"` : "";
    // Long titles and captions wrap rather than run off the figure's right edge.
    for (const line of wrapText(text, (plotWidth - 2 * PADDING) / (AVERAGE_CHAR_EM * size))) {
      y += Math.round(size * 1.5);
      body.push(
        `<text x="${PADDING}" y="${y - Math.round(size * 0.4)}" font-size="${size}" ` +
          `fill="${fill}"${weightAttribute}>${escapeXml(line)}</text>`,
      );
    }
  };
  if (title != null) textLine(nodeText(title), TITLE_SIZE, INK, "600");
  if (subtitle != null) textLine(nodeText(subtitle), SUBTITLE_SIZE, MUTED_INK);
  for (const part of legendParts) {
    if (part.kind === "markup") {
      body.push(`<g transform="translate(${PADDING},${y + 4})">${part.markup}</g>`);
      y += part.height + 4;
    } else if (part.kind === "svg") {
      body.push(svgAsGroup(part.element, PADDING, y + 4));
      y += Number(part.element.getAttribute("height")) + 4;
    } else {
      const layout = layoutLegendEntries(part.entries, plotWidth - 2 * PADDING);
      body.push(`<g transform="translate(${PADDING},${y + 4})">${layout.markup}</g>`);
      y += layout.height + 4;
    }
  }
  if (y > 0) y += 4;
  body.push(svgAsGroup(plot, 0, y));
  y += plotHeight;
  if (caption != null) textLine(nodeText(caption), CAPTION_SIZE, MUTED_INK);

  const width = plotWidth;
  const height = Math.ceil(y + (caption != null ? PADDING / 2 : 0));
  return [
    `<svg xmlns="${SVG_NAMESPACE}" xmlns:xlink="http://www.w3.org/1999/xlink"`,
    ` width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"`,
    ` font-family="${escapeXml(FIGURE_FONT_FAMILY)}" font-size="10" color="${INK}">`,
    // Plot's CSS would size the plot to its container; only these two rules matter here.
    `<style>text, tspan { white-space: pre; } svg { --plot-background: ${
      escapeXml(background)
    }; }</style>`,
    `<rect width="100%" height="100%" fill="${escapeXml(background)}"/>`,
    ...body,
    "</svg>\n",
  ].join("");
}

/**
 * Writes an SVG figure atomically. Relative paths start at the repository root (`res/...`); the
 * path returned is relative to the root when inside it, ready for a results file.
 */
export function saveFigure(svg: string, path: string): Promise<string> {
  return saveFile(svg, path);
}

/**
 * Shows an SVG figure as notebook output, as a PNG rendered at twice its size and displayed at
 * its size (lib/viz/raster.ts: viewers blank SVG outputs, and prefer them when both are there);
 * does nothing outside a notebook.
 */
export async function showFigure(svg: string): Promise<void> {
  if (!inNotebook()) return;
  const { png, width } = await svgToPng(svg);
  await showImage(png, { width, label: "[figure]" });
}

function nodeText(value: unknown): string {
  if (typeof value === "string") return value;
  return (value as { textContent?: string | null }).textContent ?? String(value);
}

const TRANSLATE = /translate\(\s*(-?[\d.]+)[\s,]+(-?[\d.]+)\s*\)/;

function translationOf(element: DomElement): [number, number] {
  const match = TRANSLATE.exec(element.getAttribute("transform") ?? "");
  return match ? [Number(match[1]), Number(match[2])] : [0, 0];
}

/** Pixels by which the widest left-axis tick label would stick out past the left edge. */
function leftOverflow(plot: PlotElement): number {
  let leftmost = Infinity;
  for (const group of plot.querySelectorAll('[aria-label="y-axis tick label"]')) {
    if (group.getAttribute("text-anchor") !== "end") continue; // a right-hand axis
    const [groupX] = translationOf(group);
    for (const label of group.querySelectorAll("text")) {
      const [labelX] = translationOf(label);
      const width = estimateTextWidth(label.textContent ?? "", 10);
      leftmost = Math.min(leftmost, groupX + labelX - width);
    }
  }
  const clearance = 4;
  return leftmost === Infinity ? 0 : Math.ceil(Math.max(0, clearance - leftmost));
}

/** The left margin Plot used: where the left axis's ticks sit. */
function leftMarginOf(plot: PlotElement): number {
  for (const group of plot.querySelectorAll('[aria-label="y-axis tick"]')) {
    for (const tick of group.querySelectorAll("path")) return translationOf(tick)[0];
  }
  return 40;
}

/** Plot options with every scale legend switched off; legends are drawn by `collectLegends`. */
function withoutLegends(options: Plot.PlotOptions): Plot.PlotOptions {
  const stripped: Plot.PlotOptions = { ...options };
  for (const name of LEGEND_SCALES) {
    const scaleOptions = options[name] as Plot.ScaleOptions | undefined;
    if (scaleOptions?.legend) stripped[name] = { ...scaleOptions, legend: false };
  }
  return stripped;
}

/** Scale types Plot draws as a canvas-painted ramp, which cannot be rendered without a browser. */
const DISCRETE_SCALE_TYPES = new Set([
  "ordinal",
  "categorical",
  "threshold",
  "quantile",
  "quantize",
  "identity",
  "point",
  "band",
]);

function collectLegends(
  plot: PlotElement,
  options: Plot.PlotOptions,
  legendSwatch: "square" | "line",
): LegendPart[] {
  const parts: LegendPart[] = [];
  for (const name of LEGEND_SCALES) {
    const scaleOptions = options[name] as Plot.ScaleOptions | undefined;
    if (!scaleOptions?.legend) continue;
    const scale = plot.scale(name);
    if (scale === undefined) continue;
    const type = String(scale.type);
    const categorical = type === "ordinal" || type === "categorical";
    if (name === "color" && categorical && scaleOptions.legend !== "ramp") {
      // Drawn here rather than by Plot so line charts can show line swatches.
      const entries = (scale.domain as unknown[]).map((value) => ({
        swatch: colorSwatch(String(scale.apply(value)), legendSwatch),
        label: formatLegendLabel(value),
      }));
      parts.push({ kind: "entries", entries });
      continue;
    }
    if (name !== "symbol" && !DISCRETE_SCALE_TYPES.has(type)) {
      parts.push({ kind: "markup", ...gradientRamp(scale, name) });
      continue;
    }
    const legend = plot.legend(name) as DomElement | undefined;
    if (legend === undefined) continue;
    if (legend.tagName.toLowerCase() === "svg") parts.push({ kind: "svg", element: legend });
    else parts.push({ kind: "entries", entries: swatchesFromHtml(legend) });
  }
  return parts;
}

const RAMP_WIDTH = 240;
const RAMP_BAR_HEIGHT = 10;

/**
 * A continuous color or opacity legend as an SVG gradient bar with a few ticks. The gradient id
 * is derived from its content so that identical figures give identical files.
 */
function gradientRamp(
  scale: Plot.Scale,
  name: "color" | "opacity" | "symbol",
): { markup: string; height: number } {
  const domain = (scale.domain as number[]).map(Number);
  const low = domain[0];
  const high = domain[domain.length - 1];
  const logarithmic = String(scale.type).includes("log") && low > 0 && high > 0;
  const valueAt = (t: number) =>
    logarithmic ? low * Math.pow(high / low, t) : low + (high - low) * t;
  const positionOf = (value: number) =>
    logarithmic ? Math.log(value / low) / Math.log(high / low) : (value - low) / (high - low || 1);
  const stops: string[] = [];
  const stopCount = 16;
  for (let index = 0; index <= stopCount; index++) {
    const t = index / stopCount;
    const mapped = scale.apply(valueAt(t));
    const paint = name === "opacity"
      ? `stop-color="${INK}" stop-opacity="${svgNumber(Number(mapped))}"`
      : `stop-color="${escapeXml(String(mapped))}"`;
    stops.push(`<stop offset="${svgNumber(t)}" ${paint}/>`);
  }
  const gradientId = `ramp-${hashText(stops.join(""))}`;
  const label = scale.label ? String(scale.label) : "";
  const labelHeight = label ? 14 : 0;
  const ticks = (logarithmic ? [low, high] : niceTicks(low, high, 5)).map((value) => {
    const x = svgNumber(positionOf(value) * RAMP_WIDTH);
    const tickTop = labelHeight + RAMP_BAR_HEIGHT;
    return `<line x1="${x}" x2="${x}" y1="${tickTop}" y2="${tickTop + 3}" stroke="${INK}"/>` +
      `<text x="${x}" y="${tickTop + 13}" text-anchor="middle" font-size="10" fill="${INK}">` +
      `${escapeXml(formatTick(value))}</text>`;
  });
  const markup =
    `<defs><linearGradient id="${gradientId}">${stops.join("")}</linearGradient></defs>` +
    (label
      ? `<text y="10" font-size="${LEGEND_SIZE}" font-weight="600" fill="${INK}">` +
        `${escapeXml(label)}</text>`
      : "") +
    `<rect y="${labelHeight}" width="${RAMP_WIDTH}" height="${RAMP_BAR_HEIGHT}" ` +
    `fill="url(#${gradientId})"/>` + ticks.join("");
  return { markup, height: labelHeight + RAMP_BAR_HEIGHT + 18 };
}

/** Round tick values (steps of 1, 2 or 5 times a power of ten) inside [low, high]. */
function niceTicks(low: number, high: number, count: number): number[] {
  if (!(high > low)) return [low];
  const rawStep = (high - low) / count;
  const magnitude = Math.pow(10, Math.floor(Math.log10(rawStep)));
  const step = [1, 2, 5, 10].map((factor) => factor * magnitude).find((s) => s >= rawStep)!;
  const ticks: number[] = [];
  for (let value = Math.ceil(low / step) * step; value <= high + step * 1e-9; value += step) {
    ticks.push(Number(value.toPrecision(12)));
  }
  return ticks;
}

function formatTick(value: number): string {
  return Math.abs(value) >= 1e5 || (value !== 0 && Math.abs(value) < 1e-3)
    ? value.toExponential(1)
    : String(Number(value.toPrecision(6)));
}

/** A short stable hash (FNV-1a) for content-derived ids. */
function hashText(text: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(36);
}

function formatLegendLabel(value: unknown): string {
  return value instanceof Date ? value.toISOString().slice(0, 10) : String(value);
}

function colorSwatch(color: string, style: "square" | "line"): string {
  const fill = escapeXml(color);
  if (style === "line") {
    const middle = SWATCH_SIZE / 2;
    return `<line x1="0" x2="${SWATCH_SIZE}" y1="${middle}" y2="${middle}" stroke="${fill}" ` +
      `stroke-width="2.5"/>`;
  }
  return `<rect width="${SWATCH_SIZE}" height="${SWATCH_SIZE}" fill="${fill}"/>`;
}

/** Plot's swatch legends are HTML spans each holding a small <svg> and a label. */
function swatchesFromHtml(legend: DomElement): LegendEntry[] {
  const entries: LegendEntry[] = [];
  for (const span of legend.querySelectorAll("span")) {
    const swatch = span.querySelector("svg");
    if (swatch === null) continue;
    entries.push({ swatch: svgAsGroup(swatch, 0, 0), label: span.textContent ?? "" });
  }
  return entries;
}

/** Flows legend entries into rows no wider than `maxWidth`. */
function layoutLegendEntries(
  entries: readonly LegendEntry[],
  maxWidth: number,
): { markup: string; height: number } {
  const markup: string[] = [];
  let x = 0;
  let row = 0;
  for (const entry of entries) {
    const entryWidth = SWATCH_SIZE + 6 + estimateTextWidth(entry.label, LEGEND_SIZE);
    if (x > 0 && x + entryWidth > maxWidth) {
      x = 0;
      row += 1;
    }
    const top = row * LEGEND_ROW_HEIGHT;
    markup.push(
      `<g transform="translate(${svgNumber(x)},${top})">${entry.swatch}` +
        `<text x="${SWATCH_SIZE + 6}" y="${SWATCH_SIZE / 2}" dy="0.35em" ` +
        `font-size="${LEGEND_SIZE}" fill="${INK}">${escapeXml(entry.label)}</text></g>`,
    );
    x += entryWidth + 16;
  }
  const rows = entries.length === 0 ? 0 : row + 1;
  return { markup: markup.join(""), height: rows * LEGEND_ROW_HEIGHT };
}

/** Attributes that only make sense on a root <svg> and are dropped when it becomes a <g>. */
const ROOT_ONLY_ATTRIBUTES = new Set(["width", "height", "viewBox", "class", "style", "xmlns"]);

/**
 * An <svg> element's content re-emitted as a <g> at (x, y), scaled by its viewBox. A <g> rather
 * than a nested <svg> because CSS sizing rules aimed at root plots would resize nested ones.
 */
function svgAsGroup(element: DomElement, x: number, y: number): string {
  for (const style of element.querySelectorAll("style")) style.remove();
  let transform = `translate(${svgNumber(x)},${svgNumber(y)})`;
  const viewBox = element.getAttribute("viewBox")?.trim().split(/[\s,]+/).map(Number);
  const width = Number(element.getAttribute("width"));
  const height = Number(element.getAttribute("height"));
  if (viewBox?.length === 4 && width > 0 && height > 0) {
    const [minX, minY, boxWidth, boxHeight] = viewBox;
    const scaleX = width / boxWidth;
    const scaleY = height / boxHeight;
    if (scaleX !== 1 || scaleY !== 1) {
      transform += ` scale(${svgNumber(scaleX)},${svgNumber(scaleY)})`;
    }
    if (minX !== 0 || minY !== 0) transform += ` translate(${-minX},${-minY})`;
  }
  const attributes = element.getAttributeNames()
    .filter((name) => !ROOT_ONLY_ATTRIBUTES.has(name) && !name.startsWith("xmlns"))
    .map((name) => {
      // Plot's own font choice gives way to the figure's GitHub-safe stack.
      const value = name === "font-family" ? FIGURE_FONT_FAMILY : element.getAttribute(name)!;
      return ` ${name}="${escapeXml(value)}"`;
    })
    .join("");
  return `<g transform="${transform}"${attributes}>${element.innerHTML}</g>`;
}

/** Splits `text` at spaces into lines of at most `maxChars` characters (longer words alone). */
export function wrapText(text: string, maxChars: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > maxChars) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  lines.push(line);
  return lines;
}
