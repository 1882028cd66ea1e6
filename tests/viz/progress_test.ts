import assert from "node:assert/strict";
import { createProgress, type DisplayOptions, type MediaBundle } from "../../lib/viz/mod.ts";

/** A clock the test moves by hand, and everything the reporter wrote. */
function harness() {
  let time = 0;
  const written: string[] = [];
  return {
    now: () => time,
    advance: (milliseconds: number) => (time += milliseconds),
    write: (text: string) => written.push(text),
    written,
  };
}

Deno.test("log mode (CI)", async (t) => {
  await t.step("prints at most one line per interval, plus stage starts and ends", async () => {
    const clock = harness();
    const progress = createProgress({
      mode: "log",
      label: "dyna-maze",
      logIntervalMs: 5000,
      now: clock.now,
      write: clock.write,
    });
    // 100 steps, one every 100 ms: 10 s of work.
    for (let done = 0; done <= 100; done++) {
      progress.update({ stage: "train", done, total: 100, message: `loss ${done}` });
      clock.advance(100);
    }
    const lines = clock.written.join("").split("\n").filter((line) => line !== "");
    assert.equal(lines.length, 3, lines.join("\n"));
    assert.match(lines[0], /^dyna-maze train +0% 0\/100 \| loss 0$/);
    // Halfway: 50 steps in 5 s is 10 per second, 5 s to go.
    assert.match(lines[1], /50\/100 10\.0\/s ETA 5\.0s \| loss 50$/);
    assert.match(lines[2], /100\/100 10\.0\/s in 10s \| loss 100$/);
    await progress.finish();
  });

  await t.step("fractional work (jobs folded into one stage) shows one decimal", async () => {
    const clock = harness();
    const progress = createProgress({ mode: "log", now: clock.now, write: clock.write });
    progress.update({ stage: "8 stages on 2 worker(s)", done: 0.26666666666666666, total: 8 });
    await progress.finish();
    assert.match(clock.written.join(""), / 0\.3\/8/);
    assert.doesNotMatch(clock.written.join(""), /0\.2666/);
  });

  await t.step("ends with the final state even when it was throttled", async () => {
    const clock = harness();
    const progress = createProgress({ mode: "log", now: clock.now, write: clock.write });
    for (let done = 0; done < 30; done++) {
      progress.update({ stage: "collect", done, total: 1000 });
      clock.advance(10);
    }
    progress.update({ stage: "evaluate", done: 1, total: 4 });
    progress.update({ stage: "evaluate", done: 2, total: 4, message: "return 120" });
    await progress.finish();
    const lines = clock.written.join("").trimEnd().split("\n");
    assert.deepEqual(lines.map((line) => line.split(" ")[0]), [
      "collect",
      "collect",
      "evaluate",
      "evaluate",
      "finished",
    ]);
    assert.match(lines[1], /^collect +2% 29\/1000/, "stage end shows the last state");
    assert.match(lines[3], /^evaluate +50% 2\/4 .*\| return 120$/);
    assert.equal(lines[4], "finished in 0.3s");
  });

  await t.step("updates after finish are ignored", async () => {
    const clock = harness();
    const progress = createProgress({ mode: "log", now: clock.now, write: clock.write });
    progress.update({ stage: "a", done: 1, total: 1 });
    await progress.finish();
    const count = clock.written.length;
    progress.update({ stage: "b", done: 1, total: 2 });
    await progress.finish();
    assert.equal(clock.written.length, count);
  });
});

Deno.test("terminal mode redraws one line in place, at most every redraw interval", async () => {
  const clock = harness();
  const progress = createProgress({
    mode: "terminal",
    redrawIntervalMs: 100,
    columns: 80,
    now: clock.now,
    write: clock.write,
  });
  for (let done = 0; done <= 50; done++) {
    progress.update({ stage: "train", done, total: 50 });
    clock.advance(20);
  }
  progress.update({ stage: "evaluate", done: 1, total: 3 });
  await progress.finish();
  const output = clock.written.join("");
  const redraws = output.split("\r\x1b[2K").filter((part) => part !== "");
  // 1 s of updates at 20 ms apart, redrawn every 100 ms, plus the forced stage end.
  assert.ok(redraws.length >= 8 && redraws.length <= 14, `${redraws.length} redraws`);
  assert.ok(redraws.every((line) => line.replace("\n", "").length < 80), "fits the terminal");
  assert.match(redraws.at(-2)!, /^train \[█{24}\] 100% 50\/50 .* in 1\.0s\n$/);
  assert.match(redraws.at(-1)!, /^evaluate \[█{8}░{16}\] +33% 1\/3\n$/);
  assert.equal(output.split("\n").length - 1, 2, "one finished line per stage");
});

Deno.test("notebook mode shows one output and updates it in place", async () => {
  const clock = harness();
  const calls: { bundle: MediaBundle; options: DisplayOptions }[] = [];
  const progress = createProgress({
    mode: "notebook",
    redrawIntervalMs: 250,
    now: clock.now,
    display: (bundle, options) => {
      calls.push({ bundle, options });
      return Promise.resolve();
    },
  });
  for (let done = 0; done <= 10; done++) {
    progress.update({ stage: "train world model", done, total: 10 });
    clock.advance(100);
  }
  progress.update({ stage: "plan", done: 0, total: 5 });
  await progress.finish();
  const ids = new Set(calls.map((call) => call.options.displayId));
  assert.equal(ids.size, 1, "every call targets the same output");
  assert.ok([...ids][0]);
  assert.deepEqual(calls.map((call) => call.options.update), [
    false,
    ...calls.slice(1).map(() => true),
  ]);
  assert.ok(calls.length < 11, `${calls.length} displays for 12 updates`);
  const last = calls.at(-1)!.bundle;
  assert.match(String(last["text/plain"]), /✓ train world model: 10\/10 in 1\.0s/);
  assert.match(String(last["text/plain"]), /✓ plan: 0\/5/);
  assert.match(String(last["text/plain"]), /finished in 1\.1s$/);
  const running = calls.find((call) => String(call.bundle["text/html"]).includes("<progress"));
  assert.ok(running, "a progress bar while running");
});

Deno.test("a failing notebook display does not fail the run", async () => {
  const progress = createProgress({
    mode: "notebook",
    display: () => Promise.reject(new Error("kernel went away")),
  });
  progress.update({ stage: "train", done: 1, total: 2 });
  await progress.finish();
});
