// The SVG tests lean on this parser to reject malformed output, so it must reject it here.
import assert from "node:assert/strict";
import { parseXml, textContent } from "./xml.ts";

Deno.test("parseXml accepts well-formed XML and decodes entities", () => {
  const root = parseXml(
    `<?xml version="1.0"?><svg a="x &amp; y"><text>1 &lt; 2 &#38; 3</text><g/></svg>`,
  );
  assert.equal(root.attributes.a, "x & y");
  assert.equal(textContent(root), "1 < 2 & 3");
  assert.deepEqual(root.children.map((child) => child.name), ["text", "g"]);
});

Deno.test("parseXml rejects what XML parsers reject", async (t) => {
  const malformed: Record<string, string> = {
    "misnested tags": "<svg><g></svg></g>",
    "unclosed tag": "<svg><g></svg>",
    "unquoted attribute": "<svg width=10></svg>",
    "duplicate attribute": `<svg a="1" a="2"></svg>`,
    "bare ampersand in text": "<svg><text>a & b</text></svg>",
    "bare ampersand in attribute": `<svg a="x & y"/>`,
    "two roots": "<svg/><svg/>",
    "text outside root": "hello<svg/>",
  };
  for (const [what, source] of Object.entries(malformed)) {
    await t.step(what, () => assert.throws(() => parseXml(source), SyntaxError));
  }
});
