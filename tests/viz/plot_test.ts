import assert from "node:assert/strict";
import { join } from "node:path";
import {
  barChart,
  lineChart,
  Plot,
  renderPlot,
  saveFigure,
  tableFigure,
} from "../../lib/viz/mod.ts";
import { wrapText } from "../../lib/viz/plot.ts";
import { allElements, parseXml, textContent, type XmlElement } from "./xml.ts";

const SVG_NAMESPACE = "http://www.w3.org/2000/svg";

/** Checks what a file viewer needs from a standalone SVG and returns its parsed root. */
function assertStandaloneSvg(svg: string): XmlElement {
  const root = parseXml(svg);
  assert.equal(root.name, "svg");
  assert.equal(root.attributes.xmlns, SVG_NAMESPACE);
  const width = Number(root.attributes.width);
  const height = Number(root.attributes.height);
  assert.ok(width > 0 && height > 0, `explicit size, got ${width}x${height}`);
  assert.equal(root.attributes.viewBox, `0 0 ${width} ${height}`);
  // The first painted element is a full-size white background.
  const background = root.children.find((child) => child.name === "rect");
  assert.ok(background, "background rect");
  assert.equal(background.attributes.fill, "white");
  assert.equal(background.attributes.width, "100%");
  assert.match(root.attributes["font-family"], /Helvetica, Arial, sans-serif$/);
  // HTML elements would make the file blank in an image viewer.
  const htmlElements = allElements(root).filter((element) =>
    ["figure", "div", "span", "h2", "h3", "figcaption", "canvas"].includes(element.name)
  );
  assert.deepEqual(htmlElements.map((element) => element.name), []);
  return root;
}

function byAriaLabel(root: XmlElement, label: string): XmlElement[] {
  return allElements(root).filter((element) => element.attributes["aria-label"] === label);
}

const steps = [0, 1, 2, 3, 4, 5];

