/**
 * Where a computation's time goes, kernel by kernel: every kernel registered for the current
 * backend is wrapped with a timer for the duration of `profileKernels(body)`, then restored.
 *
 * Only synchronous backends (wasm, cpu) are timed truthfully: their kernels finish before they
 * return. A kernel that calls another registered kernel (the extra wasm kernels of this folder do)
 * is counted once, at the outer call, so the rows add up to the time spent in kernels.
 */
import * as tf from "@tensorflow/tfjs";

export interface KernelProfileRow {
  kernel: string;
  calls: number;
  milliseconds: number;
  /** Share of all kernel time, 0..1. */
  share: number;
}

export interface KernelProfile {
  /** Rows sorted by time, largest first. */
  rows: KernelProfileRow[];
  /** Time spent inside kernels. */
  kernelMilliseconds: number;
  /** Wall time of `body`; the rest is JavaScript between kernels (tape, tidy, bookkeeping). */
  wallMilliseconds: number;
}

/** Runs `body` with every kernel of the current backend timed; restores the kernels after. */
export function profileKernels(body: () => void): KernelProfile {
  const backendName = tf.getBackend();
  const originals = tf.getKernelsForBackend(backendName);
  const totals = new Map<string, { calls: number; milliseconds: number }>();
  let depth = 0;
  for (const config of originals) {
    const inner = config.kernelFunc;
    const timed = ((args: Parameters<tf.KernelFunc>[0]) => {
      if (depth > 0) return inner(args);
      depth++;
      const started = performance.now();
      try {
        return inner(args);
      } finally {
        const elapsed = performance.now() - started;
        depth--;
        const entry = totals.get(config.kernelName) ?? { calls: 0, milliseconds: 0 };
        entry.calls++;
        entry.milliseconds += elapsed;
        totals.set(config.kernelName, entry);
      }
    }) as tf.KernelFunc;
    tf.unregisterKernel(config.kernelName, backendName);
    tf.registerKernel({ ...config, kernelFunc: timed });
  }
  const started = performance.now();
  try {
    body();
  } finally {
    for (const config of originals) {
      tf.unregisterKernel(config.kernelName, backendName);
      tf.registerKernel(config);
    }
  }
  const wallMilliseconds = performance.now() - started;
  let kernelMilliseconds = 0;
  for (const entry of totals.values()) kernelMilliseconds += entry.milliseconds;
  const rows = [...totals].map(([kernel, { calls, milliseconds }]) => ({
    kernel,
    calls,
    milliseconds,
    share: kernelMilliseconds > 0 ? milliseconds / kernelMilliseconds : 0,
  })).sort((a, b) => b.milliseconds - a.milliseconds);
  return { rows, kernelMilliseconds, wallMilliseconds };
}
