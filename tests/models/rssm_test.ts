import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import { Rng } from "../../lib/rng.ts";
import {
  freeNatsKl,
  gaussianKl,
  NonFiniteLossError,
  PLANET_TRAINER_OPTIONS,
  Rssm,
  type RssmConfig,
  RssmTrainer,
  type SequenceBatch,
} from "../../lib/models/rssm.ts";
import { assertAllClose } from "../../lib/tensor/testing.ts";
import { gruCell } from "../../lib/models/gru.ts";
import { ParameterSet } from "../../lib/models/nn.ts";

const SMALL: RssmConfig = {
  observation: { kind: "vector", size: 3 },
  actionSize: 1,
  deterministicSize: 12,
  stochasticSize: 4,
  hiddenSize: 16,
  embedSize: 8,
  convDepth: 2,
  minStd: 0.1,
  freeNats: 3,
};

/**
 * A damped oscillator driven by the action: observations [x, v, x * v], reward -x^2. A model
 * that learns must predict them from the past; a constant predictor cannot.
 */
function oscillatorBatch(batch: number, length: number, rng: Rng): SequenceBatch {
  const obs = new Float32Array(batch * length * 3);
  const actions = new Float32Array(batch * length);
  const rewards = new Float32Array(batch * length);
  for (let b = 0; b < batch; b++) {
    let x = rng.uniform(-1, 1), v = rng.uniform(-1, 1);
    for (let t = 0; t < length; t++) {
      const a = t === 0 ? 0 : rng.uniform(-1, 1);
      if (t > 0) {
        v = 0.9 * v - 0.3 * x + 0.2 * a;
        x = x + 0.3 * v;
      }
      const i = b * length + t;
      obs.set([x, v, x * v], 3 * i);
      actions[i] = a;
      rewards[i] = t === 0 ? 0 : -x * x;
    }
  }
  return {
    observations: tf.tensor3d(obs, [batch, length, 3]),
    actions: tf.tensor3d(actions, [batch, length, 1]),
    rewards: tf.tensor2d(rewards, [batch, length]),
  };
}

function noiseFor(batch: number, length: number, size: number, rng: Rng): tf.Tensor3D {
  const values = new Float32Array(batch * length * size);
  rng.fillNormal(values);
  return tf.tensor3d(values, [batch, length, size]);
}

Deno.test("KL of diagonal Gaussians", async (t) => {
  await t.step("matches the closed form", () => {
    const muQ = [0.3, -1.2], sdQ = [0.5, 1.5], muP = [-0.4, 0.1], sdP = [1.2, 0.7];
    let expected = 0;
    for (let i = 0; i < 2; i++) {
      expected += Math.log(sdP[i] / sdQ[i]) +
        (sdQ[i] ** 2 + (muQ[i] - muP[i]) ** 2) / (2 * sdP[i] ** 2) - 0.5;
    }
    const kl = tf.tidy(() =>
      gaussianKl(
        { mean: tf.tensor2d([muQ]), std: tf.tensor2d([sdQ]) },
        { mean: tf.tensor2d([muP]), std: tf.tensor2d([sdP]) },
      ).dataSync()[0]
    );
    assert.ok(Math.abs(kl - expected) < 1e-5, `${kl} vs ${expected}`);
  });
  await t.step("is zero for equal Gaussians", () => {
    const kl = tf.tidy(() => {
      const g = { mean: tf.tensor2d([[1, 2, 3]]), std: tf.tensor2d([[0.2, 1, 3]]) };
      return gaussianKl(g, g).dataSync()[0];
    });
    assert.ok(Math.abs(kl) < 1e-6);
  });
  await t.step("free nats clamp small values and pass large ones and their gradient", () => {
    const values = tf.tidy(() => freeNatsKl(tf.tensor1d([0.5, 2.9, 3.5, 10]), 3).arraySync());
    assert.deepEqual(values, [3, 3, 3.5, 10]);
    const grad = tf.tidy(() =>
      tf.grad((x: tf.Tensor) => tf.sum(freeNatsKl(x, 3)))(tf.tensor1d([1, 5])).arraySync()
    );
    assert.deepEqual(grad, [0, 1]);
  });
});

