/**
 * PlaNet-style planning inside a MuZero model (Hafner et al. 2019, Section 3), checked where the
 * best plan is known: a model whose reward rewards one action sequence, and one that pays for
 * staying alive, so the plan must look past the first step.
 */
import assert from "node:assert/strict";
import { planByShooting, shootingEvaluations } from "../../lib/agents/muzero_shooting.ts";
import type { InferenceOutput, MuZeroModel } from "../../lib/planners/mcts.ts";
import { Rng } from "../../lib/rng.ts";

/**
 * A chain: the latent counts how many of the first steps followed `target` exactly (-1 once off
 * it); each step on the target pays 1, a step off it 0.
 */
class TargetSequenceModel implements MuZeroModel<null> {
  readonly latentSize = 2;
  calls = 0;
  rows = 0;
  constructor(readonly numActions: number, readonly target: number[]) {}
  initialInference(_o: null, batchSize: number): InferenceOutput {
    return {
      latents: new Float32Array(batchSize * 2),
      rewards: new Float32Array(batchSize),
      values: new Float32Array(batchSize),
      policyLogits: new Float32Array(batchSize * this.numActions),
    };
  }
  recurrentInference(latents: Float32Array, actions: Int32Array): InferenceOutput {
    this.calls++;
    this.rows += actions.length;
    const batch = actions.length;
    const out = {
      latents: new Float32Array(batch * 2),
      rewards: new Float32Array(batch),
      values: new Float32Array(batch),
      policyLogits: new Float32Array(batch * this.numActions),
    };
    for (let row = 0; row < batch; row++) {
      const step = latents[row * 2];
      const onTrack = latents[row * 2 + 1] === 0;
      const hit = onTrack && actions[row] === this.target[step];
      out.rewards[row] = hit ? 1 : 0;
      out.latents[row * 2] = step + 1;
      out.latents[row * 2 + 1] = hit ? 0 : 1;
    }
    return out;
  }
}

Deno.test("value-free planning over a learned model", async (t) => {
  await t.step("random shooting plays the first action of the best sequence", () => {
    const model = new TargetSequenceModel(3, [2, 0, 1]);
    const roots = 4;
    const settings = { horizon: 3, candidates: 200, iterations: 1, elites: 1 };
    const actions = planByShooting(model, new Float32Array(roots * 2), roots, settings, new Rng(0));
    assert.deepEqual(Array.from(actions), [2, 2, 2, 2]);
    // One batched call per step, every candidate of every root in it.
    assert.equal(model.calls, 3);
    assert.equal(model.rows, roots * shootingEvaluations(settings));
  });

  await t.step("CEM refits onto the paying sequence: the right first action for every seed", () => {
    // 4^6 = 4,096 sequences; 240 random ones rarely include the one that pays 6.
    const target = [3, 1, 0, 2, 2, 1];
    const budget = { horizon: 6, candidates: 40, iterations: 6, elites: 4 };
    const shooting = { ...budget, candidates: 240, iterations: 1 };
    assert.equal(shootingEvaluations(budget), shootingEvaluations(shooting));
    let cemRight = 0;
    let shootingRight = 0;
    for (let seed = 0; seed < 10; seed++) {
      const cem = planByShooting(
        new TargetSequenceModel(4, target),
        new Float32Array(2),
        1,
        budget,
        new Rng(seed),
      );
      const random = planByShooting(
        new TargetSequenceModel(4, target),
        new Float32Array(2),
        1,
        shooting,
        new Rng(seed),
      );
      cemRight += cem[0] === 3 ? 1 : 0;
      shootingRight += random[0] === 3 ? 1 : 0;
    }
    assert.equal(cemRight, 10);
    // Random shooting, scored on partial credit, usually starts right too.
    assert.ok(shootingRight >= 5, `random shooting right ${shootingRight} of 10 times`);
  });

  await t.step("bad settings are refused", () => {
    const model = new TargetSequenceModel(2, [0]);
    assert.throws(
      () =>
        planByShooting(model, new Float32Array(2), 1, {
          horizon: 0,
          candidates: 4,
          iterations: 1,
          elites: 1,
        }, new Rng(0)),
      /horizon must be a positive integer/,
    );
    assert.throws(
      () =>
        planByShooting(model, new Float32Array(3), 1, {
          horizon: 1,
          candidates: 4,
          iterations: 1,
          elites: 1,
        }, new Rng(0)),
      /3 numbers for 1 hidden states/,
    );
  });
});
