/**
 * The SLURM path: the scripts (job arrays per level of the stage graph, chained to a gathering
 * job), the mistakes caught before anything is submitted, and, on a real SLURM (a one-node
 * cluster from scripts/slurm_local_cluster.sh), a submitted quick run equal to the local one and
 * a run that survives the cancelling of one array task. Without SLURM here those two say so and
 * skip, except where MBRL_REQUIRE_SLURM=1 (CI) makes them fail.
 */
import assert from "node:assert/strict";
import { shellQuote, slurmScripts } from "../../lib/experiments/slurm.ts";
import type { StageJob } from "../../lib/experiments/stage_pool.ts";
import { oneLineError, outcome, reproduce, reproduceOk } from "./fixtures/stage_cli.ts";

function jobs(afters: number[][]): StageJob[] {
  return afters.map((after, i) => ({
    label: `stage ${i}`,
    moduleUrl: "file:///x.ts",
    exportName: "runStage",
    args: {},
    after,
  }));
}

const REQUEST = { cpusPerStage: 2, gpusPerStage: 0 };

function plan(finished: number[], request: Parameters<typeof slurmScripts>[0]["request"]) {
  return slurmScripts({
    experiment: "demo",
    jobs: jobs([[], [], [0], [1], [2, 3]]),
    finished: new Set(finished),
    runArgs: ["demo", "--budget", "quick", "--set", "a.b=[1, 2]", "--data", "/shared/data"],
    repoRoot: "/shared/repo",
    denoPath: "/opt/deno",
    folder: "/shared/data/demo/slurm",
    request,
  });
}