Deno.test("GRU cell follows its equations", () => {
  const params = new ParameterSet("gru_test", new Rng(3));
  const cell = gruCell(params, "cell", 2, 3);
  const [wIn, wRec, bias] = params.list().map((v) => v.arraySync() as number[][] | number[]);
  const x = [0.5, -1], h = [0.1, 0.2, -0.3];
  const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
  const project = (v: number[], w: number[][], col: number) =>
    v.reduce((s, vi, i) => s + vi * w[i][col], 0);
  const expected = h.map((hj, j) => {
    const b = bias as number[];
    const r = sigmoid(project(x, wIn as number[][], j) + b[j] + project(h, wRec as number[][], j));
    const u = sigmoid(
      project(x, wIn as number[][], 3 + j) + b[3 + j] + project(h, wRec as number[][], 3 + j),
    );
    const c = Math.tanh(
      project(x, wIn as number[][], 6 + j) + b[6 + j] + r * project(h, wRec as number[][], 6 + j),
    );
    return u * hj + (1 - u) * c;
  });
  const got = tf.tidy(() => cell.step(tf.tensor2d([x]), tf.tensor2d([h])).arraySync()[0]);
  got.forEach((v, j) => assert.ok(Math.abs(v - expected[j]) < 1e-5, `${v} vs ${expected[j]}`));
  params.dispose();
});

Deno.test("RSSM", async (t) => {
  const model = new Rssm(SMALL, new Rng(0));

  await t.step("shapes of imagine, openLoop and the losses", () => {
    tf.tidy(() => {
      const start = model.initialState(1);
      const returns = model.imagine(start, tf.zeros([7, 5, 1]) as tf.Tensor3D);
      assert.deepEqual(returns.shape, [7]);
      const withFrames = model.imagineWithFrames(start, tf.zeros([7, 5, 1]) as tf.Tensor3D);
      assert.deepEqual(withFrames.shape, [7]);
      // Decoding frames must not change the returns.
      const gap = tf.max(tf.abs(tf.sub(returns, withFrames))).dataSync()[0];
      assert.ok(gap < 1e-5);
      const decoded = model.openLoop(tf.zeros([6, 3]), tf.zeros([6, 1]), 2);
      assert.deepEqual(decoded.shape, [6, 3]);
      const batch = oscillatorBatch(2, 5, new Rng(1));
      const losses = model.loss(batch, tf.zeros([2, 5, 4]) as tf.Tensor3D);
      for (const term of Object.values(losses)) assert.equal(term.rank, 0);
    });
  });

  await t.step("KL term never drops below the free nats", () => {
    tf.tidy(() => {
      const losses = model.loss(oscillatorBatch(3, 6, new Rng(2)), tf.zeros([3, 6, 4]));
      assert.ok(losses.kl.dataSync()[0] >= SMALL.freeNats - 1e-6);
    });
  });

  await t.step("golden seeded loss at initialisation", () => {
    // Free nats off, so every term reaches the total.
    const golden = new Rssm({ ...SMALL, freeNats: 0 }, new Rng(0));
    const rng = new Rng(42);
    const value = tf.tidy(() => {
      const batch = oscillatorBatch(2, 4, rng);
      return golden.loss(batch, noiseFor(2, 4, 4, rng)).total.dataSync()[0];
    });
    golden.dispose();
    assert.ok(Math.abs(value - GOLDEN_TOTAL) < 1e-3, `golden total ${value}`);
  });

  await t.step("learns a small driven oscillator (loss drops) with a flat tensor count", () => {
    const learner = new Rssm({ ...SMALL, freeNats: 0 }, new Rng(5));
    const trainer = new RssmTrainer(learner, {
      learningRate: 3e-3,
      adamEpsilon: 1e-4,
      gradClipNorm: 1000,
    });
    const rng = new Rng(7);
    const data = oscillatorBatch(16, 12, rng);
    const losses: number[] = [];
    let afterBurnIn = 0;
    for (let step = 0; step < 120; step++) {
      const noise = noiseFor(16, 12, 4, rng);
      const l = trainer.step(data, noise);
      noise.dispose();
      losses.push(l.reconstruction + l.reward);
      if (step === 4) afterBurnIn = tf.memory().numTensors;
    }
    assert.equal(tf.memory().numTensors, afterBurnIn, "tensors leak per training step");
    const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = losses.slice(-5).reduce((a, b) => a + b) / 5;
    assert.ok(last < 0.5 * first, `reconstruction + reward ${first} -> ${last}`);
    tf.dispose([data.observations, data.actions, data.rewards]);
    trainer.dispose();
    learner.dispose();
  });

  await t.step("a NaN in the data stops training, naming the term", () => {
    const trainer = new RssmTrainer(model, {
      learningRate: 1e-3,
      adamEpsilon: 1e-4,
      gradClipNorm: 1,
    });
    const batch = oscillatorBatch(2, 4, new Rng(3));
    const rewards = tf.tensor2d([[0, NaN, 0, 0], [0, 0, 0, 0]]);
    const before = model.params.list()[0].dataSync().slice();
    assert.throws(
      () => trainer.step({ ...batch, rewards }, tf.zeros([2, 4, 4])),
      (error: unknown) =>
        error instanceof NonFiniteLossError && error.term === "reward" &&
        /reward loss is NaN/.test(error.message),
    );
    // Parameters are untouched by the failed step.
    assert.deepEqual(model.params.list()[0].dataSync(), before);
    trainer.dispose();
  });

  await t.step("pixel model: shapes for 32x32 frames", () => {
    const pixels = new Rssm(
      { ...SMALL, observation: { kind: "pixels", imageSize: 32 }, convDepth: 2 },
      new Rng(1),
    );
    tf.tidy(() => {
      const frames = tf.zeros([3, 32 * 32 * 3]) as tf.Tensor2D;
      assert.deepEqual(pixels.encode(frames).shape[0], 3);
      const decoded = pixels.openLoop(frames, tf.zeros([3, 1]), 1);
      assert.deepEqual(decoded.shape, [3, 32 * 32 * 3]);
    });
    pixels.dispose();
  });

  model.dispose();
});

