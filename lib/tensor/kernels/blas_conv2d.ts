/**
 * 2-D convolutions for the WebAssembly backend on the machine's BLAS: `Conv2D`, `FusedConv2D`,
 * and the two gradients, `Conv2DBackpropInput` (also the forward pass of a transposed
 * convolution) and `Conv2DBackpropFilter`. NHWC, float32, dilation 1; anything else goes to the
 * wasm kernel registered before.
 *
 * Each is im2col plus one matrix product per block of output positions. With the receptive field
 * of output position p laid out as a row of KH*KW*CI numbers (columns[p]) and W as [KH*KW*CI, CO]:
 *
 *   forward        y[p, :]   = columns[p] W
 *   input grad     dx        = col2im(dy W^T)           (rows scattered back and added)
 *   filter grad    dW        = sum over p of columns[p]^T dy[p, :]
 *
 * Positions are processed in blocks whose columns fit in a few MiB, so the block is still in cache
 * when the product reads it, and the scratch memory stays small whatever the batch.
 */
import * as tf from "@tensorflow/tfjs";
import { activeBlas, type Blas } from "../blas.ts";
import { type TensorInfo, type WasmBackend } from "./wasm_backend.ts";
import { applyEpilogue, canApplyEpilogue, type FusedActivation } from "./bias_activation.ts";

interface ConvAttrs {
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat?: "NHWC" | "NCHW";
  dilations?: number | [number, number];
  dimRoundingMode?: "floor" | "round" | "ceil";
}

interface FusedConvAttrs extends ConvAttrs {
  activation?: FusedActivation;
  leakyreluAlpha?: number;
}

interface BackpropInputAttrs extends ConvAttrs {
  inputShape: [number, number, number, number];
}

interface BackpropFilterAttrs extends ConvAttrs {
  filterShape: [number, number, number, number];
}

type Info = tf.backend_util.Conv2DInfo;

/** Floats of im2col columns per block (4 MiB). */
const BLOCK_FLOATS = 1 << 22;

let scratch = new Float32Array(0);

/** A reusable block buffer of at least `size` floats (kept between calls). */
function scratchBuffer(size: number): Float32Array {
  if (scratch.length < size) scratch = new Float32Array(size);
  return scratch.subarray(0, size);
}

/** Output positions per block, so a block's columns fill about BLOCK_FLOATS. */
function positionsPerBlock(info: Info): number {
  const rowSize = info.filterHeight * info.filterWidth * info.inChannels;
  const total = info.batchSize * info.outHeight * info.outWidth;
  return Math.max(1, Math.min(total, Math.floor(BLOCK_FLOATS / rowSize)));
}

/** Runs at least this long are copied by `copyWithin` (a memmove) rather than a loop. */
const LONG_RUN = 32;

/**
 * Moves receptive fields between an NHWC image and im2col columns, for output positions
 * [first, first + count), row by row of each window (the taps of one window row are neighbouring
 * pixels: one contiguous run). "gather" copies the image into the columns, which must then lie in
 * the same array (the wasm heap) so that long runs are one memmove, and taps in the padding read
 * 0; "scatter" adds the columns into the image and drops the taps in the padding. Offsets are in
 * floats.
 */
function moveWindows(
  direction: "gather" | "scatter",
  image: Float32Array,
  imageStart: number,
  columns: Float32Array,
  columnsStart: number,
  info: Info,
  first: number,
  count: number,
): void {
  const {
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
  const rowSize = filterHeight * tapRow;
  const perImage = outHeight * outWidth;
  const gather = direction === "gather";
  const padded = padInfo.top > 0 || padInfo.left > 0 || padInfo.bottom > 0 || padInfo.right > 0;
  if (gather && padded) columns.fill(0, columnsStart, columnsStart + count * rowSize);
  for (let p = first, column = columnsStart; p < first + count; p++, column += rowSize) {
    const n = Math.floor(p / perImage);
    const within = p - n * perImage;
    const oh = Math.floor(within / outWidth);
    const ow = within - oh * outWidth;
    const firstRow = oh * strideHeight - padInfo.top;
    const firstColumn = ow * strideWidth - padInfo.left;
    const khStart = Math.max(0, -firstRow);
    const khEnd = Math.min(filterHeight, inHeight - firstRow);
    const kwStart = Math.max(0, -firstColumn);
    const kwEnd = Math.min(filterWidth, inWidth - firstColumn);
    const span = (kwEnd - kwStart) * inChannels;
    if (span <= 0) continue;
    for (let kh = khStart; kh < khEnd; kh++) {
      const pixel = imageStart +
        ((n * inHeight + firstRow + kh) * inWidth + firstColumn + kwStart) * inChannels;
      const tap = column + kh * tapRow + kwStart * inChannels;
      if (!gather) {
        for (let j = 0; j < span; j++) image[pixel + j] += columns[tap + j];
      } else if (span >= LONG_RUN) {
        columns.copyWithin(tap, pixel, pixel + span);
      } else {
        for (let j = 0; j < span; j++) columns[tap + j] = columns[pixel + j];
      }
    }
  }
}

/** The whole wasm heap as floats, and where a tensor starts in it. */
function heapFloats(backend: WasmBackend, info: TensorInfo): { heap: Float32Array; start: number } {
  const values = backend.typedArrayFromHeap(info) as Float32Array;
  return { heap: new Float32Array(values.buffer), start: values.byteOffset / 4 };
}

function convInfo(
  xShape: number[],
  filterShape: number[],
  attrs: ConvAttrs,
): Info {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    "channelsLast",
  );
}

