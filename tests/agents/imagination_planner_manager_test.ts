/** The manager: REINFORCE moves probability toward a rewarded choice; sampling follows logits. */
import assert from "node:assert/strict";
import { adam, tf } from "../../lib/tensor/mod.ts";
import { Rng } from "../../lib/rng.ts";
import {
  chooseRoutes,
  ImaginationManager,
  reinforceLoss,
  routeLogProb,
} from "../../lib/agents/imagination_planner_manager.ts";

Deno.test("imagination manager", async (t) => {
  await t.step("REINFORCE raises the probability of the rewarded choice", () => {
    const manager = new ImaginationManager(3, 2, { hiddenSize: 8 }, 0);
    const real = tf.tensor2d([[0.1, -0.2, 0.3]]);
    const context = tf.tensor2d([[0.5, -0.5]]);
    const nodes = tf.tensor3d([[[0.1, -0.2, 0.3], [0.4, 0.1, 0.3]]]);
    const probability = (choice: number) =>
      tf.tidy(() => tf.softmax(manager.logits(real, context, nodes)).dataSync()[choice]);
    const optimizer = adam(0.01);
    const rewarded = 2; // imagine from node 1
    const before = probability(rewarded);
    const rng = new Rng(1);
    for (let i = 0; i < 80; i++) {
      // Sampled choices; the rewarded one has advantage +1, the others -1.
      const choices = chooseRoutes(
        tf.tidy(() => manager.logits(real, context, nodes).dataSync() as Float32Array),
        1,
        3,
        rng,
        false,
      );
      optimizer.minimize(
        () => {
          const { logProb } = routeLogProb(manager.logits(real, context, nodes), choices);
          return reinforceLoss(logProb, Float32Array.of(choices[0] === rewarded ? 1 : -1));
        },
        false,
        manager.params.list(),
      );
    }
    const after = probability(rewarded);
    assert.ok(after > before + 0.2, `p(rewarded) ${before} -> ${after}`);
    tf.dispose([real, context, nodes]);
    optimizer.dispose();
    manager.dispose();
  });

  await t.step("greedy picks the largest logit; sampling follows the softmax", () => {
    const logits = Float32Array.of(0, Math.log(3), 5, 0);
    assert.deepEqual(chooseRoutes(logits, 2, 2, new Rng(0), true), [1, 0]);
    const rng = new Rng(2);
    let ones = 0;
    for (let i = 0; i < 4000; i++) ones += chooseRoutes(logits.subarray(0, 2), 1, 2, rng, false)[0];
    assert.ok(Math.abs(ones / 4000 - 0.75) < 0.03, `share ${ones / 4000}`);
  });

  await t.step("log-probability and entropy by their definitions", () => {
    const [logProb, entropy] = tf.tidy(() => {
      const out = routeLogProb(tf.tensor2d([[0, 0, 0, 0]]), [2]);
      return [out.logProb.dataSync()[0], out.entropy.dataSync()[0]];
    });
    assert.ok(Math.abs(logProb - Math.log(0.25)) < 1e-6);
    assert.ok(Math.abs(entropy - Math.log(4)) < 1e-6);
  });
});
