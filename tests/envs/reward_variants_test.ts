import assert from "node:assert/strict";
import {
  DiscreteFromBoxEnv,
  ObservedRewardEnv,
  PotentialShapingEnv,
  ScaledObservationEnv,
} from "../../lib/envs/reward_variants.ts";
import { MountainCarContinuousEnv } from "../../lib/envs/mountain_car_continuous.ts";
import { AcrobotEnv } from "../../lib/envs/acrobot.ts";
import { Rng } from "../../lib/rng.ts";
import { assertClose } from "./_helpers.ts";

const height = (observation: Float32Array) => Math.sin(3 * observation[0]);

Deno.test("potential shaping adds scale (Phi(end) - Phi(start)) to an episode's return", () => {
  const plain = new MountainCarContinuousEnv();
  const shaped = new PotentialShapingEnv(new MountainCarContinuousEnv(), height, 5);
  const rng = new Rng(3);
  const start = height(shaped.reset(11));
  plain.reset(11);
  let plainReturn = 0, shapedReturn = 0, last = start;
  for (let t = 0; t < 300; t++) {
    const action = [rng.uniform(-1, 1)];
    plainReturn += plain.step(action).reward;
    const result = shaped.step(action);
    shapedReturn += result.reward;
    last = height(result.observation);
  }
  assertClose(shapedReturn - plainReturn, 5 * (last - start), 1e-9, "shaping total");
});

Deno.test("ObservedRewardEnv pays only what its rule says of the new observation", () => {
  const env = new ObservedRewardEnv(
    new MountainCarContinuousEnv(),
    (observation) => observation[1] > 0 ? 1 : 0,
  );
  env.reset(0);
  for (let t = 0; t < 50; t++) {
    const result = env.step([1]);
    assert.equal(result.reward, result.observation[1] > 0 ? 1 : 0);
  }
});

Deno.test("DiscreteFromBoxEnv cuts [-1, 1] into one bin per action", () => {
  const env = new DiscreteFromBoxEnv(new AcrobotEnv());
  assert.equal(env.actionSpec.kind, "box");
  assert.deepEqual([-1, -0.4, -0.3, 0, 0.3, 0.34, 1, 7].map((v) => env.choiceOf(v)), [
    0,
    0,
    1,
    1,
    1,
    2,
    2,
    2,
  ]);
  // Driving it with +1 is the same as choosing torque action 2.
  const reference = new AcrobotEnv();
  reference.reset(4);
  env.reset(4);
  for (let t = 0; t < 20; t++) {
    assert.deepEqual(
      Array.from(env.step([1]).observation),
      Array.from(reference.step(2).observation),
    );
  }
});

Deno.test("ScaledObservationEnv multiplies each entry and its bounds", () => {
  const env = new ScaledObservationEnv(new MountainCarContinuousEnv(), [1, 10]);
  const inner = new MountainCarContinuousEnv();
  const a = env.reset(2).slice(), b = inner.reset(2);
  assertClose(a[0], b[0], 1e-7, "position");
  assertClose(env.observationSpec.high[1], 0.7, 1e-6, "velocity bound");
  const next = env.step([1]).observation;
  const reference = inner.step([1]).observation;
  assertClose(next[1], 10 * reference[1], 1e-6, "velocity");
});
