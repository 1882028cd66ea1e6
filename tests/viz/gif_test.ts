import assert from "node:assert/strict";
import { encodeGif, type Frame, frameFrom } from "../../lib/viz/image.ts";

interface DecodedGif {
  version: string;
  width: number;
  height: number;
  globalPalette: number[][];
  /** NETSCAPE2.0 repeat count, or null without the looping extension. */
  loopCount: number | null;
  frames: { delayMs: number; pixels: Uint8Array }[];
}

/** Variable-width LZW decoding of one GIF image's data (GIF89a spec, appendix F). */
function decodeLzw(data: Uint8Array, minimumCodeSize: number, pixelCount: number): Uint8Array {
  const clearCode = 1 << minimumCodeSize;
  const endCode = clearCode + 1;
  const output = new Uint8Array(pixelCount);
  let outputLength = 0;
  let dictionary: number[][] = [];
  let codeSize = minimumCodeSize + 1;
  let previous: number[] | null = null;
  const reset = () => {
    dictionary = Array.from({ length: clearCode }, (_, index) => [index]);
    dictionary.push([], []);
    codeSize = minimumCodeSize + 1;
    previous = null;
  };
  reset();
  let bitBuffer = 0;
  let bitCount = 0;
  for (const byte of data) {
    bitBuffer |= byte << bitCount;
    bitCount += 8;
    while (bitCount >= codeSize) {
      const code = bitBuffer & ((1 << codeSize) - 1);
      bitBuffer >>>= codeSize;
      bitCount -= codeSize;
      if (code === clearCode) {
        reset();
        continue;
      }
      if (code === endCode) return output.subarray(0, outputLength);
      let entry: number[];
      if (code < dictionary.length) entry = dictionary[code];
      else if (previous !== null && code === dictionary.length) entry = [...previous, previous[0]];
      else throw new Error(`bad LZW code ${code}`);
      for (const value of entry) output[outputLength++] = value;
      if (previous !== null && dictionary.length < 4096) {
        dictionary.push([...previous, entry[0]]);
        if (dictionary.length === 1 << codeSize && codeSize < 12) codeSize++;
      }
      previous = entry;
    }
  }
  return output.subarray(0, outputLength);
}

/** Parses a GIF's block structure and decodes every frame to palette indices. */
function decodeGif(bytes: Uint8Array): DecodedGif {
  const text = (start: number, length: number) =>
    new TextDecoder().decode(bytes.subarray(start, start + length));
  const uint16 = (at: number) => bytes[at] | (bytes[at + 1] << 8);
  assert.equal(text(0, 3), "GIF");
  const gif: DecodedGif = {
    version: text(3, 3),
    width: uint16(6),
    height: uint16(8),
    globalPalette: [],
    loopCount: null,
    frames: [],
  };
  const packed = bytes[10];
  let position = 13;
  if (packed & 0x80) {
    const size = 2 << (packed & 7);
    for (let index = 0; index < size; index++) {
      gif.globalPalette.push([...bytes.subarray(position + index * 3, position + index * 3 + 3)]);
    }
    position += size * 3;
  }
  const readSubBlocks = (): Uint8Array => {
    const parts: number[] = [];
    while (bytes[position] !== 0) {
      const length = bytes[position];
      parts.push(...bytes.subarray(position + 1, position + 1 + length));
      position += length + 1;
    }
    position++;
    return Uint8Array.from(parts);
  };
  let delayMs = 0;
  for (;;) {
    const introducer = bytes[position++];
    if (introducer === 0x3b) break; // trailer
    if (introducer === 0x21) {
      const label = bytes[position++];
      if (label === 0xf9) {
        delayMs = uint16(position + 2) * 10;
        position += bytes[position] + 1;
        readSubBlocks();
      } else if (label === 0xff && text(position + 1, 11) === "NETSCAPE2.0") {
        position += 12;
        const data = readSubBlocks();
        gif.loopCount = data[1] | (data[2] << 8);
      } else {
        position += bytes[position] + 1;
        readSubBlocks();
      }
    } else if (introducer === 0x2c) {
      const width = uint16(position + 4);
      const height = uint16(position + 6);
      assert.equal(bytes[position + 8] & 0x80, 0, "frames use the global palette");
      position += 9;
      const minimumCodeSize = bytes[position++];
      const pixels = decodeLzw(readSubBlocks(), minimumCodeSize, width * height);
      assert.equal(pixels.length, width * height, "frame decodes to every pixel");
      gif.frames.push({ delayMs, pixels });
    } else {
      throw new Error(`unexpected block 0x${introducer.toString(16)} at ${position - 1}`);
    }
  }
  assert.equal(position, bytes.length, "trailer is the last byte");
  return gif;
}

