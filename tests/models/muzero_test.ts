/**
 * MuZero's networks (Schrittwieser et al. 2020, Section 3, Appendices F and G): hidden states
 * rescaled to [0, 1], the halved gradient into the dynamics, gradients of the unrolled loss
 * against finite differences for both bodies, the batched inference the search calls, and no
 * tensor leaked over many calls.
 */
import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import {
  type MuZeroArchitecture,
  MuZeroNetwork,
  type MuZeroNetworkConfig,
  scaleGradient,
  scaleHiddenState,
} from "../../lib/models/muzero.ts";
import type { HeadSpec } from "../../lib/models/muzero_support.ts";
import { Rng } from "../../lib/rng.ts";
import { assertAllClose, assertTensorCountFlat } from "../../lib/tensor/testing.ts";

const MLP: MuZeroArchitecture = { kind: "mlp", latentSize: 8, hiddenSize: 12, hiddenLayers: 1 };
const RESIDUAL: MuZeroArchitecture = { kind: "residual", channels: 4, blocks: 1, headHidden: 6 };

function network(
  architecture: MuZeroArchitecture,
  heads: HeadSpec = { kind: "scalar" },
  extra: Partial<MuZeroNetworkConfig> = {},
): MuZeroNetwork {
  return new MuZeroNetwork({
    observationShape: [3, 3, 3],
    numActions: 9,
    architecture,
    value: heads,
    reward: heads,
    ...extra,
  }, new Rng(3));
}

function randomObservations(count: number, rng: Rng): Float32Array {
  return new Float32Array(count * 27).map(() => rng.int(2));
}

Deno.test("hidden-state scaling and gradient scaling", async (t) => {
  await t.step("every hidden state spans exactly [0, 1]", () => {
    const rng = new Rng(0);
    const values = new Float32Array(5 * 7).map(() => rng.normal(3, 10));
    const scaled = tf.tidy(() =>
      scaleHiddenState(tf.tensor2d(values, [5, 7])).arraySync()
    ) as number[][];
    for (const row of scaled) {
      assert.ok(Math.abs(Math.min(...row)) < 1e-6);
      assert.ok(Math.abs(Math.max(...row) - 1) < 1e-6);
    }
    // A constant state does not divide by zero.
    const flat = tf.tidy(() => scaleHiddenState(tf.fill([2, 4], 0.5)).dataSync());
    assert.ok(flat.every((v) => v === 0));
  });

  await t.step("its gradient matches finite differences", () => {
    const rng = new Rng(1);
    const x = new Float32Array(6).map(() => rng.normal());
    const weights = tf.tensor2d(new Float32Array(6).map(() => rng.normal()), [1, 6]);
    const loss = (input: tf.Tensor) => tf.sum(tf.mul(tf.square(scaleHiddenState(input)), weights));
    const analytic = tf.tidy(() => tf.grad(loss)(tf.tensor2d(x, [1, 6])).dataSync());
    const numeric = x.map((_, i) => {
      const step = 1e-2;
      const at = (delta: number) => {
        const moved = x.slice();
        moved[i] += delta;
        return tf.tidy(() => loss(tf.tensor2d(moved, [1, 6])).dataSync()[0]);
      };
      return (at(step) - at(-step)) / (2 * step);
    });
    weights.dispose();
    assertAllClose(analytic, numeric, { relative: 2e-2, absolute: 2e-3 });
  });

  await t.step("scaleGradient is the identity forward and scales the gradient backward", () => {
    const x = tf.tensor1d([1, -2, 3]);
    const forward = tf.tidy(() => scaleGradient(x, 0.5).dataSync());
    assert.deepEqual(Array.from(forward), [1, -2, 3]);
    const gradient = tf.tidy(() =>
      tf.grad((input: tf.Tensor) => tf.sum(tf.mul(scaleGradient(input, 0.5), 4)))(x).dataSync()
    );
    assert.deepEqual(Array.from(gradient), [2, 2, 2]);
    x.dispose();
  });
});

