/**
 * The CLI's stage commands (lib/cli.ts): `--stages` lists an experiment's stage graph, `--stage K`
 * runs one stage in this process, and `--slurm` writes (and with `--submit`, submits) the SLURM
 * job arrays that run every stage and then gather them (lib/experiments/slurm.ts).
 */
import { resolve } from "node:path";
import { UserError } from "./errors.ts";
import { REPO_ROOT } from "./io.ts";
import { defaultFolders, resolveConfig } from "./experiments/runner.ts";
import { describeStages, finishedStages, runOneStage, stagesOf } from "./experiments/stage_runs.ts";
import {
  checkSlurm,
  shellQuote,
  slurmScripts,
  submitScript,
  submitScripts,
} from "./experiments/slurm.ts";
import type { Budget, Experiment } from "./experiments/types.ts";

export interface StageCommandOptions {
  stages: boolean;
  stage?: number;
  slurm: boolean;
  seeds?: number;
  out?: string;
  /** Absolute `--data` folder, or undefined for data/. */
  dataRoot?: string;
  overrides?: Record<string, unknown>;
  partition?: string;
  time?: string;
  cpusPerStage: number;
  gpusPerStage: number;
  submit: boolean;
}

export async function runStageCommand(
  experiments: Experiment<unknown, unknown>[],
  budget: Budget,
  options: StageCommandOptions,
): Promise<void> {
  for (const experiment of experiments) {
    const config = resolveConfig(experiment, budget, {
      numSeeds: options.seeds,
      overrides: options.overrides,
    });
    const { dataDir } = defaultFolders(experiment.name, budget, {
      dataRoot: options.dataRoot,
      overrides: options.overrides,
    });
    if (options.stages) {
      const jobs = experiment.stageJobs?.(config, dataDir) ?? [];
      if (jobs.length === 0) {
        console.log(`${experiment.name} (${budget}): runs in one piece, no stages`);
        continue;
      }
      const finished = await finishedStages(jobs, config, dataDir);
      console.log(`${experiment.name} (${budget}), data in ${dataDir}:`);
      for (const line of describeStages(jobs, finished)) console.log(line);
    } else if (options.stage !== undefined) {
      const { createProgress } = await import("./viz/progress.ts");
      const progress = createProgress();
      const { label, seconds } = await runOneStage(
        experiment,
        config,
        dataDir,
        options.stage,
        (p) => progress.update(p),
      ).finally(() => progress.finish());
      console.error(`stage ${options.stage} (${label}) of ${experiment.name} done in ${seconds} s`);
    } else if (options.slurm) {
      await writeSlurmRun(experiment, budget, config, dataDir, options);
    }
  }
}

/** The CLI arguments that name this run, for the scripts' `--stage` and `--gather` runs. */
function runArguments(
  experiment: Experiment<unknown, unknown>,
  budget: Budget,
  dataRoot: string,
  options: StageCommandOptions,
): string[] {
  const args = [experiment.name, "--budget", budget];
  if (options.seeds !== undefined) args.push("--seeds", String(options.seeds));
  for (const [field, value] of Object.entries(options.overrides ?? {})) {
    args.push("--set", `${field}=${JSON.stringify(value)}`);
  }
  args.push("--data", dataRoot);
  if (options.out !== undefined) args.push("--out", resolve(options.out));
  return args;
}

async function writeSlurmRun(
  experiment: Experiment<unknown, unknown>,
  budget: Budget,
  config: unknown,
  dataDir: string,
  options: StageCommandOptions,
): Promise<void> {
  const request = {
    partition: options.partition,
    time: options.time,
    cpusPerStage: options.cpusPerStage,
    gpusPerStage: options.gpusPerStage,
  };
  await checkSlurm(request);
  const jobs = stagesOf(experiment, config, dataDir);
  const folder = `${dataDir}/slurm`;
  try {
    await Deno.mkdir(`${folder}/logs`, { recursive: true });
  } catch (error) {
    const reason = (error as Error).message.split("\n")[0].replace(/:? ?\(os error \d+\).*$/, "");
    throw new UserError(`cannot write the SLURM scripts under ${folder} (${reason})`);
  }
  const finished = await finishedStages(jobs, config, dataDir);
  const scripts = slurmScripts({
    experiment: experiment.name,
    jobs,
    finished,
    runArgs: runArguments(experiment, budget, options.dataRoot ?? `${REPO_ROOT}/data`, options),
    repoRoot: REPO_ROOT,
    denoPath: Deno.execPath(),
    folder,
    request,
  });
  for (const script of scripts) await Deno.writeTextFile(`${folder}/${script.file}`, script.text);
  await Deno.writeTextFile(`${folder}/submit.sh`, submitScript(scripts), { mode: 0o755 });
  const pending = jobs.length - finished.size;
  console.error(
    `${experiment.name}: ${pending} of ${jobs.length} stages to run` +
      (finished.size ? ` (${finished.size} already finished)` : "") +
      `; scripts in ${folder}`,
  );
  for (const script of scripts) {
    const what = script.stages.length
      ? `stages ${script.stages.join(", ")}`
      : "gathers the results";
    console.error(`  ${script.file}: ${what}`);
  }
  if (!options.submit) {
    console.error(`submit with: bash ${shellQuote(`${folder}/submit.sh`)}  (or add --submit)`);
    return;
  }
  const ids = await submitScripts(scripts, folder);
  scripts.forEach((script, i) => console.log(`${script.file}: job ${ids[i]}`));
  console.error(`logs in ${folder}/logs`);
}
