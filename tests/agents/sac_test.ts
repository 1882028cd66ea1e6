import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import { Rng } from "../../lib/rng.ts";
import { ParameterSet } from "../../lib/models/nn.ts";
import { type Action, boxSpec, type Env, type StepResult } from "../../lib/envs/types.ts";
import {
  LOG_STD_MAX,
  LOG_STD_MIN,
  polyakUpdate,
  SAC_PAPER_CONFIG,
  SacAgent,
  type SacConfig,
  softBellmanTarget,
  squashedGaussian,
  trainSac,
} from "../../lib/agents/sac.ts";

/** log of the tanh-squashed Gaussian density at a = tanh(u), straight from the definition. */
function squashedLogDensity(u: number, mean: number, std: number): number {
  const gaussian = -0.5 * ((u - mean) / std) ** 2 - Math.log(std) - 0.5 * Math.log(2 * Math.PI);
  return gaussian - Math.log(1 - Math.tanh(u) ** 2);
}

/** One-step episodes: observe o in [-1, 1], reward -(a - o)^2, so the best action is a = o. */
class MatchTheContext implements Env {
  readonly id = "match-the-context";
  readonly observationSpec = boxSpec([1], -1, 1);
  // Wider than the optimum needs, to exercise the rescaling from [-1, 1].
  readonly actionSpec = boxSpec([1], -2, 2);
  readonly maxEpisodeSteps = 1;
  readonly #observation = new Float32Array(1);
  readonly #result: StepResult<Float32Array> = {
    observation: this.#observation,
    reward: 0,
    terminated: true,
    truncated: false,
  };

  reset(seed = 0): Float32Array {
    this.#observation[0] = new Rng(seed).uniform(-1, 1);
    return this.#observation;
  }

  step(action: Action): StepResult<Float32Array> {
    const value = typeof action === "number" ? action : action[0];
    this.#result.reward = -((value - this.#observation[0]) ** 2);
    return this.#result;
  }
}

const SMALL: SacConfig = {
  ...SAC_PAPER_CONFIG,
  hiddenSize: 16,
  batchSize: 8,
  replayCapacity: 200,
  randomSteps: 0,
  updateAfter: 1,
};

function setParameter(set: ParameterSet, name: string, values: number | number[]): void {
  const variable = set.variables.get(name)!;
  const data = typeof values === "number" ? new Array(variable.size).fill(values) : values;
  variable.assign(tf.tensor(data, variable.shape));
}

function fillAgent(agent: SacAgent, count: number, rng: Rng): void {
  for (let i = 0; i < count; i++) {
    agent.observe({
      observation: [rng.normal(), rng.normal()],
      action: [rng.uniform(-1, 1)],
      reward: rng.normal(),
      nextObservation: [rng.normal(), rng.normal()],
      terminated: rng.bernoulli(0.1),
    });
  }
}

