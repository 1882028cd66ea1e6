/**
 * MuZero's training step (Schrittwieser et al. 2020, Equation 1 and Appendix G): the reported
 * losses equal the paper's loss recomputed by hand from the network's own predictions (steps
 * 1..K scaled by 1/K, masks past the end, importance weights), a fixed batch is fitted, a
 * non-finite loss stops training before any parameter changes, and no tensor leaks.
 */
import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import { MuZeroNetwork } from "../../lib/models/muzero.ts";
import { type HeadSpec, scalarToSupport } from "../../lib/models/muzero_support.ts";
import {
  MuZeroLearner,
  type MuZeroLearnerConfig,
  NonFiniteMuZeroLossError,
} from "../../lib/agents/muzero_learner.ts";
import { type GameRecord, MuZeroReplay } from "../../lib/agents/muzero_replay.ts";
import { Rng } from "../../lib/rng.ts";
import { assertTensorCountFlat } from "../../lib/tensor/testing.ts";

const LEARNER: MuZeroLearnerConfig = {
  learningRate: 3e-3,
  learningRateDecayRate: 1,
  learningRateDecaySteps: 1,
  optimizer: "adam",
  weightDecay: 0,
  valueLossWeight: 1,
  gradClipNorm: 0,
};

function setup(head: HeadSpec, twoPlayer = true) {
  const net = new MuZeroNetwork({
    observationShape: [4],
    numActions: 3,
    architecture: { kind: "mlp", latentSize: 6, hiddenSize: 10, hiddenLayers: 1 },
    value: head,
    reward: head,
  }, new Rng(1));
  const replay = new MuZeroReplay({
    observationSize: 4,
    numActions: 3,
    capacityGames: 50,
    unrollSteps: 2,
    tdSteps: 3,
    discount: twoPlayer ? 1 : 0.9,
    twoPlayer,
    priorityExponent: 1,
    importanceExponent: 1,
    priorityFloor: 0.1,
  });
  const rng = new Rng(2);
  for (let g = 0; g < 6; g++) {
    const T = 2 + rng.int(4);
    const record: GameRecord = {
      length: T,
      observations: new Float32Array(T * 4).map(() => rng.normal()),
      actions: Int32Array.from({ length: T }, () => rng.int(3)),
      rewards: Float32Array.from({ length: T }, (_, t) => (twoPlayer ? (t === T - 1 ? 1 : 0) : 1)),
      rootValues: new Float32Array(T).map(() => rng.uniform(-1, 1)),
      policies: new Float32Array(T * 3).map((_, i) => (i % 3 === 0 ? 0.6 : 0.2)),
      legalMasks: new Uint8Array(T * 3).fill(1),
      terminated: g % 2 === 0,
      finalObservation: new Float32Array(4),
      finalValue: 0.5,
    };
    replay.addGame(record);
  }
  return { net, replay, rng };
}

/** Σ_k scale_k (l^v + l^r + l^p), mean over the batch with importance weights, by hand. */
function lossByHand(net: MuZeroNetwork, batch: ReturnType<MuZeroReplay["allocateBatch"]>) {
  const head = net.config.value;
  const K = batch.unrollSteps;
  const steps = K + 1;
  const predictions: { value: number[][]; reward: number[][] | null; logits: number[][] }[] = [];
  tf.tidy(() => {
    const out = net.unroll(
      tf.tensor2d(batch.observations, [batch.size, 4]),
      tf.tensor2d(batch.actions, [batch.size, K], "int32"),
    );
    for (const p of out) {
      predictions.push({
        value: p.value.arraySync() as number[][],
        reward: p.reward ? p.reward.arraySync() as number[][] : null,
        logits: p.policyLogits.arraySync() as number[][],
      });
    }
  });
  const headLoss = (raw: number[], target: number) => {
    if (head.kind === "scalar") return (raw[0] - target) ** 2;
    const support = scalarToSupport(target, head.size, new Float32Array(raw.length));
    const largest = Math.max(...raw);
    const logTotal = Math.log(raw.reduce((s, v) => s + Math.exp(v - largest), 0)) + largest;
    return -raw.reduce((s, v, i) => s + support[i] * (v - logTotal), 0);
  };
  const sums = { value: 0, reward: 0, policy: 0 };
  for (let row = 0; row < batch.size; row++) {
    const weight = batch.weights[row];
    for (let k = 0; k < steps; k++) {
      const cell = row * steps + k;
      const scale = k === 0 ? 1 : 1 / K;
      const p = predictions[k];
      if (batch.valueMask[cell]) {
        sums.value += weight * scale * headLoss(p.value[row], batch.targetValues[cell]);
        if (k > 0) {
          sums.reward += weight * scale * headLoss(p.reward![row], batch.targetRewards[cell]);
        }
      }
      if (batch.policyMask[cell]) {
        const logits = p.logits[row];
        const largest = Math.max(...logits);
        const logTotal = Math.log(logits.reduce((s, v) => s + Math.exp(v - largest), 0)) + largest;
        for (let a = 0; a < 3; a++) {
          sums.policy -= weight * scale * batch.targetPolicies[cell * 3 + a] *
            (logits[a] - logTotal);
        }
      }
    }
  }
  return {
    value: sums.value / batch.size,
    reward: sums.reward / batch.size,
    policy: sums.policy / batch.size,
    value0: predictions[0].value.map((raw) => raw[0]),
  };
}

