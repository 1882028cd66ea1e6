import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import { Rng } from "../../lib/rng.ts";
import { type Bottleneck, DiscreteAutoencoder } from "../../lib/models/discrete_autoencoder.ts";

/** Eight random 0/1 patterns of 32 pixels: two slots of 8 classes can name each. */
function patterns(): Float32Array[] {
  const rng = new Rng(5);
  return Array.from({ length: 8 }, () => Float32Array.from({ length: 32 }, () => rng.int(2)));
}

function train(bottleneck: Bottleneck) {
  const frames = patterns();
  const model = new DiscreteAutoencoder({
    observationSize: 32,
    hiddenSize: 32,
    bottleneck,
    variables: 2,
    classes: 8,
    codeSize: 4,
    commitmentCost: 0.25,
    codebookDecay: 0.9,
    restartBelow: 0.5,
    klScale: 0.1,
    learningRate: 1e-2,
  }, new Rng(6));
  const rng = new Rng(7);
  const batch = new Float32Array(64 * 32);
  for (let update = 0; update < 800; update++) {
    for (let row = 0; row < 64; row++) batch.set(frames[rng.int(8)], row * 32);
    model.trainStep(batch, 64);
  }
  const all = new Float32Array(8 * 32);
  frames.forEach((frame, i) => all.set(frame, i * 32));
  return { model, all };
}

for (const bottleneck of ["codebook", "categorical"] as const) {
  Deno.test(`a ${bottleneck} bottleneck gives eight patterns eight names`, () => {
    const { model, all } = train(bottleneck);
    const { codes, probabilities } = model.codes(all, 8);
    const names = new Set(
      Array.from({ length: 8 }, (_, i) => `${codes[2 * i]},${codes[2 * i + 1]}`),
    );
    assert.equal(names.size, 8, `codes ${codes}`);
    const { probabilities: pixels } = model.reconstruct(all, 8);
    let wrong = 0;
    pixels.forEach((p, i) => wrong += (p > 0.5 ? 1 : 0) === all[i] ? 0 : 1);
    assert.equal(wrong, 0, `${wrong} of 256 pixels wrong`);
    if (bottleneck === "categorical") {
      // A distribution per slot, whose most likely class is the code read off.
      for (let slot = 0; slot < 16; slot++) {
        const row = [...probabilities!.slice(slot * 8, slot * 8 + 8)];
        assert.ok(Math.abs(row.reduce((a, b) => a + b) - 1) < 1e-5);
        assert.equal(row.indexOf(Math.max(...row)), codes[slot]);
      }
    } else {
      assert.equal(probabilities, null);
    }
    const before = tf.memory().numTensors;
    model.trainStep(all, 8);
    model.codes(all, 8);
    model.reconstruct(all, 8);
    assert.equal(tf.memory().numTensors, before);
    model.dispose();
  });
}
