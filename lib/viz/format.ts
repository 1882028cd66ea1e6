/** Human-readable formatting shared by tables, progress lines and figures. */

/** Seconds as `12.3s`, `4m05s` or `2h03m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)}s`;
  const totalSeconds = Math.round(seconds);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const secs = totalSeconds % 60;
  if (hours > 0) return `${hours}h${String(minutes).padStart(2, "0")}m`;
  return `${minutes}m${String(secs).padStart(2, "0")}s`;
}

/** Items per second with a precision that suits its size: `0.25/s`, `12.5/s`, `3.4k/s`. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return "?/s";
  if (perSecond >= 10_000) return `${(perSecond / 1000).toFixed(0)}k/s`;
  if (perSecond >= 1000) return `${(perSecond / 1000).toFixed(1)}k/s`;
  if (perSecond >= 10) return `${perSecond.toFixed(1)}/s`;
  return `${perSecond.toFixed(2)}/s`;
}

/**
 * One table cell as text: numbers with `precision` significant digits (integers kept whole),
 * arrays joined, null and undefined as an empty cell.
 */
export function formatCell(value: unknown, precision = 4): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") {
    if (Number.isInteger(value) || !Number.isFinite(value)) return String(value);
    return String(Number(value.toPrecision(precision)));
  }
  if (Array.isArray(value)) return value.map((item) => formatCell(item, precision)).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** The column names of `rows` in first-seen order. */
export function columnsOf(rows: readonly Record<string, unknown>[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) seen.add(key);
  return [...seen];
}
