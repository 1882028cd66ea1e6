/**
 * EfficientZero's three switches (Ye et al. 2021, Section 4), each tested for changing the loss
 * or the target it should and nothing else: the consistency term adds exactly λ times its value
 * to MuZero's loss, its gradient flows only through the online branch (the target branch is a
 * constant), the value prefix replaces the reward targets by running sums and leaves the other
 * terms, and the off-policy correction shortens the value horizon of old data and bootstraps from
 * a fresh search; a run bounded by environment steps spends exactly them.
 */
import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import { MuZeroNetwork, type MuZeroNetworkConfig } from "../../lib/models/muzero.ts";
import { consistencyLoss } from "../../lib/models/efficientzero.ts";
import { MuZeroLearner, type MuZeroLearnerConfig } from "../../lib/agents/muzero_learner.ts";
import {
  type GameRecord,
  type MuZeroBatch,
  MuZeroReplay,
  type MuZeroReplayConfig,
} from "../../lib/agents/muzero_replay.ts";
import { offPolicyTdSteps, valuePrefixTargets } from "../../lib/agents/efficientzero_targets.ts";
import { refreshBootstrapValues } from "../../lib/agents/efficientzero_correction.ts";
import { DiscreteEnvEnvironment, SearchPlayer } from "../../lib/agents/muzero_play.ts";
import { type MuZeroConfig, trainMuZero } from "../../lib/agents/muzero.ts";
import { CartPoleEnv } from "../../lib/envs/cartpole.ts";
import { Rng } from "../../lib/rng.ts";
import { assertAllClose } from "../../lib/tensor/testing.ts";

const LEARNER: MuZeroLearnerConfig = {
  learningRate: 1e-3,
  learningRateDecayRate: 1,
  learningRateDecaySteps: 1,
  optimizer: "adam",
  // No L2 term: it would count the added heads' parameters too.
  weightDecay: 0,
  valueLossWeight: 0.25,
  gradClipNorm: 0,
};

const NETWORK: MuZeroNetworkConfig = {
  observationShape: [4],
  numActions: 3,
  architecture: { kind: "mlp", latentSize: 6, hiddenSize: 10, hiddenLayers: 1 },
  value: { kind: "support", size: 4 },
  reward: { kind: "support", size: 3 },
};

const CONSISTENCY = { projectionHidden: 8, projectionSize: 5, predictionHidden: 4 };
const UNROLL = 4;

function replayOf(extra: Partial<MuZeroReplayConfig> = {}): MuZeroReplay {
  const replay = new MuZeroReplay({
    observationSize: 4,
    numActions: 3,
    capacityGames: 50,
    unrollSteps: UNROLL,
    tdSteps: 3,
    discount: 0.9,
    twoPlayer: false,
    priorityExponent: 1,
    importanceExponent: 1,
    priorityFloor: 0.1,
    targetObservations: true,
    ...extra,
  });
  const rng = new Rng(2);
  for (let g = 0; g < 8; g++) {
    const T = 3 + rng.int(6);
    const record: GameRecord = {
      length: T,
      observations: new Float32Array(T * 4).map(() => rng.normal()),
      actions: Int32Array.from({ length: T }, () => rng.int(3)),
      rewards: Float32Array.from({ length: T }, () => rng.int(3)),
      rootValues: new Float32Array(T).map(() => rng.uniform(0, 5)),
      policies: new Float32Array(T * 3).map((_, i) => (i % 3 === 0 ? 0.6 : 0.2)),
      legalMasks: new Uint8Array(T * 3).fill(1),
      terminated: g % 2 === 0,
      finalObservation: new Float32Array(4).map(() => rng.normal()),
      finalValue: 1.5,
    };
    replay.addGame(record);
  }
  return replay;
}

function sampleBatch(replay: MuZeroReplay, size = 12): MuZeroBatch {
  return replay.sample(new Rng(3), replay.allocateBatch(size));
}

const networkWith = (efficientZero?: MuZeroNetworkConfig["efficientZero"]) =>
  new MuZeroNetwork({ ...NETWORK, efficientZero }, new Rng(1));

