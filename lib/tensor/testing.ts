/**
 * Helpers for tests that touch tensors: compare numbers element by element with a tolerance,
 * run the same computation on two backends, and check that repeated steps leak no tensors
 * (the repository's rule: `tf.memory().numTensors` flat after a burn-in).
 */
import { tf } from "./mod.ts";
import { type BackendName, withBackend } from "./backend.ts";
import { activeBlas, type Blas, setActiveBlas } from "./blas.ts";

export interface Tolerance {
  /** Allowed error relative to the largest magnitude in `expected` (default 1e-5). */
  relative?: number;
  /** Allowed absolute error on top (default 1e-6). */
  absolute?: number;
}

/**
 * Throws unless every element satisfies |actual - expected| <= absolute + relative * max|expected|.
 * Scaling by the largest magnitude suits sums of many products, whose rounding error grows with
 * the size of the terms rather than of each result. Returns the largest error seen.
 */
export function assertAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { relative = 1e-5, absolute = 1e-6 }: Tolerance = {},
  label = "values",
): number {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: ${actual.length} values, expected ${expected.length}`);
  }
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  const allowed = absolute + relative * scale;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i] - expected[i]);
    // NaN fails too: the comparison below is false for it.
    if (!(error <= allowed)) {
      throw new Error(
        `${label}: element ${i} is ${actual[i]}, expected ${expected[i]} ` +
          `(error ${error.toExponential(2)} > allowed ${allowed.toExponential(2)})`,
      );
    }
    worst = Math.max(worst, error);
  }
  return worst;
}

/**
 * Runs `build` on a backend and returns each resulting tensor's shape and values (read
 * asynchronously, which every backend supports: WebGPU in Deno cannot read synchronously).
 */
export function valuesOn(
  backend: BackendName,
  build: () => tf.Tensor | tf.Tensor[],
): Promise<{ shape: number[]; values: Float32Array | Int32Array }[]> {
  return withBackend(backend, async () => {
    const outputs = tf.tidy(build);
    const list = Array.isArray(outputs) ? outputs : [outputs];
    const result = await Promise.all(list.map(async (t) => ({
      shape: t.shape,
      values: (await t.data()).slice() as Float32Array | Int32Array,
    })));
    tf.dispose(list);
    return result;
  });
}

/**
 * Runs `step` `burnIn` times (optimiser slots and caches appear then), then `steps` more times,
 * and throws if the number of live tensors changed over the second stretch.
 */
export async function assertTensorCountFlat(
  step: () => unknown | Promise<unknown>,
  { burnIn = 3, steps = 20 }: { burnIn?: number; steps?: number } = {},
): Promise<void> {
  for (let i = 0; i < burnIn; i++) await step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < steps; i++) await step();
  const after = tf.memory().numTensors;
  if (after !== before) {
    throw new Error(
      `tensor count went from ${before} to ${after} over ${steps} steps: ` +
        `${((after - before) / steps).toFixed(2)} leaked per step`,
    );
  }
}

/**
 * Runs `body` with the wasm kernels' BLAS set to `blas` (null: wasm alone), restoring the one in
 * use afterwards, so a test can compare both paths in one process.
 */
export async function withBlas<T>(blas: Blas | null, body: () => T | Promise<T>): Promise<T> {
  const previous = activeBlas();
  setActiveBlas(blas);
  try {
    return await body();
  } finally {
    setActiveBlas(previous);
  }
}
