/**
 * `deno task reproduce [NAME...] [--budget quick|laptop|paper] [--seeds N] [--out DIR]
 *  [--set FIELD=VALUE] [--workers N] [--data DIR]`, and for one experiment's stages
 *  `--stages`, `--stage K`, `--gather` and `--slurm [...] [--submit]`.
 *
 * Runs the named experiments (all of them when none is named) at a budget, shows progress,
 * writes `DIR/<name>.json` and the figures, refreshes the README's claims table, and prints the
 * claims at the end. A user's mistake is reported on one line with a non-zero exit code.
 */
import { parseArgs } from "node:util";
import { InterruptedError, UserError } from "./errors.ts";
import { REPO_ROOT } from "./io.ts";
import { resolve } from "node:path";

const USAGE = `Usage: deno task reproduce [NAME...] [options]

Runs paper reproductions and writes data/results/<name>.json and figures under res/.

Options:
  --budget quick|laptop|paper   size of the run (default laptop)
  --seeds N                     run seeds 0..N-1 instead of the budget's seeds
  --out DIR                     folder for the results files, figures under DIR/res
                                (default data/results, figures in res/)
  --set FIELD=VALUE             change one config field (VALUE is JSON; a dotted FIELD such
                                as planet.model.freeNats reaches a nested one), repeatable;
                                such runs write under data/custom/, not data/results
  --workers N                   worker threads for independent stages (default: one per core)
  --data DIR                    folder for checkpoints and datasets (default data/); on a
                                cluster, a folder on the shared filesystem
  --list                        list experiments, budgets and expected run times
  --help                        show this help

One experiment's stages, one per process (see README, "On a cluster"):
  --stages                      list the stages, their levels and prerequisites
  --stage K                     run stage K alone (resumes from its checkpoints) and exit
  --gather                      read every finished stage back into the results and figures;
                                names the stages not finished instead of running them
  --slurm                       write SLURM scripts: a job array per level of the stage graph,
                                then a gathering job, each after the one before it
    --partition P               SLURM partition (default: the cluster's default)
    --time T                    time limit per stage, as SLURM reads it (e.g. 4:00:00)
    --cpus-per-stage N          CPUs per stage (default 1)
    --gpus-per-stage N          GPUs per stage, as --gres=gpu:N (default 0)
    --submit                    submit them with sbatch and print the job ids

Environment: MBRL_BACKEND=tensorflow|wasm|webgpu|cpu picks the TensorFlow.js backend;
MBRL_BLAS=/path/to/library or MBRL_BLAS=off picks the BLAS the wasm kernels call.`;

interface CliOptions {
  names: string[];
  budget: string;
  seeds?: number;
  out?: string;
  workers?: number;
  data?: string;
  overrides: Record<string, unknown>;
  list: boolean;
  help: boolean;
  stages: boolean;
  stage?: number;
  gather: boolean;
  slurm: boolean;
  partition?: string;
  time?: string;
  cpusPerStage: number;
  gpusPerStage: number;
  submit: boolean;
}

/** Options that take a number, whose negative values parseArgs would take for flags. */
const NUMBER_OPTIONS = {
  "--seeds": "the number of seeds",
  "--workers": "worker threads",
  "--stage": "a stage's index from --stages",
  "--cpus-per-stage": "CPUs per stage",
  "--gpus-per-stage": "GPUs per stage",
};

/** An integer option at least `min`, or undefined when not given. */
function integerOption(
  name: string,
  value: string | undefined,
  min: number,
): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min) {
    const kind = min > 0 ? "a positive integer" : "an integer, 0 or more";
    throw new UserError(`--${name} must be ${kind}, got '${value}'`);
  }
  return number;
}

