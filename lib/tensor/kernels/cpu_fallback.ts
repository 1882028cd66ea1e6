/**
 * Rarely used kernels the WebAssembly backend lacks, run by the JavaScript CPU backend's own
 * implementation: inputs are copied out of the wasm heap, the CPU kernel runs, outputs are copied
 * back. Correct and simple, not fast; the hot training kernels have native versions in this
 * folder instead.
 */
import * as tf from "@tensorflow/tfjs";
import type { TensorInfo, WasmBackend } from "./wasm_backend.ts";

interface DataBackend {
  readSync(dataId: object): tf.backend_util.BackendValues;
  write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): object;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Kernels served this way: Einsum (forward) and the depthwise convolution gradients. */
export const CPU_FALLBACK_KERNELS = [
  "Einsum",
  "DepthwiseConv2dNativeBackpropInput",
  "DepthwiseConv2dNativeBackpropFilter",
] as const;

function copyTo(from: DataBackend, to: DataBackend, info: TensorInfo): TensorInfo {
  const values = from.readSync(info.dataId);
  return { dataId: to.write(values, info.shape, info.dtype), shape: info.shape, dtype: info.dtype };
}

export function cpuFallbackKernel(kernelName: string): tf.KernelFunc {
  return ((args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) => {
    const wasm = args.backend as DataBackend & WasmBackend;
    const cpu = tf.findBackend("cpu") as unknown as DataBackend | null;
    const kernel = tf.getKernel(kernelName, "cpu");
    if (!cpu || !kernel) throw new Error(`${kernelName}: no CPU kernel to fall back on`);
    const copies: TensorInfo[] = [];
    const toCpu = (info: TensorInfo) => {
      const copy = copyTo(wasm, cpu, info);
      copies.push(copy);
      return copy;
    };
    const inputs = Array.isArray(args.inputs)
      ? (args.inputs as TensorInfo[]).map(toCpu)
      : Object.fromEntries(
        Object.entries(args.inputs).map(([name, t]) => [name, toCpu(t as TensorInfo)]),
      );
    try {
      const result = kernel.kernelFunc({
        inputs: inputs as tf.NamedTensorInfoMap,
        backend: cpu as unknown as tf.KernelBackend,
        attrs: args.attrs,
      });
      const outputs = Array.isArray(result) ? result : [result];
      const back = outputs.map((out) => {
        const values = cpu.readSync(out.dataId);
        cpu.disposeData(out.dataId);
        return wasm.makeOutput(out.shape, out.dtype, undefined, values);
      });
      return Array.isArray(result) ? back : back[0];
    } finally {
      for (const copy of copies) cpu.disposeData(copy.dataId);
    }
  }) as unknown as tf.KernelFunc;
}
