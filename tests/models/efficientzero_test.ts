/**
 * EfficientZero's model additions (Ye et al. 2021, Sections 4.1 and 4.2): the consistency loss is
 * 0 for equal directions and only then; adding the heads leaves MuZero's parameters and
 * predictions as they were; the search's rewards are differences of the LSTM's prefixes, cleared
 * every `horizon` steps exactly as the training unroll clears them; and a value-prefix network
 * fitted to a task whose rewards are known reproduces their running sums in the search.
 */
import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import { MuZeroNetwork, type MuZeroNetworkConfig } from "../../lib/models/muzero.ts";
import { consistencyLoss, prefixStart } from "../../lib/models/efficientzero.ts";
import { valuePrefixTargets } from "../../lib/agents/efficientzero_targets.ts";
import { Rng } from "../../lib/rng.ts";
import { adam } from "../../lib/tensor/mod.ts";
import { assertAllClose, assertTensorCountFlat } from "../../lib/tensor/testing.ts";

const BASE: MuZeroNetworkConfig = {
  observationShape: [5],
  numActions: 2,
  architecture: { kind: "mlp", latentSize: 6, hiddenSize: 12, hiddenLayers: 1 },
  value: { kind: "support", size: 3 },
  reward: { kind: "scalar" },
};

const EXTRAS: MuZeroNetworkConfig["efficientZero"] = {
  consistency: { projectionHidden: 8, projectionSize: 5, predictionHidden: 4 },
  valuePrefix: { lstmHiddenSize: 8, horizon: 3 },
};

Deno.test("the consistency loss", async (t) => {
  await t.step("is 0 for identical inputs and for positive multiples", () => {
    const rng = new Rng(0);
    const x = tf.tensor2d(new Float32Array(12).map(() => rng.normal()), [3, 4]);
    const same = tf.tidy(() => consistencyLoss(x, x).dataSync());
    const scaled = tf.tidy(() => consistencyLoss(x, tf.mul(x, 3.5) as tf.Tensor2D).dataSync());
    assertAllClose(same, [0, 0, 0], { absolute: 1e-6 });
    assertAllClose(scaled, [0, 0, 0], { absolute: 1e-6 });
    x.dispose();
  });

  await t.step("is 1 − cos otherwise: 2 for opposite, 1 for orthogonal", () => {
    const online = tf.tensor2d([[1, 0], [1, 0], [1, 1]]);
    const target = tf.tensor2d([[-2, 0], [0, 5], [1, 0]]);
    const loss = tf.tidy(() => consistencyLoss(online, target).dataSync());
    assertAllClose(loss, [2, 1, 1 - Math.SQRT1_2], { absolute: 1e-6 });
    tf.dispose([online, target]);
  });
});

Deno.test("EfficientZero's heads leave MuZero's network as it was", () => {
  const muzero = new MuZeroNetwork(BASE, new Rng(4));
  const efficient = new MuZeroNetwork({ ...BASE, efficientZero: EXTRAS }, new Rng(4));
  // Every MuZero parameter starts at the same values; the additions come after them.
  const names = [...muzero.params.variables.keys()];
  assert.deepEqual([...efficient.params.variables.keys()].slice(0, names.length), names);
  assert.ok(efficient.params.count() > muzero.params.count());
  for (const name of names) {
    assert.deepEqual(
      muzero.params.variables.get(name)!.dataSync(),
      efficient.params.variables.get(name)!.dataSync(),
      name,
    );
  }
  // Same values and policies at every unrolled step.
  const rng = new Rng(5);
  const observations = new Float32Array(4 * 5).map(() => rng.normal());
  const actions = Int32Array.from({ length: 4 * 3 }, () => rng.int(2));
  const outputs = (net: MuZeroNetwork) =>
    tf.tidy(() =>
      net.unroll(tf.tensor2d(observations, [4, 5]), tf.tensor2d(actions, [4, 3], "int32"))
        .map((p) => [...p.value.dataSync(), ...p.policyLogits.dataSync()])
    );
  const [a, b] = [outputs(muzero), outputs(efficient)];
  a.forEach((step, k) => assertAllClose(step, b[k], { absolute: 1e-6 }));
  muzero.dispose();
  efficient.dispose();
});

/** Scalar prefixes of the training unroll, [K][B]. */
function unrolledPrefixes(net: MuZeroNetwork, observations: Float32Array, actions: Int32Array) {
  const batch = observations.length / net.observationSize;
  const steps = actions.length / batch;
  return tf.tidy(() =>
    net.unroll(
      tf.tensor2d(observations, [batch, net.observationSize]),
      tf.tensor2d(actions, [batch, steps], "int32"),
    ).slice(1).map((p) => Array.from(net.rewardScalar(p.reward!).dataSync()))
  );
}

