/**
 * Runs one experiment the same way for the CLI and the notebooks: validates the config, reports
 * progress, times the run, draws the figures and writes the results file atomically.
 *
 * Quick runs (tests, CI, notebook checks) write under data/quick/ so they never overwrite the
 * committed results in data/results/ and the figures in res/.
 */
import { UserError } from "../errors.ts";
import { readJsonIfExists, REPO_ROOT, writeJsonAtomic } from "../io.ts";
import { extendsOutcome, sameOutcome } from "./outcome.ts";
import { configHash } from "../hash.ts";
import {
  type Budget,
  BUDGETS,
  type Experiment,
  type ExperimentResult,
  type Progress,
} from "./types.ts";

export interface RunRequest {
  budget?: Budget;
  /** Run seeds 0..numSeeds-1 instead of the budget's seeds. */
  numSeeds?: number;
  /** Config fields to change, e.g. `{ numEpisodes: 20 }`. */
  overrides?: Record<string, unknown>;
  /** Where `<name>.json` goes (default data/results, or data/quick/results for quick runs). */
  outDir?: string;
  /** Where figures go (default res, or data/quick/res for quick runs). */
  resDir?: string;
  /** Where checkpoints and datasets go (default data/<name>, or data/quick/<name>). */
  dataDir?: string;
  /**
   * The folder that stands for data/ (`--data DIR`): checkpoints and datasets go to the same
   * place under it as they would under data/. Ignored when `dataDir` is given.
   */
  dataRoot?: string;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
  /**
   * Workers for experiments with independent stages (default: one per core, but 1 at the quick
   * budget, whose stages are too small to repay starting workers).
   */
  workers?: number;
  /** Skip writing the results file and figures. */
  dryRun?: boolean;
}

/** Reads a budget name, failing with the valid names. */
export function parseBudget(value: string): Budget {
  if ((BUDGETS as readonly string[]).includes(value)) return value as Budget;
  throw new UserError(`unknown budget '${value}'; valid budgets are ${BUDGETS.join(", ")}`);
}

/** The budget a notebook runs at: MBRL_BUDGET (set by the notebook tests to quick), else laptop. */
export function notebookBudget(): Budget {
  let value: string | undefined;
  try {
    value = Deno.env.get("MBRL_BUDGET");
  } catch {
    value = undefined;
  }
  return value ? parseBudget(value) : "laptop";
}

/** The budget's config with overrides applied, validated by the experiment's schema. */
export function resolveConfig<Config>(
  experiment: Experiment<Config, unknown>,
  budget: Budget,
  request: Pick<RunRequest, "numSeeds" | "overrides"> = {},
): Config {
  const raw = structuredClone(experiment.budgets[budget]) as Record<string, unknown>;
  for (const [field, value] of Object.entries(request.overrides ?? {})) {
    checkSettingExists(experiment, field);
    setField(raw, field, value);
  }
  if (request.numSeeds !== undefined) {
    if (!Number.isInteger(request.numSeeds) || request.numSeeds < 1) {
      throw new UserError(`--seeds must be a positive integer, got ${request.numSeeds}`);
    }
    raw.seeds = Array.from({ length: request.numSeeds }, (_, i) => i);
  }
  const parsed = experiment.configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const field = issue.path.length ? issue.path.join(".") : "(config)";
      return `${field}: ${issue.message}`;
    });
    throw new UserError(`${experiment.name}: invalid config: ${problems.join("; ")}`);
  }
  return parsed.data;
}

/** A zod schema's internals, as far as walking a config's fields needs them. */
interface SchemaNode {
  def: { type: string; innerType?: SchemaNode; shape?: Record<string, SchemaNode> };
}

/** The object schema under optional, nullable and default wrappers, or null if there is none. */
function objectShape(schema: SchemaNode): Record<string, SchemaNode> | null {
  let node: SchemaNode | undefined = schema;
  while (node && ["optional", "nullable", "default", "prefault"].includes(node.def.type)) {
    node = node.def.innerType;
  }
  return node?.def.type === "object" ? node.def.shape ?? null : null;
}

/**
 * Refuses a --set field the experiment's config does not have, at any depth, naming the valid
 * fields at that level; zod would otherwise drop the unknown field and run as if nothing was said.
 */
function checkSettingExists(experiment: Experiment<unknown, unknown>, field: string): void {
  const path = field.split(".");
  let node = experiment.configSchema as unknown as SchemaNode;
  for (let i = 0; i < path.length; i++) {
    const shape = objectShape(node);
    const where = path.slice(0, i).join(".");
    if (!shape) {
      throw new UserError(`--set ${field}: ${where} is not a group of settings`);
    }
    if (!(path[i] in shape)) {
      const scope = where ? `${where} has` : `${experiment.name} has`;
      throw new UserError(
        `--set ${field}: no setting '${path[i]}'; ${scope} ${Object.keys(shape).join(", ")}`,
      );
    }
    node = shape[path[i]];
  }
}

/**
 * Sets `field` of `config` to `value`; a dotted field (`planet.model.freeNats`) reaches into
 * nested objects, which must exist already so a misspelt path fails instead of adding a field.
 */
