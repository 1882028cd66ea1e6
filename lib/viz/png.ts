/**
 * A minimal PNG encoder (PNG spec, ISO/IEC 15948): 8-bit gray, RGB or RGBA, no interlacing,
 * zlib-compressed scanlines with the Up filter where it compresses better than none.
 */
import { deflateSync } from "node:zlib";
import type { Frame } from "./frame.ts";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** PNG color types by channel count: gray, RGB, RGBA. */
const COLOR_TYPE: Record<Frame["channels"], number> = { 1: 0, 3: 2, 4: 6 };
const FILTER_NONE = 0;
const FILTER_UP = 2;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
    table[byte] = crc >>> 0;
  }
  return table;
})();

/** CRC-32 (the IEEE polynomial PNG and zlib use) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Encodes a frame as PNG file bytes. */
export function encodePng(frame: Frame): Uint8Array {
  const { width, height, channels, data } = frame;
  if (data.length !== width * height * channels) {
    throw new RangeError(
      `encodePng: ${data.length} bytes for a ${width}x${height}x${channels} frame`,
    );
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, COLOR_TYPE[channels], 0, 0, 0], 8); // bit depth, color type, methods, no interlace
  const compressed = deflateSync(filterScanlines(frame), { level: 9 });
  const chunks = [
    chunk("IHDR", header),
    chunk("IDAT", new Uint8Array(compressed.buffer, compressed.byteOffset, compressed.length)),
    chunk("IEND", new Uint8Array(0)),
  ];
  const output = new Uint8Array(
    PNG_SIGNATURE.length + chunks.reduce((sum, part) => sum + part.length, 0),
  );
  output.set(PNG_SIGNATURE);
  let offset = PNG_SIGNATURE.length;
  for (const part of chunks) {
    output.set(part, offset);
    offset += part.length;
  }
  return output;
}

/**
 * Each scanline prefixed by its filter type. Rendered frames repeat rows a lot (upscaled
 * pixels, flat backgrounds), which the Up filter turns into runs of zeros.
 */
function filterScanlines({ width, height, channels, data }: Frame): Uint8Array {
  const rowBytes = width * channels;
  const output = new Uint8Array((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = data.subarray(y * rowBytes, (y + 1) * rowBytes);
    const target = y * (rowBytes + 1);
    if (y === 0) {
      output[target] = FILTER_NONE;
      output.set(row, target + 1);
      continue;
    }
    const above = data.subarray((y - 1) * rowBytes, y * rowBytes);
    let rawCost = 0;
    let upCost = 0;
    for (let index = 0; index < rowBytes; index++) {
      // Sum of absolute signed bytes: the usual cheap estimate of how well a row compresses.
      const raw = row[index];
      const up = (row[index] - above[index]) & 0xff;
      rawCost += raw < 128 ? raw : 256 - raw;
      upCost += up < 128 ? up : 256 - up;
    }
    if (upCost < rawCost) {
      output[target] = FILTER_UP;
      for (let index = 0; index < rowBytes; index++) {
        output[target + 1 + index] = (row[index] - above[index]) & 0xff;
      }
    } else {
      output[target] = FILTER_NONE;
      output.set(row, target + 1);
    }
  }
  return output;
}

/** One chunk: big-endian length, type, data, CRC of type and data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(12 + data.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, data.length);
  bytes.set(new TextEncoder().encode(type), 4);
  bytes.set(data, 8);
  view.setUint32(8 + data.length, crc32(bytes.subarray(4, 8 + data.length)));
  return bytes;
}
