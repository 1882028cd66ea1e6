import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import { assertAllClose, assertTensorCountFlat } from "../../lib/tensor/testing.ts";
import { Rng } from "../../lib/rng.ts";
import { Rssm, type RssmConfig, type RssmState } from "../../lib/models/rssm.ts";
import {
  type ActionKind,
  type BehaviorConfig,
  DreamerBehavior,
  lambdaReturns,
  NonFiniteBehaviorLossError,
} from "../../lib/agents/dreamer_behavior.ts";
import { TINY_DREAMER } from "./_dreamer_fixture.ts";

const BEHAVIOR: BehaviorConfig = {
  ...TINY_DREAMER.behavior,
  horizon: 4,
  discount: 0.9,
  entropyScale: 1e-3,
  slowCriticUpdateEvery: 3,
};

function smallModel(actionSize: number, categorical: boolean, seed: number): Rssm {
  const config: RssmConfig = {
    observation: { kind: "vector", size: 3 },
    actionSize,
    deterministicSize: 6,
    stochasticSize: categorical ? 4 : 3,
    hiddenSize: 8,
    embedSize: 4,
    convDepth: 2,
    minStd: 0.1,
    freeNats: 0,
    ...(categorical
      ? { latent: { kind: "categorical", variables: 2, classes: 2 }, continuationScale: 1 }
      : {}),
  } as RssmConfig;
  return new Rssm(config, new Rng(seed));
}

/** Random start states: deterministic parts in [-1, 1], stochastic parts from the prior. */
function startStates(model: Rssm, rows: number, seed: number): RssmState {
  const rng = new Rng(seed);
  return tf.tidy(() => {
    const deterministic = tf.tensor2d(
      Float32Array.from(
        { length: rows * model.config.deterministicSize },
        () => rng.uniform(-1, 1),
      ),
      [rows, model.config.deterministicSize],
    );
    const { prior } = model.transition(
      { deterministic, stochastic: tf.zeros([rows, model.config.stochasticSize]) },
      tf.zeros([rows, model.config.actionSize]),
    );
    return { deterministic, stochastic: model.pointEstimate(prior) };
  });
}

Deno.test("lambda-returns follow their recursion", async (t) => {
  const rewards = [1, -0.5, 2], discounts = [0.9, 0.8, 0.9], values = [0.3, 1, -1, 2];
  const compute = (lambda: number) =>
    tf.tidy(() =>
      lambdaReturns(
        rewards.map((r) => tf.tensor1d([r])),
        discounts.map((d) => tf.tensor1d([d])),
        values.map((v) => tf.tensor1d([v])),
        lambda,
      ).map((g) => g.dataSync()[0])
    );
  await t.step("lambda = 0 gives one-step targets", () => {
    assertAllClose(compute(0), rewards.map((r, i) => r + discounts[i] * values[i + 1]));
  });
  await t.step("lambda = 1 gives discounted sums bootstrapped at the horizon", () => {
    const expected = [0, 1, 2].map((t0) => {
      let total = 0, scale = 1;
      for (let i = t0; i < 3; i++) {
        total += scale * rewards[i];
        scale *= discounts[i];
      }
      return total + scale * values[3];
    });
    assertAllClose(compute(1), expected);
  });
  await t.step("lambda = 0.95 mixes them as the recursion says", () => {
    let next = values[3];
    const expected: number[] = [];
    for (let i = 2; i >= 0; i--) {
      next = rewards[i] + discounts[i] * (0.05 * values[i + 1] + 0.95 * next);
      expected.unshift(next);
    }
    assertAllClose(compute(0.95), expected);
  });
});

