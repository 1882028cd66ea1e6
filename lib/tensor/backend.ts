/**
 * Chooses the TensorFlow.js backend once, when lib/tensor is first imported.
 *
 * `MBRL_BACKEND=tensorflow|wasm|webgpu|cpu` forces one; otherwise the native libtensorflow binding
 * (`@tensorflow/tfjs-node-gpu`, then `@tensorflow/tfjs-node`) is used when the user has added it,
 * else WebAssembly with SIMD (its heavy kernels on the machine's BLAS, lib/tensor/blas.ts), else
 * the plain JavaScript CPU backend. The native binding downloads libtensorflow when it is
 * installed, so it is opt-in: see the README, "Faster backends". WebGPU runs on Deno's built-in
 * `navigator.gpu`; it is only chosen when asked for, since on a machine without a GPU the adapter
 * is a software one (llvmpipe) and slow.
 */
import * as tf from "@tensorflow/tfjs";
import { UserError } from "../errors.ts";
import { availableCores } from "../cores.ts";
import { getThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { type Blas, type BlasAbsence, loadBlas, setActiveBlas } from "./blas.ts";

export type BackendName = "tensorflow" | "wasm" | "webgpu" | "cpu";
export const BACKEND_NAMES: readonly BackendName[] = ["tensorflow", "wasm", "webgpu", "cpu"];

export interface BackendInfo {
  name: BackendName;
  /** Extra facts worth printing, e.g. "SIMD" or the native package used. */
  detail: string;
  /** The BLAS the wasm kernels call, or why there is none (other backends: "unused"). */
  blas: Blas | BlasAbsence | "unused";
}

/** The banner line: "wasm (SIMD, 1 thread) + OpenBLAS 0.3.21 (Haswell), 2 threads". */
export function describeBackend(info: BackendInfo): string {
  const base = `${info.name} (${info.detail})`;
  if (info.blas === "unused") return base;
  if (typeof info.blas === "string") return `${base}, no BLAS (${info.blas})`;
  const threads = info.blas.threads;
  return `${base} + ${info.blas.name}, ${threads} thread${threads === 1 ? "" : "s"}`;
}

function inWorker(): boolean {
  return typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined";
}

/**
 * Loads the BLAS for the wasm kernels. The main thread gives it every core; a worker leaves the
 * count to whoever started it (the stage pool sets one thread per worker).
 */
function initBlas(): Blas | BlasAbsence {
  const blas = loadBlas();
  if (typeof blas === "string") {
    setActiveBlas(null);
    return blas;
  }
  if (!inWorker() && blas.canSetThreads) blas.setThreads(availableCores());
  setActiveBlas(blas);
  return blas;
}

/** The opt-in native packages, tried in this order. They resolve only once added to deno.json. */
const NATIVE_PACKAGES = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"];

async function tryNative(): Promise<string | null> {
  for (const pkg of NATIVE_PACKAGES) {
    try {
      await import(pkg);
      if (await tf.setBackend("tensorflow")) return pkg;
    } catch {
      // Not installed: try the next one.
    }
  }
  return null;
}

async function tryWasm(): Promise<boolean> {
  try {
    // The .wasm binaries ship in the npm package; point the loader at them on disk.
    const dist = new URL("./", import.meta.resolve("@tensorflow/tfjs-backend-wasm"));
    if (dist.protocol === "file:") setWasmPaths(dist.pathname);
    return await tf.setBackend("wasm");
  } catch {
    return false;
  }
}

/** Deno's WebGPU adapter, described, or null when there is none. */
async function webGpuAdapter(): Promise<string | null> {
  const gpu = (navigator as { gpu?: GPU }).gpu;
  const adapter = await gpu?.requestAdapter().catch(() => null);
  if (!adapter) return null;
  const { vendor, architecture, description } = adapter.info;
  return description || [vendor, architecture].filter((part) => part).join(" ") || "an adapter";
}

async function tryWebGpu(): Promise<string | null> {
  const adapter = await webGpuAdapter();
  if (!adapter) return null;
  try {
    await import("@tensorflow/tfjs-backend-webgpu");
    if (!(await tf.setBackend("webgpu"))) return null;
  } catch {
    return null;
  }
  explainSynchronousReads(tf.backend());
  return adapter;
}

/**
 * TensorFlow.js's WebGPU backend reads a tensor synchronously (`dataSync`) through an
 * OffscreenCanvas, which Deno lacks: such a read would fail inside the backend with an unrelated
 * message. Say what happened instead; `await tensor.data()` works.
 */
function explainSynchronousReads(backend: tf.KernelBackend): void {
  const gpu = backend as unknown as { readSync(dataId: object): unknown; explained?: boolean };
  if (gpu.explained) return;
  gpu.explained = true;
  const readSync = gpu.readSync.bind(gpu);
  gpu.readSync = (dataId: object) => {
    try {
      return readSync(dataId);
    } catch (error) {
      throw new UserError(
        "the WebGPU backend cannot read a tensor synchronously in Deno (dataSync); this code " +
          `needs MBRL_BACKEND=wasm, or must await tensor.data() (${(error as Error).message})`,
      );
    }
  };
}

async function useCpu(): Promise<void> {
  await tf.setBackend("cpu");
  // The CPU backend prints a banner advising tfjs-node on first use; the README says it instead.
  (tf.findBackend("cpu") as unknown as { firstUse: boolean }).firstUse = false;
}

/** Reads MBRL_BACKEND, failing with a message that lists the valid names. */
export function requestedBackend(): BackendName | "auto" {
  let value: string | undefined;
  try {
    value = Deno.env.get("MBRL_BACKEND");
  } catch {
    value = undefined; // no env permission: automatic choice
  }
  if (value === undefined || value === "" || value === "auto") return "auto";
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new UserError(
    `MBRL_BACKEND=${value} is not a backend; use one of ${
      BACKEND_NAMES.join(", ")
    } or leave it unset`,
  );
}

/** Sets up the requested backend (or the best available one) and returns what was chosen. */
export async function initBackend(request = requestedBackend()): Promise<BackendInfo> {
  // Keep the CPU banner quiet however the CPU backend ends up created.
  await useCpu();
  if (request === "tensorflow" || request === "auto") {
    const pkg = await tryNative();
    if (pkg) return { name: "tensorflow", detail: pkg, blas: "unused" };
    if (request === "tensorflow") {
      throw new UserError(
        "MBRL_BACKEND=tensorflow but neither @tensorflow/tfjs-node nor -node-gpu is installed; " +
          "see the README, 'Faster backends'",
      );
    }
  }
  if (request === "webgpu") {
    const adapter = await tryWebGpu();
    if (!adapter) {
      throw new UserError(
        "MBRL_BACKEND=webgpu but Deno found no WebGPU adapter (navigator.gpu); " +
          "leave MBRL_BACKEND unset to use wasm",
      );
    }
    return { name: "webgpu", detail: adapter, blas: "unused" };
  }
  if (request === "wasm" || request === "auto") {
    if (await tryWasm()) {
      const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
      const threads = getThreadsCount();
      const threading = `${threads} thread${threads === 1 ? "" : "s"}`;
      return {
        name: "wasm",
        detail: `${simd ? "SIMD" : "no SIMD"}, ${threading}`,
        blas: initBlas(),
      };
    }
    if (request === "wasm") {
      throw new UserError("MBRL_BACKEND=wasm but the WebAssembly backend failed");
    }
  }
  await useCpu();
  return { name: "cpu", detail: "JavaScript", blas: "unused" };
}

/** Runs `body` on another backend, restoring the current one afterwards (used by tests). */
export async function withBackend<T>(name: BackendName, body: () => T | Promise<T>): Promise<T> {
  const previous = tf.getBackend();
  if (name === "wasm") await tryWasm();
  else if (name === "webgpu") await tryWebGpu();
  else await tf.setBackend(name);
  try {
    return await body();
  } finally {
    await tf.setBackend(previous);
  }
}
