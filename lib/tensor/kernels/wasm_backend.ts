/**
 * A narrow, typed view of the WebAssembly backend for the kernels in this folder: call another
 * registered wasm kernel directly (as the backend's own kernels do, so no tensors are tracked by
 * the engine or recorded on a gradient tape) and release intermediate results.
 */
import * as tf from "@tensorflow/tfjs";

/** The parts of `BackendWasm` (from @tensorflow/tfjs-backend-wasm) the kernels here use. */
export interface WasmBackend {
  makeOutput(
    shape: number[],
    dtype: tf.DataType,
    memoryOffset?: number,
    values?: unknown,
  ): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
}

export type TensorInfo = tf.TensorInfo;

/** Runs the registered wasm kernel `name` on TensorInfos, returning its single output. */
export function callWasmKernel(
  backend: WasmBackend,
  name: string,
  inputs: Record<string, TensorInfo> | TensorInfo[],
  attrs: Record<string, unknown> = {},
): TensorInfo {
  const kernel = tf.getKernel(name, "wasm");
  if (!kernel) throw new Error(`wasm kernel ${name} is not registered`);
  const result = kernel.kernelFunc({
    inputs: inputs as tf.NamedTensorInfoMap,
    backend: backend as unknown as tf.KernelBackend,
    attrs: attrs as tf.NamedAttrMap,
  });
  if (Array.isArray(result)) throw new Error(`wasm kernel ${name} returned several outputs`);
  return result;
}

/** Releases intermediate TensorInfos made by `callWasmKernel` (reshapes share data by count). */
export function release(backend: WasmBackend, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** Product of a shape's sides. */
export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const side of shape) size *= side;
  return size;
}