Deno.test("value-prefix targets", async (t) => {
  await t.step("are running sums of the rewards, started again every horizon", () => {
    // Two rows, K = 5, horizon 2: sums over steps {1, 2}, {3, 4}, {5}.
    const rewards = Float32Array.from([9, 1, 2, 3, 4, 5, 9, 0, 1, 0, 1, 1]);
    const prefixes = valuePrefixTargets(rewards, 2, 5, 2);
    assert.deepEqual(Array.from(prefixes), [0, 1, 3, 3, 7, 5, 0, 0, 1, 0, 1, 1]);
    // A horizon at least K: one sum over the whole unroll.
    assert.deepEqual(
      Array.from(valuePrefixTargets(rewards, 2, 5, 5)),
      [0, 1, 3, 6, 10, 15, 0, 0, 1, 1, 2, 3],
    );
  });
});

Deno.test("the off-policy horizon", async (t) => {
  await t.step("shrinks by one step every A steps of age, from n down to 1", () => {
    // The reference's rule: n = 5, A = 30,000 (0.3 of its 100,000 training steps).
    const horizons = [0, 29_999, 30_000, 59_999, 60_000, 90_000, 120_000, 1e9].map((age) =>
      offPolicyTdSteps(5, age, 30_000)
    );
    assert.deepEqual(horizons, [5, 5, 4, 4, 3, 2, 1, 1]);
  });

  await t.step("old samples get short horizons, and their targets use them", () => {
    const corrected = replayOf({ offPolicyCorrection: { ageStepsPerHorizonStep: 10 } });
    const plain = replayOf();
    const batch = sampleBatch(corrected, 64);
    const steps = UNROLL + 1;
    let shortened = 0;
    for (let row = 0; row < batch.size; row++) {
      const age = corrected.ageOf(batch.gameIds[row], batch.positions[row]);
      assert.equal(batch.tdSteps[row], offPolicyTdSteps(3, age, 10));
      if (batch.tdSteps[row] < 3) shortened++;
      const record = corrected.game(batch.gameIds[row])!;
      for (let k = 0; k < steps; k++) {
        if (!batch.valueMask[row * steps + k]) continue;
        const expected = corrected.valueTarget(
          record,
          batch.positions[row] + k,
          batch.tdSteps[row],
        );
        assert.ok(Math.abs(batch.targetValues[row * steps + k] - expected) < 1e-5);
      }
    }
    assert.ok(shortened > 0, "some sampled data is old enough to be corrected");
    // The newest position is 0 steps old; without the switch every sample keeps n.
    const newest = corrected.games().at(-1)!;
    assert.equal(corrected.ageOf(newest.id, newest.record.length - 1), 0);
    assert.ok(sampleBatch(plain, 64).tdSteps.every((n) => n === 3));
    // Everything but the value targets is what the uncorrected buffer samples.
    const same = sampleBatch(plain, 64);
    assert.deepEqual(same.targetRewards, batch.targetRewards);
    assert.deepEqual(same.targetPolicies, batch.targetPolicies);
    assert.deepEqual(same.observations, batch.observations);
  });

  await t.step("ages survive a save and a load", () => {
    const replay = replayOf({ offPolicyCorrection: { ageStepsPerHorizonStep: 10 } });
    const copy = MuZeroReplay.deserialize(replay.serialize());
    assert.equal(copy.stepsAdded, replay.stepsAdded);
    for (const { id } of replay.games()) assert.equal(copy.ageOf(id, 1), replay.ageOf(id, 1));
  });
});

/** The consistency term by hand from a network's own unroll, with the target branch constant. */
function consistencyByHand(net: MuZeroNetwork, batch: MuZeroBatch, stopTarget = true) {
  const { size, unrollSteps } = batch;
  const heads = net.consistency!;
  const targetOf = () =>
    heads.project(
      net.represent(tf.tensor2d(batch.nextObservations!, [size * unrollSteps, 4])),
    );
  const fixedTarget = stopTarget ? tf.tidy(targetOf) : null;
  const loss = () =>
    tf.tidy(() => {
      const predictions = net.unroll(
        tf.tensor2d(batch.observations, [size, 4]),
        tf.tensor2d(batch.actions, [size, unrollSteps], "int32"),
      );
      const target = fixedTarget ?? targetOf();
      const online = heads.projectAndPredict(
        tf.reshape(tf.stack(predictions.slice(1).map((p) => p.state), 1), [size * unrollSteps, 6]),
      );
      const perStep = tf.reshape(consistencyLoss(online, target), [size, unrollSteps]);
      const masked = tf.mul(perStep, tf.tensor2d(batch.nextObservationMask!, [size, unrollSteps]));
      const perSample = tf.div(tf.sum(masked, 1), unrollSteps);
      return tf.mean(tf.mul(perSample, tf.tensor1d(batch.weights))) as tf.Scalar;
    });
  return { loss, dispose: () => fixedTarget?.dispose() };
}

