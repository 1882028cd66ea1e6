import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import { Rng } from "../../lib/rng.ts";
import {
  type LatentEpisode,
  MdnRnn,
  type MdnRnnConfig,
  mixtureNegLogLikelihood,
  sampleMixture,
  trainEpoch,
} from "../../lib/models/mdn_rnn.ts";
import { Lstm } from "../../lib/models/lstm.ts";

const TINY: MdnRnnConfig = {
  latentSize: 2,
  actionSize: 1,
  hiddenSize: 3,
  numMixtures: 2,
  predictDone: true,
  episodeStartInput: true,
  doneLossWeight: 10,
};

function gaussian(x: number, mu: number, sigma: number): number {
  return Math.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * Math.sqrt(2 * Math.PI));
}

/** Episodes where z_{t+1} = 0.9 z_t + 0.5 a_t, ending (terminated) after `steps`. */
function linearEpisodes(count: number, steps: number, rng: Rng): LatentEpisode[] {
  return Array.from({ length: count }, () => {
    const mu = new Float32Array((steps + 1) * 2);
    const actions = new Float32Array(steps);
    mu[0] = rng.uniform(-1, 1);
    mu[1] = rng.uniform(-1, 1);
    for (let t = 0; t < steps; t++) {
      actions[t] = rng.uniform(-1, 1);
      for (let d = 0; d < 2; d++) {
        mu[(t + 1) * 2 + d] = 0.9 * mu[t * 2 + d] + 0.5 * actions[t];
      }
    }
    return { mu, logVar: new Float32Array(mu.length).fill(-12), actions, steps, terminated: true };
  });
}

