import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import { assertAllClose } from "../../lib/tensor/testing.ts";
import { Rng } from "../../lib/rng.ts";
import { type Action, boxSpec, type Env, type StepResult } from "../../lib/envs/types.ts";
import { InvalidActionError } from "../../lib/envs/types.ts";
import { Breakout } from "../../lib/envs/minatar/mod.ts";
import {
  CenteredRmsProp,
  DqnAgent,
  type DqnConfig,
  huber,
  MINATAR_DQN_CONFIG,
  trainDqn,
} from "../../lib/agents/dqn.ts";

/**
 * A deterministic chain of three states observed one-hot: action 1 moves right, action 0 stays;
 * moving right from the last state earns 1 and ends the episode; every other step earns 0. With
 * gamma = 0.9: Q*(s, right) = 0.9^(2 - s), Q*(s, stay) = 0.9 Q*(s, right).
 */
class Chain implements Env<Float32Array> {
  readonly id = "chain";
  readonly observationSpec = boxSpec([3], 0, 1);
  readonly actionSpec = { kind: "discrete", n: 2 } as const;
  readonly maxEpisodeSteps = 30;
  readonly #observation = new Float32Array(3);
  readonly #result: StepResult<Float32Array> = {
    observation: this.#observation,
    reward: 0,
    terminated: false,
    truncated: false,
  };
  #state = 0;
  #steps = 0;

  reset(): Float32Array {
    this.#state = 0;
    this.#steps = 0;
    this.#draw();
    return this.#observation;
  }

  step(action: Action): StepResult<Float32Array> {
    this.#steps++;
    const right = action === 1;
    this.#result.reward = right && this.#state === 2 ? 1 : 0;
    this.#result.terminated = right && this.#state === 2;
    this.#result.truncated = !this.#result.terminated && this.#steps >= this.maxEpisodeSteps;
    if (right && this.#state < 2) this.#state++;
    this.#draw();
    return this.#result;
  }

  #draw(): void {
    this.#observation.fill(0);
    this.#observation[this.#state] = 1;
  }
}

const CHAIN_CONFIG: DqnConfig = {
  ...MINATAR_DQN_CONFIG,
  network: { kind: "mlp", hiddenSize: 16, hiddenLayers: 1 },
  batchSize: 16,
  replayCapacity: 5000,
  replayStart: 100,
  targetUpdateEvery: 50,
  epsilonDecaySteps: 500,
  epsilonEnd: 0.2,
  learningRate: 1e-3,
  discount: 0.9,
};