Deno.test("the consistency switch", async (t) => {
  const replay = replayOf();
  const batch = sampleBatch(replay);

  await t.step("off, the loss is MuZero's; on, it adds exactly λ times the term", () => {
    const muzero = networkWith(undefined);
    const efficient = networkWith({ consistency: CONSISTENCY, valuePrefix: null });
    const plain = new MuZeroLearner(muzero, LEARNER).gradients(batch);
    // Heads present but λ unset: nothing changes.
    const unweighted = new MuZeroLearner(efficient, LEARNER).gradients(batch);
    const weighted = new MuZeroLearner(efficient, { ...LEARNER, consistencyWeight: 2 })
      .gradients(batch);
    assert.equal(unweighted.losses.consistency, undefined);
    for (const term of ["value", "reward", "policy", "total"] as const) {
      assert.ok(Math.abs(unweighted.losses[term] - plain.losses[term]) < 1e-5, term);
    }
    for (const term of ["value", "reward", "policy"] as const) {
      assert.ok(Math.abs(weighted.losses[term] - plain.losses[term]) < 1e-5, term);
    }
    const byHand = consistencyByHand(efficient, batch);
    const expected = tf.tidy(() => byHand.loss().dataSync()[0]);
    byHand.dispose();
    assert.ok(expected > 0.05, `a fresh network's predictions disagree (${expected})`);
    assert.ok(Math.abs(weighted.losses.consistency! - expected) < 1e-5);
    assert.ok(Math.abs(weighted.losses.total - (plain.losses.total + 2 * expected)) < 1e-4);
    tf.dispose([plain.grads, unweighted.grads, weighted.grads]);
    muzero.dispose();
    efficient.dispose();
  });

  await t.step("the gradient flows only through the online branch", () => {
    const muzero = networkWith(undefined);
    const efficient = networkWith({ consistency: CONSISTENCY, valuePrefix: null });
    const weight = 2;
    const plain = new MuZeroLearner(muzero, LEARNER).gradients(batch);
    const full = new MuZeroLearner(efficient, { ...LEARNER, consistencyWeight: weight })
      .gradients(batch);
    const expectation = (stopTarget: boolean) => {
      const byHand = consistencyByHand(efficient, batch, stopTarget);
      const { grads, value } = tf.variableGrads(byHand.loss, efficient.params.list());
      value.dispose();
      byHand.dispose();
      return grads;
    };
    const stopped = expectation(true);
    const through = expectation(false);
    // The learner's gradient minus MuZero's is λ times the stopped term's, parameter by
    // parameter; letting the gradient through the target branch changes the representation's.
    let largestGap = 0;
    for (const [local, variable] of efficient.params.variables) {
      const base = muzero.params.variables.get(local);
      const extra = tf.tidy(() => {
        const learner = full.grads[variable.name] ?? tf.zerosLike(variable);
        return (base ? tf.sub(learner, plain.grads[base.name] ?? tf.zerosLike(base)) : learner)
          .dataSync();
      });
      const want = tf.tidy(() =>
        tf.mul(stopped[variable.name] ?? tf.zerosLike(variable), weight).dataSync()
      );
      assertAllClose(extra, want, { relative: 1e-3, absolute: 1e-6 }, local);
      const other = tf.tidy(() =>
        tf.mul(through[variable.name] ?? tf.zerosLike(variable), weight).dataSync()
      );
      for (let i = 0; i < want.length; i++) {
        largestGap = Math.max(largestGap, Math.abs(other[i] - want[i]));
      }
    }
    assert.ok(largestGap > 1e-3, `the target branch's gradient is visible (${largestGap})`);
    tf.dispose([plain.grads, full.grads, stopped, through]);
    muzero.dispose();
    efficient.dispose();
  });
});

