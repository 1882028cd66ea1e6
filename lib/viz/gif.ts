/**
 * Animated GIFs from frame sequences, encoded with gifenc. All frames share one palette so
 * colors do not flicker between frames; when the frames hold at most 256 distinct colors (the
 * usual case for rendered game screens) the palette is exact, otherwise it is quantized.
 */
// @ts-types="./gifenc.d.ts"
import gifenc from "gifenc";
import type { Palette } from "./gifenc.d.ts";
import { type Frame, toRgb } from "./frame.ts";

export interface GifOptions {
  /** Milliseconds each frame is shown: one value for all or one per frame (default 100). */
  delayMs?: number | readonly number[];
  /** true (default) loops forever, false plays once, a number repeats that many times. */
  loop?: boolean | number;
  /** Most colors in the shared palette, 2 to 256 (default 256). */
  maxColors?: number;
}

/** Browsers show delays under 20 ms as 100 ms, so shorter delays are raised to 20 ms. */
const MIN_DELAY_MS = 20;
/** Pixels sampled to build a quantized palette; enough for a stable palette, fast to build. */
const PALETTE_SAMPLE_PIXELS = 1 << 19;

/** Encodes frames of equal size as an animated GIF file. */
export function encodeGif(frames: readonly Frame[], options: GifOptions = {}): Uint8Array {
  if (frames.length === 0) throw new RangeError("encodeGif: no frames");
  const { width, height } = frames[0];
  frames.forEach((frame, index) => {
    if (frame.width !== width || frame.height !== height) {
      throw new RangeError(
        `encodeGif: frame ${index} is ${frame.width}x${frame.height}, frame 0 is ${width}x${height}`,
      );
    }
  });
  const maxColors = options.maxColors ?? 256;
  if (!(maxColors >= 2 && maxColors <= 256)) {
    throw new RangeError(`encodeGif: maxColors must be in 2..256, got ${maxColors}`);
  }
  const rgbFrames = frames.map((frame) => toRgb(frame));
  const exactPalette = exactPaletteOf(rgbFrames, maxColors);
  const palette = exactPalette?.palette ?? quantizedPalette(rgbFrames, maxColors);
  const repeat = options.loop === false
    ? -1
    : options.loop === true || options.loop === undefined
    ? 0
    : Math.max(0, Math.floor(options.loop));

  const encoder = gifenc.GIFEncoder();
  rgbFrames.forEach((frame, index) => {
    const indexed = exactPalette
      ? indexExactly(frame, exactPalette.indexOfColor)
      : gifenc.applyPalette(toRgbaBuffer(frame), palette, "rgb565");
    const delay = Array.isArray(options.delayMs)
      ? options.delayMs[Math.min(index, options.delayMs.length - 1)]
      : (options.delayMs as number | undefined) ?? 100;
    encoder.writeFrame(indexed, width, height, {
      // The palette on the first frame becomes the global color table.
      palette: index === 0 ? palette : undefined,
      delay: Math.max(MIN_DELAY_MS, delay),
      repeat,
    });
  });
  encoder.finish();
  return encoder.bytes();
}

function colorKey(data: Uint8Array, offset: number): number {
  return (data[offset] << 16) | (data[offset + 1] << 8) | data[offset + 2];
}

/** The frames' distinct colors as a palette, or null when there are more than `maxColors`. */
function exactPaletteOf(
  frames: readonly Frame[],
  maxColors: number,
): { palette: Palette; indexOfColor: Map<number, number> } | null {
  const indexOfColor = new Map<number, number>();
  const palette: Palette = [];
  for (const frame of frames) {
    for (let offset = 0; offset < frame.data.length; offset += 3) {
      const key = colorKey(frame.data, offset);
      if (indexOfColor.has(key)) continue;
      if (palette.length === maxColors) return null;
      indexOfColor.set(key, palette.length);
      palette.push([frame.data[offset], frame.data[offset + 1], frame.data[offset + 2]]);
    }
  }
  // GIF color tables hold a power of two of at least two entries; gifenc pads with black.
  if (palette.length === 1) palette.push([0, 0, 0]);
  return { palette, indexOfColor };
}

function indexExactly(frame: Frame, indexOfColor: Map<number, number>): Uint8Array {
  const indexed = new Uint8Array(frame.width * frame.height);
  for (let pixel = 0; pixel < indexed.length; pixel++) {
    indexed[pixel] = indexOfColor.get(colorKey(frame.data, pixel * 3))!;
  }
  return indexed;
}

/** A palette quantized from evenly spaced frames, at most PALETTE_SAMPLE_PIXELS pixels. */
function quantizedPalette(frames: readonly Frame[], maxColors: number): Palette {
  const pixelsPerFrame = frames[0].width * frames[0].height;
  const frameCount = Math.max(
    1,
    Math.min(frames.length, Math.floor(PALETTE_SAMPLE_PIXELS / pixelsPerFrame)),
  );
  const sample = new Uint8Array(frameCount * pixelsPerFrame * 4);
  for (let index = 0; index < frameCount; index++) {
    const frame = frames[Math.floor((index * frames.length) / frameCount)];
    sample.set(toRgbaBuffer(frame), index * pixelsPerFrame * 4);
  }
  return gifenc.quantize(sample, maxColors, { format: "rgb565" });
}

/** gifenc reads pixels as 32-bit words, so it needs RGBA in a buffer of its own. */
function toRgbaBuffer(frame: Frame): Uint8Array {
  const rgba = new Uint8Array(frame.width * frame.height * 4);
  for (let pixel = 0; pixel < frame.width * frame.height; pixel++) {
    rgba[pixel * 4] = frame.data[pixel * 3];
    rgba[pixel * 4 + 1] = frame.data[pixel * 3 + 1];
    rgba[pixel * 4 + 2] = frame.data[pixel * 3 + 2];
    rgba[pixel * 4 + 3] = 255;
  }
  return rgba;
}