function colorsOf(gif: DecodedGif, frameIndex: number): number[][] {
  return [...gif.frames[frameIndex].pixels].map((index) => gif.globalPalette[index]);
}

function rgbPixels(frame: Frame): number[][] {
  return Array.from(
    { length: frame.width * frame.height },
    (_, pixel) => [...frame.data.subarray(pixel * 3, pixel * 3 + 3)],
  );
}

/** A frame of a few flat colors with a moving square, like a rendered game screen. */
function gameFrame(step: number): Frame {
  const width = 20;
  const height = 12;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inSquare = x >= step && x < step + 4 && y >= 4 && y < 8;
      const color = inSquare ? [220, 40, 30] : y > 9 ? [30, 160, 60] : [135, 206, 235];
      data.set(color, (y * width + x) * 3);
    }
  }
  return { width, height, channels: 3, data };
}

Deno.test("encodeGif", async (t) => {
  const frames = [0, 3, 6, 9].map(gameFrame);

  await t.step("writes a GIF89a with one image per frame, delays and looping", () => {
    const gif = decodeGif(encodeGif(frames, { delayMs: [50, 80, 120, 200] }));
    assert.equal(gif.version, "89a");
    assert.equal(gif.width, 20);
    assert.equal(gif.height, 12);
    assert.equal(gif.frames.length, 4);
    assert.deepEqual(gif.frames.map((frame) => frame.delayMs), [50, 80, 120, 200]);
    assert.equal(gif.loopCount, 0, "loops forever by default");
  });

  await t.step("frames with few colors come back exactly", () => {
    const gif = decodeGif(encodeGif(frames));
    frames.forEach((frame, index) => assert.deepEqual(colorsOf(gif, index), rgbPixels(frame)));
  });

  await t.step("loop: false plays once; a number repeats", () => {
    assert.equal(decodeGif(encodeGif(frames, { loop: false })).loopCount, null);
    assert.equal(decodeGif(encodeGif(frames, { loop: 3 })).loopCount, 3);
  });

  await t.step("very short delays are raised to what browsers honour", () => {
    const gif = decodeGif(encodeGif(frames, { delayMs: 5 }));
    assert.ok(gif.frames.every((frame) => frame.delayMs === 20));
  });

  await t.step("many-colored frames are quantized close to the original", () => {
    const values = new Float32Array(32 * 32 * 3).map((_, index) => {
      const pixel = Math.floor(index / 3);
      return [(pixel % 32) / 31, Math.floor(pixel / 32) / 31, 0.5][index % 3];
    });
    const gradient = frameFrom(values, [32, 32, 3]);
    const gif = decodeGif(encodeGif([gradient], { maxColors: 64 }));
    assert.ok(gif.globalPalette.length <= 64);
    const decoded = colorsOf(gif, 0);
    const original = rgbPixels(gradient);
    const meanError = decoded.reduce(
      (sum, color, pixel) =>
        sum +
        color.reduce((s, value, channel) => s + Math.abs(value - original[pixel][channel]), 0),
      0,
    ) / (decoded.length * 3);
    assert.ok(meanError < 12, `mean absolute error ${meanError}`);
  });

  await t.step("rejects frames of different sizes", () => {
    const small = frameFrom(new Uint8Array(4 * 4 * 3), [4, 4, 3]);
    assert.throws(() => encodeGif([frames[0], small]), /frame 1 is 4x4, frame 0 is 20x12/);
  });
});