Deno.test("Dreamer's actor and critic", async (t) => {
  const continuous: ActionKind = { kind: "continuous", size: 1 };
  const discrete: ActionKind = { kind: "discrete", count: 3 };

  await t.step("the actor's gradient through the dynamics matches finite differences", () => {
    const model = smallModel(1, false, 1);
    const behavior = new DreamerBehavior(BEHAVIOR, continuous, model.featureSize, new Rng(2));
    const start = startStates(model, 5, 3);
    const weights = tf.ones([5]) as tf.Tensor1D;
    const noise = behavior.drawNoise(model, 5, new Rng(4));
    const lossOf = () =>
      tf.tidy(() => behavior.actorLoss(model, start, weights, noise).dataSync()[0]);
    const analytic = tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () => behavior.actorLoss(model, start, weights, noise),
        behavior.actorParams.list(),
      );
      const out: Record<string, Float32Array> = {};
      for (const [name, g] of Object.entries(grads)) out[name] = g.dataSync() as Float32Array;
      return out;
    }) as unknown as Record<string, Float32Array>;
    const eps = 1e-2;
    let checked = 0;
    for (const variable of behavior.actorParams.list()) {
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
        const got = analytic[variable.name][index];
        assert.ok(
          Math.abs(numeric - got) <= 2e-3 + 5e-2 * Math.abs(numeric),
          `${variable.name}[${index}]: analytic ${got}, numeric ${numeric}`,
        );
        checked++;
      }
    }
    assert.ok(checked >= 12);
    tf.dispose([start.deterministic, start.stochastic, weights, ...noise.policy, ...noise.latent]);
    behavior.dispose();
    model.dispose();
  });

  await t.step("updates keep the tensor count flat, by dynamics and by REINFORCE", async () => {
    for (const [kind, rho, categorical] of [[continuous, 0, false], [discrete, 1, true]] as const) {
      const model = smallModel(kind.kind === "continuous" ? 1 : 3, categorical, 5);
      const config = { ...BEHAVIOR, reinforceMix: rho };
      const behavior = new DreamerBehavior(config, kind, model.featureSize, new Rng(6));
      const start = startStates(model, 6, 7);
      const weights = tf.tensor1d([1, 1, 0, 1, 1, 1]);
      const rng = new Rng(8);
      await assertTensorCountFlat(() => {
        const losses = behavior.train(model, start, weights, rng);
        assert.ok(Number.isFinite(losses.actor) && Number.isFinite(losses.critic));
      }, { burnIn: 2, steps: 5 });
      tf.dispose([start.deterministic, start.stochastic, weights]);
      behavior.dispose();
      model.dispose();
    }
  });

  await t.step("the slow critic copies the critic every slowCriticUpdateEvery updates", () => {
    const model = smallModel(1, false, 9);
    const behavior = new DreamerBehavior(BEHAVIOR, continuous, model.featureSize, new Rng(10));
    const start = startStates(model, 4, 11);
    const weights = tf.ones([4]) as tf.Tensor1D;
    const rng = new Rng(12);
    const same = () =>
      behavior.criticParams.list().every((v, i) =>
        tf.tidy(() =>
          tf.max(tf.abs(tf.sub(v, behavior.targetCriticParams.list()[i]))).dataSync()[0]
        ) === 0
      );
    assert.ok(same(), "the slow critic starts as a copy");
    for (let update = 1; update <= 3; update++) {
      behavior.train(model, start, weights, rng);
      assert.equal(same(), update === 3, `after update ${update}`);
    }
    tf.dispose([start.deterministic, start.stochastic, weights]);
    behavior.dispose();
    model.dispose();
  });

  await t.step("a NaN in the critic or actor loss stops training, naming the term", () => {
    const model = smallModel(1, false, 13);
    const behavior = new DreamerBehavior(BEHAVIOR, continuous, model.featureSize, new Rng(14));
    const start = startStates(model, 4, 15);
    const weights = tf.ones([4]) as tf.Tensor1D;
    const poison = (variable: tf.Variable) =>
      variable.assign(tf.fill(variable.shape, Number.NaN) as tf.Tensor);
    const actorBefore = behavior.actorParams.list()[0].dataSync().slice();
    const criticOutput = behavior.criticParams.variables.get("output/kernel")!;
    const saved = criticOutput.dataSync().slice();
    poison(criticOutput);
    assert.throws(
      () => behavior.train(model, start, weights, new Rng(16)),
      (error: unknown) =>
        error instanceof NonFiniteBehaviorLossError && error.term === "critic" &&
        /critic loss is NaN/.test(error.message),
    );
    // Nothing was applied: the actor is untouched.
    assert.deepEqual(behavior.actorParams.list()[0].dataSync(), actorBefore);
    criticOutput.assign(tf.tensor(saved, criticOutput.shape));
    const reward = [...model.params.variables].find(([name]) => name === "reward/3/kernel")![1];
    poison(reward);
    assert.throws(
      () => behavior.train(model, start, weights, new Rng(16)),
      (error: unknown) => error instanceof NonFiniteBehaviorLossError && error.term === "actor",
    );
    tf.dispose([start.deterministic, start.stochastic, weights]);
    behavior.dispose();
    model.dispose();
  });

  await t.step("acting: the mode without exploration, samples with it", () => {
    const model = smallModel(3, true, 17);
    const behavior = new DreamerBehavior(
      { ...BEHAVIOR, reinforceMix: 1 },
      discrete,
      model.featureSize,
      new Rng(18),
    );
    const features = tf.tidy(() => model.features(startStates(model, 1, 19)));
    const rng = new Rng(20);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[behavior.act(features, true, rng).indexOf(1)]++;
    const greedy = behavior.act(features, false, rng).indexOf(1);
    assert.equal(
      greedy,
      counts.indexOf(Math.max(...counts)),
      `greedy ${greedy}, sample counts ${counts}`,
    );
    assert.ok(counts.every((c) => c > 0), `every action is sampled: ${counts}`);
    features.dispose();
    behavior.dispose();
    model.dispose();
  });
});
