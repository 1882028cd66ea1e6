/**
 * An experiment's stage graph as SLURM batch jobs: one job array per level of the graph (every
 * array task one `--stage K` run), each level after the one before it (`--dependency=afterok`),
 * and a last job that gathers the finished stages into the results file and figures. SLURM does
 * the scheduling, retries (`--requeue`), dependencies and logs; this module only writes the
 * scripts and submits them in order. Stages already finished (their markers are on disk) are
 * left out, so submitting the same command again runs only what is missing, and an interrupted
 * stage resumes from its own checkpoints.
 */
import { UserError } from "../errors.ts";
import { type StageJob, stageLevels } from "./stage_pool.ts";

export interface SlurmRequest {
  partition?: string;
  /** SLURM's time limit per stage, e.g. "2:00:00". */
  time?: string;
  cpusPerStage: number;
  gpusPerStage: number;
}

export interface SlurmScript {
  /** File name inside the scripts folder, e.g. "level-0.sbatch" or "gather.sbatch". */
  file: string;
  /** Stage indices an array script runs; empty for the gathering job. */
  stages: number[];
  text: string;
}

export interface SlurmPlanInput {
  experiment: string;
  jobs: readonly StageJob[];
  /** Stages already finished, left out of the arrays. */
  finished: ReadonlySet<number>;
  /** Arguments of `lib/cli.ts` that name the run (experiment, budget, seeds, --set, --data). */
  runArgs: readonly string[];
  repoRoot: string;
  denoPath: string;
  /** Where the scripts and the logs go (on the shared filesystem). */
  folder: string;
  request: SlurmRequest;
}

/** Quotes a word for bash unless it is plainly safe. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=,+@%-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

function header(input: SlurmPlanInput, jobName: string, arrayTasks: number | null): string[] {
  const { request, folder } = input;
  const lines = [
    "#!/bin/bash",
    `#SBATCH --job-name=${jobName}`,
    `#SBATCH --cpus-per-task=${request.cpusPerStage}`,
    `#SBATCH --output=${folder}/logs/%x-${arrayTasks === null ? "%j" : "%A_%a"}.log`,
    // A node failure puts the task back in the queue; it resumes from its checkpoints.
    "#SBATCH --requeue",
    // If a level fails, the levels after it are cancelled instead of waiting for ever.
    "#SBATCH --kill-on-invalid-dep=yes",
  ];
  if (arrayTasks !== null) lines.push(`#SBATCH --array=0-${arrayTasks - 1}`);
  if (request.partition) lines.push(`#SBATCH --partition=${request.partition}`);
  if (request.time) lines.push(`#SBATCH --time=${request.time}`);
  if (request.gpusPerStage > 0) lines.push(`#SBATCH --gres=gpu:${request.gpusPerStage}`);
  return lines;
}

function command(input: SlurmPlanInput, extra: string): string[] {
  const args = input.runArgs.map(shellQuote).join(" ");
  return [
    "set -euo pipefail",
    `cd ${shellQuote(input.repoRoot)}`,
    // The BLAS keeps to the CPUs SLURM gave this task (lib/cores.ts reads the same variable).
    'export OPENBLAS_NUM_THREADS="${SLURM_CPUS_PER_TASK:-1}"',
    `exec ${shellQuote(input.denoPath)} run -A lib/cli.ts ${args} ${extra}`,
  ];
}

/**
 * The scripts, in submission order: one array per level that still has unfinished stages, then
 * the gathering job. Each is submitted after the one before it has succeeded.
 */
export function slurmScripts(input: SlurmPlanInput): SlurmScript[] {
  const levels = stageLevels(input.jobs);
  const scripts: SlurmScript[] = [];
  const deepest = Math.max(...levels);
  for (let level = 0; level <= deepest; level++) {
    const stages = input.jobs.map((_, i) => i).filter((i) =>
      levels[i] === level && !input.finished.has(i)
    );
    if (stages.length === 0) continue;
    const labels = stages.map((i) => `#   ${i}: ${input.jobs[i].label}`);
    const text = [
      ...header(input, `mbrl-${input.experiment}-level-${level}`, stages.length),
      `# Level ${level} of ${input.experiment}'s stages, one array task each:`,
      ...labels,
      `stages=(${stages.join(" ")})`,
      ...command(input, '--stage "${stages[$SLURM_ARRAY_TASK_ID]}"'),
      "",
    ].join("\n");
    scripts.push({ file: `level-${level}.sbatch`, stages, text });
  }
  const gather = [
    ...header(input, `mbrl-${input.experiment}-gather`, null),
    `# Reads every finished stage of ${input.experiment} back and writes its results and figures;`,
    "# names any stage that has not finished instead of writing a partial result.",
    ...command(input, "--gather"),
    "",
  ].join("\n");
  scripts.push({ file: "gather.sbatch", stages: [], text: gather });
  return scripts;
}

/** A shell script that submits the scripts in order, for users who submit by hand. */
export function submitScript(scripts: readonly SlurmScript[]): string {
  const lines = ["#!/bin/bash", "set -euo pipefail", 'cd "$(dirname "$0")"', "after="];
  for (const script of scripts) {
    lines.push(
      `id=$(sbatch --parsable \${after:+--dependency=afterok:$after} ${script.file} | cut -d';' -f1)`,
      `echo "${script.file}: job $id"`,
      "after=$id",
    );
  }
  return lines.join("\n") + "\n";
}

/** Runs a program and returns its exit code and output, or null if it is not on the PATH. */
async function runProgram(
  program: string,
  args: string[],
  cwd?: string,
): Promise<{ code: number; stdout: string; stderr: string } | null> {
  try {
    const output = await new Deno.Command(program, { args, cwd, stdout: "piped", stderr: "piped" })
      .output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trim();
    return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/**
 * Checks what can be checked before anything is written or submitted: sbatch on the PATH and,
 * when one is named, a partition the cluster knows.
 */
export async function checkSlurm(request: SlurmRequest): Promise<void> {
  const version = await runProgram("sbatch", ["--version"]);
  if (version === null) {
    throw new UserError("--slurm needs SLURM's sbatch on the PATH, and there is none here");
  }
  if (request.partition) {
    const shown = await runProgram("scontrol", ["show", "partition", request.partition]);
    if (shown === null || shown.code !== 0) {
      const known = await runProgram("sinfo", ["-h", "-o", "%R"]);
      const names = known?.code === 0 ? [...new Set(known.stdout.split(/\s+/))].join(", ") : "";
      throw new UserError(
        `--partition ${request.partition}: no such partition on this cluster` +
          (names ? ` (it has ${names})` : ""),
      );
    }
  }
}

/** Submits the scripts in order, each after the one before it; returns the job ids. */
export async function submitScripts(
  scripts: readonly SlurmScript[],
  folder: string,
): Promise<string[]> {
  const ids: string[] = [];
  for (const script of scripts) {
    const args = ["--parsable"];
    if (ids.length > 0) args.push(`--dependency=afterok:${ids.at(-1)}`);
    args.push(script.file);
    const result = await runProgram("sbatch", args, folder);
    if (result === null || result.code !== 0) {
      const reason = result?.stderr.split("\n")[0] ?? "sbatch is not on the PATH";
      const submitted = ids.length ? ` (already submitted: ${ids.join(", ")})` : "";
      throw new UserError(`sbatch ${script.file}: ${reason}${submitted}`);
    }
    ids.push(result.stdout.split(";")[0]);
  }
  return ids;
}
