/**
 * A table of records drawn as a standalone SVG figure, for results that belong in res/ next
 * to the plots (a notebook shows the same rows as Markdown with `showTable`).
 */
import { columnsOf, formatCell } from "./format.ts";
import {
  escapeXml,
  estimateTextWidth,
  FIGURE_FONT_FAMILY,
  SVG_NAMESPACE,
  svgNumber,
} from "./svg.ts";

export interface TableFigureOptions {
  title?: string;
  /** Columns in order (default: every key, in first-seen order). */
  columns?: readonly string[];
  /** Significant digits of non-integer numbers (default 4). */
  precision?: number;
}

const FONT_SIZE = 12;
const ROW_HEIGHT = 22;
const CELL_PADDING = 10;
const MARGIN = 10;

/** Draws rows as an SVG table: bold header, rule lines, numeric columns right-aligned. */
export function tableFigure(
  rows: readonly Record<string, unknown>[],
  options: TableFigureOptions = {},
): string {
  const columns = options.columns ?? columnsOf(rows);
  const cells = rows.map((row) =>
    columns.map((column) => formatCell(row[column], options.precision))
  );
  const numeric = columns.map((column) => {
    const values = rows.map((row) => row[column]).filter((value) => value != null);
    return values.length > 0 && values.every((value) => typeof value === "number");
  });
  const columnWidths = columns.map((column, index) =>
    Math.ceil(
      Math.max(
        estimateTextWidth(column, FONT_SIZE) * 1.08, // header is bold
        ...cells.map((row) => estimateTextWidth(row[index], FONT_SIZE)),
      ),
    ) + 2 * CELL_PADDING
  );
  const tableWidth = columnWidths.reduce((sum, width) => sum + width, 0);
  const titleHeight = options.title ? 28 : 0;
  const width = Math.ceil(tableWidth + 2 * MARGIN);
  const height = Math.ceil(titleHeight + ROW_HEIGHT * (rows.length + 1) + 2 * MARGIN);

  const body: string[] = [];
  if (options.title) {
    body.push(
      `<text x="${MARGIN}" y="${MARGIN + 16}" font-size="15" font-weight="600">` +
        `${escapeXml(options.title)}</text>`,
    );
  }
  const top = MARGIN + titleHeight;
  const drawRow = (texts: readonly string[], rowIndex: number, weight: string) => {
    let x = MARGIN;
    const baseline = top + rowIndex * ROW_HEIGHT + ROW_HEIGHT / 2;
    texts.forEach((text, columnIndex) => {
      const anchorEnd = numeric[columnIndex];
      const textX = anchorEnd ? x + columnWidths[columnIndex] - CELL_PADDING : x + CELL_PADDING;
      body.push(
        `<text x="${svgNumber(textX)}" y="${svgNumber(baseline)}" dy="0.35em"` +
          ` text-anchor="${anchorEnd ? "end" : "start"}" font-weight="${weight}">` +
          `${escapeXml(text)}</text>`,
      );
      x += columnWidths[columnIndex];
    });
  };
  drawRow(columns, 0, "600");
  cells.forEach((row, index) => drawRow(row, index + 1, "400"));
  const rule = (y: number, strokeWidth: number) =>
    `<line x1="${MARGIN}" x2="${MARGIN + tableWidth}" y1="${y}" y2="${y}" stroke="#222"` +
    ` stroke-width="${strokeWidth}"/>`;
  body.push(
    rule(top, 1.5),
    rule(top + ROW_HEIGHT, 1),
    rule(top + ROW_HEIGHT * (rows.length + 1), 1.5),
  );

  return [
    `<svg xmlns="${SVG_NAMESPACE}" width="${width}" height="${height}" `,
    `viewBox="0 0 ${width} ${height}" font-family="${escapeXml(FIGURE_FONT_FAMILY)}" `,
    `font-size="${FONT_SIZE}" fill="#222">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...body,
    "</svg>\n",
  ].join("");
}
