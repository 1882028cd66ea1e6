import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { crc32 as zlibCrc32, inflateSync } from "node:zlib";
import { crc32, encodePng, type Frame, frameFrom } from "../../lib/viz/image.ts";

interface DecodedPng {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlace: number;
  chunkTypes: string[];
  pixels: Uint8Array;
}

/** Decodes an 8-bit non-interlaced PNG, checking every chunk's CRC with zlib's own CRC-32. */
function decodePng(bytes: Uint8Array): DecodedPng {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunkTypes: string[] = [];
  const idat: Uint8Array[] = [];
  let header: DataView | null = null;
  for (let offset = 8; offset < bytes.length;) {
    const length = view.getUint32(offset);
    const type = new TextDecoder().decode(bytes.subarray(offset + 4, offset + 8));
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    const storedCrc = view.getUint32(offset + 8 + length);
    assert.equal(storedCrc, zlibCrc32(bytes.subarray(offset + 4, offset + 8 + length)), type);
    chunkTypes.push(type);
    if (type === "IHDR") header = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (type === "IDAT") idat.push(data);
    offset += 12 + length;
  }
  assert.ok(header !== null);
  const width = header.getUint32(0);
  const height = header.getUint32(4);
  const colorType = header.getUint8(9);
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType]!;
  const raw = inflateSync(Buffer.concat(idat));
  const rowBytes = width * channels;
  assert.equal(raw.length, height * (rowBytes + 1));
  const pixels = new Uint8Array(height * rowBytes);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (rowBytes + 1)];
    for (let x = 0; x < rowBytes; x++) {
      const value = raw[y * (rowBytes + 1) + 1 + x];
      const left = x >= channels ? pixels[y * rowBytes + x - channels] : 0;
      const up = y > 0 ? pixels[(y - 1) * rowBytes + x] : 0;
      const upLeft = x >= channels && y > 0 ? pixels[(y - 1) * rowBytes + x - channels] : 0;
      const paeth = () => {
        const estimate = left + up - upLeft;
        const [a, b, c] = [left, up, upLeft].map((v) => Math.abs(estimate - v));
        return a <= b && a <= c ? left : b <= c ? up : upLeft;
      };
      const predictor = [0, left, up, (left + up) >> 1, paeth()][filter];
      assert.ok(predictor !== undefined, `filter type ${filter}`);
      pixels[y * rowBytes + x] = (value + predictor) & 0xff;
    }
  }
  return {
    width,
    height,
    bitDepth: header.getUint8(8),
    colorType,
    interlace: header.getUint8(12),
    chunkTypes,
    pixels,
  };
}

/** A frame of pseudo-random bytes with some repeated rows, so both PNG filters get used. */
function testFrame(width: number, height: number, channels: 1 | 3 | 4): Frame {
  const data = new Uint8Array(width * height * channels);
  let state = 12345;
  for (let index = 0; index < data.length; index++) {
    state = (state * 1103515245 + 12345) >>> 0;
    data[index] = state >>> 24;
  }
  const rowBytes = width * channels;
  data.copyWithin(2 * rowBytes, rowBytes, 2 * rowBytes); // row 2 repeats row 1
  return { width, height, channels, data };
}

Deno.test("crc32 matches the standard check value and zlib", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  const frame = testFrame(7, 5, 3);
  assert.equal(crc32(frame.data), zlibCrc32(frame.data));
});

Deno.test("encodePng", async (t) => {
  for (const [channels, colorType] of [[1, 0], [3, 2], [4, 6]] as const) {
    await t.step(`${channels}-channel frames decode back to the same pixels`, () => {
      const frame = testFrame(13, 9, channels);
      const decoded = decodePng(encodePng(frame));
      assert.equal(decoded.width, 13);
      assert.equal(decoded.height, 9);
      assert.equal(decoded.bitDepth, 8);
      assert.equal(decoded.colorType, colorType);
      assert.equal(decoded.interlace, 0);
      assert.deepEqual(decoded.chunkTypes, ["IHDR", "IDAT", "IEND"]);
      assert.deepEqual(decoded.pixels, frame.data);
    });
  }

  await t.step("flat images compress well", () => {
    const frame = frameFrom(new Uint8Array(64 * 64 * 3).fill(200), [64, 64, 3]);
    assert.ok(encodePng(frame).length < 200);
  });

  await t.step("rejects data that does not fill the frame", () => {
    assert.throws(
      () => encodePng({ width: 4, height: 4, channels: 3, data: new Uint8Array(47) }),
      /47 bytes for a 4x4x3 frame/,
    );
  });
});