Deno.test("the value-prefix switch", async (t) => {
  await t.step("changes the reward term's targets to prefixes and leaves the others", () => {
    const replay = replayOf({ targetObservations: false });
    const batch = sampleBatch(replay);
    const muzero = networkWith(undefined);
    const prefix = networkWith({
      consistency: null,
      valuePrefix: { lstmHiddenSize: 8, horizon: 3 },
    });
    const plain = new MuZeroLearner(muzero, LEARNER).gradients(batch);
    const withPrefix = new MuZeroLearner(prefix, LEARNER).gradients(batch);
    for (const term of ["value", "policy"] as const) {
      assert.ok(Math.abs(withPrefix.losses[term] - plain.losses[term]) < 1e-5, term);
    }
    // The reward term by hand: cross-entropy of the prefix head against the running sums.
    const steps = UNROLL + 1;
    const targets = valuePrefixTargets(batch.targetRewards, batch.size, UNROLL, 3);
    const expected = tf.tidy(() => {
      const predictions = prefix.unroll(
        tf.tensor2d(batch.observations, [batch.size, 4]),
        tf.tensor2d(batch.actions, [batch.size, UNROLL], "int32"),
      );
      let total = 0;
      for (let k = 1; k < steps; k++) {
        const logProbabilities = tf.logSoftmax(predictions[k].reward!).arraySync() as number[][];
        for (let row = 0; row < batch.size; row++) {
          const cell = row * steps + k;
          if (!batch.valueMask[cell]) continue;
          const support = new Float32Array(7);
          const scaled = Math.max(-3, Math.min(3, scale(targets[cell])));
          const low = Math.floor(scaled);
          support[low + 3] = 1 - (scaled - low);
          if (scaled > low) support[low + 4] = scaled - low;
          const crossEntropy = -logProbabilities[row].reduce((s, v, i) => s + support[i] * v, 0);
          total += batch.weights[row] * crossEntropy / UNROLL;
        }
      }
      return total / batch.size;
    });
    assert.ok(
      Math.abs(withPrefix.losses.reward - expected) < 1e-4,
      `${withPrefix.losses.reward} against ${expected}`,
    );
    // Sums differ from the per-step rewards, so the term is not MuZero's.
    assert.ok(Math.abs(withPrefix.losses.reward - plain.losses.reward) > 1e-3);
    tf.dispose([plain.grads, withPrefix.grads]);
    muzero.dispose();
    prefix.dispose();
  });
});

/** h(x) of the value and reward supports. */
function scale(x: number): number {
  return Math.sign(x) * (Math.sqrt(Math.abs(x) + 1) - 1) + 0.001 * x;
}

