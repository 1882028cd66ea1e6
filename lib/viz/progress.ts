/**
 * Progress display for long work (training, rollouts, evaluation). One reporter, three faces:
 * a single-line bar redrawn in place on a terminal, plain throttled lines in CI logs, and a
 * live-updating output in a Jupyter notebook. Pass `reporter.update` as an experiment's
 * `onProgress` callback.
 */
import type { Progress } from "../progress.ts";
import { formatDuration, formatRate } from "./format.ts";
import { displayBundle, type DisplayOptions, inNotebook, type MediaBundle } from "./notebook.ts";
import { escapeXml } from "./svg.ts";

export type { Progress };

/** `terminal`: bar redrawn in place; `log`: throttled lines; `notebook`: live output. */
export type ProgressMode = "terminal" | "log" | "notebook" | "silent";

export interface ProgressOptions {
  /** Default: notebook inside Jupyter, terminal when stderr is a TTY, log otherwise. */
  mode?: ProgressMode;
  /** Prefix naming the work, e.g. the experiment name. */
  label?: string;
  /** Where terminal and log text goes (default: stderr). */
  write?: (text: string) => void;
  /** Shows notebook output (default: the kernel's display). */
  display?: (bundle: MediaBundle, options: DisplayOptions) => Promise<void>;
  /** Least milliseconds between log lines within a stage (default 5000). */
  logIntervalMs?: number;
  /** Least milliseconds between terminal or notebook redraws (default 100 and 250). */
  redrawIntervalMs?: number;
  /** Terminal width in characters (default: the console's, else 100). */
  columns?: number;
  /** Clock in milliseconds (default `performance.now`); tests pass a fake one. */
  now?: () => number;
}

export interface ProgressReporter {
  /** Reports how far the work is; a bound function, so it can be passed as `onProgress`. */
  readonly update: (progress: Progress) => void;
  /** Shows the final state and ends the display; resolves once notebook output is sent. */
  finish(): Promise<void>;
}

interface StageState {
  name: string;
  startedAt: number;
  /** `done` at the first update, so a resumed stage's rate counts only new work. */
  firstDone: number;
  latest: Progress;
  latestAt: number;
}

interface FinishedStage {
  name: string;
  done: number;
  total: number;
  seconds: number;
}

const BAR_WIDTH = 24;

/** Work done, as a whole number or with one decimal (stages that sum fractions of jobs). */
function count(done: number): string {
  return Number.isInteger(done) ? String(done) : done.toFixed(1);
}