/** Total loss of the seeded model on the seeded batch (recorded from a run on the wasm backend). */
const GOLDEN_TOTAL = 0.56806;

Deno.test("RSSM with DreamerV2's categorical latents, KL balancing and continuation", async (t) => {
  const CATEGORICAL: RssmConfig = {
    ...SMALL,
    stochasticSize: 8,
    latent: { kind: "categorical", variables: 2, classes: 4 },
    freeNats: 0,
    klBalance: 0.8,
    continuationScale: 1,
  };
  /** The oscillator with episode ends: the last step of chunk b ends the episode for odd b. */
  const withContinues = (batch: SequenceBatch): SequenceBatch => {
    const [size, length] = batch.rewards.shape;
    const continues = new Float32Array(size * length).fill(1);
    for (let b = 1; b < size; b += 2) continues[b * length + length - 1] = 0;
    return { ...batch, continues: tf.tensor2d(continues, [size, length]) };
  };
  const uniforms = (size: number, length: number, rng: Rng) =>
    tf.tensor3d(Float32Array.from({ length: size * length * 2 }, () => rng.next()), [
      size,
      length,
      2,
    ]);

  await t.step("a stochastic size that is not variables x classes is refused", () => {
    assert.throws(
      () => new Rssm({ ...CATEGORICAL, stochasticSize: 7 }, new Rng(0)),
      /need stochasticSize 8, got 7/,
    );
  });

  await t.step("samples are one-hot and every parameter gets a gradient", () => {
    const model = new Rssm(CATEGORICAL, new Rng(1));
    assert.equal(model.noiseSize, 2);
    const rng = new Rng(2);
    tf.tidy(() => {
      const batch = withContinues(oscillatorBatch(4, 5, rng));
      const { states, continuation } = model.lossWithStates(batch, uniforms(4, 5, rng));
      assert.ok(continuation !== undefined);
      const perVariable = tf.sum(states.stochastic.reshape([-1, 2, 4]), 2);
      assert.deepEqual([...new Set(perVariable.dataSync())], [1]);
      const { grads } = tf.variableGrads(
        () => model.loss(batch, uniforms(4, 5, rng)).total,
        model.params.list(),
      );
      for (const [name, grad] of Object.entries(grads)) {
        assert.ok(tf.sum(tf.abs(grad)).dataSync()[0] > 0, `no gradient reaches ${name}`);
      }
    });
    model.dispose();
  });

  await t.step("KL balancing keeps the loss and gives the prior alpha of the gradient", () => {
    const balanced = new Rssm(CATEGORICAL, new Rng(3));
    const plain = new Rssm({ ...CATEGORICAL, klBalance: undefined }, new Rng(3));
    const rng = new Rng(4);
    tf.tidy(() => {
      const batch = withContinues(oscillatorBatch(3, 6, rng));
      const noise = uniforms(3, 6, rng);
      const gradsOf = (model: Rssm) =>
        tf.variableGrads(() => model.loss(batch, noise).total, model.params.list());
      const a = gradsOf(balanced), b = gradsOf(plain);
      assert.ok(Math.abs(a.value.dataSync()[0] - b.value.dataSync()[0]) < 1e-5);
      // The prior reaches the loss only through the KL term.
      const prior = (grads: tf.NamedTensorMap) =>
        Object.entries(grads).find(([name]) => name.endsWith("prior/2/kernel"))![1].dataSync();
      assertAllClose(prior(a.grads), Array.from(prior(b.grads), (g) => 0.8 * g));
    });
    balanced.dispose();
    plain.dispose();
  });

  await t.step("steps padded past an episode's end leave the loss unchanged", () => {
    const model = new Rssm(CATEGORICAL, new Rng(5));
    const rng = new Rng(6);
    tf.tidy(() => {
      const short = withContinues(oscillatorBatch(2, 4, rng));
      const noise = uniforms(2, 6, rng);
      const pad = (x: tf.Tensor, value = 0) =>
        x.rank === 3
          ? tf.pad(x as tf.Tensor3D, [[0, 0], [0, 2], [0, 0]], value)
          : tf.pad(x as tf.Tensor2D, [[0, 0], [0, 2]], value);
      const padded: SequenceBatch = {
        observations: pad(short.observations, 7) as tf.Tensor3D,
        actions: pad(short.actions) as tf.Tensor3D,
        rewards: pad(short.rewards, 3) as tf.Tensor2D,
        continues: pad(short.continues!) as tf.Tensor2D,
        mask: pad(tf.ones([2, 4])) as tf.Tensor2D,
      };
      const a = model.loss(short, noise.slice([0, 0, 0], [2, 4, 2]) as tf.Tensor3D);
      const b = model.loss(padded, noise);
      for (const term of ["total", "reconstruction", "reward", "kl", "continuation"] as const) {
        const x = a[term]!.dataSync()[0], y = b[term]!.dataSync()[0];
        assert.ok(Math.abs(x - y) < 1e-5, `${term}: ${x} vs ${y}`);
      }
    });
    model.dispose();
  });

  await t.step("imagineStep is differentiable with respect to the action", () => {
    const model = new Rssm(CATEGORICAL, new Rng(7));
    tf.tidy(() => {
      const start = model.initialState(3);
      const noise = tf.tensor2d([[0.2, 0.7], [0.5, 0.5], [0.9, 0.1]]);
      const grad = tf.grad((action: tf.Tensor) => {
        const next = model.imagineStep(start, action as tf.Tensor2D, noise);
        return tf.sum(model.predictReward(model.features(next)));
      })(tf.tensor2d([[0.5], [-0.5], [0.1]]));
      assert.ok(tf.sum(tf.abs(grad)).dataSync()[0] > 0);
    });
    model.dispose();
  });

  await t.step("learns the oscillator and where episodes end, with a flat tensor count", () => {
    const model = new Rssm(CATEGORICAL, new Rng(8));
    const trainer = new RssmTrainer(model, {
      learningRate: 3e-3,
      adamEpsilon: 1e-5,
      gradClipNorm: 100,
    });
    const rng = new Rng(9);
    const data = withContinues(oscillatorBatch(16, 12, rng));
    const losses: { model: number; continuation: number }[] = [];
    let afterBurnIn = 0;
    for (let step = 0; step < 120; step++) {
      const noise = uniforms(16, 12, rng);
      const { losses: l, states } = trainer.stepWithStates(data, noise);
      tf.dispose([noise, states.deterministic, states.stochastic]);
      losses.push({ model: l.reconstruction + l.reward, continuation: l.continuation! });
      if (step === 4) afterBurnIn = tf.memory().numTensors;
    }
    assert.equal(tf.memory().numTensors, afterBurnIn, "tensors leak per training step");
    const average = (key: "model" | "continuation", from: number, to: number) =>
      losses.slice(from, to).reduce((sum, l) => sum + l[key], 0) / (to - from);
    for (const key of ["model", "continuation"] as const) {
      assert.ok(
        average(key, 115, 120) < 0.5 * average(key, 0, 5),
        `${key}: ${average(key, 0, 5)} -> ${average(key, 115, 120)}`,
      );
    }
    tf.dispose([data.observations, data.actions, data.rewards, data.continues!]);
    trainer.dispose();
    model.dispose();
  });

  await t.step("a NaN in the episode ends stops training, naming the continuation term", () => {
    const model = new Rssm(CATEGORICAL, new Rng(10));
    const trainer = new RssmTrainer(model, PLANET_TRAINER_OPTIONS);
    const rng = new Rng(11);
    const batch = withContinues(oscillatorBatch(2, 4, rng));
    const broken = { ...batch, continues: tf.tensor2d([[1, NaN, 1, 1], [1, 1, 1, 0]]) };
    assert.throws(
      () => trainer.step(broken, uniforms(2, 4, rng)),
      (error: unknown) =>
        error instanceof NonFiniteLossError && error.term === "continuation" &&
        /continuation loss is NaN/.test(error.message),
    );
    trainer.dispose();
    model.dispose();
  });
});
