/**
 * `Slice`, `SplitV`, `Unpack` and `Concat` for the WebAssembly backend, replacing the ones
 * TensorFlow.js 4.22 ships. The shipped slice first copies its whole input out of the wasm heap
 * (`readSync`), so splitting a tensor into k parts copied it k times and unstacking T steps
 * copied it T times: unstacking the MDN-RNN's [100, 50, 1024] input projections took 0.3 s, 22%
 * of a training step. And every kernel here copied each contiguous run through a new subarray,
 * which costs more than the copy for runs of a few numbers (the mixture's [5000, 32, 15] split
 * into three: 480,000 runs of 5). These read in place and copy short runs with a loop.
 */
import * as tf from "@tensorflow/tfjs";
import type { TensorInfo, WasmBackend } from "./wasm_backend.ts";

type Values = Float32Array | Int32Array | Uint8Array;

/** Below this many numbers a loop beats `set(subarray(...))` and `copyWithin`. */
const SHORT_RUN = 48;

/**
 * to[toStart, toStart + length) = from[fromStart, fromStart + length). Views of one buffer (the
 * wasm heap) copy long runs with `copyWithin`, a memmove with no new view per run.
 */
function copyRun(from: Values, fromStart: number, to: Values, toStart: number, length: number) {
  if (length < SHORT_RUN) {
    for (let i = 0; i < length; i++) to[toStart + i] = from[fromStart + i];
  } else if (from.buffer === to.buffer && from.BYTES_PER_ELEMENT === to.BYTES_PER_ELEMENT) {
    const whole = wholeBuffer(from);
    const fromBase = from.byteOffset / from.BYTES_PER_ELEMENT + fromStart;
    whole.copyWithin(to.byteOffset / to.BYTES_PER_ELEMENT + toStart, fromBase, fromBase + length);
  } else {
    to.set(from.subarray(fromStart, fromStart + length), toStart);
  }
}

let wholeView: Values | null = null;

/** A view of all of `values`' buffer with its element type (kept while the buffer lives). */
function wholeBuffer(values: Values): Values {
  if (
    wholeView?.buffer !== values.buffer || wholeView.BYTES_PER_ELEMENT !== values.BYTES_PER_ELEMENT
  ) {
    const View = values.constructor as new (buffer: ArrayBufferLike) => Values;
    wholeView = new View(values.buffer);
  }
  return wholeView;
}

/** Copies the box [begin, begin + size) of `x` (row-major, shape `shape`) into `out`. */
export function copyBox(
  x: Values,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  out: Values,
): void {
  const rank = shape.length;
  if (size.some((side) => side === 0)) return;
  if (rank === 0) {
    out[0] = x[0];
    return;
  }
  const strides = new Array<number>(rank).fill(1);
  for (let axis = rank - 2; axis >= 0; axis--) strides[axis] = strides[axis + 1] * shape[axis + 1];
  // Merge the trailing axes the box spans whole into one contiguous run.
  let runAxis = rank - 1;
  while (runAxis > 0 && begin[runAxis] === 0 && size[runAxis] === shape[runAxis]) runAxis--;
  const run = size.slice(runAxis).reduce((a, b) => a * b, 1);
  const index = new Array<number>(runAxis).fill(0);
  let written = 0;
  while (true) {
    let offset = begin[runAxis] * strides[runAxis];
    for (let axis = 0; axis < runAxis; axis++) {
      offset += (begin[axis] + index[axis]) * strides[axis];
    }
    copyRun(x, offset, out, written, run);
    written += run;
    // Odometer over the axes before the run.
    let axis = runAxis - 1;
    while (axis >= 0 && ++index[axis] === size[axis]) index[axis--] = 0;
    if (axis < 0) return;
  }
}

function view(backend: WasmBackend, info: TensorInfo): Values {
  return backend.typedArrayFromHeap(info);
}

function sliceInPlace(
  backend: WasmBackend,
  x: TensorInfo,
  begin: number[],
  size: number[],
): TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  // Views after the allocation: growing the heap replaces the buffer.
  copyBox(view(backend, x), x.shape, begin, size, view(backend, out));
  return out;
}

function numeric(...infos: TensorInfo[]): boolean {
  return infos.every((info) => info.dtype !== "string");
}

export function makeSliceWasm(fallback: tf.KernelFunc): tf.KernelFunc {
  return function sliceWasm(args) {
    const { x } = args.inputs as { x: TensorInfo };
    if (!numeric(x)) return fallback(args);
    const { begin, size } = args.attrs as unknown as {
      begin: number | number[];
      size: number | number[];
    };
    const [begin_, size_] = tf.slice_util.parseSliceParams(
      x as unknown as tf.TensorInfo,
      begin,
      size,
    );
    return sliceInPlace(args.backend as unknown as WasmBackend, x, begin_, size_);
  };
}

