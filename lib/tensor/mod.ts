/**
 * The only entry point to TensorFlow.js in the library: importing it picks the backend once,
 * registers the training kernels the WebAssembly backend lacks (and the zero gradients of
 * comparisons), and says which backend is in use.
 */
// The union package: core plus the gradients and method-style ops (x.reshape) core alone lacks.
import * as tf from "@tensorflow/tfjs";
import { type BackendInfo, describeBackend, initBackend } from "./backend.ts";
import { registerWasmKernels } from "./kernels/register.ts";
import { registerMissingGradients } from "./gradients.ts";
import { registerFusedAdam } from "./adam.ts";

export { tf };
export type { BackendInfo, BackendName } from "./backend.ts";
export { describeBackend, withBackend } from "./backend.ts";
export { adam, FusedAdamOptimizer } from "./adam.ts";
export { logSumExp } from "./ops.ts";
export { activeBlas, type Blas, setActiveBlas } from "./blas.ts";

// Before any backend runs: the wasm backend cannot train conv nets or gather without these.
registerWasmKernels();
registerMissingGradients();
registerFusedAdam();
export { ADDED_WASM_KERNELS, BLAS_KERNELS, REPLACED_WASM_KERNELS } from "./kernels/register.ts";
export { ADDED_GRADIENTS } from "./gradients.ts";

/** The backend chosen at start. */
export const backend: BackendInfo = await initBackend();

function quiet(): boolean {
  // Workers share the main thread's backend choice; only the main thread announces it.
  if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined") {
    return true;
  }
  try {
    return Deno.env.get("MBRL_QUIET") === "1";
  } catch {
    return false;
  }
}

if (!quiet()) console.error(`TensorFlow.js backend: ${describeBackend(backend)}`);
