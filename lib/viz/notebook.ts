/**
 * The only module that touches `Deno.jupyter`. Outside a Deno Jupyter kernel that namespace
 * throws on access, so every call here checks `inNotebook()` first and does nothing elsewhere:
 * lib modules stay importable and callable under `deno test` and the CLI.
 */
import { columnsOf, formatCell } from "./format.ts";

/** Jupyter output data keyed by MIME type; images are base64 text, JSON types are objects. */
export type MediaBundle = Record<string, string | object>;

export interface DisplayOptions {
  /** Names an output area so later calls with `update: true` redraw it in place. */
  displayId?: string;
  /** Replaces the output with this `displayId` instead of adding a new one. */
  update?: boolean;
  /** Per-MIME-type display hints, e.g. `{ "image/png": { width: 640 } }`. */
  metadata?: Record<string, object>;
}

interface JupyterBroadcast {
  broadcast(msgType: string, content: Record<string, unknown>): Promise<void>;
}

function jupyterOrNull(): JupyterBroadcast | null {
  try {
    // Reading the property throws outside `deno jupyter`, hence the try.
    const jupyter = (Deno as unknown as { jupyter?: Partial<JupyterBroadcast> }).jupyter;
    return typeof jupyter?.broadcast === "function" ? jupyter as JupyterBroadcast : null;
  } catch {
    return null;
  }
}

/** True when running inside a Deno Jupyter kernel (a notebook cell). */
export function inNotebook(): boolean {
  return jupyterOrNull() !== null;
}

/**
 * Shows a media bundle as cell output. Uses the kernel's IOPub broadcast directly, the same
 * message Jupyter's own display machinery sends, so updates by `displayId` work in JupyterLab,
 * VS Code and nbconvert alike. Does nothing outside a notebook.
 */
export async function displayBundle(
  bundle: MediaBundle,
  options: DisplayOptions = {},
): Promise<void> {
  const jupyter = jupyterOrNull();
  if (jupyter === null) return;
  const messageType = options.update ? "update_display_data" : "display_data";
  const transient = options.displayId === undefined ? {} : { display_id: options.displayId };
  await jupyter.broadcast(messageType, {
    data: bundle,
    metadata: options.metadata ?? {},
    transient,
  });
}

/** Shows Markdown as cell output (no-op outside a notebook). */
export function showMarkdown(markdown: string): Promise<void> {
  return displayBundle({ "text/markdown": markdown, "text/plain": markdown });
}

/** Shows HTML as cell output (no-op outside a notebook). */
export function showHtml(html: string, plainText = "[HTML output]"): Promise<void> {
  return displayBundle({ "text/html": html, "text/plain": plainText });
}

export interface TableOptions {
  /** Columns in order (default: every key, in first-seen order). */
  columns?: readonly string[];
  /** Significant digits of non-integer numbers (default 4). */
  precision?: number;
}

/** Rows of records as a GitHub-flavoured Markdown table; pipes and newlines in cells escaped. */
export function markdownTable(
  rows: readonly Record<string, unknown>[],
  options: TableOptions = {},
): string {
  const columns = options.columns ?? columnsOf(rows);
  if (columns.length === 0) return "";
  const escapeCell = (text: string) => text.replaceAll("|", "\\|").replaceAll(/\r?\n/g, " ");
  const line = (cells: readonly string[]) => `| ${cells.map(escapeCell).join(" | ")} |`;
  // Numeric columns are right-aligned, as readers expect when comparing numbers.
  const alignment = columns.map((column) => {
    const values = rows.map((row) => row[column]).filter((value) => value != null);
    return values.length > 0 && values.every((value) => typeof value === "number") ? "--:" : "---";
  });
  return [
    line(columns),
    `| ${alignment.join(" | ")} |`,
    ...rows.map((row) => line(columns.map((column) => formatCell(row[column], options.precision)))),
  ].join("\n");
}

/** Shows rows of records as a Markdown table (no-op outside a notebook). */
export function showTable(
  rows: readonly Record<string, unknown>[],
  options: TableOptions = {},
): Promise<void> {
  return showMarkdown(markdownTable(rows, options));
}
