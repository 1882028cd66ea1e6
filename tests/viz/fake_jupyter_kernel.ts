/**
 * Run as a subprocess by notebook_test.ts: stands in for the Deno Jupyter kernel by installing
 * a `Deno.jupyter.broadcast` that records messages, drives the notebook helpers, and prints the
 * recorded messages as JSON. A separate process keeps the fake away from other tests.
 */
const messages: { type: string; content: Record<string, unknown> }[] = [];
(Deno as unknown as { jupyter: unknown }).jupyter = {
  broadcast(type: string, content: Record<string, unknown>) {
    messages.push({ type, content });
    return Promise.resolve();
  },
};

const viz = await import("../../lib/viz/mod.ts");
const frame = viz.frameFrom(new Uint8Array([255, 0, 0, 0, 0, 255]), [1, 2, 3]);
const svg = viz.renderPlot({ marks: [viz.Plot.ruleY([0])] });

await viz.showMarkdown("# Dyna");
await viz.showTable([{ seed: 0, return: 1.5 }]);
await viz.showFigure(svg);
await viz.showImage(viz.encodePng(frame));
await viz.showGif(viz.encodeGif([frame, frame]));
const progress = viz.createProgress({ redrawIntervalMs: 0 });
progress.update({ stage: "train", done: 0, total: 2 });
progress.update({ stage: "train", done: 2, total: 2 });
await progress.finish();

console.log(JSON.stringify({
  inNotebook: viz.inNotebook(),
  svgWidth: Number(/width="(\d+)"/.exec(svg)![1]),
  png: Array.from(viz.encodePng(frame)),
  messages,
}));