/** Creates a progress reporter that picks its display from where the code runs. */
export function createProgress(options: ProgressOptions = {}): ProgressReporter {
  const mode = options.mode ?? detectMode();
  const now = options.now ?? (() => performance.now());
  const write = options.write ?? writeToStderr;
  const display = options.display ?? displayBundle;
  const label = options.label ? `${options.label} ` : "";
  const logIntervalMs = options.logIntervalMs ?? 5000;
  const redrawIntervalMs = options.redrawIntervalMs ?? (mode === "notebook" ? 250 : 100);
  const createdAt = now();
  const finishedStages: FinishedStage[] = [];
  let stage: StageState | null = null;
  let lastOutputAt = -Infinity;
  /** Whether the latest state has been shown, so finishing never repeats or drops a line. */
  let latestShown = true;
  let finished = false;
  // Notebook output is asynchronous; a chain keeps displays in order.
  const displayId = `progress-${crypto.randomUUID()}`;
  let notebookShown = false;
  let displayChain: Promise<void> = Promise.resolve();

  const statusLine = (state: StageState, width?: number): string => {
    const { done, total, message } = state.latest;
    const elapsedSeconds = (state.latestAt - state.startedAt) / 1000;
    const rate = elapsedSeconds > 0 ? (done - state.firstDone) / elapsedSeconds : NaN;
    const complete = total > 0 && done >= total;
    const parts = [`${label}${state.name}`];
    if (total > 0) {
      const fraction = Math.min(1, Math.max(0, done / total));
      if (mode === "terminal") parts.push(progressBar(fraction));
      parts.push(`${Math.floor(fraction * 100)}%`.padStart(4), `${count(done)}/${total}`);
    } else {
      parts.push(count(done));
    }
    if (Number.isFinite(rate) && rate > 0) parts.push(formatRate(rate));
    if (complete) parts.push(`in ${formatDuration(elapsedSeconds)}`);
    else if (total > 0 && rate > 0) parts.push(`ETA ${formatDuration((total - done) / rate)}`);
    let line = parts.join(" ");
    if (message) line += ` | ${message}`;
    return width !== undefined && line.length > width ? `${line.slice(0, width - 1)}…` : line;
  };

  const terminalColumns = () => {
    if (options.columns !== undefined) return options.columns;
    try {
      return Deno.consoleSize().columns;
    } catch {
      return 100;
    }
  };

  const show = (force: boolean) => {
    if (stage === null || mode === "silent") return;
    const elapsed = now() - lastOutputAt;
    if (mode === "terminal") {
      if (!force && elapsed < redrawIntervalMs) return;
      // Carriage return and erase-line redraw the bar in place.
      write(`\r\x1b[2K${statusLine(stage, terminalColumns() - 1)}`);
    } else if (mode === "log") {
      if (!force && elapsed < logIntervalMs) return;
      write(`${statusLine(stage)}\n`);
    } else {
      if (!force && elapsed < redrawIntervalMs) return;
      showInNotebook(notebookBundle(finishedStages, stage, statusLine(stage), null));
    }
    lastOutputAt = now();
    latestShown = true;
  };

  const showInNotebook = (bundle: MediaBundle) => {
    const displayOptions = { displayId, update: notebookShown };
    notebookShown = true;
    displayChain = displayChain
      .then(() => display(bundle, displayOptions))
      // A failed display must not fail the run it reports on.
      .catch(() => {});
  };

  /** Records the current stage as finished, showing its last state if it was not shown. */
  const closeStage = () => {
    if (stage === null) return;
    if (!latestShown) show(true);
    if (mode === "terminal") write("\n");
    finishedStages.push({
      name: stage.name,
      done: stage.latest.done,
      total: stage.latest.total,
      seconds: (stage.latestAt - stage.startedAt) / 1000,
    });
    stage = null;
  };

  const update = (progress: Progress): void => {
    if (finished) return;
    const time = now();
    if (stage !== null && stage.name !== progress.stage) closeStage();
    if (stage === null) {
      stage = {
        name: progress.stage,
        startedAt: time,
        firstDone: progress.done,
        latest: progress,
        latestAt: time,
      };
      // The first report of a stage is always shown, so logs say when each stage began.
      latestShown = false;
      show(true);
      return;
    }
    const wasComplete = stage.latest.total > 0 && stage.latest.done >= stage.latest.total;
    stage.latest = { ...progress };
    stage.latestAt = time;
    latestShown = false;
    const complete = progress.total > 0 && progress.done >= progress.total;
    show(complete && !wasComplete);
  };

  const finish = async (): Promise<void> => {
    if (finished) return displayChain;
    finished = true;
    closeStage();
    const totalSeconds = (now() - createdAt) / 1000;
    if (mode === "log") write(`${label}finished in ${formatDuration(totalSeconds)}\n`);
    if (mode === "notebook" && notebookShown) {
      showInNotebook(notebookBundle(finishedStages, null, "", totalSeconds));
    }
    await displayChain;
  };

  return { update, finish };
}

function detectMode(): ProgressMode {
  if (inNotebook()) return "notebook";
  try {
    return Deno.stderr.isTerminal() ? "terminal" : "log";
  } catch {
    return "log";
  }
}

function writeToStderr(text: string): void {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
}

function progressBar(fraction: number): string {
  const filled = Math.round(fraction * BAR_WIDTH);
  return `[${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}]`;
}

/** Finished stages as lines, then the running stage as a progress bar. */
function notebookBundle(
  finishedStages: readonly FinishedStage[],
  current: StageState | null,
  currentLine: string,
  totalSeconds: number | null,
): MediaBundle {
  const finishedLines = finishedStages.map((stage) =>
    `✓ ${stage.name}: ${
      stage.total > 0 ? `${count(stage.done)}/${stage.total}` : count(stage.done)
    } ` +
    `in ${formatDuration(stage.seconds)}`
  );
  const plain = [...finishedLines];
  const html = finishedLines.map((line) => `<div>${escapeXml(line)}</div>`);
  if (current !== null) {
    plain.push(currentLine);
    const { done, total } = current.latest;
    const bar = total > 0
      ? `<progress value="${done}" max="${total}" style="width: 16em; vertical-align: middle">` +
        `</progress> `
      : "";
    html.push(`<div>${bar}<code>${escapeXml(currentLine)}</code></div>`);
  }
  if (totalSeconds !== null) {
    const line = `finished in ${formatDuration(totalSeconds)}`;
    plain.push(line);
    html.push(`<div><b>${escapeXml(line)}</b></div>`);
  }
  return {
    "text/plain": plain.join("\n"),
    "text/html": `<div style="font-family: monospace">${html.join("")}</div>`,
  };
}