/** The unrolled loss of a fixed batch, as a function of the parameters. */
function unrolledLoss(
  net: MuZeroNetwork,
  observations: tf.Tensor,
  actions: tf.Tensor2D,
  dynamicsGradientScale: number,
) {
  return () =>
    tf.tidy(() => {
      const predictions = net.unroll(observations, actions, dynamicsGradientScale);
      const terms = predictions.flatMap((p, k) => [
        tf.sum(tf.mul(tf.logSoftmax(p.policyLogits), (k + 1) / 9)),
        tf.sum(tf.square(tf.sub(p.value, 0.3))),
        ...(p.reward ? [tf.sum(tf.square(tf.sub(p.reward, 0.1 * k)))] : []),
      ]);
      return tf.addN(terms) as tf.Scalar;
    });
}

Deno.test("gradients of the unrolled loss match finite differences", async (t) => {
  for (const [name, architecture] of [["MLP", MLP], ["residual", RESIDUAL]] as const) {
    for (const heads of [{ kind: "scalar" }, { kind: "support", size: 3 }] as HeadSpec[]) {
      await t.step(`${name} body, ${heads.kind} heads, along a random direction`, () => {
        const net = network(architecture, heads);
        // Biases start at 0, and a ReLU whose inputs are all 0 would sit exactly on its kink,
        // where finite differences and the gradient disagree: move to a generic point first.
        for (const [name, variable] of net.params.variables) {
          if (name.endsWith("/bias")) {
            variable.assign(tf.tidy(() => tf.randomNormal(variable.shape, 0, 0.3, "float32", 13)));
          }
        }
        const rng = new Rng(7);
        const observations = tf.tensor2d(randomObservations(4, rng), [4, 27]);
        const actions = tf.tensor2d(
          Int32Array.from({ length: 12 }, () => rng.int(9)),
          [4, 3],
          "int32",
        );
        // The plain gradient (scale 1) is the one finite differences measure.
        const loss = unrolledLoss(net, observations, actions, 1);
        const variables = net.params.list();
        const { grads, value } = tf.variableGrads(loss, variables);
        value.dispose();
        // Directional derivative: Σ grad · d against (L(θ + εd) - L(θ - εd)) / 2ε.
        // A unit direction over all parameters, so a small step crosses few ReLU kinks.
        const raw = variables.map((v) => tf.randomNormal(v.shape, 0, 1, "float32", 11));
        const norm = tf.tidy(() =>
          Math.sqrt(tf.addN(raw.map((d) => tf.sum(tf.square(d)))).dataSync()[0])
        );
        const directions = raw.map((d) => tf.tidy(() => tf.div(d, norm)));
        tf.dispose(raw);
        const analytic = tf.tidy(() =>
          tf.addN(variables.map((v, i) => tf.sum(tf.mul(grads[v.name], directions[i]))))
            .dataSync()[0]
        );
        const originals = variables.map((v) => v.clone());
        const at = (epsilon: number) => {
          variables.forEach((v, i) =>
            v.assign(tf.tidy(() => tf.add(originals[i], tf.mul(directions[i], epsilon))))
          );
          return loss().dataSync()[0];
        };
        const epsilon = 3e-3;
        const numeric = (at(epsilon) - at(-epsilon)) / (2 * epsilon);
        variables.forEach((v, i) => v.assign(originals[i]));
        tf.dispose([...originals, ...directions, observations, actions, ...Object.values(grads)]);
        net.dispose();
        assert.ok(
          Math.abs(analytic - numeric) <= 0.01 * Math.abs(numeric) + 0.01,
          `analytic ${analytic}, numeric ${numeric}`,
        );
      });
    }
  }
});

