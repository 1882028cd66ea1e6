/**
 * Frames: images as height x width x channels (HWC) bytes, the layout pixel environments and
 * decoders produce. Helpers to build them from observations, enlarge tiny ones and lay
 * sequences side by side (e.g. real next to dreamed rollouts).
 */

/** An 8-bit image, rows top to bottom, channels interleaved (gray, RGB or RGBA). */
export interface Frame {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3 | 4;
  readonly data: Uint8Array;
}

/** An RGB color as three bytes. */
export type Rgb = readonly [number, number, number];

/**
 * A frame from an observation shaped `[height, width]` or `[height, width, channels]`. Bytes are
 * copied (environments reuse their observation buffer); float values are read as [0, 1]
 * intensities, clamped and scaled to bytes.
 */
export function frameFrom(
  values: Uint8Array | Uint8ClampedArray | Float32Array | Float64Array | ArrayLike<number>,
  shape: readonly number[],
): Frame {
  const [height, width, channels = 1] = shape;
  if (shape.length < 2 || shape.length > 3 || !(height > 0) || !(width > 0)) {
    throw new RangeError(`frameFrom: shape must be [height, width] or [height, width, channels]`);
  }
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new RangeError(`frameFrom: ${channels} channels; expected 1, 3 or 4`);
  }
  if (values.length !== height * width * channels) {
    throw new RangeError(
      `frameFrom: ${values.length} values do not fill shape [${shape.join(", ")}]`,
    );
  }
  const isBytes = values instanceof Uint8Array || values instanceof Uint8ClampedArray;
  const data = isBytes
    ? Uint8Array.from(values)
    : Uint8Array.from(values, (value) => Math.round(Math.min(1, Math.max(0, value)) * 255));
  return { width, height, channels, data };
}

/** A frame filled with one color. */
export function solidFrame(width: number, height: number, color: Rgb): Frame {
  const data = new Uint8Array(width * height * 3);
  for (let pixel = 0; pixel < width * height; pixel++) data.set(color, pixel * 3);
  return { width, height, channels: 3, data };
}

/**
 * The frame as RGB: gray is repeated into three channels, alpha is composited over
 * `background` (default white), so every encoder and layout deals with one pixel format.
 */
export function toRgb(frame: Frame, background: Rgb = [255, 255, 255]): Frame {
  if (frame.channels === 3) return frame;
  const pixels = frame.width * frame.height;
  const data = new Uint8Array(pixels * 3);
  for (let pixel = 0; pixel < pixels; pixel++) {
    if (frame.channels === 1) {
      data.fill(frame.data[pixel], pixel * 3, pixel * 3 + 3);
      continue;
    }
    const alpha = frame.data[pixel * 4 + 3] / 255;
    for (let channel = 0; channel < 3; channel++) {
      const value = frame.data[pixel * 4 + channel];
      data[pixel * 3 + channel] = Math.round(value * alpha + background[channel] * (1 - alpha));
    }
  }
  return { width: frame.width, height: frame.height, channels: 3, data };
}

/** Enlarges a frame by an integer factor, each pixel becoming a factor x factor block. */
export function upscale(frame: Frame, factor: number): Frame {
  if (!Number.isInteger(factor) || factor < 1) {
    throw new RangeError(`upscale: factor must be a positive integer, got ${factor}`);
  }
  if (factor === 1) return frame;
  const { width, height, channels } = frame;
  const outWidth = width * factor;
  const outRowBytes = outWidth * channels;
  const data = new Uint8Array(outRowBytes * height * factor);
  for (let y = 0; y < height; y++) {
    const rowStart = y * factor * outRowBytes;
    // Build one enlarged row, then copy it factor - 1 times below itself.
    for (let x = 0; x < width; x++) {
      const source = frame.data.subarray(
        (y * width + x) * channels,
        (y * width + x + 1) * channels,
      );
      for (let repeat = 0; repeat < factor; repeat++) {
        data.set(source, rowStart + (x * factor + repeat) * channels);
      }
    }
    for (let repeat = 1; repeat < factor; repeat++) {
      data.copyWithin(rowStart + repeat * outRowBytes, rowStart, rowStart + outRowBytes);
    }
  }
  return { width: outWidth, height: height * factor, channels, data };
}

export interface StackOptions {
  /** Pixels between frames (default 2). */
  gap?: number;
  /** Color of the gap and of the space below shorter frames (default white). */
  background?: Rgb;
}

/** Frames placed left to right, top-aligned, as one RGB frame. */
export function hstack(frames: readonly Frame[], options: StackOptions = {}): Frame {
  if (frames.length === 0) throw new RangeError("hstack: no frames");
  const gap = options.gap ?? 2;
  const rgbFrames = frames.map((frame) => toRgb(frame, options.background));
  const width = rgbFrames.reduce((sum, frame) => sum + frame.width, 0) + gap * (frames.length - 1);
  const height = Math.max(...rgbFrames.map((frame) => frame.height));
  const output = solidFrame(width, height, options.background ?? [255, 255, 255]);
  let left = 0;
  for (const frame of rgbFrames) {
    for (let y = 0; y < frame.height; y++) {
      const row = frame.data.subarray(y * frame.width * 3, (y + 1) * frame.width * 3);
      output.data.set(row, (y * width + left) * 3);
    }
    left += frame.width + gap;
  }
  return output;
}

/**
 * Sequences of frames shown next to each other, frame by frame: `sideBySide(real, dreamed)`.
 * A shorter sequence holds its last frame so both play to the end of the longer one.
 */
export function sideBySide(...sequences: readonly (readonly Frame[])[]): Frame[] {
  if (sequences.length === 0 || sequences.some((sequence) => sequence.length === 0)) {
    throw new RangeError("sideBySide: every sequence needs at least one frame");
  }
  const length = Math.max(...sequences.map((sequence) => sequence.length));
  return Array.from(
    { length },
    (_, index) =>
      hstack(sequences.map((sequence) => sequence[Math.min(index, sequence.length - 1)])),
  );
}