function setField(config: Record<string, unknown>, field: string, value: unknown): void {
  const path = field.split(".");
  let target = config;
  for (let i = 0; i < path.length - 1; i++) {
    const next = target[path[i]];
    if (typeof next !== "object" || next === null || Array.isArray(next)) {
      throw new UserError(
        `--set ${field}: ${path.slice(0, i + 1).join(".")} is not a group of settings`,
      );
    }
    target = next as Record<string, unknown>;
  }
  target[path.at(-1)!] = value;
}

/** The command that regenerates a result, as recorded in it and shown in the README. */
export function reproduceCommand(
  name: string,
  budget: Budget,
  numSeeds?: number,
  overrides?: Record<string, unknown>,
): string {
  const seeds = numSeeds === undefined ? "" : ` --seeds ${numSeeds}`;
  const sets = Object.entries(overrides ?? {})
    .map(([field, value]) => ` --set '${field}=${JSON.stringify(value)}'`)
    .join("");
  return `deno task reproduce ${name} --budget ${budget}${seeds}${sets}`;
}

/**
 * Where a run writes. Budget runs write the committed places (data/results, res) and keep their
 * stages in data/<name>; quick runs write under data/quick/, and runs with `--set` overrides
 * under data/custom/ (their stages in a folder per set of overrides), so neither overwrites the
 * committed results nor trips over the stage files of the budget's own run.
 */
export function defaultFolders(
  name: string,
  budget: Budget,
  request: Pick<RunRequest, "outDir" | "resDir" | "dataDir" | "dataRoot" | "overrides">,
): { outDir: string; resDir: string; dataDir: string } {
  const overrides = request.overrides && Object.keys(request.overrides).length > 0
    ? request.overrides
    : null;
  const scratch = budget === "quick" ? "data/quick" : overrides ? "data/custom" : null;
  // Overrides sorted by field, so the same --set flags in any order share a folder.
  const dataName = overrides && scratch === "data/custom"
    ? `${name}-${budget}-${configHash(Object.entries(overrides).sort())}`
    : name;
  return {
    outDir: request.outDir ?? `${REPO_ROOT}/${scratch ? `${scratch}/results` : "data/results"}`,
    // Figures follow the results: a run sent elsewhere with --out leaves res/ alone.
    resDir: request.resDir ??
      (request.outDir
        ? `${request.outDir}/res`
        : `${REPO_ROOT}/${scratch ? `${scratch}/res` : "res"}`),
    dataDir: request.dataDir ??
      (request.dataRoot
        ? `${request.dataRoot}/${scratch ? `${scratch.replace("data/", "")}/` : ""}${dataName}`
        : `${REPO_ROOT}/${scratch ?? "data"}/${dataName}`),
  };
}

/**
 * A run that only read finished stages back (a notebook re-executed, say) and reproduced the
 * outcome already on file keeps the recorded run's wall time: the seconds of reading stages back
 * would otherwise replace the time the results actually took. One that reproduced it and added
 * measurements (new stages on top of finished ones) records the recorded time plus its own.
 */
async function keepRunTimeOfReplay(path: string, result: ExperimentResult<unknown>): Promise<void> {
  let previous: ExperimentResult<unknown> | null = null;
  try {
    previous = await readJsonIfExists<ExperimentResult<unknown>>(path);
  } catch {
    return;
  }
  if (
    !previous || previous.budget !== result.budget || previous.command !== result.command ||
    previous.wallSeconds <= result.wallSeconds
  ) {
    return;
  }
  if (sameOutcome(previous, result)) {
    result.wallSeconds = previous.wallSeconds;
  } else if (extendsOutcome(previous, result)) {
    result.wallSeconds = Math.round((previous.wallSeconds + result.wallSeconds) * 100) / 100;
  }
}

export async function runExperiment<Config, Metrics>(
  experiment: Experiment<Config, Metrics>,
  request: RunRequest = {},
): Promise<ExperimentResult<Metrics>> {
  const budget = request.budget ?? "laptop";
  const config = resolveConfig(experiment as Experiment<Config, unknown>, budget, request);
  const quick = budget === "quick";
  const { outDir, resDir, dataDir } = defaultFolders(experiment.name, budget, request);
  const started = performance.now();
  const result = await experiment.run(config, {
    onProgress: request.onProgress,
    budget: request.overrides ? "custom" : budget,
    dataDir,
    signal: request.signal,
    workers: request.workers ?? (quick ? 1 : undefined),
  });
  result.wallSeconds = Math.round((performance.now() - started) / 10) / 100;
  result.command = reproduceCommand(experiment.name, budget, request.numSeeds, request.overrides);
  if (!request.dryRun) {
    if (experiment.drawFigures) {
      const figures = await experiment.drawFigures(result, resDir);
      result.figures = figures.map((path) => path.replace(`${REPO_ROOT}/`, ""));
    }
    const path = `${outDir}/${experiment.name}.json`;
    await keepRunTimeOfReplay(path, result);
    await writeJsonAtomic(path, result);
  }
  return result;
}
