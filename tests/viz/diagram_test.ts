import assert from "node:assert/strict";
import { type Diagram, renderDiagram } from "../../lib/viz/diagram.ts";

const diagram: Diagram = {
  width: 300,
  height: 200,
  title: "A & B",
  boxes: [
    { id: "a", x: 60, y: 100, width: 80, height: 40, lines: ["A", "first <box>"] },
    { id: "b", x: 240, y: 100, width: 80, height: 40, lines: ["B"] },
  ],
  arrows: [{ from: "a", to: "b", label: "a to b" }],
};

Deno.test("renderDiagram", async (t) => {
  await t.step("standalone SVG with one box per node and escaped text", () => {
    const svg = renderDiagram(diagram);
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="300" height="200"/);
    assert.equal(svg.match(/<rect [^>]*rx="8"/g)?.length, 2);
    assert.equal(svg.match(/<svg/g)?.length, 1);
    assert.ok(svg.trimEnd().endsWith("</svg>"));
    assert.ok(svg.includes("A &amp; B") && svg.includes("first &lt;box&gt;"));
  });

  await t.step("a straight arrow runs from edge to facing edge", () => {
    const svg = renderDiagram(diagram);
    // Box a's right edge is at x = 100, box b's left edge at x = 200.
    assert.ok(svg.includes('d="M100,100 L200,100"'), svg);
  });

  await t.step("an arrow to an unknown box is an error", () => {
    assert.throws(
      () => renderDiagram({ ...diagram, arrows: [{ from: "a", to: "c" }] }),
      /unknown box/,
    );
  });
});