Deno.test("MDN-RNN", async (t) => {
  await t.step("parameter counts equal the paper's table", () => {
    const carRacing = MdnRnn.parameterCount({
      latentSize: 32,
      actionSize: 3,
      hiddenSize: 256,
      numMixtures: 5,
      predictDone: false,
      episodeStartInput: false,
    });
    assert.equal(carRacing, 422_368);
    const takeCover = MdnRnn.parameterCount({
      latentSize: 64,
      actionSize: 1,
      hiddenSize: 512,
      numMixtures: 5,
      predictDone: true,
      episodeStartInput: true,
    });
    assert.equal(takeCover, 1_678_785);
    const model = new MdnRnn(TINY, new Rng(0));
    assert.equal(model.params.count(), MdnRnn.parameterCount(TINY));
    assert.equal(Lstm.parameterCount(4, 3), 4 * 3 * (4 + 3) + 4 * 3);
    model.dispose();
  });

  await t.step("mixture NLL equals the hand-computed value", () => {
    // One latent dimension, K = 2: weights 0.3 / 0.7, means 0 / 1, sigmas 1 / 0.5, target 0.5.
    const value = tf.tidy(() => {
      const logPi = tf.tensor3d([Math.log(0.3), Math.log(0.7)], [1, 1, 2]);
      const mu = tf.tensor3d([0, 1], [1, 1, 2]);
      const logSigma = tf.tensor3d([0, Math.log(0.5)], [1, 1, 2]);
      return mixtureNegLogLikelihood(logPi, mu, logSigma, tf.tensor2d([0.5], [1, 1])).dataSync();
    });
    const expected = -Math.log(0.3 * gaussian(0.5, 0, 1) + 0.7 * gaussian(0.5, 1, 0.5));
    assert.ok(Math.abs(expected - 0.81108) < 1e-4, `hand value ${expected}`);
    assert.ok(Math.abs(value[0] - expected) < 1e-5, `${value[0]} vs ${expected}`);
  });

  await t.step("loss gradients match central finite differences", () => {
    const model = new MdnRnn(TINY, new Rng(3));
    const rng = new Rng(4);
    const batch = {
      inputs: tf.tensor3d(Float32Array.from({ length: 2 * 4 * 4 }, () => rng.normal()), [2, 4, 4]),
      targets: tf.tensor3d(Float32Array.from({ length: 2 * 4 * 2 }, () => rng.normal()), [
        2,
        4,
        2,
      ]),
      done: tf.tensor2d([0, 0, 0, 1, 0, 0, 1, 0], [2, 4]),
      mask: tf.tensor2d([1, 1, 1, 1, 1, 1, 1, 0], [2, 4]),
    };
    const state = model.lstm.zeroState(2);
    const lossOf = () =>
      tf.tidy(() => {
        const { loss } = model.loss(batch, state);
        return loss.dataSync()[0];
      });
    const grads = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => model.loss(batch, state).loss, model.params.list());
      const out: Record<string, Float32Array> = {};
      for (const [name, g] of Object.entries(grads)) out[name] = g.dataSync() as Float32Array;
      return out;
    }) as unknown as Record<string, Float32Array>;
    const eps = 1e-2;
    let checked = 0;
    for (const variable of model.params.list()) {
      const values = variable.dataSync().slice() as Float32Array;
      for (const index of [0, Math.floor(values.length / 2), values.length - 1]) {
        const original = values[index];
        values[index] = original + eps;
        variable.assign(tf.tensor(values, variable.shape));
        const plus = lossOf();
        values[index] = original - eps;
        variable.assign(tf.tensor(values, variable.shape));
        const minus = lossOf();
        values[index] = original;
        variable.assign(tf.tensor(values, variable.shape));
        const numeric = (plus - minus) / (2 * eps);
        const analytic = grads[variable.name][index];
        assert.ok(
          Math.abs(numeric - analytic) <= 2e-3 + 2e-2 * Math.abs(numeric),
          `${variable.name}[${index}]: analytic ${analytic}, numeric ${numeric}`,
        );
        checked++;
      }
    }
    assert.ok(checked >= 15);
    tf.dispose([batch.inputs, batch.targets, batch.done, batch.mask, state.h, state.c]);
    model.dispose();
  });

  await t.step("sampling: tau -> 0 gives the likeliest mean, tau = 1 the mixture's moments", () => {
    // Two rows of one dimension each; K = 2: weights 0.3 / 0.7, means -2 / 1, sigmas 0.5 / 1.
    const logPi = Float32Array.from([Math.log(0.3), Math.log(0.7)]);
    const mu = Float32Array.from([-2, 1]);
    const logSigma = Float32Array.from([Math.log(0.5), 0]);
    const rng = new Rng(11);
    const one = new Float32Array(1);
    for (const tau of [0, 1e-6]) {
      for (let i = 0; i < 100; i++) {
        sampleMixture(logPi, mu, logSigma, 2, tau, rng, one);
        assert.ok(Math.abs(one[0] - 1) < 1e-2, `tau ${tau}: ${one[0]}`);
      }
    }
    const n = 40_000;
    let sum = 0;
    let sumSq = 0;
    let negative = 0;
    for (let i = 0; i < n; i++) {
      sampleMixture(logPi, mu, logSigma, 2, 1, rng, one);
      sum += one[0];
      sumSq += one[0] ** 2;
      if (one[0] < -0.5) negative++;
    }
    const mean = sum / n;
    const variance = sumSq / n - mean ** 2;
    const expectedMean = 0.3 * -2 + 0.7 * 1;
    const expectedVariance = 0.3 * (0.25 + 4) + 0.7 * (1 + 1) - expectedMean ** 2;
    assert.ok(Math.abs(mean - expectedMean) < 0.03, `mean ${mean} vs ${expectedMean}`);
    assert.ok(Math.abs(variance - expectedVariance) < 0.06, `var ${variance}`);
    // P(x < -0.5) = 0.3 Phi(3) + 0.7 Phi(-1.5) = 0.2996 + 0.0468.
    assert.ok(Math.abs(negative / n - 0.3464) < 0.01, `P(x < -0.5) ${negative / n}`);
    // tau = 2 flattens the weights toward uniform: the first component's share rises to
    // sqrt(0.3) / (sqrt(0.3) + sqrt(0.7)) = 0.396.
    let first = 0;
    for (let i = 0; i < n; i++) {
      sampleMixture(logPi, mu, Float32Array.from([-20, -20]), 2, 2, rng, one);
      if (one[0] < -0.5) first++;
    }
    assert.ok(Math.abs(first / n - 0.3956) < 0.01, `share at tau 2: ${first / n}`);
  });

  await t.step("learns a linear latent dynamics and keeps the tensor count flat", () => {
    const config = { ...TINY, hiddenSize: 16, numMixtures: 3 };
    const model = new MdnRnn(config, new Rng(5));
    const optimizer = tf.train.adam(1e-2);
    const rng = new Rng(6);
    const episodes = linearEpisodes(8, 24, rng);
    const options = { batchSize: 4, chunkLength: 8, rng };
    const first = trainEpoch(model, optimizer, episodes, options);
    const burnedIn = tf.memory().numTensors;
    let last = first;
    for (let epoch = 0; epoch < 25; epoch++) last = trainEpoch(model, optimizer, episodes, options);
    assert.equal(tf.memory().numTensors, burnedIn, "tensor count grew during training");
    // A Gaussian of std 0.58 (the spread of the targets) scores about 0.88 nats; a model that
    // has learnt the map scores far lower.
    assert.ok(last < first - 1, `loss ${first} -> ${last}`);
    // Sampling a batch in a rollout also leaks nothing.
    const before = tf.memory().numTensors;
    const zOut = new Float32Array(4 * 2);
    const doneOut = new Float32Array(4);
    let state = model.lstm.zeroState(4);
    for (let i = 0; i < 20; i++) {
      const next = model.advance(new Float32Array(4 * model.inputSize), state);
      tf.dispose([state.h, state.c]);
      state = next;
      model.sample(state.h, 1, rng, zOut, doneOut);
    }
    tf.dispose([state.h, state.c]);
    assert.equal(tf.memory().numTensors, before);
    assert.ok(doneOut.every((p) => p >= 0 && p <= 1));
    optimizer.dispose();
    model.dispose();
  });
});

Deno.test("MDN-RNN sampling from the output layer matches the mixture's parameters", () => {
  const model = new MdnRnn({ ...TINY, latentSize: 3, numMixtures: 4 }, new Rng(21));
  const h = tf.tensor2d(Float32Array.from({ length: 5 * 3 }, (_, i) => Math.sin(i)), [5, 3]);
  const m = model.mixture(h);
  const logPi = m.logPi.dataSync() as Float32Array;
  const mu = m.mu.dataSync() as Float32Array;
  const logSigma = m.logSigma.dataSync() as Float32Array;
  for (const tau of [0, 0.5, 1.3]) {
    const fast = new Float32Array(15);
    const reference = new Float32Array(15);
    model.sample(h, tau, new Rng(7), fast);
    sampleMixture(logPi, mu, logSigma, 4, tau, new Rng(7), reference);
    for (let i = 0; i < 15; i++) {
      assert.ok(Math.abs(fast[i] - reference[i]) < 1e-4, `tau ${tau} [${i}]`);
    }
  }
  tf.dispose([h, m.logPi, m.mu, m.logSigma]);
  m.doneLogit?.dispose();
  model.dispose();
});
