/**
 * `Conv2DBackpropInput` for the WebAssembly backend, replacing the one TensorFlow.js 4.22 ships.
 * It is both the gradient of a convolution with respect to its input and the forward pass of a
 * transposed convolution (every World Models decoder layer), and the shipped version is a scalar
 * loop: about 2.5 s of a 3 s VAE training step at batch 100.
 *
 *   dx[n, oh*sh + kh - padTop, ow*sw + kw - padLeft, ci] += dy[n, oh, ow, co] * W[kh, kw, ci, co]
 *
 * Written as col2im: one SIMD matrix product makes every tap's contribution,
 *
 *   columns [N*OH*OW, KH*KW*CI] = dy [N*OH*OW, CO] x W^T [CO, KH*KW*CI],
 *
 * and one pass adds each row of CI numbers into its place in dx. All multiplications run in the
 * backend's XNNPACK matrix multiply; the pass costs one addition per column entry, a small
 * fraction of the product's CO multiply-adds per entry for the layers here. (A stride-1
 * convolution of zero-dilated dy with the flipped filter wastes sh*sw times the work; splitting
 * it into stride phases pads the small decoder maps heavily; both measured slower here.)
 *
 * NCHW falls back on the shipped kernel.
 */
import * as tf from "@tensorflow/tfjs";
import { callWasmKernel, release, type TensorInfo, type WasmBackend } from "./wasm_backend.ts";

interface Conv2DBackpropInputAttrs {
  inputShape: [number, number, number, number];
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat?: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
}

/** Adds each tap's row of `channels` numbers from `columns` into its place in `dx`. */
function scatterAddColumns(
  columns: Float32Array,
  dx: Float32Array,
  info: tf.backend_util.Conv2DInfo,
): void {
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels,
    outHeight,
    outWidth,
    strideHeight,
    strideWidth,
    filterHeight,
    filterWidth,
    padInfo,
  } = info;
  const tapRow = filterWidth * inChannels;
  const positionSize = filterHeight * tapRow;
  let source = 0;
  for (let n = 0; n < batchSize; n++) {
    const imageBase = n * inHeight;
    for (let oh = 0; oh < outHeight; oh++) {
      const firstRow = oh * strideHeight - padInfo.top;
      for (let ow = 0; ow < outWidth; ow++, source += positionSize) {
        const firstColumn = ow * strideWidth - padInfo.left;
        // Taps that land inside the image (the rest fall in the padding).
        const khStart = Math.max(0, -firstRow);
        const khEnd = Math.min(filterHeight, inHeight - firstRow);
        const kwStart = Math.max(0, -firstColumn);
        const kwEnd = Math.min(filterWidth, inWidth - firstColumn);
        const span = (kwEnd - kwStart) * inChannels;
        if (span <= 0) continue;
        for (let kh = khStart; kh < khEnd; kh++) {
          const target = ((imageBase + firstRow + kh) * inWidth + firstColumn + kwStart) *
            inChannels;
          const from = source + kh * tapRow + kwStart * inChannels;
          // Taps kw..kw+1 of one row land on adjacent pixels: one contiguous run.
          for (let j = 0; j < span; j++) dx[target + j] += columns[from + j];
        }
      }
    }
  }
}

export function makeConv2dBackpropInputWasm(fallback: tf.KernelFunc | undefined) {
  return function conv2dBackpropInputWasm(
    args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap },
  ): TensorInfo {
    const backend = args.backend as WasmBackend;
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
    const dataFormat = attrs.dataFormat ?? "NHWC";
    if (dataFormat !== "NHWC" || dy.dtype !== "float32" || filter.dtype !== "float32") {
      if (!fallback) throw new Error(`Conv2DBackpropInput (wasm): NHWC float32 only`);
      return fallback(args as unknown as Parameters<tf.KernelFunc>[0]) as TensorInfo;
    }
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      "channelsLast",
    );
    const { batchSize, outHeight, outWidth, outChannels, filterHeight, filterWidth, inChannels } =
      info;
    const expectedDy = [batchSize, outHeight, outWidth, outChannels];
    if (dy.shape.join() !== expectedDy.join()) {
      throw new Error(
        `Conv2DBackpropInput (wasm): dy has shape [${dy.shape}], expected [${expectedDy}]`,
      );
    }
    const numPositions = batchSize * outHeight * outWidth;
    const tapsSize = filterHeight * filterWidth * inChannels;
    const temporaries: TensorInfo[] = [];
    const keep = (t: TensorInfo) => (temporaries.push(t), t);
    try {
      const dyMatrix = keep(callWasmKernel(backend, "Reshape", { x: dy }, {
        shape: [numPositions, outChannels],
      }));
      const filterMatrix = keep(callWasmKernel(backend, "Reshape", { x: filter }, {
        shape: [tapsSize, outChannels],
      }));
      // An explicit transpose: the wasm matmul is about ten times slower with transposeB.
      const filterByOutput = keep(callWasmKernel(backend, "Transpose", { x: filterMatrix }, {
        perm: [1, 0],
      }));
      const columns = keep(callWasmKernel(backend, "BatchMatMul", {
        a: dyMatrix,
        b: filterByOutput,
      }, { transposeA: false, transposeB: false }));
      const dx = backend.makeOutput([...attrs.inputShape], "float32");
      // Views after the last allocation: growing the heap detaches earlier ones.
      const dxValues = backend.typedArrayFromHeap(dx) as Float32Array;
      dxValues.fill(0);
      scatterAddColumns(backend.typedArrayFromHeap(columns) as Float32Array, dxValues, info);
      return dx;
    } finally {
      release(backend, ...temporaries);
    }
  };
}
