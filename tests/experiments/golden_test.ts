/**
 * Golden runs: each experiment at the quick budget gives the claims and metrics recorded in
 * tests/experiments/golden/ (numbers within a relative 1e-5: the wasm kernels' SIMD reductions
 * round differently with the heap's layout). A refactoring must leave them; a change meant to
 * move results rewrites them with `_golden_run.ts --write` and says why in its commit.
 */
import assert from "node:assert/strict";

const GOLDEN = [
  "dyna-maze",
  "world-models-carracing",
  "world-models-takecover",
  "planet-cartpole-swingup",
  "planet-pendulum",
];

function assertClose(actual: unknown, expected: unknown, path: string): void {
  if (typeof expected === "number" && typeof actual === "number") {
    const scale = Math.max(1e-12, Math.abs(expected));
    assert.ok(
      actual === expected || Math.abs(actual - expected) <= 1e-5 * scale,
      `${path}: ${actual}, golden ${expected}`,
    );
  } else if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: not an array`);
    assert.equal((actual as unknown[]).length, expected.length, `${path}: length`);
    expected.forEach((e, i) => assertClose((actual as unknown[])[i], e, `${path}[${i}]`));
  } else if (expected && typeof expected === "object") {
    assert.ok(actual && typeof actual === "object", `${path}: not an object`);
    assert.deepEqual(
      Object.keys(actual as object).sort(),
      Object.keys(expected).sort(),
      `${path}: fields`,
    );
    for (const [key, value] of Object.entries(expected)) {
      assertClose((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
    }
  } else {
    assert.equal(actual, expected, path);
  }
}

Deno.test("quick-budget results equal the goldens", async (t) => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./_golden_run.ts", import.meta.url).pathname, ...GOLDEN],
    env: { MBRL_BLAS: "off", MBRL_QUIET: "1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const results = JSON.parse(new TextDecoder().decode(stdout));
  for (const name of GOLDEN) {
    await t.step(name, async () => {
      const golden = JSON.parse(
        await Deno.readTextFile(new URL(`./golden/${name}.json`, import.meta.url)),
      );
      assertClose(results[name], golden, name);
    });
  }
});
