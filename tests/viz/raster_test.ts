import assert from "node:assert/strict";
import { Resvg } from "@resvg/resvg-js";
import { svgToPng } from "../../lib/viz/raster.ts";
import { lineChart } from "../../lib/viz/charts.ts";

function pngSize(png: Uint8Array): { width: number; height: number } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  assert.deepEqual([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join(""), "PNG");
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

Deno.test("figures to PNG", async (t) => {
  const svg = lineChart({
    title: "A title",
    series: [{ name: "a", x: [0, 1, 2], y: [1, 3, 2] }],
    xLabel: "x",
    yLabel: "y",
  });
  await t.step("twice the figure's size, the figure's width reported", async () => {
    const { png, width, height } = await svgToPng(svg);
    const size = pngSize(png);
    assert.equal(size.width, 2 * width);
    assert.equal(size.height, 2 * height);
    assert.match(svg, new RegExp(`width="${width}"`));
  });
  await t.step("text is drawn: a font is found on this machine", () => {
    const textOnly = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40">` +
      `<rect width="100%" height="100%" fill="white"/>` +
      `<text x="10" y="28" font-family="sans-serif" font-size="24">Figure</text></svg>`;
    const pixels = new Resvg(textOnly, {
      font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
    }).render().pixels;
    let dark = 0;
    for (let i = 0; i < pixels.length; i += 4) if (pixels[i] < 128) dark++;
    assert.ok(dark > 100, `only ${dark} dark pixels: no font drew the text`);
  });
});