Deno.test("renderPlot", async (t) => {
  await t.step("returns a standalone SVG with axis labels", () => {
    const svg = renderPlot({
      x: { label: "Environment steps" },
      y: { label: "Episode return" },
      marks: [Plot.dot(steps.map((x) => ({ x, y: x * x })), { x: "x", y: "y" })],
    });
    const root = assertStandaloneSvg(svg);
    const text = textContent(root);
    assert.match(text, /Environment steps/);
    assert.match(text, /Episode return/);
    assert.equal(byAriaLabel(root, "dot")[0].children.length, steps.length);
  });

  await t.step("widens the left margin so long tick labels are not cut off", () => {
    const render = (scale: number) =>
      assertStandaloneSvg(renderPlot({
        marks: [Plot.lineY(steps.map((x) => ({ x, y: x * scale })), { x: "x", y: "y" })],
      }));
    const tickX = (root: XmlElement) => {
      const tick = byAriaLabel(root, "y-axis tick")[0].children[0];
      return Number(/translate\(([\d.]+),/.exec(tick.attributes.transform)![1]);
    };
    assert.equal(tickX(render(1)), 40, "Plot's default margin for short labels");
    const root = render(2_000_000);
    const labels = byAriaLabel(root, "y-axis tick label")[0].children.map(textContent);
    assert.ok(labels.includes("10,000,000"), labels.join(" "));
    // Ten characters of 10px text need about 55px left of the 9px tick and gap.
    assert.ok(tickX(root) >= 9 + 55, `left margin ${tickX(root)}`);
  });

  await t.step("draws title, subtitle, caption and legend inside the one SVG", () => {
    const data = ["model-based", "model-free"].flatMap((method) =>
      steps.map((x) => ({ method, x, y: method === "model-based" ? x : x / 2 }))
    );
    const svg = renderPlot({
      title: "Return & steps",
      subtitle: "five seeds",
      caption: "Figure 1 <reproduced>",
      color: { legend: true },
      marks: [Plot.lineY(data, { x: "x", y: "y", stroke: "method" })],
    });
    const root = assertStandaloneSvg(svg);
    const texts = allElements(root).filter((element) => element.name === "text").map(textContent);
    for (const expected of ["Return & steps", "five seeds", "Figure 1 <reproduced>"]) {
      assert.ok(texts.includes(expected), `text "${expected}" in ${JSON.stringify(texts)}`);
    }
    assert.ok(texts.includes("model-based") && texts.includes("model-free"), "legend labels");
    // The plot sits below the title and legend, and the figure is taller than the plot.
    const plotGroup = root.children.find((child) =>
      child.attributes["aria-label"] === undefined &&
      child.name === "g" && child.attributes.fill === "currentColor"
    );
    assert.ok(plotGroup, "plot group");
    const offset = Number(/translate\(0,([\d.]+)\)/.exec(plotGroup.attributes.transform)![1]);
    assert.ok(offset > 40, `plot offset ${offset}`);
    assert.ok(Number(root.attributes.height) > 400 + offset);
  });

  await t.step("wraps a subtitle too long for the figure's width into several lines", () => {
    const words = Array.from({ length: 40 }, (_, i) => `word${i}`);
    const svg = renderPlot({
      subtitle: words.join(" "),
      width: 400,
      marks: [Plot.ruleY([0])],
    });
    const lines = allElements(assertStandaloneSvg(svg))
      .filter((element) => element.name === "text" && element.attributes["font-size"] === "12")
      .map(textContent);
    assert.ok(lines.length >= 3, JSON.stringify(lines));
    assert.equal(lines.join(" "), words.join(" "), "every word once, in order");
    // 0.55 em per character at 12 px inside 400 - 2 x 10 px.
    for (const line of lines) assert.ok(line.length <= 380 / 6.6, line);
  });

  await t.step("the same figure gives the same file, so regenerated figures diff cleanly", () => {
    const options = () => ({
      title: "Repeatable",
      color: { legend: true },
      marks: [
        Plot.dot(steps.map((x) => ({ x, y: x, k: `k${x % 2}` })), { x: "x", y: "y", fill: "k" }),
      ],
    });
    assert.equal(renderPlot(options()), renderPlot(options()));
  });

  await t.step("draws a continuous color legend as an SVG gradient", () => {
    const svg = renderPlot({
      color: { legend: true, label: "value" },
      marks: [Plot.dot(steps.map((x) => ({ x, y: x })), { x: "x", y: "y", fill: "y" })],
    });
    const root = assertStandaloneSvg(svg);
    const gradient = allElements(root).find((element) => element.name === "linearGradient");
    assert.ok(gradient, "linearGradient");
    assert.ok(gradient.children.length >= 2);
    const filled = allElements(root).find((element) =>
      element.attributes.fill === `url(#${gradient.attributes.id})`
    );
    assert.ok(filled, "a rect painted with the gradient");
  });

  await t.step("draws a symbol legend from Plot's swatches", () => {
    const data = ["a", "b", "c"].map((kind, x) => ({ kind, x, y: x }));
    const svg = renderPlot({
      symbol: { legend: true },
      marks: [Plot.dot(data, { x: "x", y: "y", symbol: "kind" })],
    });
    const texts = allElements(assertStandaloneSvg(svg))
      .filter((element) => element.name === "text").map(textContent);
    for (const kind of ["a", "b", "c"]) assert.ok(texts.includes(kind), `legend label ${kind}`);
  });
});

Deno.test("lineChart", async (t) => {
  const series = [
    { name: "Dyna-Q, n=0", x: steps, y: steps.map((x) => 100 - x), yStd: steps.map(() => 3) },
    { name: "Dyna-Q, n=5", x: steps, y: steps.map((x) => 80 - 2 * x), yStd: steps.map(() => 2) },
    { name: "Dyna-Q, n=50", x: steps, y: steps.map((x) => 60 - 3 * x) },
  ];

  await t.step("draws one line per series, one band per series with std, and a legend", () => {
    const svg = lineChart({
      series,
      xLabel: "Episodes",
      yLabel: "Steps per episode",
      title: "Dyna maze",
    });
    const root = assertStandaloneSvg(svg);
    const text = textContent(root);
    assert.match(text, /Episodes/);
    assert.match(text, /Steps per episode/);
    const lines = byAriaLabel(root, "line")[0].children.filter((child) => child.name === "path");
    assert.equal(lines.length, series.length);
    const strokes = new Set(lines.map((line) => line.attributes.stroke));
    assert.equal(strokes.size, series.length, "each series has its own color");
    const bands = byAriaLabel(root, "area")[0].children.filter((child) => child.name === "path");
    assert.equal(bands.length, 2);
    const legendTexts = allElements(root).filter((element) => element.name === "text")
      .map(textContent);
    for (const { name } of series) assert.ok(legendTexts.includes(name), `legend "${name}"`);
    // Legend swatches are lines in the series' colors.
    const swatches = allElements(root).filter((element) =>
      element.name === "line" && element.attributes["stroke-width"] === "2.5"
    );
    assert.deepEqual(new Set(swatches.map((line) => line.attributes.stroke)), strokes);
  });

  await t.step("the band spans y - std to y + std", () => {
    const svg = lineChart({
      series: [{ name: "only", x: [0, 1], y: [10, 10], yStd: [5, 5] }],
      xLabel: "x",
      yLabel: "y",
      yDomain: [0, 20],
      height: 220,
      legend: false,
    });
    const root = assertStandaloneSvg(svg);
    const band = byAriaLabel(root, "area")[0].children[0].attributes.d;
    const bandYs = [...band.matchAll(/[ML,]([\d.]+),([\d.]+)/g)].map((match) => Number(match[2]));
    const line = byAriaLabel(root, "line")[0].children[0].attributes.d;
    const lineY = Number(/M[\d.]+,([\d.]+)/.exec(line)![1]);
    const top = Math.min(...bandYs);
    const bottom = Math.max(...bandYs);
    // y=10 is midway between 5 and 15, in pixels too (linear scale).
    assert.ok(Math.abs(lineY - (top + bottom) / 2) < 0.5, `${top} ${lineY} ${bottom}`);
    assert.ok(bottom - top > 50);
  });

  await t.step("rejects series whose arrays disagree in length", () => {
    assert.throws(
      () =>
        lineChart({ series: [{ name: "bad", x: [0, 1, 2], y: [1, 2] }], xLabel: "", yLabel: "" }),
      /series "bad" has 3 x values but 2 y values/,
    );
  });
});

Deno.test("barChart draws one bar per entry and error bars where std is given", () => {
  const svg = barChart({
    yLabel: "Final return",
    xLabel: "Method",
    bars: [
      { label: "World Models", value: 906, std: 21 },
      { label: "DQN", value: 343, std: 18 },
      { label: "A3C", value: 591 },
    ],
  });
  const root = assertStandaloneSvg(svg);
  assert.equal(byAriaLabel(root, "bar")[0].children.length, 3);
  assert.equal(byAriaLabel(root, "rule")[0].children.length, 2);
  const text = textContent(root);
  for (const label of ["World Models", "DQN", "A3C", "Final return", "Method"]) {
    assert.ok(text.includes(label), label);
  }
});

Deno.test("tableFigure draws every cell, escaped and formatted", () => {
  const svg = tableFigure([
    { claim: "a < b & c", ours: 2.3456789, holds: true },
    { claim: "plain", ours: 12, holds: false },
  ], { title: "Claims" });
  const root = assertStandaloneSvg(svg);
  const texts = allElements(root).filter((element) => element.name === "text").map(textContent);
  assert.deepEqual(texts, [
    "Claims",
    "claim",
    "ours",
    "holds",
    "a < b & c",
    "2.346",
    "true",
    "plain",
    "12",
    "false",
  ]);
});

Deno.test("saveFigure writes the SVG atomically, creating folders", async () => {
  const folder = await Deno.makeTempDir();
  try {
    const svg = renderPlot({ marks: [Plot.ruleY([0])] });
    const path = await saveFigure(svg, join(folder, "nested", "figure.svg"));
    assert.equal(path, join(folder, "nested", "figure.svg"));
    assert.equal(await Deno.readTextFile(path), svg);
    const leftovers = [...Deno.readDirSync(join(folder, "nested"))].map((entry) => entry.name);
    assert.deepEqual(leftovers, ["figure.svg"]);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("wrapText", () => {
  assert.deepEqual(wrapText("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
  assert.deepEqual(wrapText("averyveryverylongword x", 5), ["averyveryverylongword", "x"]);
  assert.deepEqual(wrapText("short", 80), ["short"]);
});
