import assert from "node:assert/strict";
import { readRunProgress } from "../../lib/agents/run_progress.ts";
import { UserError } from "../../lib/errors.ts";

Deno.test("readRunProgress", async (t) => {
  const dir = await Deno.makeTempDir();
  const files = { progress: `${dir}/progress.json`, replay: `${dir}/replay.bin` };
  const decode = (bytes: Uint8Array) => Array.from(bytes);

  await t.step("nothing saved yet gives null", async () => {
    assert.equal(await readRunProgress(files, "h1", dir, decode), null);
  });

  await t.step("reads the progress and the replay of the same config", async () => {
    await Deno.writeTextFile(files.progress, JSON.stringify({ configHash: "h1", curve: [1] }));
    await Deno.writeFile(files.replay, new Uint8Array([7, 8]));
    assert.deepEqual(await readRunProgress(files, "h1", dir, decode), {
      saved: { configHash: "h1", curve: [1] },
      replay: [7, 8],
    });
  });

  await t.step("refuses another config's progress, naming both hashes", async () => {
    await assert.rejects(
      readRunProgress(files, "h2", dir, decode),
      (error: Error) => error instanceof UserError && /hash h1, this run h2/.test(error.message),
    );
  });

  await t.step("a corrupt progress file or replay is one line naming the file", async () => {
    await assert.rejects(
      readRunProgress(files, "h1", dir, () => {
        throw new Error("bad header");
      }),
      (error: Error) =>
        error instanceof UserError && error.message === `replay file ${files.replay}: bad header`,
    );
    await Deno.writeTextFile(files.progress, "{not json");
    await assert.rejects(
      readRunProgress(files, "h1", dir, decode),
      (error: Error) => error instanceof UserError && /is corrupt/.test(error.message),
    );
  });
  await Deno.remove(dir, { recursive: true });
});
