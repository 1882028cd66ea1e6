/**
 * Images for notes and notebooks: frames to PNG and animated GIF, saved under res/ or shown
 * inline in a notebook. Re-exports the frame helpers so callers need one import.
 */
import { Buffer } from "node:buffer";
import { saveFile } from "./files.ts";
import { displayBundle } from "./notebook.ts";

export {
  type Frame,
  frameFrom,
  hstack,
  type Rgb,
  sideBySide,
  type StackOptions,
  toRgb,
  upscale,
} from "./frame.ts";
export { crc32, encodePng } from "./png.ts";
export { encodeGif, type GifOptions } from "./gif.ts";

/**
 * Writes image bytes atomically. Relative paths start at the repository root (`res/...`); the
 * path returned is relative to the root when inside it, ready for a results file.
 */
export function saveImage(bytes: Uint8Array, path: string): Promise<string> {
  return saveFile(bytes, path);
}

/**
 * Shows PNG bytes as notebook output, `width` CSS pixels wide when given (a figure rendered at
 * twice its size shows at its size); does nothing outside a notebook.
 */
export function showImage(
  png: Uint8Array,
  { width, label = "[PNG image]" }: { width?: number; label?: string } = {},
): Promise<void> {
  return displayBundle(
    { "image/png": toBase64(png), "text/plain": label },
    width === undefined ? {} : { metadata: { "image/png": { width } } },
  );
}

/** Shows animated GIF bytes as notebook output; does nothing outside a notebook. */
export function showGif(gif: Uint8Array): Promise<void> {
  return displayBundle({ "image/gif": toBase64(gif), "text/plain": "[GIF animation]" });
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}