export function parseCli(args: string[]): CliOptions {
  args.forEach((arg, i) => {
    const meaning = NUMBER_OPTIONS[arg as keyof typeof NUMBER_OPTIONS];
    const value = args[i + 1];
    if (meaning && value !== undefined && /^-\d/.test(value)) {
      throw new UserError(
        `${arg} must be a positive integer (${meaning}, e.g. ${arg} 3), got '${value}'`,
      );
    }
  });
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        budget: { type: "string", default: "laptop" },
        seeds: { type: "string" },
        out: { type: "string" },
        set: { type: "string", multiple: true },
        workers: { type: "string" },
        data: { type: "string" },
        stages: { type: "boolean", default: false },
        stage: { type: "string" },
        gather: { type: "boolean", default: false },
        slurm: { type: "boolean", default: false },
        partition: { type: "string" },
        time: { type: "string" },
        "cpus-per-stage": { type: "string" },
        "gpus-per-stage": { type: "string" },
        submit: { type: "boolean", default: false },
        list: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw new UserError(`${(error as Error).message.split("\n")[0]}; see --help`);
  }
  const { values, positionals } = parsed;
  const seeds = integerOption("seeds", values.seeds, 1);
  const workers = integerOption("workers", values.workers, 1);
  const stage = integerOption("stage", values.stage, 0);
  const cpusPerStage = integerOption("cpus-per-stage", values["cpus-per-stage"], 1) ?? 1;
  const gpusPerStage = integerOption("gpus-per-stage", values["gpus-per-stage"], 0) ?? 0;
  const modes = [
    values.stages && "--stages",
    stage !== undefined && "--stage",
    values.gather && "--gather",
    values.slurm && "--slurm",
  ].filter(Boolean);
  if (modes.length > 1) throw new UserError(`${modes.join(" and ")} cannot be used together`);
  const slurmOnly = [
    values.partition !== undefined && "--partition",
    values.time !== undefined && "--time",
    values["cpus-per-stage"] !== undefined && "--cpus-per-stage",
    values["gpus-per-stage"] !== undefined && "--gpus-per-stage",
    values.submit && "--submit",
  ].filter(Boolean);
  if (slurmOnly.length > 0 && !values.slurm) {
    throw new UserError(
      `${slurmOnly.join(", ")} only go${slurmOnly.length > 1 ? "" : "es"} with --slurm`,
    );
  }
  if (modes.length > 0 && !values.stages && positionals.length !== 1) {
    throw new UserError(`${modes[0]} works on one experiment; name exactly one`);
  }
  const overrides: Record<string, unknown> = {};
  for (const assignment of values.set ?? []) {
    const equals = assignment.indexOf("=");
    if (equals <= 0) throw new UserError(`--set needs FIELD=VALUE, got '${assignment}'`);
    const field = assignment.slice(0, equals);
    const text = assignment.slice(equals + 1);
    try {
      overrides[field] = JSON.parse(text);
    } catch {
      overrides[field] = text;
    }
  }
  return {
    names: positionals,
    budget: values.budget!,
    seeds,
    out: values.out,
    workers,
    data: values.data,
    overrides,
    list: values.list!,
    help: values.help!,
    stages: values.stages!,
    stage,
    gather: values.gather!,
    slurm: values.slurm!,
    partition: values.partition,
    time: values.time,
    cpusPerStage,
    gpusPerStage,
    submit: values.submit!,
  };
}

function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  return `${(seconds / 60).toFixed(1)} min`;
}

/** Fails with one line naming `folder` unless a file can be written there (made if missing). */
export async function checkWritableFolder(folder: string, option = "--out"): Promise<void> {
  try {
    await Deno.mkdir(folder, { recursive: true });
    const probe = await Deno.makeTempFile({ dir: folder, prefix: ".write-check-" });
    await Deno.remove(probe);
  } catch (error) {
    const reason = (error as Error).message.split("\n")[0].replace(/:? ?\(os error \d+\).*$/, "");
    throw new UserError(`${option} ${folder}: cannot write there (${reason})`);
  }
}

