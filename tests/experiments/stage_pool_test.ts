import assert from "node:assert/strict";
import {
  chainGroups,
  runStageJobs,
  type StageJob,
  stageLevels,
} from "../../lib/experiments/stage_pool.ts";
import { InterruptedError, UserError } from "../../lib/errors.ts";
import type { Progress } from "../../lib/experiments/types.ts";

const fixture = new URL("./fixtures/stage_fixture.ts", import.meta.url);

function squareJobs(dir: string, count: number): StageJob[] {
  return Array.from({ length: count }, (_, n) => ({
    label: `square ${n}`,
    moduleUrl: fixture,
    exportName: "writeSquare",
    args: { path: `${dir}/${n}.txt`, n },
  }));
}

Deno.test("runStageJobs", async (t) => {
  for (const workers of [1, 2]) {
    await t.step(`${workers} worker(s) run every job once and fold progress`, async () => {
      const dir = await Deno.makeTempDir();
      const updates: Progress[] = [];
      await runStageJobs(squareJobs(dir, 5), { workers, onProgress: (p) => updates.push(p) });
      for (let n = 0; n < 5; n++) {
        assert.equal(await Deno.readTextFile(`${dir}/${n}.txt`), String(n * n));
      }
      assert.ok(updates.every((p) => p.total === 5 && p.stage === updates[0].stage));
      assert.equal(updates.at(-1)!.done, 5);
      await Deno.remove(dir, { recursive: true });
    });
  }

  await t.step("weights make the folded progress follow cost, not the count of jobs", async () => {
    const dir = await Deno.makeTempDir();
    const jobs = squareJobs(dir, 2).map((job, i) => ({ ...job, weight: i === 0 ? 3 : 1 }));
    const updates: Progress[] = [];
    await runStageJobs(jobs, { workers: 1, onProgress: (p) => updates.push(p) });
    const afterFirst = updates.find((p) => p.message === "square 0: done");
    assert.equal(afterFirst?.done, 1.5, "the first job is three quarters of the work");
    assert.equal(afterFirst?.total, 2);
    assert.equal(updates.at(-1)!.done, 2);
    await Deno.remove(dir, { recursive: true });
  });

  await t.step("aborting while workers run stops them and keeps what finished", async () => {
    const dir = await Deno.makeTempDir();
    const controller = new AbortController();
    const jobs: StageJob[] = [0, 1, 2, 3].map((n) => ({
      label: `slow ${n}`,
      moduleUrl: fixture,
      exportName: "slowWrite",
      args: { path: `${dir}/${n}.txt`, ms: n < 2 ? 10 : 5_000 },
    }));
    setTimeout(() => controller.abort(), 1_500);
    const started = performance.now();
    await assert.rejects(
      runStageJobs(jobs, { workers: 2, signal: controller.signal }),
      (error: unknown) => error instanceof InterruptedError,
    );
    assert.ok(performance.now() - started < 4_000, "the slow jobs were not stopped");
    const written = [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
    assert.deepEqual(written, ["0.txt", "1.txt"]);
    await Deno.remove(dir, { recursive: true });
  });

  await t.step("a job's UserError comes back as a UserError naming the job", async () => {
    const jobs: StageJob[] = [{
      label: "the refusing one",
      moduleUrl: fixture,
      exportName: "refuse",
      args: { why: "no data" },
    }];
    for (const workers of [1, 2]) {
      await assert.rejects(
        runStageJobs([...jobs, ...jobs], { workers }),
        (error: Error) =>
          error instanceof UserError && /the refusing one: no data/.test(error.message),
      );
    }
  });

  await t.step("a missing export is named", async () => {
    await assert.rejects(
      runStageJobs([{ label: "x", moduleUrl: fixture, exportName: "notAFunction", args: {} }], {
        workers: 1,
      }),
      /no exported function notAFunction/,
    );
  });

  for (const workers of [1, 2, 3]) {
    await t.step(`a job starts only after the jobs it names (${workers} worker(s))`, async () => {
      // a (slow) <- c, b <- d, c + d <- e: with free workers c and d would start at once.
      const dir = await Deno.makeTempDir();
      const job = (name: string, ms: number, after: number[], inputs: string[]): StageJob => ({
        label: name,
        moduleUrl: fixture,
        exportName: "sumAfter",
        args: { path: `${dir}/${name}`, inputs: inputs.map((i) => `${dir}/${i}`), ms },
        after,
      });
      await runStageJobs([
        job("a", 300, [], []),
        job("b", 0, [], []),
        job("c", 0, [0], ["a"]),
        job("d", 0, [1], ["b"]),
        job("e", 0, [2, 3], ["c", "d"]),
      ], { workers });
      assert.equal(await Deno.readTextFile(`${dir}/e`), "5");
      await Deno.remove(dir, { recursive: true });
    });
  }

  await t.step("a job may only wait for earlier jobs", async () => {
    const dir = await Deno.makeTempDir();
    const jobs = squareJobs(dir, 3);
    jobs[1] = { ...jobs[1], after: [2] };
    await assert.rejects(
      runStageJobs(jobs, { workers: 2 }),
      /"square 1" \(job 1\) may only wait for earlier jobs, got 2/,
    );
    await Deno.remove(dir, { recursive: true });
  });

  for (const workers of [1, 2]) {
    await t.step(`an aborted signal stops the jobs (${workers} worker(s))`, async () => {
      const controller = new AbortController();
      controller.abort();
      const dir = await Deno.makeTempDir();
      await assert.rejects(
        runStageJobs(squareJobs(dir, 4), { workers, signal: controller.signal }),
        (error: unknown) => error instanceof InterruptedError,
      );
      await Deno.remove(dir, { recursive: true });
    });
  }
});

Deno.test("stage graphs", async (t) => {
  const job = (label: string, after?: number[]): StageJob => ({
    label,
    moduleUrl: fixture,
    exportName: "writeSquare",
    args: {},
    ...(after ? { after } : {}),
  });

  await t.step("chained groups wait for the whole group before them", () => {
    const jobs = chainGroups([[job("a"), job("b")], [job("c")], [job("d"), job("e")]]);
    assert.deepEqual(jobs.map((j) => j.after ?? []), [[], [], [0, 1], [2], [2]]);
  });

  await t.step("a job's level is one more than its deepest prerequisite's", () => {
    const jobs = [
      job("world 0"),
      job("world 1"),
      job("c 0", [0]),
      job("c 1", [1]),
      job(
        "finish",
        [2, 0],
      ),
    ];
    assert.deepEqual(stageLevels(jobs), [0, 0, 1, 1, 2]);
  });

  await t.step("a prerequisite that is not an earlier job is refused", () => {
    assert.throws(() => stageLevels([job("a", [0])]), /may only wait for earlier jobs/);
  });
});
