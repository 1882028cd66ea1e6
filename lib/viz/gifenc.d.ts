// Types for the parts of gifenc 1.0.3 used by gif.ts (the package ships no declarations).
// The package is CommonJS; Deno hands its `module.exports` object over as the default export.

export type Palette = number[][];

export interface GifEncoderStream {
  writeFrame(
    index: Uint8Array,
    width: number,
    height: number,
    options?: {
      palette?: Palette;
      delay?: number;
      repeat?: number;
      transparent?: boolean;
      transparentIndex?: number;
      dispose?: number;
    },
  ): void;
  finish(): void;
  bytes(): Uint8Array;
}

export function GIFEncoder(
  options?: { initialCapacity?: number; auto?: boolean },
): GifEncoderStream;

export function quantize(
  rgba: Uint8Array | Uint8ClampedArray,
  maxColors: number,
  options?: { format?: "rgb565" | "rgb444" | "rgba4444" },
): Palette;

export function applyPalette(
  rgba: Uint8Array | Uint8ClampedArray,
  palette: Palette,
  format?: "rgb565" | "rgb444" | "rgba4444",
): Uint8Array;

declare const gifenc: {
  GIFEncoder: typeof GIFEncoder;
  quantize: typeof quantize;
  applyPalette: typeof applyPalette;
};
export default gifenc;
