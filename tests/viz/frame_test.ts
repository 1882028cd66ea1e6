import assert from "node:assert/strict";
import { type Frame, frameFrom, hstack, sideBySide, toRgb, upscale } from "../../lib/viz/image.ts";

function pixel(frame: Frame, x: number, y: number): number[] {
  const start = (y * frame.width + x) * frame.channels;
  return [...frame.data.subarray(start, start + frame.channels)];
}

/** A frame whose every pixel is distinct: red = x, green = y, blue = tag. */
function coordinateFrame(width: number, height: number, tag: number): Frame {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([x, y, tag], (y * width + x) * 3);
  }
  return { width, height, channels: 3, data };
}

Deno.test("frameFrom", async (t) => {
  await t.step("copies bytes, so a reused observation buffer cannot change the frame", () => {
    const observation = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const frame = frameFrom(observation, [1, 2, 3]);
    observation.fill(0);
    assert.deepEqual([...frame.data], [1, 2, 3, 4, 5, 6]);
    assert.equal(frame.channels, 3);
  });

  await t.step("reads floats as [0, 1] intensities, clamped", () => {
    const frame = frameFrom(new Float32Array([0, 0.5, 1, -0.2, 1.7, 0.25]), [2, 3]);
    assert.deepEqual([...frame.data], [0, 128, 255, 0, 255, 64]);
    assert.equal(frame.channels, 1);
    assert.equal(frame.width, 3);
    assert.equal(frame.height, 2);
  });

  await t.step("rejects values that do not fill the shape", () => {
    assert.throws(() => frameFrom(new Uint8Array(10), [2, 2, 3]), /10 values do not fill/);
    assert.throws(() => frameFrom(new Uint8Array(8), [2, 2, 2]), /2 channels/);
  });
});

Deno.test("toRgb repeats gray and composites alpha over the background", () => {
  const gray = toRgb(frameFrom(new Uint8Array([7, 200]), [1, 2]));
  assert.deepEqual([...gray.data], [7, 7, 7, 200, 200, 200]);
  const rgba = frameFrom(new Uint8Array([255, 0, 0, 255, 255, 0, 0, 0, 0, 0, 255, 51]), [1, 3, 4]);
  const composited = toRgb(rgba, [0, 0, 0]);
  assert.deepEqual([...composited.data], [255, 0, 0, 0, 0, 0, 0, 0, 51]);
});

Deno.test("upscale repeats each pixel into a factor x factor block", () => {
  const frame = coordinateFrame(3, 2, 9);
  const big = upscale(frame, 4);
  assert.equal(big.width, 12);
  assert.equal(big.height, 8);
  for (let y = 0; y < big.height; y++) {
    for (let x = 0; x < big.width; x++) {
      assert.deepEqual(pixel(big, x, y), pixel(frame, Math.floor(x / 4), Math.floor(y / 4)));
    }
  }
  assert.throws(() => upscale(frame, 1.5), /positive integer/);
});

Deno.test("hstack places frames left to right with a gap, top-aligned", () => {
  const left = coordinateFrame(2, 3, 1);
  const right = coordinateFrame(3, 2, 2);
  const stacked = hstack([left, right], { gap: 1, background: [255, 0, 255] });
  assert.equal(stacked.width, 6);
  assert.equal(stacked.height, 3);
  assert.deepEqual(pixel(stacked, 1, 2), [1, 2, 1]);
  assert.deepEqual(pixel(stacked, 2, 0), [255, 0, 255], "gap");
  assert.deepEqual(pixel(stacked, 5, 1), [2, 1, 2]);
  assert.deepEqual(pixel(stacked, 4, 2), [255, 0, 255], "below the shorter frame");
});

Deno.test("sideBySide pairs frames and holds the shorter sequence's last frame", () => {
  const real = [0, 1, 2].map((step) => coordinateFrame(2, 2, step));
  const dreamed = [10, 11].map((step) => coordinateFrame(2, 2, step));
  const combined = sideBySide(real, dreamed);
  assert.equal(combined.length, 3);
  const tags = combined.map((
    frame,
  ) => [pixel(frame, 0, 0)[2], pixel(frame, frame.width - 1, 0)[2]]);
  assert.deepEqual(tags, [[0, 10], [1, 11], [2, 11]]);
  assert.throws(() => sideBySide(real, []), /at least one frame/);
});
