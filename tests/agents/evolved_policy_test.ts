import assert from "node:assert/strict";
import {
  evolvePolicy,
  mlpForward,
  mlpParameterCount,
  mlpPolicy,
} from "../../lib/agents/evolved_policy.ts";
import { type Action, boxSpec, type Env, type StepResult } from "../../lib/envs/types.ts";
import { Rng } from "../../lib/rng.ts";

Deno.test("mlpForward matches a hand-computed two-layer network", () => {
  const shape = { inputSize: 2, hiddenSize: 2, hiddenLayers: 1, outputSize: 1 };
  assert.equal(mlpParameterCount(shape), 2 * 2 + 2 + 2 * 1 + 1);
  // W1 = [[1, 0], [0, -1]] (input-major), b1 = [0.5, 0], W2 = [[2], [1]], b2 = [-1].
  const parameters = [1, 0, 0, -1, 0.5, 0, 2, 1, -1];
  const x = [0.3, 0.2];
  const h = [Math.tanh(0.3 + 0.5), Math.tanh(-0.2)];
  const y = 2 * h[0] + h[1] - 1;
  assert.ok(Math.abs(mlpForward(shape, parameters, x, false)[0] - y) < 1e-12);
  assert.ok(Math.abs(mlpForward(shape, parameters, x, true)[0] - Math.tanh(y)) < 1e-12);
});

/** Ten steps; each pays -(a - target)^2 for a target fixed by the observation. */
class TrackEnv implements Env {
  readonly id = "track";
  readonly observationSpec = boxSpec([1], -1, 1);
  readonly actionSpec = boxSpec([1], -1, 1);
  readonly maxEpisodeSteps = 10;
  readonly #observation = new Float32Array(1);
  #steps = 0;
  #rng = new Rng(0);
  reset(seed?: number): Float32Array {
    this.#rng = new Rng(seed ?? 0);
    this.#steps = 0;
    this.#observation[0] = this.#rng.uniform(-1, 1);
    return this.#observation;
  }
  step(action: Action): StepResult<Float32Array> {
    const reward = -(((action as Float32Array)[0] - 0.5 * this.#observation[0]) ** 2);
    this.#steps++;
    this.#observation[0] = this.#rng.uniform(-1, 1);
    return {
      observation: this.#observation,
      reward,
      terminated: false,
      truncated: this.#steps >= 10,
    };
  }
}

for (const method of ["openai-es", "cma-es"] as const) {
  Deno.test(`${method} evolves a policy that tracks its target, within its step budget`, async () => {
    const env = new TrackEnv();
    const settings = {
      method,
      hiddenSize: 8,
      hiddenLayers: 1,
      populationSize: 16,
      episodesPerCandidate: 2,
      noiseStd: 0.1,
      learningRate: 0.05,
      weightDecay: 0,
    };
    const result = await evolvePolicy(env, settings, { environmentSteps: 20_000, seed: 1 });
    assert.ok(result.environmentSteps <= 20_000, `spent ${result.environmentSteps}`);
    assert.equal(result.environmentSteps, result.generations * 16 * 2 * 10);
    const first = result.curve[0].meanFitness, last = result.curve.at(-1)!.meanFitness;
    const { act } = mlpPolicy(env, 8, 1);
    let error = 0;
    for (const x of [-0.8, -0.2, 0.4, 0.9]) {
      error += Math.abs((act(result.parameters, Float32Array.of(x)) as Float32Array)[0] - 0.5 * x);
    }
    assert.ok(last > first && error / 4 < 0.1, `fitness ${first} -> ${last}, error ${error / 4}`);
  });
}