function hasDilation(dilations: ConvAttrs["dilations"]): boolean {
  if (dilations === undefined) return false;
  return typeof dilations === "number" ? dilations !== 1 : dilations.some((d) => d !== 1);
}

/** What the BLAS path takes: NHWC float32 without dilation. */
function blasHandles(attrs: ConvAttrs, ...infos: (TensorInfo | undefined)[]): boolean {
  return (attrs.dataFormat ?? "NHWC") === "NHWC" && !hasDilation(attrs.dilations) &&
    infos.every((info) => !info || info.dtype === "float32");
}

/** y = conv2d(x, W) into a new tensor. */
function convForward(
  blas: Blas,
  backend: WasmBackend,
  x: TensorInfo,
  filter: TensorInfo,
  info: Info,
): TensorInfo {
  const rowSize = info.filterHeight * info.filterWidth * info.inChannels;
  const channels = info.outChannels;
  const total = info.batchSize * info.outHeight * info.outWidth;
  const block = positionsPerBlock(info);
  const out = backend.makeOutput(info.outShape, "float32");
  const columnsBlock = backend.makeOutput([block * rowSize], "float32");
  // Views after the last allocation: growing the heap replaces the buffer.
  const y = backend.typedArrayFromHeap(out) as Float32Array;
  const weights = backend.typedArrayFromHeap(filter) as Float32Array;
  const { heap, start: imageStart } = heapFloats(backend, x);
  const columnsStart = heapFloats(backend, columnsBlock).start;
  const columns = heap.subarray(columnsStart, columnsStart + block * rowSize);
  for (let first = 0; first < total; first += block) {
    const count = Math.min(block, total - first);
    moveWindows("gather", heap, imageStart, heap, columnsStart, info, first, count);
    blas.sgemm(
      false,
      false,
      count,
      channels,
      rowSize,
      columns,
      rowSize,
      weights,
      channels,
      0,
      y.subarray(first * channels),
      channels,
    );
  }
  backend.disposeData(columnsBlock.dataId);
  return out;
}

export function makeConv2dBlas(fallback: tf.KernelFunc): tf.KernelFunc {
  return function conv2dBlas(args) {
    const blas = activeBlas();
    const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
    const attrs = args.attrs as unknown as ConvAttrs;
    if (!blas || !blasHandles(attrs, x, filter)) return fallback(args);
    const backend = args.backend as unknown as WasmBackend;
    return convForward(blas, backend, x, filter, convInfo(x.shape, filter.shape, attrs));
  };
}

export function makeFusedConv2dBlas(fallback: tf.KernelFunc): tf.KernelFunc {
  return function fusedConv2dBlas(args) {
    const blas = activeBlas();
    const { x, filter, bias, preluActivationWeights } = args.inputs as {
      x: TensorInfo;
      filter: TensorInfo;
      bias?: TensorInfo;
      preluActivationWeights?: TensorInfo;
    };
    const attrs = args.attrs as unknown as FusedConvAttrs;
    const channels = filter.shape[3];
    if (
      !blas || !blasHandles(attrs, x, filter, bias, preluActivationWeights) ||
      !canApplyEpilogue(attrs.activation, bias, preluActivationWeights, channels)
    ) {
      return fallback(args);
    }
    const backend = args.backend as unknown as WasmBackend;
    const out = convForward(blas, backend, x, filter, convInfo(x.shape, filter.shape, attrs));
    const read = (info?: TensorInfo) =>
      info ? backend.typedArrayFromHeap(info) as Float32Array : null;
    applyEpilogue(
      backend.typedArrayFromHeap(out) as Float32Array,
      channels,
      read(bias),
      attrs.activation,
      attrs.leakyreluAlpha,
      read(preluActivationWeights),
    );
    return out;
  };
}