Deno.test("DQN", async (t) => {
  await t.step("learns a small chain to its optimal Q values", async () => {
    const result = await trainDqn(new Chain(), CHAIN_CONFIG, { environmentSteps: 3000, seed: 0 });
    const q = [0, 1, 2].map((s) => {
      const observation = new Float32Array(3);
      observation[s] = 1;
      return Array.from(result.agent.qValues(observation));
    });
    const expected = [0, 1, 2].map((s) => [0.9 ** (3 - s), 0.9 ** (2 - s)]);
    assertAllClose(q.flat(), expected.flat(), { absolute: 0.08, relative: 0 }, "Q values");
    result.agent.dispose();
  });

  await t.step("the target network follows Q only every targetUpdateEvery updates", () => {
    const agent = new DqnAgent(
      { ...CHAIN_CONFIG, replayStart: 0, targetUpdateEvery: 3, batchSize: 4 },
      [3],
      2,
      new Rng(1),
    );
    const rng = new Rng(2);
    for (let i = 0; i < 8; i++) {
      const observation = new Float32Array(3), next = new Float32Array(3);
      observation[rng.int(3)] = 1;
      next[rng.int(3)] = 1;
      agent.observe({
        observation,
        action: rng.int(2),
        reward: rng.next(),
        nextObservation: next,
        terminated: false,
      });
    }
    const snapshot = (set: typeof agent.params) => set.list().map((v) => v.dataSync().slice());
    const initialTarget = snapshot(agent.targetParams);
    for (let update = 1; update <= 3; update++) {
      agent.update();
      const target = snapshot(agent.targetParams);
      if (update < 3) {
        assert.deepEqual(target, initialTarget, `target moved after update ${update}`);
      } else {
        assert.deepEqual(target, snapshot(agent.params), "target is Q after update 3");
      }
    }
    agent.dispose();
  });

  await t.step("targets bootstrap the target network's best value, except at terminals", () => {
    const agent = new DqnAgent(CHAIN_CONFIG, [3], 2, new Rng(3));
    const batch = agent.replay.allocateBatch(2);
    batch.size = 2;
    batch.nextObservations.set([1, 0, 0, 0, 0, 1]);
    batch.rewards.set([0.5, 2]);
    batch.terminals.set([0, 1]);
    const targets = tf.tidy(() => agent.targets(batch).dataSync());
    const best = Math.max(...agent.qValues([1, 0, 0]));
    assertAllClose(targets, [0.5 + 0.9 * best, 2]);
    agent.dispose();
  });

  await t.step("epsilon: random until learning starts, then annealed linearly", () => {
    const agent = new DqnAgent(MINATAR_DQN_CONFIG, [10, 10, 4], 6, new Rng(4));
    assert.equal(agent.epsilon(0), 1);
    assert.equal(agent.epsilon(4999), 1);
    assert.equal(agent.epsilon(5000), 1);
    assert.ok(Math.abs(agent.epsilon(55_000) - 0.55) < 1e-9);
    assert.ok(Math.abs(agent.epsilon(105_000) - 0.1) < 1e-9);
    assert.ok(Math.abs(agent.epsilon(5_000_000) - 0.1) < 1e-9);
    agent.dispose();
  });

  await t.step("Huber loss: quadratic inside 1, linear outside, smooth at 1", () => {
    const x = tf.tensor1d([-3, -1, -0.5, 0, 0.5, 2]);
    const [values, grads] = tf.tidy(() => [
      huber(x).dataSync(),
      tf.grad((e: tf.Tensor) => tf.sum(huber(e)))(x).dataSync(),
    ]);
    assertAllClose(values, [2.5, 0.5, 0.125, 0, 0.125, 1.5]);
    assertAllClose(grads, [-1, -1, -0.5, 0, 0.5, 1]);
    x.dispose();
  });

  await t.step("centered RMSProp takes PyTorch's step, finite where the variance is 0", () => {
    const variable = tf.variable(tf.tensor1d([1, -2]));
    const optimizer = new CenteredRmsProp(0.1, 0.9, 0.5, 0.01);
    const g = [0.3, 0];
    optimizer.apply([variable], { [variable.name]: tf.tensor1d(g) });
    // n = 0.1 g^2, m = 0.1 g, v = lr g / (sqrt(n - m^2) + eps)
    const expected = g.map((gi, i) => {
      const n = 0.1 * gi * gi, m = 0.1 * gi;
      return [1, -2][i] - (0.1 * gi) / (Math.sqrt(n - m * m) + 0.01);
    });
    assertAllClose(variable.dataSync(), expected);
    optimizer.dispose();
    variable.dispose();
  });

  await t.step("plays MinAtar's action ids; an invalid one is refused in one line", async () => {
    const env = new Breakout();
    const result = await trainDqn(env, {
      ...MINATAR_DQN_CONFIG,
      network: { kind: "minatar-conv", filters: 4, hiddenSize: 8 },
      replayStart: 20,
      epsilonDecaySteps: 50,
    }, { environmentSteps: 100, seed: 5, evaluationEpisodes: 1 });
    assert.equal(result.evaluation.length, 1);
    assert.ok(result.updates > 0);
    result.agent.dispose();
    env.reset(0);
    assert.throws(() => env.step(6), (error: unknown) =>
      error instanceof InvalidActionError &&
      error.message ===
        "MinAtar/Breakout-v0: invalid action 6; valid actions are the integers 0..5");
  });
});