Deno.test("SLURM scripts", async (t) => {
  await t.step("one array per level, then the gathering job", () => {
    const scripts = plan([], REQUEST);
    assert.deepEqual(scripts.map((s) => s.file), [
      "level-0.sbatch",
      "level-1.sbatch",
      "level-2.sbatch",
      "gather.sbatch",
    ]);
    assert.deepEqual(scripts.map((s) => s.stages), [[0, 1], [2, 3], [4], []]);
    const [level0, , , gather] = scripts;
    assert.match(level0.text, /^#SBATCH --array=0-1$/m);
    assert.match(level0.text, /^stages=\(0 1\)$/m);
    assert.match(level0.text, /^#SBATCH --cpus-per-task=2$/m);
    assert.match(level0.text, /^#SBATCH --requeue$/m);
    assert.match(level0.text, /--stage "\$\{stages\[\$SLURM_ARRAY_TASK_ID\]\}"$/m);
    assert.match(level0.text, /^cd \/shared\/repo$/m);
    assert.match(level0.text, /'a\.b=\[1, 2\]' --data \/shared\/data/, "arguments quoted");
    assert.doesNotMatch(level0.text, /--partition|--time|--gres/);
    assert.doesNotMatch(gather.text, /--array/);
    assert.match(gather.text, /lib\/cli\.ts .* --gather$/m);
  });

  await t.step("finished stages are left out, and empty levels with them", () => {
    const scripts = plan([0, 1, 2], REQUEST);
    assert.deepEqual(scripts.map((s) => [s.file, s.stages]), [
      ["level-1.sbatch", [3]],
      ["level-2.sbatch", [4]],
      ["gather.sbatch", []],
    ]);
    assert.deepEqual(plan([0, 1, 2, 3, 4], REQUEST).map((s) => s.file), ["gather.sbatch"]);
  });

  await t.step("partition, time limit and GPUs become sbatch options", () => {
    const [level0] = plan([], {
      partition: "gpu",
      time: "4:00:00",
      cpusPerStage: 4,
      gpusPerStage: 1,
    });
    assert.match(level0.text, /^#SBATCH --partition=gpu$/m);
    assert.match(level0.text, /^#SBATCH --time=4:00:00$/m);
    assert.match(level0.text, /^#SBATCH --gres=gpu:1$/m);
    assert.match(level0.text, /^#SBATCH --cpus-per-task=4$/m);
  });

  await t.step("shell quoting", () => {
    assert.equal(shellQuote("/a/b-c_d.ts"), "/a/b-c_d.ts");
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
  });

  await t.step("without sbatch on the PATH, --slurm stops before writing anything", async () => {
    const data = await Deno.makeTempDir();
    const { code, stderr } = await reproduce(
      ["planet-pendulum", "--budget", "quick", "--data", data, "--slurm", "--submit"],
      { PATH: "/nonexistent" },
    );
    assert.equal(code, 2);
    assert.match(oneLineError(stderr), /--slurm needs SLURM's sbatch on the PATH/);
    assert.deepEqual([...Deno.readDirSync(data)], []);
    await Deno.remove(data, { recursive: true });
  });
});

// ---------------------------------------------------------------------------------------------
// On a real SLURM

async function slurmRunning(): Promise<boolean> {
  try {
    const output = await new Deno.Command("sinfo", { args: ["-h", "-o", "%T"], stdout: "piped" })
      .output();
    return output.code === 0 && /idle|mix|alloc/.test(new TextDecoder().decode(output.stdout));
  } catch {
    return false;
  }
}

const required = Deno.env.get("MBRL_REQUIRE_SLURM") === "1";
const available = await slurmRunning();
if (!available && !required) {
  console.log(
    "SLURM is not running here: the submitted-run tests skip (start a one-node cluster with " +
      "scripts/slurm_local_cluster.sh as root)",
  );
}

async function slurm(program: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(program, { args, stdout: "piped", stderr: "piped" })
    .output();
  return new TextDecoder().decode(output.stdout).trim();
}

/** Waits until none of the jobs is pending or running. */
async function waitForJobs(ids: string[], timeoutSeconds = 240): Promise<void> {
  const deadline = performance.now() + timeoutSeconds * 1000;
  while (performance.now() < deadline) {
    const queued = await slurm("squeue", ["-h", "-j", ids.join(","), "-o", "%i"]);
    if (queued === "") return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`jobs ${ids.join(", ")} still queued after ${timeoutSeconds} s`);
}

/** The job ids `--slurm --submit` printed, in order (levels, then gather). */
function jobIds(stdout: string): string[] {
  return [...stdout.matchAll(/: job (\d+)/g)].map((match) => match[1]);
}

// Enough planning episodes that the PlaNet stage runs for seconds and can be cancelled mid-run.
const RUN = ["planet-pendulum", "--budget", "quick", "--set", "planet.planningEpisodes=24"];

Deno.test({
  name: "a quick run submitted to SLURM",
  ignore: !available && !required,
  fn: async (t) => {
    assert.ok(available, "MBRL_REQUIRE_SLURM=1 but no SLURM cluster answers sinfo here");
    const root = await Deno.makeTempDir({ prefix: "mbrl-slurm-" });
    const local = [...RUN, "--data", `${root}/local`, "--out", `${root}/local-out`];
    await reproduceOk(local);
    const expected = await outcome(`${root}/local-out/planet-pendulum.json`);

    await t.step("an unknown partition stops before anything is submitted", async () => {
      const run = [...RUN, "--data", `${root}/other`, "--slurm", "--partition", "nosuch"];
      const { code, stderr } = await reproduce([...run, "--submit"]);
      assert.equal(code, 2);
      assert.match(oneLineError(stderr), /--partition nosuch: no such partition on this cluster/);
    });

    await t.step("gives the results of the local run", async () => {
      const run = [...RUN, "--data", `${root}/slurm`, "--out", `${root}/slurm-out`, "--slurm"];
      const { stdout } = await reproduceOk([...run, "--submit"]);
      const ids = jobIds(stdout);
      assert.equal(ids.length, 3, stdout);
      await waitForJobs(ids);
      assert.deepEqual(await outcome(`${root}/slurm-out/planet-pendulum.json`), expected);
    });

    await t.step(
      "a cancelled array task: resubmitting finishes with the same results",
      async () => {
        const data = `${root}/cancelled`;
        const run = [
          ...RUN,
          "--data",
          data,
          "--out",
          `${root}/cancelled-out`,
          "--slurm",
          "--submit",
        ];
        const first = jobIds((await reproduceOk(run)).stdout);
        // Cancel the PlaNet stage (array task 0 of level 0) once it has saved a few episodes.
        const progress = `${data}/quick/planet-pendulum/planet-seed-0/progress.json`;
        const deadline = performance.now() + 120_000;
        let episodes = 0;
        while (episodes < 4 && performance.now() < deadline) {
          try {
            episodes = JSON.parse(await Deno.readTextFile(progress)).curve.length;
          } catch {
            episodes = 0;
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.ok(episodes >= 4, "the PlaNet stage did not get going");
        await slurm("scancel", [`${first[0]}_0`]);
        await waitForJobs(first);
        await assert.rejects(
          Deno.stat(`${root}/cancelled-out/planet-pendulum.json`),
          "no result from a run with a cancelled stage",
        );
        const saved = JSON.parse(await Deno.readTextFile(progress)).curve.length;
        assert.ok(saved < 26, `the stage was cancelled mid-run (${saved} episodes saved)`);

        const again = await reproduceOk(run);
        assert.match(again.stderr, /stages to run \(\d+ already finished\)/);
        await waitForJobs(jobIds(again.stdout));
        assert.deepEqual(await outcome(`${root}/cancelled-out/planet-pendulum.json`), expected);
      },
    );

    await Deno.remove(root, { recursive: true });
  },
});
