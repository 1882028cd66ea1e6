/**
 * The native path as a whole: the same small training steps give the same losses with the BLAS
 * and with MBRL_BLAS=off (two processes, float tolerance), the start-up banner says which path is
 * in use, and 1,000 training steps leave the tensor count, the backend's buffers and the wasm heap
 * where they were after a burn-in.
 */
import assert from "node:assert/strict";
import { activeBlas, tf } from "../../lib/tensor/mod.ts";
import { assertAllClose } from "../../lib/tensor/testing.ts";
import { smallTraining } from "./_small_training.ts";

const SCRIPT = new URL("./_small_training.ts", import.meta.url).pathname;

async function trainInProcess(env: Record<string, string>) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SCRIPT, "5"],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const banner = new TextDecoder().decode(stderr);
  assert.equal(code, 0, banner);
  return { losses: JSON.parse(new TextDecoder().decode(stdout)) as number[][], banner };
}

Deno.test("training with the BLAS and with MBRL_BLAS=off gives the same losses", async () => {
  const withBlas = await trainInProcess({});
  const without = await trainInProcess({ MBRL_BLAS: "off" });
  assert.match(without.banner, /no BLAS \(off\)/);
  if (!activeBlas()) {
    assert.notEqual(
      Deno.env.get("MBRL_REQUIRE_BLAS"),
      "1",
      "MBRL_REQUIRE_BLAS=1 but no BLAS found",
    );
    console.error("native_path_test: no BLAS on this machine; the off path alone was run");
    return;
  }
  assert.match(withBlas.banner, /\+ .+, \d+ threads?/);
  withBlas.losses.forEach((row, step) =>
    assertAllClose(row, without.losses[step], { relative: 1e-4 }, `losses at step ${step}`)
  );
});

Deno.test("1,000 training steps leak no tensors and do not grow the wasm heap", () => {
  const training = smallTraining();
  const backend = tf.engine().backend as unknown as {
    numDataIds(): number;
    wasm?: { HEAPU8: Uint8Array };
  };
  const measure = () => ({
    tensors: tf.memory().numTensors,
    dataIds: backend.numDataIds(),
    heapBytes: backend.wasm?.HEAPU8.buffer.byteLength ?? 0,
  });
  for (let i = 0; i < 50; i++) training.step();
  const before = measure();
  for (let i = 0; i < 1000; i++) training.step();
  assert.deepEqual(measure(), before);
  training.dispose();
});