/** dx = col2im(dy W^T): the input gradient, and the transposed convolution's forward pass. */
export function makeConv2dBackpropInputBlas(fallback: tf.KernelFunc): tf.KernelFunc {
  return function conv2dBackpropInputBlas(args) {
    const blas = activeBlas();
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const attrs = args.attrs as unknown as BackpropInputAttrs;
    if (!blas || !blasHandles(attrs, dy, filter)) return fallback(args);
    const backend = args.backend as unknown as WasmBackend;
    const info = convInfo(attrs.inputShape, filter.shape, attrs);
    const expectedDy = info.outShape;
    if (dy.shape.join() !== expectedDy.join()) {
      throw new Error(
        `Conv2DBackpropInput: dy has shape [${dy.shape}], expected [${expectedDy}]`,
      );
    }
    const out = backend.makeOutput([...attrs.inputShape], "float32");
    const dx = backend.typedArrayFromHeap(out) as Float32Array;
    dx.fill(0);
    const gradient = backend.typedArrayFromHeap(dy) as Float32Array;
    const weights = backend.typedArrayFromHeap(filter) as Float32Array;
    const rowSize = info.filterHeight * info.filterWidth * info.inChannels;
    const channels = info.outChannels;
    const total = info.batchSize * info.outHeight * info.outWidth;
    const block = positionsPerBlock(info);
    const columns = scratchBuffer(block * rowSize);
    for (let first = 0; first < total; first += block) {
      const count = Math.min(block, total - first);
      // columns [count, rowSize] = dy [count, CO] x W^T, with W stored as [rowSize, CO].
      blas.sgemm(
        false,
        true,
        count,
        rowSize,
        channels,
        gradient.subarray(first * channels),
        channels,
        weights,
        channels,
        0,
        columns,
        rowSize,
      );
      moveWindows("scatter", dx, 0, columns, 0, info, first, count);
    }
    return out;
  };
}

/** dW = sum over positions of columns^T dy, accumulated block by block. */
export function makeConv2dBackpropFilterBlas(fallback: tf.KernelFunc): tf.KernelFunc {
  return function conv2dBackpropFilterBlas(args) {
    const blas = activeBlas();
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const attrs = args.attrs as unknown as BackpropFilterAttrs;
    if (!blas || !blasHandles(attrs, x, dy)) return fallback(args);
    const backend = args.backend as unknown as WasmBackend;
    const info = convInfo(x.shape, attrs.filterShape, attrs);
    if (dy.shape.join() !== info.outShape.join()) {
      throw new Error(
        `Conv2DBackpropFilter: dy has shape [${dy.shape}], expected [${info.outShape}]`,
      );
    }
    const rowSize = info.filterHeight * info.filterWidth * info.inChannels;
    const channels = info.outChannels;
    const total = info.batchSize * info.outHeight * info.outWidth;
    const block = positionsPerBlock(info);
    const out = backend.makeOutput([...attrs.filterShape], "float32");
    const columnsBlock = backend.makeOutput([block * rowSize], "float32");
    // Views after the last allocation: growing the heap replaces the buffer.
    const dw = backend.typedArrayFromHeap(out) as Float32Array;
    const gradient = backend.typedArrayFromHeap(dy) as Float32Array;
    const { heap, start: imageStart } = heapFloats(backend, x);
    const columnsStart = heapFloats(backend, columnsBlock).start;
    const columns = heap.subarray(columnsStart, columnsStart + block * rowSize);
    if (total === 0) dw.fill(0);
    for (let first = 0; first < total; first += block) {
      const count = Math.min(block, total - first);
      moveWindows("gather", heap, imageStart, heap, columnsStart, info, first, count);
      // dW [rowSize, CO] (+)= columns^T [rowSize, count] x dy [count, CO]
      blas.sgemm(
        true,
        false,
        rowSize,
        channels,
        count,
        columns,
        rowSize,
        gradient.subarray(first * channels),
        channels,
        first === 0 ? 0 : 1,
        dw,
        channels,
      );
    }
    backend.disposeData(columnsBlock.dataId);
    return out;
  };
}