Deno.test("fresh bootstrap values (the off-policy correction's search)", async (t) => {
  await t.step("replace the stored values the targets bootstrap from, and nothing else", () => {
    const replay = replayOf({ offPolicyCorrection: { ageStepsPerHorizonStep: 10 } });
    const batch = sampleBatch(replay, 16);
    const before = replay.games().map(({ record }) => ({
      values: record.rootValues.slice(),
      policies: record.policies.slice(),
    }));
    const targetsBefore = batch.targetValues.slice();
    const net = networkWith(undefined);
    const player = new SearchPlayer(net, {
      numSimulations: 4,
      discount: 0.9,
      twoPlayer: false,
      dirichletAlpha: 0.3,
      explorationFraction: 0,
    });
    const searched = refreshBootstrapValues(replay, batch, player, 5, new Rng(4));
    assert.ok(searched > 0);
    // The positions bootstrapped from, by game.
    const bootstraps = new Map<number, Set<number>>();
    const steps = UNROLL + 1;
    for (let row = 0; row < batch.size; row++) {
      for (let k = 0; k < steps; k++) {
        if (!batch.valueMask[row * steps + k]) continue;
        const index = batch.positions[row] + k + batch.tdSteps[row];
        const set = bootstraps.get(batch.gameIds[row]) ?? new Set();
        set.add(index);
        bootstraps.set(batch.gameIds[row], set);
      }
    }
    let changed = 0;
    replay.games().forEach(({ id, record }, g) => {
      assert.deepEqual(record.policies, before[g].policies, "policy targets are untouched");
      for (let t = 0; t < record.length; t++) {
        const fresh = bootstraps.get(id)?.has(t) ?? false;
        if (!fresh) assert.equal(record.rootValues[t], before[g].values[t]);
        else if (record.rootValues[t] !== before[g].values[t]) changed++;
      }
    });
    assert.equal(changed, searched, "each searched position got the new search's value");
    // The batch's targets are recomputed from the fresh values.
    for (let row = 0; row < batch.size; row++) {
      const record = replay.game(batch.gameIds[row])!;
      for (let k = 0; k < steps; k++) {
        const cell = row * steps + k;
        if (!batch.valueMask[cell]) continue;
        const want = replay.valueTarget(record, batch.positions[row] + k, batch.tdSteps[row]);
        assert.ok(Math.abs(batch.targetValues[cell] - want) < 1e-5);
      }
    }
    assert.notDeepEqual(batch.targetValues, targetsBefore);
    net.dispose();
  });
});

const cartPole = new DiscreteEnvEnvironment(() => new CartPoleEnv());

const SMALL_RUN: MuZeroConfig = {
  network: {
    architecture: { kind: "mlp", latentSize: 8, hiddenSize: 16, hiddenLayers: 1 },
    value: { kind: "support", size: 5 },
    reward: { kind: "support", size: 2 },
  },
  search: {
    numSimulations: 4,
    discount: 0.997,
    dirichletAlpha: 0.25,
    explorationFraction: 0.25,
    valueBounds: null,
  },
  selfPlay: {
    gamesPerIteration: 3,
    parallelGames: 3,
    temperatureSchedule: [{ untilProgress: 1, temperature: 1 }],
    greedyFromMove: null,
    maxRandomOpeningMoves: 0,
  },
  training: {
    iterations: 50,
    updatesPerIteration: 0,
    environmentSteps: 100,
    updatesPerEnvironmentStep: 0.1,
    batchSize: 8,
    unrollSteps: 5,
    tdSteps: 5,
    learningRate: 1e-3,
    learningRateDecayRate: 1,
    learningRateDecaySteps: 1,
    optimizer: "adam",
    weightDecay: 1e-4,
    valueLossWeight: 0.25,
    gradClipNorm: 5,
  },
  replay: { capacityGames: 100, priorityExponent: 1, importanceExponent: 1, priorityFloor: 1 },
  reanalyse: { positionsPerIteration: 20, batchSize: 10 },
  efficientZero: {
    consistency: { weight: 2, ...CONSISTENCY },
    valuePrefix: { lstmHiddenSize: 8, horizon: 5 },
    offPolicyCorrection: { ageStepsPerHorizonStep: 30, bootstrapSimulations: 2 },
  },
};

Deno.test("a run with every addition on, bounded by environment steps", async (t) => {
  await t.step("spends exactly its steps, with the ratio of updates, and reads back", async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "efficientzero-run-" });
    const run = await trainMuZero(cartPole, SMALL_RUN, { seed: 0, dataDir });
    const last = run.curve.at(-1)!;
    assert.equal(last.envSteps, 100);
    assert.equal(run.replay.stepsAdded, 100);
    assert.equal(last.updates, 10);
    assert.ok(run.curve.length < 50, "the step budget, not the iterations, ended the run");
    const losses = run.curve.find((r) => r.losses)!.losses!;
    assert.ok(Number.isFinite(losses.consistency), "the consistency term is recorded");
    run.network.dispose();
    // A finished run is read back without playing or training.
    const again = await trainMuZero(cartPole, SMALL_RUN, { seed: 0, dataDir });
    assert.equal(again.resumedIterations, run.curve.length);
    assert.deepEqual(again.curve.map((r) => r.envSteps), run.curve.map((r) => r.envSteps));
    again.network.dispose();
    await Deno.remove(dataDir, { recursive: true });
  });
});