export function makeSplitVWasm(fallback: tf.KernelFunc): tf.KernelFunc {
  return function splitVWasm(args) {
    const { x } = args.inputs as { x: TensorInfo };
    if (!numeric(x)) return fallback(args);
    const { numOrSizeSplits, axis } = args.attrs as unknown as {
      numOrSizeSplits: number | number[];
      axis: number | number[];
    };
    const splitAxis = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(
      x as unknown as tf.Tensor,
      numOrSizeSplits,
      splitAxis,
    );
    const backend = args.backend as unknown as WasmBackend;
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((side) => {
      const size = [...x.shape];
      size[splitAxis] = side;
      const part = sliceInPlace(backend, x, begin, size);
      begin[splitAxis] += side;
      return part;
    });
  };
}

export function makeUnpackWasm(fallback: tf.KernelFunc): tf.KernelFunc {
  return function unpackWasm(args) {
    const { value } = args.inputs as { value: TensorInfo };
    if (!numeric(value)) return fallback(args);
    let { axis } = args.attrs as unknown as { axis: number };
    if (axis < 0) axis += value.shape.length;
    const backend = args.backend as unknown as WasmBackend;
    const outShape = value.shape.filter((_, i) => i !== axis);
    const begin = new Array<number>(value.shape.length).fill(0);
    const size = [...value.shape];
    size[axis] = 1;
    const parts: TensorInfo[] = [];
    for (let i = 0; i < value.shape[axis]; i++) {
      begin[axis] = i;
      const part = sliceInPlace(backend, value, begin, size);
      parts.push({ dataId: part.dataId, dtype: part.dtype, shape: outShape });
    }
    return parts;
  };
}

export function makeConcatWasm(fallback: tf.KernelFunc): tf.KernelFunc {
  return function concatWasm(args) {
    const inputs = args.inputs as unknown as TensorInfo[];
    if (!numeric(...inputs) || inputs.length < 2) return fallback(args);
    const { axis } = args.attrs as unknown as { axis: number | number[] };
    const along = tf.util.parseAxisParam(axis, inputs[0].shape)[0];
    const shapes = inputs.map((t) => t.shape);
    tf.backend_util.assertParamsConsistent(shapes, along);
    const outShape = tf.backend_util.computeOutShape(shapes, along);
    const backend = args.backend as unknown as WasmBackend;
    const out = backend.makeOutput(outShape, inputs[0].dtype);
    const outValues = view(backend, out);
    const rows = tf.util.sizeFromShape(inputs[0].shape.slice(0, along));
    const widths = inputs.map((t) => tf.util.sizeFromShape(t.shape.slice(along)));
    const total = widths.reduce((a, b) => a + b, 0);
    let column = 0;
    inputs.forEach((input, i) => {
      const values = view(backend, input);
      const width = widths[i];
      for (let row = 0; row < rows; row++) {
        copyRun(values, row * width, outValues, row * total + column, width);
      }
      column += width;
    });
    return out;
  };
}

/** Fills `out` with `x` repeated `reps` times along each axis (row-major). */
export function tileInto(
  x: Values,
  shape: readonly number[],
  reps: readonly number[],
  out: Values,
) {
  const rank = shape.length;
  if (out.length === 0) return;
  if (rank === 0) {
    out[0] = x[0];
    return;
  }
  const outShape = shape.map((side, axis) => side * reps[axis]);
  const rowLength = shape[rank - 1];
  const rowRepeats = reps[rank - 1];
  const rows = out.length / outShape[rank - 1];
  const index = new Array<number>(rank - 1).fill(0);
  let written = 0;
  for (let row = 0; row < rows; row++) {
    // The input row this output row repeats: each index taken modulo the input's side.
    let source = 0;
    for (let axis = 0; axis < rank - 1; axis++) {
      source = source * shape[axis] + (index[axis] % shape[axis]);
    }
    source *= rowLength;
    for (let r = 0; r < rowRepeats; r++, written += rowLength) {
      copyRun(x, source, out, written, rowLength);
    }
    let axis = rank - 2;
    while (axis >= 0 && ++index[axis] === outShape[axis]) index[axis--] = 0;
  }
}

export function makeTileWasm(fallback: tf.KernelFunc): tf.KernelFunc {
  return function tileWasm(args) {
    const { x } = args.inputs as { x: TensorInfo };
    if (!numeric(x)) return fallback(args);
    const { reps } = args.attrs as unknown as { reps: number[] };
    const backend = args.backend as unknown as WasmBackend;
    const out = backend.makeOutput(x.shape.map((side, axis) => side * reps[axis]), x.dtype);
    tileInto(view(backend, x), x.shape, reps, view(backend, out));
    return out;
  };
}
