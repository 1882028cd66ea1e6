import assert from "node:assert/strict";
import { join } from "node:path";
import { tf, withBackend } from "../../lib/tensor/mod.ts";
import {
  assertMetadataMatches,
  checkpointExists,
  loadCheckpoint,
  readCheckpointManifest,
  saveCheckpoint,
} from "../../lib/tensor/checkpoint.ts";
import { conv2d, dense, ParameterSet } from "../../lib/models/nn.ts";
import { UserError } from "../../lib/errors.ts";
import { Rng } from "../../lib/rng.ts";

/** A small model with a dense and a convolution layer. */
function makeParams(seed: number, hidden = 5): ParameterSet {
  const params = new ParameterSet("ckpt_test", new Rng(seed));
  dense(params, "fc", 4, hidden);
  conv2d(params, "conv", 2, 3, { kernelSize: 3, stride: 1 });
  return params;
}

function snapshot(params: ParameterSet): Map<string, number[]> {
  return new Map([...params.variables].map(([name, v]) => [name, [...v.dataSync()]]));
}

async function withTempDir(body: (root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "ckpt_test_" });
  try {
    await body(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** One-line UserError whose message matches `pattern`. */
async function rejectsWithUserError(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof UserError, `expected a UserError, got ${error}`);
    assert.match(error.message, pattern);
    assert.ok(!error.message.includes("\n"), `message spans lines: ${error.message}`);
    return true;
  });
}

const normals = (size: number, seed: number) =>
  new Rng(seed).fillNormal(new Float32Array(size)) as Float32Array;
const inputs = () => tf.tensor2d(normals(6 * 4, 7), [6, 4]);
const targets = () => tf.tensor2d(normals(6 * 5, 8), [6, 5]);

/** Steps of Adam on a least-squares problem through the model's dense layer. */
function train(params: ParameterSet, optimizer: tf.Optimizer, steps: number): void {
  const kernel = params.variables.get("fc/kernel")!;
  const bias = params.variables.get("fc/bias")!;
  for (let i = 0; i < steps; i++) {
    tf.tidy(() => {
      const x = inputs();
      const y = targets();
      optimizer.minimize(
        () => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, kernel), bias), y))) as tf.Scalar,
        false,
        params.list(),
      );
    });
  }
}