Deno.test("Soft Actor-Critic", async (t) => {
  await t.step("squashed-Gaussian log-prob matches the change-of-variables formula", () => {
    const means = [0.3, -1.2, 2.0, 0.0];
    const logStds = [-0.5, 0.4, -2.0, 1.5];
    const noise = [0.7, -1.3, 2.5, 4.0]; // the last gives u = 17.9, deep in tanh's saturation
    const result = squashedGaussian(
      tf.tensor2d(means, [4, 1]),
      tf.tensor2d(logStds, [4, 1]),
      tf.tensor2d(noise, [4, 1]),
    );
    const actions = result.action.dataSync();
    const logProbs = result.logProb.dataSync();
    for (let i = 0; i < 4; i++) {
      const u = means[i] + Math.exp(logStds[i]) * noise[i];
      assert.ok(Math.abs(actions[i] - Math.tanh(u)) < 1e-6);
      // log(1 - tanh^2 u) written as 2 log(sech u) stays finite in double precision for u = 17.9.
      const expected = u > 15
        ? -0.5 * noise[i] ** 2 - logStds[i] - 0.5 * Math.log(2 * Math.PI) -
          2 * (Math.log(2) - u - Math.log1p(Math.exp(-2 * u)))
        : squashedLogDensity(u, means[i], Math.exp(logStds[i]));
      assert.ok(
        Math.abs(logProbs[i] - expected) < 1e-4 * Math.max(1, Math.abs(expected)),
        `row ${i}: ${logProbs[i]} vs ${expected}`,
      );
    }
    tf.dispose([result.action, result.logProb]);
  });

  await t.step(
    "the squashed density integrates to one over (-1, 1), summed over dimensions",
    () => {
      const mean = 0.3;
      const logStd = Math.log(0.6);
      const points = 4000;
      // Midpoint rule on a in (-1, 1); u = atanh(a) and noise = (u - mean) / std.
      const noise = new Float32Array(points);
      const width = 2 / points;
      for (let i = 0; i < points; i++) {
        const a = -1 + (i + 0.5) * width;
        noise[i] = (Math.atanh(a) - mean) / Math.exp(logStd);
      }
      const { action, logProb } = squashedGaussian(
        tf.fill([points, 1], mean) as tf.Tensor2D,
        tf.fill([points, 1], logStd) as tf.Tensor2D,
        tf.tensor2d(noise, [points, 1]),
      );
      const density = logProb.dataSync();
      let total = 0;
      for (let i = 0; i < points; i++) total += Math.exp(density[i]) * width;
      assert.ok(Math.abs(total - 1) < 2e-3, `integral ${total}`);
      // Two independent dimensions: the log-density is the sum of the two.
      const std = Math.exp(logStd);
      const [first, second] = [noise[100], noise[3000]];
      const pair = squashedGaussian(
        tf.tensor2d([[mean, -mean]]),
        tf.tensor2d([[logStd, logStd]]),
        tf.tensor2d([[first, second]]),
      );
      const expected = squashedLogDensity(mean + std * first, mean, std) +
        squashedLogDensity(-mean + std * second, -mean, std);
      assert.ok(Math.abs(pair.logProb.dataSync()[0] - expected) < 1e-4);
      tf.dispose([action, logProb, pair.action, pair.logProb]);
    },
  );

  await t.step("soft Bellman target on a hand-worked batch", () => {
    // y0 = 1 + 0.9 (min(2, 2.5) - 0.2 (-1)) = 2.98;  y1 = -0.5 (terminal);
    // y2 = 0 + 0.9 (min(-1, -3) - 0.2 (0.5)) = -2.79.
    const y = softBellmanTarget(
      tf.tensor1d([1, -0.5, 0]),
      tf.tensor1d([0, 1, 0]),
      tf.tensor1d([2, 3, -1]),
      tf.tensor1d([2.5, 1, -3]),
      tf.tensor1d([-1, 0.3, 0.5]),
      0.2,
      0.9,
    );
    const values = y.dataSync();
    [2.98, -0.5, -2.79].forEach((v, i) => assert.ok(Math.abs(values[i] - v) < 1e-6, `y${i}`));
    y.dispose();
  });

  await t.step("the agent's targets use the target critics, the policy at s', and alpha", () => {
    const agent = new SacAgent(
      { ...SMALL, initialTemperature: 0.5, discount: 0.9 },
      2,
      1,
      new Rng(0),
    );
    const { actor, critic1, critic2, targetCritic1, targetCritic2 } = agent.parameters;
    // Policy: mean 0.2 and raw log-std 0 everywhere, so log std is the midpoint of its range.
    for (const name of actor.variables.keys()) setParameter(actor, name, 0);
    setParameter(actor, "output/bias", [0.2, 0]);
    // Constant critics: the online ones at 100 would spoil the result if used by mistake.
    for (
      const [set, value] of [[critic1, 100], [critic2, 100], [targetCritic1, 2], [
        targetCritic2,
        1.5,
      ]] as const
    ) {
      for (const name of set.variables.keys()) setParameter(set, name, 0);
      setParameter(set, "output/bias", value);
    }
    const batch = agent.replay.allocateBatch(2);
    batch.rewards.set([1, -1]);
    batch.terminals.set([0, 1]);
    batch.nextObservations.set([0.4, -0.3, 1, 2]);
    const noise = Float32Array.of(0.5, -1);
    const targets = agent.softTargets(batch, noise).dataSync();
    const logStd = (LOG_STD_MIN + LOG_STD_MAX) / 2;
    const u = 0.2 + Math.exp(logStd) * 0.5;
    const logProb = squashedLogDensity(u, 0.2, Math.exp(logStd));
    const expected0 = 1 + 0.9 * (1.5 - 0.5 * logProb);
    assert.ok(Math.abs(targets[0] - expected0) < 1e-4, `${targets[0]} vs ${expected0}`);
    assert.ok(Math.abs(targets[1] - -1) < 1e-6);
    agent.dispose();
  });

  await t.step("Polyak averaging is exact", () => {
    const rng = new Rng(0);
    const target = new ParameterSet("target", rng);
    const source = new ParameterSet("source", rng);
    target.create("w", [3], Float32Array.of(1, 2, -4));
    source.create("w", [3], Float32Array.of(3, 5, 4));
    polyakUpdate(target, source, 0.005);
    const values = target.variables.get("w")!.dataSync();
    [1.01, 2.015, -3.96].forEach((v, i) => assert.ok(Math.abs(values[i] - v) < 1e-6));
    target.dispose();
    source.dispose();
  });

  await t.step("a gradient step moves the targets by tau towards the updated critics", () => {
    const agent = new SacAgent(SMALL, 2, 1, new Rng(1));
    fillAgent(agent, 50, new Rng(2));
    for (let i = 0; i < 3; i++) agent.update();
    const snapshot = (set: ParameterSet) => [...set.variables.values()].map((v) => v.dataSync());
    const before = snapshot(agent.parameters.targetCritic2);
    agent.update();
    const after = snapshot(agent.parameters.targetCritic2);
    const critic = snapshot(agent.parameters.critic2);
    for (let v = 0; v < after.length; v++) {
      for (let i = 0; i < after[v].length; i++) {
        const expected = 0.995 * before[v][i] + 0.005 * critic[v][i];
        assert.ok(Math.abs(after[v][i] - expected) < 1e-6);
      }
    }
    agent.dispose();
  });

  await t.step("tensor count stays flat over many updates and actions", () => {
    const agent = new SacAgent(SMALL, 2, 1, new Rng(3));
    fillAgent(agent, 100, new Rng(4));
    // Burn-in: Adam creates its moment slots on the first steps.
    for (let i = 0; i < 3; i++) agent.update();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 40; i++) {
      const losses = agent.update()!;
      assert.ok(Number.isFinite(losses.criticLoss) && Number.isFinite(losses.actorLoss));
      agent.act([0.1, -0.2]);
      agent.act([0.1, -0.2], { deterministic: true });
    }
    assert.equal(tf.memory().numTensors, before);
    agent.dispose();
  });

  await t.step("actions are rescaled to the environment's box and back", () => {
    const agent = new SacAgent(
      { ...SMALL, randomSteps: 10 },
      2,
      2,
      new Rng(5),
      { actionLow: [-2, 0], actionHigh: [2, 10] },
    );
    for (let i = 0; i < 10; i++) {
      const [a, b] = agent.act([0, 0]);
      assert.ok(a >= -2 && a <= 2 && b >= 0 && b <= 10);
    }
    agent.observe({
      observation: [0, 0],
      action: [1, 7.5],
      reward: 0,
      nextObservation: [0, 0],
      terminated: false,
    });
    const batch = agent.replay.sample(new Rng(0), agent.replay.allocateBatch(1));
    assert.deepEqual(Array.from(batch.actions), [0.5, 0.5]);
    assert.throws(
      () => new SacAgent(SMALL, 2, 1, new Rng(0), { actionLow: [-Infinity], actionHigh: [1] }),
      /finite box/,
    );
    agent.dispose();
  });

  await t.step("learns the best action of a contextual bandit (known optimum a = o)", async () => {
    const env = new MatchTheContext();
    const result = await trainSac(env, {
      ...SAC_PAPER_CONFIG,
      hiddenSize: 32,
      batchSize: 64,
      randomSteps: 100,
      updateAfter: 100,
      learningRate: 3e-3,
    }, { environmentSteps: 400, evaluateEvery: 200, evaluationEpisodes: 50, seed: 0 });
    const { steps, meanReturn } = result.evaluation;
    assert.deepEqual(steps, [0, 200, 400]);
    // A uniform random action in [-2, 2] scores E[-(a - o)^2] = -(4/3 + 1/3) = -1.67; the untrained
    // policy, about -0.3; the optimum 0.
    assert.ok(meanReturn[2] > -0.01, `final mean return ${meanReturn[2]}`);
    assert.ok(meanReturn[2] > 10 * meanReturn[0], `${meanReturn}`);
    const errors = [-0.8, -0.3, 0.2, 0.9].map((o) =>
      Math.abs(result.agent.act([o], { deterministic: true })[0] - o)
    );
    assert.ok(Math.max(...errors) < 0.15, `action errors ${errors}`);
    assert.equal(result.episodes.returns.length, 400);
    assert.equal(result.gradientSteps, 301);
    result.agent.dispose();
  });
});