/** Rewards the search sees along each row's actions, [K][B], from recurrent inference. */
function searchRewards(net: MuZeroNetwork, observations: Float32Array, actions: Int32Array) {
  const batch = observations.length / net.observationSize;
  const steps = actions.length / batch;
  let latents = net.initialInference(observations, batch).latents.slice();
  const rewards: number[][] = [];
  for (let k = 0; k < steps; k++) {
    const stepActions = Int32Array.from({ length: batch }, (_, row) => actions[row * steps + k]);
    const out = net.recurrentInference(latents, stepActions);
    rewards.push(Array.from(out.rewards));
    latents = out.latents.slice();
  }
  return rewards;
}

Deno.test("the value prefix in the search", async (t) => {
  await t.step("rewards are differences of the unroll's prefixes, cleared every horizon", () => {
    const net = new MuZeroNetwork({ ...BASE, efficientZero: EXTRAS }, new Rng(8));
    const rng = new Rng(9);
    const batch = 3;
    const steps = 7;
    const observations = new Float32Array(batch * 5).map(() => rng.normal());
    const actions = Int32Array.from({ length: batch * steps }, () => rng.int(2));
    const prefixes = unrolledPrefixes(net, observations, actions);
    const rewards = searchRewards(net, observations, actions);
    const horizon = EXTRAS!.valuePrefix!.horizon;
    for (let k = 1; k <= steps; k++) {
      // The prefix before step k, 0 right after a clear.
      const previous = prefixStart(k, horizon) === k ? null : prefixes[k - 2];
      const expected = prefixes[k - 1].map((p, row) => p - (previous ? previous[row] : 0));
      assertAllClose(rewards[k - 1], expected, { absolute: 1e-5 });
    }
    net.dispose();
  });

  await t.step("a network fitted to known rewards gives their running sums", () => {
    // The reward of each step is the action taken (0 or 1): the sums are known exactly.
    const net = new MuZeroNetwork({
      ...BASE,
      efficientZero: { consistency: null, valuePrefix: { lstmHiddenSize: 16, horizon: 3 } },
    }, new Rng(10));
    const rng = new Rng(11);
    const batch = 32;
    const steps = 5;
    const optimizer = adam(1e-2);
    const sample = () => {
      const observations = new Float32Array(batch * 5).map(() => rng.normal());
      const actions = Int32Array.from({ length: batch * steps }, () => rng.int(2));
      // Reward targets laid out as MuZero's batches: [B, K + 1], step 0 unused.
      const rewards = new Float32Array(batch * (steps + 1));
      for (let row = 0; row < batch; row++) {
        for (let k = 1; k <= steps; k++) {
          rewards[row * (steps + 1) + k] = actions[row * steps + k - 1];
        }
      }
      return { observations, actions, rewards };
    };
    for (let update = 0; update < 400; update++) {
      const { observations, actions, rewards } = sample();
      const targets = valuePrefixTargets(rewards, batch, steps, 3);
      tf.tidy(() => {
        const targetTensor = tf.tensor2d(targets, [batch, steps + 1]);
        optimizer.minimize(
          () => {
            const predictions = net.unroll(
              tf.tensor2d(observations, [batch, 5]),
              tf.tensor2d(actions, [batch, steps], "int32"),
            );
            const prefixes = tf.stack(
              predictions.slice(1).map((p) => tf.reshape(p.reward!, [batch])),
              1,
            );
            const wanted = tf.slice(targetTensor, [0, 1], [batch, steps]);
            return tf.mean(tf.square(tf.sub(prefixes, wanted))) as tf.Scalar;
          },
          false,
          net.params.list(),
        );
      });
    }
    optimizer.dispose();
    const { observations, actions } = sample();
    const rewards = searchRewards(net, observations, actions);
    let worst = 0;
    for (let row = 0; row < batch; row++) {
      let sum = 0;
      let sumSeen = 0;
      for (let k = 1; k <= steps; k++) {
        sum += actions[row * steps + k - 1];
        sumSeen += rewards[k - 1][row];
        worst = Math.max(worst, Math.abs(sumSeen - sum));
      }
    }
    // Fitted, the worst running sum is off by about 0.03; clearing at the wrong depth gives 0.4.
    assert.ok(worst < 0.1, `largest error of a running sum in the search: ${worst}`);
    net.dispose();
  });

  await t.step("the tensor count stays flat over many inference calls", async () => {
    const net = new MuZeroNetwork({ ...BASE, efficientZero: EXTRAS }, new Rng(12));
    const observations = new Float32Array(2 * 5).fill(0.5);
    await assertTensorCountFlat(() => {
      searchRewards(net, observations, Int32Array.from([0, 1, 1, 0]));
    });
    net.dispose();
  });
});