Deno.test("checkpoints: round trips", async (t) => {
  await t.step("saves and restores every variable exactly, in the tfjs layout", async () => {
    await withTempDir(async (root) => {
      const dir = join(root, "model");
      const params = makeParams(1);
      const saved = snapshot(params);
      const manifest = await saveCheckpoint(dir, params, { metadata: { step: 12 } });
      const json = JSON.parse(await Deno.readTextFile(join(dir, "model.json")));
      assert.deepEqual(json.weightsManifest[0].paths, ["weights.bin"]);
      assert.equal(json.weightsManifest[0].weights.length, 4);
      assert.deepEqual(json.weightsManifest[0].weights[0], {
        name: "fc/kernel",
        shape: [4, 5],
        dtype: "float32",
        group: "model",
      });
      assert.equal((await Deno.stat(join(dir, "weights.bin"))).size, 4 * params.count());
      assert.equal(manifest.userDefinedMetadata.step, 12);

      const other = makeParams(2);
      assert.notDeepEqual(snapshot(other), saved);
      const loaded = await loadCheckpoint(dir, other);
      assert.deepEqual(snapshot(other), saved);
      assert.deepEqual(loaded.userDefinedMetadata, { step: 12 });
      params.dispose();
      other.dispose();
    });
  });

  await t.step("accepts a plain name -> variable map with int32 values", async () => {
    await withTempDir(async (root) => {
      const dir = join(root, "map");
      const make = (offset: number) =>
        new Map<string, tf.Variable>([
          ["counts", tf.variable(tf.tensor1d([1 + offset, 2, 3], "int32"))],
          ["scale", tf.variable(tf.scalar(0.5 + offset))],
        ]);
      const source = make(0);
      const target = make(10);
      await saveCheckpoint(dir, source);
      await loadCheckpoint(dir, target);
      assert.deepEqual([...target.get("counts")!.dataSync()], [1, 2, 3]);
      assert.deepEqual([...target.get("scale")!.dataSync()], [0.5]);
      tf.dispose([...source.values(), ...target.values()]);
    });
  });

  for (const [from, to] of [["cpu", "wasm"], ["wasm", "cpu"]] as const) {
    await t.step(`saved on ${from}, loaded on ${to}: identical values`, async () => {
      await withTempDir(async (root) => {
        const dir = join(root, "cross");
        const saved = await withBackend(from, async () => {
          const params = makeParams(3);
          train(params, tf.train.adam(0.01), 2);
          await saveCheckpoint(dir, params);
          const values = snapshot(params);
          params.dispose();
          return values;
        });
        const loaded = await withBackend(to, async () => {
          const params = makeParams(4);
          await loadCheckpoint(dir, params);
          const values = snapshot(params);
          params.dispose();
          return values;
        });
        assert.deepEqual(loaded, saved);
      });
    });
  }

  await t.step("Adam state: training resumes exactly where it stopped", async () => {
    await withTempDir(async (root) => {
      const dir = join(root, "adam");
      const original = makeParams(5);
      const originalAdam = tf.train.adam(0.05);
      train(original, originalAdam, 3);
      await saveCheckpoint(dir, original, { optimizer: originalAdam, metadata: { step: 3 } });
      train(original, originalAdam, 4);

      const restored = makeParams(6);
      const restoredAdam = tf.train.adam(0.05);
      train(restored, restoredAdam, 1); // state to be replaced, not added to
      await loadCheckpoint(dir, restored, { optimizer: restoredAdam });
      assert.equal(restoredAdam.iterations, 3);
      train(restored, restoredAdam, 4);
      assert.deepEqual(snapshot(restored), snapshot(original));

      const manifest = await readCheckpointManifest(dir);
      assert.equal(manifest.optimizer, "Adam");
      const names = manifest.weightsManifest[0].weights.filter((w) => w.group === "optimizer")
        .map((w) => w.name);
      assert.ok(names.includes("iter") && names.includes("fc/kernel/m"), names.join());
      for (const p of [original, restored]) p.dispose();
      originalAdam.dispose();
      restoredAdam.dispose();
    });
  });

  await t.step("saving and loading leak no tensors", async () => {
    await withTempDir(async (root) => {
      const dir = join(root, "leak");
      const params = makeParams(7);
      const adam = tf.train.adam(0.01);
      train(params, adam, 1);
      await saveCheckpoint(dir, params, { optimizer: adam });
      await loadCheckpoint(dir, params, { optimizer: adam });
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        await saveCheckpoint(dir, params, { optimizer: adam });
        await loadCheckpoint(dir, params, { optimizer: adam });
      }
      assert.equal(tf.memory().numTensors, before);
      params.dispose();
      adam.dispose();
    });
  });
});