Deno.test("batched inference for the search", async (t) => {
  for (const [name, architecture] of [["MLP", MLP], ["residual", RESIDUAL]] as const) {
    await t.step(`${name}: one call per batch agrees with the tensor functions`, () => {
      const net = network(architecture, { kind: "support", size: 5 });
      const rng = new Rng(2);
      const observations = randomObservations(6, rng);
      const initial = net.initialInference(observations, 6);
      const latents = initial.latents.slice();
      const logits = initial.policyLogits.slice();
      const values = initial.values.slice();
      assert.equal(latents.length, 6 * net.latentSize);
      for (let row = 0; row < 6; row++) {
        const state = latents.subarray(row * net.latentSize, (row + 1) * net.latentSize);
        assert.ok(Math.abs(Math.min(...state)) < 1e-6 && Math.abs(Math.max(...state) - 1) < 1e-6);
      }
      const expected = tf.tidy(() => {
        const state = net.represent(tf.tensor2d(observations, [6, 27]));
        const { policyLogits, value } = net.predict(state);
        return [state.dataSync(), policyLogits.dataSync(), net.valueScalar(value).dataSync()];
      });
      assertAllClose(latents, expected[0], { relative: 1e-5 });
      assertAllClose(logits, expected[1], { relative: 1e-5 });
      assertAllClose(values, expected[2], { relative: 1e-5, absolute: 1e-5 });

      const actions = Int32Array.from([0, 8, 4, 4, 2, 7]);
      const next = net.recurrentInference(latents, actions);
      const expectedNext = tf.tidy(() => {
        const step = net.dynamics(
          tf.tensor(latents, [6, ...net.latentShape]),
          tf.tensor1d(actions, "int32"),
        );
        const { value } = net.predict(step.state);
        return [
          step.state.dataSync(),
          net.valueScalar(value).dataSync(),
          net.rewardScalar(step.reward).dataSync(),
        ];
      });
      assertAllClose(next.latents, expectedNext[0], { relative: 1e-5 });
      assertAllClose(next.values, expectedNext[1], { relative: 1e-5, absolute: 1e-5 });
      assertAllClose(next.rewards, expectedNext[2], { relative: 1e-5, absolute: 1e-5 });
      // Different actions from the same state lead to different states.
      assert.notDeepEqual(
        Array.from(next.latents.subarray(2 * net.latentSize, 3 * net.latentSize)),
        Array.from(next.latents.subarray(3 * net.latentSize, 4 * net.latentSize)),
      );
      net.dispose();
    });
  }

  await t.step("scalar heads stay within [-1, 1]", () => {
    const net = network(MLP);
    const out = net.initialInference(randomObservations(16, new Rng(4)), 16);
    assert.ok(out.values.every((v) => v >= -1 && v <= 1));
    net.dispose();
  });

  await t.step("wrong sizes are refused with the numbers", () => {
    const net = network(MLP);
    assert.throws(() => net.initialInference(new Float32Array(26), 1), /26 numbers for 1/);
    assert.throws(
      () => net.recurrentInference(new Float32Array(7), Int32Array.of(0)),
      /7 numbers for 1 hidden states of 8/,
    );
    assert.throws(
      () =>
        network({ kind: "residual", channels: 2, blocks: 1, headHidden: 2 }, undefined, {
          observationShape: [27],
        }),
      /rows, columns, planes/,
    );
    net.dispose();
  });

  await t.step("the tensor count stays flat over many inference calls", async () => {
    for (const architecture of [MLP, RESIDUAL]) {
      const net = network(architecture, { kind: "support", size: 4 });
      const rng = new Rng(5);
      const observations = randomObservations(8, rng);
      await assertTensorCountFlat(() => {
        const initial = net.initialInference(observations, 8);
        const latents = initial.latents.slice();
        net.recurrentInference(latents, Int32Array.from({ length: 8 }, () => rng.int(9)));
        net.recurrentInference(latents.subarray(0, 3 * net.latentSize), Int32Array.of(1, 2, 3));
      }, { burnIn: 2, steps: 30 });
      net.dispose();
    }
  });

  await t.step("dispose frees every tensor the network made", () => {
    const before = tf.memory().numTensors;
    network(RESIDUAL, { kind: "support", size: 3 }).dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
