import assert from "node:assert/strict";
import {
  clippedSurrogate,
  generalizedAdvantages,
  PPO_PAPER_CONFIG,
  type PpoConfig,
  trainPpo,
} from "../../lib/agents/ppo.ts";
import { tf } from "../../lib/tensor/mod.ts";
import { Rng } from "../../lib/rng.ts";
import { type Action, boxSpec, type Env, type StepResult } from "../../lib/envs/types.ts";

Deno.test("clippedSurrogate matches hand-computed values on both sides of the clip", () => {
  // ratios 1.5, 0.5, 1.1, 0.7 with advantages +2, +2, -1, -1 and eps = 0.2:
  //   1.5 * 2 vs 1.2 * 2 -> 2.4 (clipped: no credit beyond 1 + eps for a good action)
  //   0.5 * 2 vs 0.8 * 2 -> 1.0 (the pessimistic unclipped term)
  //   1.1 * -1 vs 1.1 * -1 -> -1.1 (inside the range)
  //   0.7 * -1 vs 0.8 * -1 -> -0.8 (clipped: no credit below 1 - eps for a bad action)
  const ratios = [1.5, 0.5, 1.1, 0.7];
  const result = tf.tidy(() =>
    clippedSurrogate(
      tf.tensor1d(ratios.map(Math.log)),
      tf.zeros([4]) as tf.Tensor1D,
      tf.tensor1d([2, 2, -1, -1]),
      0.2,
    ).arraySync()
  );
  [2.4, 1.0, -1.1, -0.8].forEach((expected, i) => assert.ok(Math.abs(result[i] - expected) < 1e-5));
});

Deno.test("generalizedAdvantages matches a hand-computed example with an episode end", () => {
  // gamma 0.9, lambda 0.5. Steps 0-1 are one episode that terminates at step 1; step 2 starts a
  // new episode cut by the rollout end, bootstrapped with V = 4.
  const rewards = [1, 2, 0.5];
  const values = [0.5, 1, 2];
  const nextValues = [1, 0, 4];
  const ends = [false, true, false];
  const { advantages, returns } = generalizedAdvantages(
    rewards,
    values,
    nextValues,
    ends,
    0.9,
    0.5,
  );
  const delta2 = 0.5 + 0.9 * 4 - 2; // 2.1
  const delta1 = 2 + 0 - 1; // 1
  const delta0 = 1 + 0.9 * 1 - 0.5; // 1.4
  const expected = [delta0 + 0.45 * delta1, delta1, delta2];
  expected.forEach((a, i) => {
    assert.ok(Math.abs(advantages[i] - a) < 1e-6, `A_${i} ${advantages[i]} vs ${a}`);
    assert.ok(Math.abs(returns[i] - (a + values[i])) < 1e-6);
  });
});

/** One-step tasks with a known best action: the observation's sign (discrete) or its value. */
class MatchSignEnv implements Env {
  readonly id = "match-sign";
  readonly observationSpec = boxSpec([1], -1, 1);
  readonly maxEpisodeSteps = 1;
  readonly #observation = new Float32Array(1);
  #rng = new Rng(0);
  constructor(readonly actionSpec: Env["actionSpec"]) {}
  reset(seed?: number): Float32Array {
    if (seed !== undefined) this.#rng = new Rng(seed);
    this.#observation[0] = this.#rng.bernoulli(0.5) ? 1 : -1;
    return this.#observation;
  }
  step(action: Action): StepResult<Float32Array> {
    const target = this.#observation[0];
    const reward = typeof action === "number"
      ? (action === (target > 0 ? 1 : 0) ? 1 : 0)
      : -((action[0] - 0.5 * target) ** 2);
    return { observation: this.#observation, reward, terminated: true, truncated: false };
  }
}

const tiny: PpoConfig = {
  ...PPO_PAPER_CONFIG,
  hiddenSize: 16,
  hiddenLayers: 1,
  rolloutSteps: 64,
  epochs: 4,
  minibatchSize: 32,
  learningRate: 0.01,
  entropyCoefficient: 0.0,
  initialLogStd: -0.5,
};

function meanOf(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

Deno.test("PPO learns a discrete one-step task and a continuous one", async () => {
  const discrete = await trainPpo(new MatchSignEnv({ kind: "discrete", n: 2 }), tiny, {
    environmentSteps: 1200,
    seed: 1,
  });
  const early = meanOf(discrete.episodes.returns.slice(0, 100));
  const late = meanOf(discrete.episodes.returns.slice(-100));
  discrete.agent.dispose();
  assert.ok(early < 0.7 && late > 0.9, `discrete: ${early} then ${late}`);

  const continuous = await trainPpo(new MatchSignEnv(boxSpec([1], -1, 1)), tiny, {
    environmentSteps: 1500,
    seed: 2,
  });
  let error = 0;
  for (const sign of [1, -1]) {
    const { action } = continuous.agent.act(Float32Array.of(sign), { deterministic: true });
    error += Math.abs((action as Float32Array)[0] - 0.5 * sign);
  }
  continuous.agent.dispose();
  assert.ok(error / 2 < 0.15, `continuous: mean action error ${error / 2}`);
});

Deno.test("PPO keeps the tensor count flat across updates", async () => {
  const before = tf.memory().numTensors;
  const result = await trainPpo(new MatchSignEnv({ kind: "discrete", n: 2 }), tiny, {
    environmentSteps: 200,
  });
  const during = tf.memory().numTensors;
  result.agent.dispose();
  assert.ok(during - before < 30, `${during - before} tensors kept`);
  assert.equal(tf.memory().numTensors, before);
});
