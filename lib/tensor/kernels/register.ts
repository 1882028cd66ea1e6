/**
 * Registers the training kernels the TensorFlow.js 4.22 WebAssembly backend lacks. Found by
 * running forward and backward passes of the ops the world models use on wasm (see
 * tests/tensor/kernels_test.ts); everything else those models need is already there.
 */
import * as tf from "@tensorflow/tfjs";
import { conv2dBackpropFilterConfig } from "./conv2d_backprop_filter.ts";
import { makeBatchMatMulWasm } from "./batch_mat_mul.ts";
import { makeConv2dBackpropInputWasm } from "./conv2d_backprop_input.ts";
import { unsortedSegmentSumConfig } from "./unsorted_segment_sum.ts";
import { CPU_FALLBACK_KERNELS, cpuFallbackKernel } from "./cpu_fallback.ts";

/** Shipped wasm kernels this library replaces with faster ones. */
export const REPLACED_WASM_KERNELS: readonly string[] = ["Conv2DBackpropInput", "BatchMatMul"];

/** Names of the wasm kernels this library adds. */
export const ADDED_WASM_KERNELS: readonly string[] = [
  conv2dBackpropFilterConfig.kernelName,
  unsortedSegmentSumConfig.kernelName,
  ...CPU_FALLBACK_KERNELS,
];

/** Registers each missing kernel once; a kernel a later tfjs release ships is left alone. */
export function registerWasmKernels(): void {
  const configs: tf.KernelConfig[] = [
    conv2dBackpropFilterConfig,
    unsortedSegmentSumConfig,
    ...CPU_FALLBACK_KERNELS.map((kernelName) => ({
      kernelName,
      backendName: "wasm",
      kernelFunc: cpuFallbackKernel(kernelName),
    })),
  ];
  for (const config of configs) {
    if (tf.getKernel(config.kernelName, "wasm") === undefined) tf.registerKernel(config);
  }
  const shipped = tf.getKernel("Conv2DBackpropInput", "wasm");
  if (shipped?.kernelFunc.name !== "conv2dBackpropInputWasm") {
    if (shipped) tf.unregisterKernel("Conv2DBackpropInput", "wasm");
    tf.registerKernel({
      kernelName: "Conv2DBackpropInput",
      backendName: "wasm",
      // The shipped kernel stays as the NCHW fallback; its setup binds its wasm function.
      setupFunc: shipped?.setupFunc,
      kernelFunc: makeConv2dBackpropInputWasm(shipped?.kernelFunc) as unknown as tf.KernelFunc,
    });
  }
  const shippedMatMul = tf.getKernel("BatchMatMul", "wasm");
  if (shippedMatMul && shippedMatMul.kernelFunc.name !== "batchMatMulWasm") {
    tf.unregisterKernel("BatchMatMul", "wasm");
    tf.registerKernel({
      kernelName: "BatchMatMul",
      backendName: "wasm",
      setupFunc: shippedMatMul.setupFunc,
      kernelFunc: makeBatchMatMulWasm(shippedMatMul.kernelFunc),
    });
  }
}
