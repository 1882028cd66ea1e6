/**
 * `BatchMatMul` and `_FusedMatMul` for the WebAssembly backend on the machine's BLAS
 * (lib/tensor/blas.ts): `cblas_sgemm` reads the operands where they lie in the wasm heap and
 * writes the product into the output tensor's place there, with the transposes done by the BLAS
 * itself. Batch dimensions broadcast as TensorFlow.js's matMul does; a batch whose right operand
 * is shared (a dense layer on a 3-D input) is one call with the batch folded into the rows.
 *
 * Without a BLAS, or for a dtype other than float32, the wasm kernels run as before.
 */
import * as tf from "@tensorflow/tfjs";
import { activeBlas, type Blas } from "../blas.ts";
import {
  callWasmKernel,
  release,
  sizeOf,
  type TensorInfo,
  type WasmBackend,
} from "./wasm_backend.ts";
import { applyEpilogue, canApplyEpilogue, type FusedActivation } from "./bias_activation.ts";

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

interface FusedMatMulAttrs extends MatMulAttrs {
  activation?: FusedActivation;
  leakyreluAlpha?: number;
}

/** Offsets (in matrices) of each output batch entry's operands under broadcasting. */
function broadcastOffsets(
  outer: number[],
  outerA: number[],
  outerB: number[],
): { a: Int32Array; b: Int32Array } {
  const count = sizeOf(outer);
  const a = new Int32Array(count);
  const b = new Int32Array(count);
  const rank = outer.length;
  // Strides of a and b over the output's batch axes (0 where an axis is broadcast).
  const strides = (dims: number[]) => {
    const padded = [...new Array(rank - dims.length).fill(1), ...dims];
    const result = new Array<number>(rank).fill(0);
    let stride = 1;
    for (let axis = rank - 1; axis >= 0; axis--) {
      result[axis] = padded[axis] === 1 ? 0 : stride;
      stride *= padded[axis];
    }
    return result;
  };
  const stridesA = strides(outerA);
  const stridesB = strides(outerB);
  for (let index = 0; index < count; index++) {
    let rest = index;
    let offsetA = 0;
    let offsetB = 0;
    for (let axis = rank - 1; axis >= 0; axis--) {
      const position = rest % outer[axis];
      rest = Math.floor(rest / outer[axis]);
      offsetA += position * stridesA[axis];
      offsetB += position * stridesB[axis];
    }
    a[index] = offsetA;
    b[index] = offsetB;
  }
  return { a, b };
}

/** The product of `a` and `b` into a new output tensor, on the BLAS. */
function blasMatMul(
  blas: Blas,
  backend: WasmBackend,
  a: TensorInfo,
  b: TensorInfo,
  { transposeA, transposeB }: MatMulAttrs,
): TensorInfo {
  const rankA = a.shape.length;
  const rankB = b.shape.length;
  const m = transposeA ? a.shape[rankA - 1] : a.shape[rankA - 2];
  const k = transposeA ? a.shape[rankA - 2] : a.shape[rankA - 1];
  const kB = transposeB ? b.shape[rankB - 1] : b.shape[rankB - 2];
  const n = transposeB ? b.shape[rankB - 2] : b.shape[rankB - 1];
  if (k !== kB) {
    throw new Error(
      `Error in matMul: inner shapes (${k}) and (${kB}) of Tensors with shapes ${a.shape} and ` +
        `${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
  const out = backend.makeOutput([...outer, m, n], "float32");
  // Views after the last allocation: growing the heap replaces the buffer.
  const result = backend.typedArrayFromHeap(out) as Float32Array;
  if (result.length === 0) return out;
  if (k === 0) {
    result.fill(0);
    return out;
  }
  const valuesA = backend.typedArrayFromHeap(a) as Float32Array;
  const valuesB = backend.typedArrayFromHeap(b) as Float32Array;
  const lda = transposeA ? m : k;
  const ldb = transposeB ? k : n;
  const batches = sizeOf(outer);
  if (!transposeA && sizeOf(outerB) === 1 && sizeOf(outerA) === batches) {
    // Consecutive row blocks of a against one b: a single product of batches * m rows.
    blas.sgemm(false, transposeB, batches * m, n, k, valuesA, lda, valuesB, ldb, 0, result, n);
    return out;
  }
  const offsets = broadcastOffsets(outer, outerA, outerB);
  const sizeA = m * k;
  const sizeB = k * n;
  const sizeC = m * n;
  for (let batch = 0; batch < batches; batch++) {
    blas.sgemm(
      transposeA,
      transposeB,
      m,
      n,
      k,
      valuesA.subarray(offsets.a[batch] * sizeA),
      lda,
      valuesB.subarray(offsets.b[batch] * sizeB),
      ldb,
      0,
      result.subarray(batch * sizeC),
      n,
    );
  }
  return out;
}

function isFloat32(...infos: (TensorInfo | undefined | null)[]): boolean {
  return infos.every((info) => !info || info.dtype === "float32");
}

/** BatchMatMul on the BLAS when there is one; `fallback` (the wasm kernel) otherwise. */
export function makeBatchMatMulBlas(fallback: tf.KernelFunc): tf.KernelFunc {
  return function batchMatMulBlas(args) {
    const blas = activeBlas();
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    if (!blas || !isFloat32(a, b)) return fallback(args);
    return blasMatMul(
      blas,
      args.backend as unknown as WasmBackend,
      a,
      b,
      args.attrs as unknown as MatMulAttrs,
    );
  };
}

/** _FusedMatMul (product, bias, activation) on the BLAS; `fallback` for what it does not handle. */
export function makeFusedMatMulBlas(fallback: tf.KernelFunc): tf.KernelFunc {
  return function fusedMatMulBlas(args) {
    const blas = activeBlas();
    const { a, b, bias, preluActivationWeights } = args.inputs as {
      a: TensorInfo;
      b: TensorInfo;
      bias?: TensorInfo;
      preluActivationWeights?: TensorInfo;
    };
    const attrs = args.attrs as unknown as FusedMatMulAttrs;
    const n = attrs.transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
    if (
      !blas || !isFloat32(a, b, bias, preluActivationWeights) ||
      !canApplyEpilogue(attrs.activation, null, preluActivationWeights, n)
    ) {
      return fallback(args);
    }
    const backend = args.backend as unknown as WasmBackend;
    let out = blasMatMul(blas, backend, a, b, attrs);
    if (bias && !canApplyEpilogue(undefined, bias, null, n)) {
      // A bias that broadcasts over more than the last axis: the wasm Add kernel broadcasts it.
      const product = out;
      out = callWasmKernel(backend, "Add", { a: product, b: bias });
      release(backend, product);
      applyEpilogue(
        backend.typedArrayFromHeap(out) as Float32Array,
        n,
        null,
        attrs.activation,
        attrs.leakyreluAlpha,
        preluActivationWeights
          ? backend.typedArrayFromHeap(preluActivationWeights) as Float32Array
          : null,
      );
      return out;
    }
    const read = (info?: TensorInfo) =>
      info ? backend.typedArrayFromHeap(info) as Float32Array : null;
    applyEpilogue(
      backend.typedArrayFromHeap(out) as Float32Array,
      n,
      read(bias),
      attrs.activation,
      attrs.leakyreluAlpha,
      read(preluActivationWeights),
    );
    return out;
  };
}
