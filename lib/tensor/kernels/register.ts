/**
 * Registers the wasm kernels this library adds to TensorFlow.js 4.22's WebAssembly backend, and
 * the ones it replaces:
 *
 * - added, because the backend lacks them and no conv net trains without them:
 *   Conv2DBackpropFilter, UnsortedSegmentSum, and a few rare kernels run on the CPU backend;
 * - replaced, because the shipped ones were the bottleneck: Conv2DBackpropInput (a scalar loop),
 *   BatchMatMul with transposed operands, Slice, SplitV, Unpack and Concat (which copied their
 *   whole input per output, or each short run through a new view), and Tile and Tanh (scalar
 *   loops);
 * - on the machine's BLAS when lib/tensor/blas.ts found one: BatchMatMul, _FusedMatMul, Conv2D,
 *   FusedConv2D and both convolution gradients, each falling back on the wasm kernel before it
 *   for what it does not handle (and when BLAS is off).
 */
import * as tf from "@tensorflow/tfjs";
import { conv2dBackpropFilterConfig } from "./conv2d_backprop_filter.ts";
import { makeBatchMatMulWasm } from "./batch_mat_mul.ts";
import { makeConv2dBackpropInputWasm } from "./conv2d_backprop_input.ts";
import { unsortedSegmentSumConfig } from "./unsorted_segment_sum.ts";
import { CPU_FALLBACK_KERNELS, cpuFallbackKernel } from "./cpu_fallback.ts";
import {
  makeConcatWasm,
  makeSliceWasm,
  makeSplitVWasm,
  makeTileWasm,
  makeUnpackWasm,
} from "./layout.ts";
import { makeTanhWasm } from "./tanh.ts";
import { makeBatchMatMulBlas, makeFusedMatMulBlas } from "./blas_mat_mul.ts";
import {
  makeConv2dBackpropFilterBlas,
  makeConv2dBackpropInputBlas,
  makeConv2dBlas,
  makeFusedConv2dBlas,
} from "./blas_conv2d.ts";

type Wrapper = (fallback: tf.KernelFunc) => tf.KernelFunc;

/** Shipped wasm kernels this library replaces with faster ones (on wasm alone). */
export const REPLACED_WASM_KERNELS: readonly string[] = [
  "Conv2DBackpropInput",
  "BatchMatMul",
  "Slice",
  "SplitV",
  "Unpack",
  "Concat",
  "Tile",
  "Tanh",
];

/** Names of the wasm kernels this library adds. */
export const ADDED_WASM_KERNELS: readonly string[] = [
  conv2dBackpropFilterConfig.kernelName,
  unsortedSegmentSumConfig.kernelName,
  ...CPU_FALLBACK_KERNELS,
];

/** Kernels that call the BLAS when there is one. */
export const BLAS_KERNELS: readonly string[] = [
  "BatchMatMul",
  "_FusedMatMul",
  "Conv2D",
  "FusedConv2D",
  "Conv2DBackpropInput",
  "Conv2DBackpropFilter",
];

/** Replaces the registered wasm kernel `name` by `wrap(current)`, keeping its setup. */
function wrapKernel(name: string, wrap: Wrapper): void {
  const current = tf.getKernel(name, "wasm");
  if (!current) throw new Error(`wasm kernel ${name} is not registered`);
  tf.unregisterKernel(name, "wasm");
  tf.registerKernel({ ...current, kernelFunc: wrap(current.kernelFunc) });
}

/** Marks TensorFlow.js's kernel registry (one per thread) as already extended. */
const REGISTERED = Symbol.for("mbrl.wasmKernelsRegistered");

/** Registers each missing kernel once; a kernel a later tfjs release ships is left alone. */
export function registerWasmKernels(): void {
  const registry = globalThis as { [REGISTERED]?: boolean };
  if (registry[REGISTERED]) return;
  registry[REGISTERED] = true;
  const added: tf.KernelConfig[] = [
    conv2dBackpropFilterConfig,
    unsortedSegmentSumConfig,
    ...CPU_FALLBACK_KERNELS.map((kernelName) => ({
      kernelName,
      backendName: "wasm",
      kernelFunc: cpuFallbackKernel(kernelName),
    })),
  ];
  for (const config of added) {
    if (tf.getKernel(config.kernelName, "wasm") === undefined) tf.registerKernel(config);
  }
  // Faster wasm kernels, then the BLAS layer over them.
  const wasmLayer: [string, Wrapper][] = [
    ["Conv2DBackpropInput", makeConv2dBackpropInputWasm as unknown as Wrapper],
    ["BatchMatMul", makeBatchMatMulWasm],
    ["Slice", makeSliceWasm],
    ["SplitV", makeSplitVWasm],
    ["Unpack", makeUnpackWasm],
    ["Concat", makeConcatWasm],
    ["Tile", makeTileWasm],
    ["Tanh", makeTanhWasm],
  ];
  const blasLayer: [string, Wrapper][] = [
    ["BatchMatMul", makeBatchMatMulBlas],
    ["_FusedMatMul", makeFusedMatMulBlas],
    ["Conv2D", makeConv2dBlas],
    ["FusedConv2D", makeFusedConv2dBlas],
    ["Conv2DBackpropInput", makeConv2dBackpropInputBlas],
    ["Conv2DBackpropFilter", makeConv2dBackpropFilterBlas],
  ];
  for (const [name, wrap] of [...wasmLayer, ...blasLayer]) wrapKernel(name, wrap);
}
