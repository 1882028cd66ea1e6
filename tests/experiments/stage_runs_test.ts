/**
 * One stage per process (`--stage K`), then `--gather`, gives the results of an ordinary run; and
 * the stage commands' mistakes are one-line errors.
 */
import assert from "node:assert/strict";
import { oneLineError, outcome, reproduce, reproduceOk } from "./fixtures/stage_cli.ts";
import { EXPERIMENTS } from "../../lib/experiments/registry.ts";
import { resolveConfig } from "../../lib/experiments/runner.ts";
import { loadStageFunction, stageLevels } from "../../lib/experiments/stage_pool.ts";

const RUN = ["planet-pendulum", "--budget", "quick"];

Deno.test("stages one per process", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "mbrl-stages-" });
  const staged = [...RUN, "--data", `${root}/staged`, "--out", `${root}/staged-out`];
  const local = [...RUN, "--data", `${root}/local`, "--out", `${root}/local-out`];

  await t.step("--stages lists the graph with levels and prerequisites", async () => {
    const { stdout } = await reproduceOk([...staged, "--stages"]);
    assert.match(stdout, /0 +level 0 +planet seed 0/);
    assert.match(stdout, /3 +level 1 +checkpoints seed 0 +after 0/);
  });

  await t.step("a stage whose prerequisite has not finished is refused", async () => {
    const { code, stderr } = await reproduce([...staged, "--stage", "3"]);
    assert.equal(code, 2);
    assert.match(oneLineError(stderr), /--stage 3 \(checkpoints seed 0\) needs stage 0 \(planet/);
  });

  await t.step("gathering with stages missing names them and writes nothing", async () => {
    await reproduceOk([...staged, "--stage", "1"]);
    const { code, stderr } = await reproduce([...staged, "--gather"]);
    assert.equal(code, 2);
    assert.match(oneLineError(stderr), /stages 0 \(planet seed 0\), 2 \(true-simulator\), 3 /);
    await assert.rejects(Deno.stat(`${root}/staged-out/planet-pendulum.json`));
  });

  await t.step("every stage alone, then --gather, equals one ordinary run", async () => {
    for (const stage of ["0", "2", "3"]) await reproduceOk([...staged, "--stage", stage]);
    const { stdout } = await reproduceOk([...staged, "--stages"]);
    assert.equal(stdout.match(/\(finished\)/g)?.length, 4);
    await reproduceOk([...staged, "--gather"]);
    await reproduceOk(local);
    assert.deepEqual(
      await outcome(`${root}/staged-out/planet-pendulum.json`),
      await outcome(`${root}/local-out/planet-pendulum.json`),
    );
  });

  await t.step("mistakes are one line each", async () => {
    const cases: [string[], RegExp][] = [
      [[...staged, "--stage", "9"], /--stage 9: planet-pendulum has stages 0 to 3/],
      [[...staged, "--stage", "-1"], /--stage must be a positive integer/],
      [["dyna-maze", "--budget", "quick", "--stage", "0"], /dyna-maze runs in one piece/],
      [["planet-pendulum", "dyna-maze", "--stage", "0"], /--stage works on one experiment/],
      [[...staged, "--stages", "--gather"], /--stages and --gather cannot be used together/],
      [[...staged, "--partition", "x"], /--partition only goes with --slurm/],
      [[...RUN, "--data", "/dev/null/data", "--stages"], /--data \/dev\/null\/data: cannot write/],
    ];
    for (const [args, pattern] of cases) {
      const { code, stderr } = await reproduce(args);
      assert.equal(code, 2, args.join(" "));
      assert.match(oneLineError(stderr), pattern);
    }
  });

  await Deno.remove(root, { recursive: true });
});

Deno.test("every experiment's stage graph, at every budget", async (t) => {
  for (const experiment of EXPERIMENTS) {
    if (!experiment.stageJobs) continue;
    await t.step(experiment.name, async () => {
      for (const budget of ["quick", "laptop", "paper"] as const) {
        const config = resolveConfig(experiment, budget);
        const jobs = experiment.stageJobs!(config, "/data");
        assert.ok(jobs.length > 0);
        const labels = jobs.map((job) => job.label);
        assert.equal(new Set(labels).size, labels.length, `${budget}: labels tell stages apart`);
        stageLevels(jobs); // prerequisites name earlier stages
        for (const job of jobs) {
          assert.ok((job.weight ?? 1) >= 0);
          // Workers and SLURM tasks get the arguments by structured clone.
          assert.doesNotThrow(() => structuredClone(job.args), job.label);
        }
        const fn = await loadStageFunction(jobs[0].moduleUrl.toString(), jobs[0].exportName);
        assert.equal(typeof fn, "function");
      }
    });
  }
});
