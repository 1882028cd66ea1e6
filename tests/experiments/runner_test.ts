import assert from "node:assert/strict";
import { defaultFolders } from "../../lib/experiments/runner.ts";
import { REPO_ROOT } from "../../lib/io.ts";

Deno.test("defaultFolders", async (t) => {
  await t.step("a budget run writes the committed results, figures and its stages", () => {
    assert.deepEqual(defaultFolders("planet-pendulum", "laptop", {}), {
      outDir: `${REPO_ROOT}/data/results`,
      resDir: `${REPO_ROOT}/res`,
      dataDir: `${REPO_ROOT}/data/planet-pendulum`,
    });
  });

  await t.step("quick runs stay under data/quick", () => {
    const folders = defaultFolders("dyna-maze", "quick", { overrides: { episodes: 3 } });
    assert.equal(folders.outDir, `${REPO_ROOT}/data/quick/results`);
    assert.equal(folders.dataDir, `${REPO_ROOT}/data/quick/dyna-maze`);
  });

  await t.step(
    "runs with overrides go under data/custom, one stage folder per override set",
    () => {
      const a = defaultFolders("planet-pendulum", "laptop", {
        overrides: { "planet.model.freeNats": 3, "planet.model.observationStd": 1 },
      });
      const reordered = defaultFolders("planet-pendulum", "laptop", {
        overrides: { "planet.model.observationStd": 1, "planet.model.freeNats": 3 },
      });
      const other = defaultFolders("planet-pendulum", "laptop", {
        overrides: { "planet.model.freeNats": 2 },
      });
      assert.equal(a.outDir, `${REPO_ROOT}/data/custom/results`);
      assert.equal(a.resDir, `${REPO_ROOT}/data/custom/res`);
      assert.match(a.dataDir, /data\/custom\/planet-pendulum-laptop-[0-9a-f]{8}$/);
      assert.equal(reordered.dataDir, a.dataDir);
      assert.notEqual(other.dataDir, a.dataDir);
    },
  );

  await t.step("figures follow the results sent elsewhere with --out", () => {
    const folders = defaultFolders("dyna-maze", "laptop", { outDir: "/tmp/elsewhere" });
    assert.equal(folders.resDir, "/tmp/elsewhere/res");
    assert.equal(folders.dataDir, `${REPO_ROOT}/data/dyna-maze`);
  });

  await t.step("explicit folders win", () => {
    const folders = defaultFolders("x", "laptop", { outDir: "/o", resDir: "/r", dataDir: "/d" });
    assert.deepEqual(folders, { outDir: "/o", resDir: "/r", dataDir: "/d" });
  });
});

Deno.test("a replay that reproduces the recorded outcome keeps the recorded run time", async (t) => {
  const { runExperiment } = await import("../../lib/experiments/runner.ts");
  const { getExperiment } = await import("../../lib/experiments/registry.ts");
  const experiment = getExperiment("planet-pendulum");
  const root = await Deno.makeTempDir({ prefix: "mbrl-replay-" });
  const request = {
    budget: "quick" as const,
    outDir: `${root}/out`,
    resDir: `${root}/res`,
    dataDir: `${root}/data`,
  };
  const path = `${root}/out/planet-pendulum.json`;
  await runExperiment(experiment, request);
  const recorded = JSON.parse(await Deno.readTextFile(path));
  recorded.wallSeconds = 1234.5;
  await Deno.writeTextFile(path, JSON.stringify(recorded));

  await t.step("the same outcome: the recorded wall time stays", async () => {
    const replay = await runExperiment(experiment, request);
    assert.equal(replay.wallSeconds, 1234.5);
    assert.equal(JSON.parse(await Deno.readTextFile(path)).wallSeconds, 1234.5);
  });

  await t.step("the same outcome and more: the recorded time plus the new run's", async () => {
    const earlier = structuredClone(recorded);
    delete earlier.metrics[Object.keys(earlier.metrics)[0]];
    await Deno.writeTextFile(path, JSON.stringify(earlier));
    const replay = await runExperiment(experiment, request);
    assert.ok(replay.wallSeconds > 1234.5 && replay.wallSeconds < 1234.5 + 60);
  });

  await t.step("another outcome: the new run's own time is written", async () => {
    recorded.claims[0].ours = "something else";
    await Deno.writeTextFile(path, JSON.stringify(recorded));
    const replay = await runExperiment(experiment, request);
    assert.ok(replay.wallSeconds < 1234.5);
  });
  await Deno.remove(root, { recursive: true });
});

Deno.test("an outcome extends another when each seed gains a measurement, not when one changes", async () => {
  const { extendsOutcome } = await import("../../lib/experiments/outcome.ts");
  const claims = [{ id: "c", holds: false }];
  const earlier = {
    claims,
    metrics: { seeds: [{ seed: 0, score: 0.1 }, { seed: 1, score: 0.2 }] },
  };
  const gained = {
    claims,
    metrics: {
      seeds: [{ seed: 0, score: 0.1, random: 0.9 }, { seed: 1, score: 0.2, random: 0.8 }],
    },
  };
  assert.ok(extendsOutcome(earlier as never, gained as never));
  const changed = {
    claims,
    metrics: { seeds: [{ seed: 0, score: 0.1 }, { seed: 1, score: 0.3 }] },
  };
  assert.ok(!extendsOutcome(earlier as never, changed as never));
  const fewer = { claims, metrics: { seeds: [{ seed: 0, score: 0.1, random: 0.9 }] } };
  assert.ok(!extendsOutcome(earlier as never, fewer as never));
});
