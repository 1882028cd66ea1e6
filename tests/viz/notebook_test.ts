import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { fileURLToPath } from "node:url";
import {
  createProgress,
  encodePng,
  frameFrom,
  inNotebook,
  markdownTable,
  Plot,
  renderPlot,
  showFigure,
  showGif,
  showHtml,
  showImage,
  showMarkdown,
  showTable,
} from "../../lib/viz/mod.ts";

Deno.test("outside a notebook", async (t) => {
  await t.step("inNotebook is false (Deno.jupyter throws here)", () => {
    assert.throws(() => Deno.jupyter);
    assert.equal(inNotebook(), false);
  });

  await t.step("every show helper resolves to nothing and throws nothing", async () => {
    const png = encodePng(frameFrom(new Uint8Array(3), [1, 1, 3]));
    const results = await Promise.all([
      showMarkdown("# title"),
      showHtml("<b>bold</b>"),
      showTable([{ a: 1 }]),
      showFigure(renderPlot({ marks: [Plot.ruleY([0])] })),
      showImage(png),
      showGif(png),
    ]);
    assert.deepEqual(results, [undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  await t.step("progress does not pick the notebook display", async () => {
    const written: string[] = [];
    const progress = createProgress({ write: (text) => written.push(text) });
    progress.update({ stage: "train", done: 1, total: 1 });
    await progress.finish();
    assert.ok(written.some((text) => text.includes("train")));
  });
});

Deno.test("markdownTable", async (t) => {
  await t.step("formats numbers, right-aligns numeric columns and escapes pipes", () => {
    const table = markdownTable([
      { method: "Dyna-Q | n=5", steps: 14, ratio: 0.123456 },
      { method: "Q-learning", steps: 32.5, holds: true },
    ]);
    assert.equal(
      table,
      [
        "| method | steps | ratio | holds |",
        "| --- | --: | --: | --- |",
        "| Dyna-Q \\| n=5 | 14 | 0.1235 |  |",
        "| Q-learning | 32.5 |  | true |",
      ].join("\n"),
    );
  });

  await t.step("keeps the requested columns in order", () => {
    assert.equal(
      markdownTable([{ a: 1, b: 2, c: 3 }], { columns: ["c", "a"] }),
      "| c | a |\n| --: | --: |\n| 3 | 1 |",
    );
  });
});

Deno.test("inside a notebook, helpers send Jupyter display messages", async () => {
  const script = fileURLToPath(new URL("./fake_jupyter_kernel.ts", import.meta.url));
  const config = fileURLToPath(new URL("../../deno.json", import.meta.url));
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", config, script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const report = JSON.parse(new TextDecoder().decode(output.stdout));
  assert.equal(report.inNotebook, true);
  type Message = { type: string; content: { data: Record<string, string>; transient: object } };
  const messages: Message[] = report.messages;
  const [markdown, table, figure, image, gif, ...progress] = messages;

  assert.equal(markdown.type, "display_data");
  assert.equal(markdown.content.data["text/markdown"], "# Dyna");
  assert.equal(
    table.content.data["text/markdown"],
    "| seed | return |\n| --: | --: |\n| 0 | 1.5 |",
  );
  // Figures travel as PNG shown at the SVG's own width: notebook viewers break inline SVG.
  assert.equal(figure.content.data["image/svg+xml"], undefined);
  const figurePng = Buffer.from(figure.content.data["image/png"], "base64");
  assert.equal(figurePng.subarray(1, 4).toString(), "PNG");
  assert.deepEqual(
    (figure.content as unknown as { metadata: Record<string, unknown> }).metadata["image/png"],
    { width: report.svgWidth },
  );
  assert.deepEqual([...Buffer.from(image.content.data["image/png"], "base64")], report.png);
  assert.equal(
    Buffer.from(gif.content.data["image/gif"], "base64").subarray(0, 6).toString(),
    "GIF89a",
  );

  assert.ok(progress.length >= 2);
  assert.deepEqual(
    progress.map((message) => message.type),
    ["display_data", ...progress.slice(1).map(() => "update_display_data")],
  );
  const displayIds = new Set(progress.map((message) => JSON.stringify(message.content.transient)));
  assert.equal(displayIds.size, 1, "one live output");
  assert.match(progress.at(-1)!.content.data["text/plain"], /✓ train: 2\/2.*\nfinished in/s);
});
