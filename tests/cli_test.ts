/** The CLI from a user's side: one-line errors with a non-zero exit code, no stack traces. */
import assert from "node:assert/strict";
import { parseCli } from "../lib/cli.ts";

async function reproduce(...args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../lib/cli.ts", import.meta.url).pathname, ...args],
    env: { NO_COLOR: "1", MBRL_QUIET: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trim();
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

function assertOneLineError(stderr: string, pattern: RegExp) {
  const lines = stderr.split("\n").filter((line) => line.startsWith("error:"));
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(stderr, /^\s+at /m, "no stack trace for a user's mistake");
}

Deno.test("deno task reproduce", async (t) => {
  await t.step("an unknown experiment names the valid ones", async () => {
    const { code, stderr } = await reproduce("no-such-experiment");
    assert.equal(code, 2);
    assertOneLineError(
      stderr,
      /unknown experiment 'no-such-experiment'; valid experiments are .*dyna-maze/,
    );
  });

  await t.step("an unknown budget names the valid ones", async () => {
    const { code, stderr } = await reproduce("dyna-maze", "--budget", "huge");
    assert.equal(code, 2);
    assertOneLineError(stderr, /unknown budget 'huge'; valid budgets are quick, laptop, paper/);
  });

  await t.step("a config value out of range names the field, before anything runs", async () => {
    const { code, stderr } = await reproduce("dyna-maze", "--set", "numEpisodes=1");
    assert.equal(code, 2);
    assertOneLineError(stderr, /numEpisodes/);
    assert.doesNotMatch(stderr, /==/, "no run started");
  });

  await t.step("a bad --seeds and an unknown option are one-line errors", async () => {
    assertOneLineError((await reproduce("--seeds", "zero")).stderr, /--seeds must be a positive/);
    assertOneLineError((await reproduce("--frobnicate")).stderr, /frobnicate/);
  });

  await t.step("an unknown setting, at any depth, names the valid fields there", async () => {
    const top = await reproduce("dyna-maze", "--budget", "quick", "--set", "nosuch=1");
    assert.equal(top.code, 2);
    assertOneLineError(top.stderr, /no setting 'nosuch'; dyna-maze has seeds, numEpisodes/);
    const nested = await reproduce(
      "planet-pendulum",
      "--budget",
      "quick",
      "--set",
      "planet.model.nosuch=1",
    );
    assertOneLineError(nested.stderr, /no setting 'nosuch'; planet.model has .*freeNats/);
    assert.doesNotMatch(nested.stderr, /==/, "no run started");
  });

  await t.step("an unwritable --out is one line naming it, before any work", async () => {
    const { code, stderr } = await reproduce("dyna-maze", "--budget", "quick", "--out", "/proc/x");
    assert.equal(code, 2);
    assertOneLineError(stderr, /--out \/proc\/x: cannot write there/);
    assert.doesNotMatch(stderr, /==/, "no run started");
  });

  await t.step("a negative --seeds says what a valid value is", async () => {
    const { code, stderr } = await reproduce("--seeds", "-3");
    assert.equal(code, 2);
    assertOneLineError(stderr, /--seeds must be a positive integer .* got '-3'/);
  });

  await t.step("a bad MBRL_BACKEND is refused with the valid names", async () => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../lib/cli.ts", import.meta.url).pathname, "--list"],
      env: { NO_COLOR: "1", MBRL_BACKEND: "gpu" },
      stderr: "piped",
    }).output();
    assert.equal(output.code, 2);
    assertOneLineError(new TextDecoder().decode(output.stderr), /tensorflow, wasm, webgpu, cpu/);
  });

  await t.step("--list shows every experiment with its budgets", async () => {
    const { code, stdout } = await reproduce("--list");
    assert.equal(code, 0);
    assert.match(stdout, /dyna-maze[\s\S]*quick ~[\s\S]*laptop ~/);
  });

  await t.step(
    "a quick run writes its results where it is told and prints the claims",
    async () => {
      const out = await Deno.makeTempDir();
      const { code, stdout } = await reproduce("dyna-maze", "--budget", "quick", "--out", out);
      assert.equal(code, 0);
      assert.match(stdout, /dyna-maze \/ planning-speeds-learning/);
      const result = JSON.parse(await Deno.readTextFile(`${out}/dyna-maze.json`));
      assert.equal(result.budget, "quick");
      assert.equal(result.seeds.length, 5);
    },
  );

  await t.step("argument parsing", () => {
    const parsed = parseCli(["a", "b", "--budget", "paper", "--seeds", "3", "--set", "x=[1,2]"]);
    assert.deepEqual(parsed.names, ["a", "b"]);
    assert.equal(parsed.seeds, 3);
    assert.deepEqual(parsed.overrides, { x: [1, 2] });
  });
});