Deno.test("checkpoints: refused with a one-line reason", async (t) => {
  await withTempDir(async (root) => {
    const dir = join(root, "good");
    const params = makeParams(1);
    await saveCheckpoint(dir, params, { metadata: { config: { latentSize: 32, widths: [1, 2] } } });
    const copyTo = async (name: string) => {
      const target = join(root, name);
      await Deno.mkdir(target);
      for (const file of ["model.json", "weights.bin"]) {
        await Deno.copyFile(join(dir, file), join(target, file));
      }
      return target;
    };

    await t.step("missing directory", async () => {
      await rejectsWithUserError(loadCheckpoint(join(root, "nowhere"), params), /not found/);
      assert.equal(await checkpointExists(join(root, "nowhere")), false);
    });
    await t.step("directory without model.json", async () => {
      await Deno.mkdir(join(root, "empty"));
      await rejectsWithUserError(loadCheckpoint(join(root, "empty"), params), /no model\.json/);
    });
    await t.step("missing weights.bin", async () => {
      const target = await copyTo("no_weights");
      await Deno.remove(join(target, "weights.bin"));
      await rejectsWithUserError(loadCheckpoint(target, params), /weights\.bin not found/);
    });
    await t.step("corrupt JSON", async () => {
      const target = await copyTo("bad_json");
      await Deno.writeTextFile(join(target, "model.json"), '{"format": "mbrl-var');
      await rejectsWithUserError(loadCheckpoint(target, params), /model\.json is not valid JSON/);
    });
    await t.step("JSON that is not a checkpoint", async () => {
      const target = await copyTo("other_json");
      await Deno.writeTextFile(join(target, "model.json"), '{"format": "layers-model"}');
      await rejectsWithUserError(loadCheckpoint(target, params), /format is "layers-model"/);
    });
    await t.step("truncated weights.bin", async () => {
      const target = await copyTo("truncated");
      const bytes = await Deno.readFile(join(target, "weights.bin"));
      await Deno.writeFile(join(target, "weights.bin"), bytes.subarray(0, bytes.length - 8));
      await rejectsWithUserError(
        loadCheckpoint(target, params),
        new RegExp(`has ${bytes.length - 8} bytes, but model\\.json describes ${bytes.length}`),
      );
    });
    await t.step("weights.bin of the right length but other contents", async () => {
      const target = await copyTo("flipped");
      const bytes = await Deno.readFile(join(target, "weights.bin"));
      bytes[5] ^= 0xff;
      await Deno.writeFile(join(target, "weights.bin"), bytes);
      await rejectsWithUserError(loadCheckpoint(target, params), /SHA-256 differs/);
    });
    await t.step("a variable the checkpoint lacks", async () => {
      const bigger = makeParams(2);
      bigger.create("extra", [2], new Float32Array(2));
      await rejectsWithUserError(loadCheckpoint(dir, bigger), /no saved value for variable extra/);
      bigger.dispose();
    });
    await t.step("a variable of another shape", async () => {
      const wider = makeParams(2, 6);
      await rejectsWithUserError(
        loadCheckpoint(dir, wider),
        /fc\/kernel has shape \[4,5\] saved, \[4,6\] here/,
      );
      wider.dispose();
    });
    await t.step("a saved variable the model lacks", async () => {
      const smaller = new Map([...params.variables].slice(1));
      await rejectsWithUserError(loadCheckpoint(dir, smaller), /saved variable fc\/kernel does/);
    });
    await t.step("optimizer state asked for but not saved", async () => {
      const adam = tf.train.adam();
      await rejectsWithUserError(
        loadCheckpoint(dir, params, { optimizer: adam }),
        /holds no optimizer state/,
      );
      adam.dispose();
    });
    await t.step("another config", async () => {
      const before = snapshot(params);
      await rejectsWithUserError(
        loadCheckpoint(dir, params, { expectedMetadata: { config: { latentSize: 64 } } }),
        /saved with config\.latentSize = 32, but this run has 64/,
      );
      assert.deepEqual(snapshot(params), before, "nothing assigned");
      assert.throws(
        () => assertMetadataMatches({ widths: [1, 2] }, { widths: [1, 3] }, dir, "config"),
        /config\.widths\[1\] = 2, but this run has 3/,
      );
      assertMetadataMatches({ a: 1, b: [2] }, { b: [2], a: 1 }, dir);
    });
    params.dispose();
  });
});

Deno.test("checkpoints: an interrupted save never loses the previous one", async (t) => {
  const crashAt = (stage: string) => (reached: string) => {
    if (reached === stage) throw new Error(`simulated crash at ${stage}`);
  };

  for (const stage of ["written", "moved-aside"]) {
    await t.step(`crash after "${stage}"`, async () => {
      await withTempDir(async (root) => {
        const dir = join(root, "model");
        const first = makeParams(1);
        await saveCheckpoint(dir, first, { metadata: { step: 1 } });
        const firstValues = snapshot(first);

        const second = makeParams(2);
        await assert.rejects(
          saveCheckpoint(dir, second, { metadata: { step: 2 }, onStage: crashAt(stage) }),
          /simulated crash/,
        );
        assert.equal(await checkpointExists(dir), true);
        const target = makeParams(3);
        const manifest = await loadCheckpoint(dir, target);
        assert.equal(manifest.userDefinedMetadata.step, 1);
        assert.deepEqual(snapshot(target), firstValues);

        // The next save succeeds and clears what the crash left behind.
        await saveCheckpoint(dir, second, { metadata: { step: 3 } });
        assert.deepEqual([...Deno.readDirSync(root)].map((e) => e.name), ["model"]);
        await loadCheckpoint(dir, target);
        assert.deepEqual(snapshot(target), snapshot(second));
        for (const p of [first, second, target]) p.dispose();
      });
    });
  }

  await t.step("a directory holding other files is not replaced", async () => {
    await withTempDir(async (root) => {
      await Deno.writeTextFile(join(root, "notes.txt"), "keep me");
      const params = makeParams(1);
      await rejectsWithUserError(saveCheckpoint(root, params), /refusing to replace .*notes\.txt/);
      assert.equal(await Deno.readTextFile(join(root, "notes.txt")), "keep me");
      params.dispose();
    });
  });
});