Deno.test("MuZero's loss", async (t) => {
  for (const head of [{ kind: "scalar" }, { kind: "support", size: 4 }] as HeadSpec[]) {
    await t.step(`${head.kind} heads: the reported terms are the paper's loss by hand`, () => {
      const { net, replay, rng } = setup(head, head.kind === "scalar");
      const batch = replay.sample(rng, replay.allocateBatch(16));
      const expected = lossByHand(net, batch);
      const learner = new MuZeroLearner(net, LEARNER);
      const { losses, valueErrors } = learner.step(batch);
      for (const term of ["value", "reward", "policy"] as const) {
        assert.ok(
          Math.abs(losses[term] - expected[term]) < 1e-4 * Math.max(1, expected[term]),
          `${term}: ${losses[term]} against ${expected[term]} by hand`,
        );
      }
      assert.ok(
        Math.abs(losses.total - (expected.value + expected.reward + expected.policy)) < 1e-3,
      );
      if (head.kind === "scalar") {
        for (let row = 0; row < batch.size; row++) {
          const error = expected.value0[row] - batch.targetValues[row * 3];
          assert.ok(Math.abs(valueErrors[row] - error) < 1e-5);
        }
      }
      learner.dispose();
      net.dispose();
    });
  }

  await t.step("a fixed batch is fitted: the loss falls by half", () => {
    const { net, replay, rng } = setup({ kind: "support", size: 4 }, false);
    const batch = replay.sample(rng, replay.allocateBatch(24));
    const learner = new MuZeroLearner(net, { ...LEARNER, learningRate: 1e-2 });
    const first = learner.step(batch).losses.total;
    let last = first;
    for (let i = 0; i < 200; i++) last = learner.step(batch).losses.total;
    assert.ok(last < first / 2, `loss ${first} -> ${last}`);
    assert.equal(learner.updates, 201);
    learner.dispose();
    net.dispose();
  });

  await t.step("the step size decays as lr · rate^(updates / steps), for both optimisers", () => {
    for (const optimizer of ["adam", "momentum"] as const) {
      const { net, replay, rng } = setup({ kind: "scalar" });
      const learner = new MuZeroLearner(net, {
        ...LEARNER,
        optimizer,
        learningRate: 0.01,
        learningRateDecayRate: 0.5,
        learningRateDecaySteps: 4,
      });
      const batch = replay.allocateBatch(4);
      assert.equal(learner.learningRateNow(), 0.01);
      for (let i = 0; i < 8; i++) learner.step(replay.sample(rng, batch));
      assert.ok(Math.abs(learner.learningRateNow() - 0.0025) < 1e-12);
      // The optimiser used the decayed rate for its last step (8 - 1 updates before it).
      const used = (learner.optimizer as unknown as { learningRate: number }).learningRate;
      assert.ok(Math.abs(used - 0.01 * Math.pow(0.5, 7 / 4)) < 1e-9);
      learner.dispose();
      net.dispose();
    }
  });

  await t.step("a NaN target stops training, naming the term, before any parameter changes", () => {
    const { net, replay, rng } = setup({ kind: "scalar" });
    const batch = replay.sample(rng, replay.allocateBatch(8));
    batch.targetValues[0] = Number.NaN;
    const learner = new MuZeroLearner(net, LEARNER);
    const before = net.params.list().map((v) => v.dataSync().slice());
    assert.throws(
      () => learner.step(batch),
      (error: unknown) =>
        error instanceof NonFiniteMuZeroLossError && error.term === "value" &&
        /value loss is NaN at update 0/.test(error.message),
    );
    net.params.list().forEach((v, i) => assert.deepEqual(v.dataSync(), before[i]));
    learner.dispose();
    net.dispose();
  });

  await t.step("the tensor count stays flat over training steps", async () => {
    for (const optimizer of ["adam", "momentum"] as const) {
      const { net, replay, rng } = setup({ kind: "support", size: 3 }, false);
      const learner = new MuZeroLearner(net, {
        ...LEARNER,
        optimizer,
        weightDecay: 1e-4,
        gradClipNorm: 5,
      });
      const batch = replay.allocateBatch(8);
      await assertTensorCountFlat(() => {
        replay.sample(rng, batch);
        const { valueErrors } = learner.step(batch);
        replay.updatePriorities(batch.gameIds, batch.positions, valueErrors);
      }, { burnIn: 3, steps: 20 });
      learner.dispose();
      net.dispose();
    }
  });
});
