/**
 * `BatchMatMul` for the WebAssembly backend, wrapping the one TensorFlow.js 4.22 ships. The
 * shipped kernel sends only untransposed operands to XNNPACK's SIMD matrix multiply; with
 * `transposeA` or `transposeB` it takes a much slower path. Every backward pass of a dense layer
 * multiplies by a transposed operand (dW = x^T dy, dx = dy W^T), so training spends most of its
 * time there. Transposing the operand first (one memory pass) and multiplying untransposed is
 * several times faster for the sizes our models use (see tests/tensor/kernels_test.ts and
 * `deno task bench tensor`).
 */
import * as tf from "@tensorflow/tfjs";
import { callWasmKernel, release, type TensorInfo, type WasmBackend } from "./wasm_backend.ts";

interface BatchMatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** The permutation that swaps the last two axes. */
function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}

/** Makes the replacement kernel around the shipped one. */
export function makeBatchMatMulWasm(shipped: tf.KernelFunc): tf.KernelFunc {
  return function batchMatMulWasm({ inputs, backend, attrs }) {
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
    if (!transposeA && !transposeB) return shipped({ inputs, backend, attrs });
    const wasm = backend as unknown as WasmBackend;
    const temporaries: TensorInfo[] = [];
    const upright = (x: TensorInfo, transposed: boolean) => {
      if (!transposed) return x;
      const swapped = callWasmKernel(wasm, "Transpose", { x }, {
        perm: swapLastTwo(x.shape.length),
      });
      temporaries.push(swapped);
      return swapped;
    };
    const result = shipped({
      inputs: { a: upright(a, transposeA), b: upright(b, transposeB) },
      backend,
      attrs: { ...attrs, transposeA: false, transposeB: false },
    });
    release(wasm, ...temporaries);
    return result;
  };
}