async function main(args: string[]): Promise<void> {
  const options = parseCli(args);
  if (options.help) {
    console.log(USAGE);
    return;
  }
  // Validate the backend choice before anything loads TensorFlow.js.
  const { requestedBackend } = await import("./tensor/backend.ts");
  requestedBackend();
  const { parseBudget, resolveConfig, runExperiment } = await import("./experiments/runner.ts");
  const budget = parseBudget(options.budget);
  const { EXPERIMENTS, getExperiment } = await import("./experiments/registry.ts");
  if (options.list) {
    for (const experiment of EXPERIMENTS) {
      const times = Object.entries(experiment.expectedSeconds)
        .map(([name, seconds]) => `${name} ~${formatSeconds(seconds as number)}`)
        .join(", ");
      console.log(`${experiment.name}\n    ${experiment.paper}\n    ${experiment.summary}`);
      console.log(`    budgets: ${times}\n    notebook: ${experiment.notebook}`);
    }
    return;
  }
  const experiments = options.names.length ? options.names.map(getExperiment) : [...EXPERIMENTS];
  if (options.out !== undefined) await checkWritableFolder(options.out);
  const dataRoot = options.data === undefined ? undefined : resolve(options.data);
  if (dataRoot !== undefined) await checkWritableFolder(dataRoot, "--data");
  const { createProgress } = await import("./viz/progress.ts");
  const { claimsText } = await import("./experiments/claims_table.ts");
  const overrides = Object.keys(options.overrides).length ? options.overrides : undefined;
  // Check every config before the first run starts, so a typo fails fast.
  for (const experiment of experiments) {
    resolveConfig(experiment, budget, { numSeeds: options.seeds, overrides });
  }
  if (options.stages || options.stage !== undefined || options.slurm) {
    const { runStageCommand } = await import("./cli_stages.ts");
    await runStageCommand(experiments, budget, { ...options, dataRoot, overrides });
    return;
  }
  if (options.gather) {
    const { requireAllStages } = await import("./experiments/stage_runs.ts");
    const { defaultFolders } = await import("./experiments/runner.ts");
    const [experiment] = experiments;
    const config = resolveConfig(experiment, budget, { numSeeds: options.seeds, overrides });
    const { dataDir } = defaultFolders(experiment.name, budget, { dataRoot, overrides });
    await requireAllStages(experiment, config, dataDir);
  }
  // The first Ctrl-C stops the run between steps (finished stages stay on disk); a second quits.
  const interrupt = new AbortController();
  Deno.addSignalListener("SIGINT", () => {
    if (interrupt.signal.aborted) Deno.exit(130);
    console.error("\nstopping after the current step (Ctrl-C again to quit at once)");
    interrupt.abort();
  });
  const results = [];
  for (const experiment of experiments) {
    console.error(
      `\n== ${experiment.name} (${budget} budget, about ` +
        `${formatSeconds(experiment.expectedSeconds[budget])})`,
    );
    const progress = createProgress();
    const result = await runExperiment(experiment, {
      budget,
      numSeeds: options.seeds,
      overrides,
      outDir: options.out,
      dataRoot,
      // A gathering run reads the stages back here rather than starting workers.
      workers: options.gather ? 1 : options.workers,
      onProgress: (p) => progress.update(p),
      signal: interrupt.signal,
    }).finally(() => progress.finish());
    for (const [stage, seconds] of Object.entries(result.stageSeconds ?? {})) {
      console.error(`   ${stage}: ${formatSeconds(seconds)}`);
    }
    console.error(`   done in ${formatSeconds(result.wallSeconds)}`);
    results.push(result);
  }
  // Only budget runs write the committed results the README's table is made from.
  if (budget !== "quick" && options.out === undefined && overrides === undefined) {
    const { refreshReadme } = await import("./readme.ts");
    await refreshReadme(REPO_ROOT);
  }
  console.log("\nClaims:\n" + claimsText(results));
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (error) {
    if (error instanceof UserError) {
      console.error(`error: ${error.message}`);
      Deno.exit(2);
    }
    // Ctrl-C surfaces as our InterruptedError or as the AbortSignal's own AbortError.
    if (error instanceof InterruptedError || (error as Error)?.name === "AbortError") {
      console.error(
        "interrupted: finished stages are kept under data/; rerun the same command to resume",
      );
      Deno.exit(130);
    }
    throw error;
  }
}
