/**
 * `UnsortedSegmentSum` for the WebAssembly backend, which TensorFlow.js 4.22 lacks; it is the
 * gradient of `tf.gather` (embedding lookups, picking the action taken), so without it nothing
 * that gathers trains on wasm.
 *
 *   out[s, ...] = sum over i with segmentIds[i] = s of x[i, ...]
 *
 * Ids outside [0, numSegments) are dropped, as in TensorFlow. The work is one pass of additions
 * over x, memory-bound, so a plain loop over the wasm heap is as fast as it gets; a one-hot
 * matrix product would multiply the work by the number of segments.
 */
import * as tf from "@tensorflow/tfjs";
import { sizeOf, type TensorInfo, type WasmBackend } from "./wasm_backend.ts";

export function unsortedSegmentSumWasm(
  args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap },
): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = args.attrs as unknown as { numSegments: number };
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new Error(`UnsortedSegmentSum (wasm): float32 or int32 only, got ${x.dtype}`);
  }
  const idsRank = segmentIds.shape.length;
  if (segmentIds.shape.join() !== x.shape.slice(0, idsRank).join()) {
    throw new Error(
      `UnsortedSegmentSum (wasm): segmentIds shape [${segmentIds.shape}] must be a prefix of ` +
        `x shape [${x.shape}]`,
    );
  }
  const rowShape = x.shape.slice(idsRank);
  const rowSize = sizeOf(rowShape);
  // Allocate first: growing the heap detaches earlier views of it.
  const out = backend.makeOutput([numSegments, ...rowShape], x.dtype);
  const sums = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
  sums.fill(0);
  const values = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const idsRaw = backend.typedArrayFromHeap(segmentIds);
  const ids = segmentIds.dtype === "int32" ? idsRaw : Int32Array.from(idsRaw);
  const numRows = ids.length;
  for (let row = 0; row < numRows; row++) {
    const segment = ids[row];
    if (segment < 0 || segment >= numSegments) continue;
    const target = segment * rowSize;
    const source = row * rowSize;
    for (let j = 0; j < rowSize; j++) sums[target + j] += values[source + j];
  }
  return out;
}

export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: "UnsortedSegmentSum",
  backendName: "wasm",
  kernelFunc: unsortedSegmentSumWasm as unknown as tf.KernelFunc,
};
