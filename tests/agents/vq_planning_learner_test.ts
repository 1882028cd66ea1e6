/**
 * The VQ model for planning learns a die: one state, one action, and a response drawn from a
 * loaded die. The codes must separate the faces, and the prior over codes (and so the search's
 * chance node) must give each face its true frequency; a model with one code cannot.
 */
import assert from "node:assert/strict";
import { tf } from "../../lib/tensor/mod.ts";
import { Rng } from "../../lib/rng.ts";
import { OneSidedDataset, type OneSidedGameRecord } from "../../lib/agents/one_sided_data.ts";
import { VqPlanningLearner } from "../../lib/agents/vq_planning_learner.ts";
import { VqPlanningNetwork } from "../../lib/models/vq_planning.ts";
import { ChanceSearch } from "../../lib/planners/chance_mcts.ts";

const FACES = [0.1, 0.3, 0.05, 0.15, 0.25, 0.15];

/** Throws of the die: a blank observation, action 0, then the face as a one-hot observation. */
function dieThrows(count: number, rng: Rng): OneSidedGameRecord[] {
  return Array.from({ length: count }, () => {
    let u = rng.next();
    let face = 0;
    while (face < FACES.length - 1 && u >= FACES[face]) u -= FACES[face++];
    const observations = new Float32Array(2 * FACES.length);
    observations[FACES.length + face] = 1;
    return {
      observations,
      actions: Int32Array.of(0),
      // The face is also the reward.
      moveRewards: Float32Array.of(0),
      replyRewards: Float32Array.of((face + 1) / 6),
    };
  });
}

function trainDie(numCodes: number) {
  const rng = new Rng(11);
  const dataset = new OneSidedDataset(dieThrows(2000, rng), FACES.length, 1, 1);
  const network = new VqPlanningNetwork({
    observationSize: FACES.length,
    numActions: 1,
    latentSize: 8,
    hiddenSize: 32,
    numCodes,
    codeSize: 4,
    commitmentCost: 0.25,
    codebookDecay: 0.9,
    restartBelow: 0.5,
  }, new Rng(12));
  const learner = new VqPlanningLearner(network, { learningRate: 3e-3, reconstructionWeight: 1 });
  let losses = learner.step(dataset.sample(128, 1, rng), rng);
  for (let update = 1; update < 400; update++) {
    losses = learner.step(dataset.sample(128, 1, rng), rng);
  }
  return { network, learner, losses };
}

/** Which face each code decodes to, and the prior of each code, after the one action. */
function codeFaces(network: VqPlanningNetwork) {
  return tf.tidy(() => {
    const state = network.represent(tf.zeros([1, FACES.length]) as tf.Tensor2D);
    const { afterstate } = network.afterstate(state, tf.tensor1d([0], "int32"));
    const prior = tf.softmax(network.codeLogits(afterstate)).dataSync();
    const codes = tf.range(0, network.numCodes, 1, "int32") as tf.Tensor1D;
    const repeated = tf.tile(afterstate, [network.numCodes, 1]) as tf.Tensor2D;
    const next = network.chance(repeated, network.quantizer.lookup(codes)).state;
    const faces = tf.argMax(network.decode(next), 1).dataSync();
    return { prior: Array.from(prior), faces: Array.from(faces) };
  });
}

Deno.test("a VQ model learns a loaded die; the chance node visits faces as often as they fall", () => {
  const { network, learner, losses } = trainDie(8);
  const { prior, faces } = codeFaces(network);
  const learned = FACES.map((_, face) =>
    prior.reduce((sum, p, code) => sum + (faces[code] === face ? p : 0), 0)
  );
  for (let face = 0; face < FACES.length; face++) {
    assert.ok(
      Math.abs(learned[face] - FACES[face]) < 0.05,
      `face ${face + 1}: prior ${learned.map((p) => p.toFixed(3))} vs ${FACES}; codes decode to ` +
        `${faces}; losses ${JSON.stringify(losses)}`,
    );
  }
  const simulations = 400;
  const result = new ChanceSearch(network, {
    numSimulations: simulations,
    discount: 1,
    dirichletAlpha: 1,
  }).run(new Float32Array(FACES.length), 1, { rng: new Rng(0), addNoise: false });
  const visitsByFace = FACES.map((_, face) =>
    faces.reduce((sum, f, code) => sum + (f === face ? result.codeVisits[code] : 0), 0) /
    simulations
  );
  for (let face = 0; face < FACES.length; face++) {
    assert.ok(
      Math.abs(visitsByFace[face] - FACES[face]) < 0.05,
      `face ${face + 1}: visited ${visitsByFace.map((p) => p.toFixed(3))} vs ${FACES}`,
    );
  }
  // Each code carries its face's reward, (face + 1) / 6.
  const afterstate = network.afterstateInference(
    network.initialInference(new Float32Array(FACES.length), 1).latents.slice(),
    Int32Array.of(0),
  ).afterstates.slice();
  const rewards = network.chanceInference(
    new Float32Array(network.numCodes * afterstate.length).map((_, i) =>
      afterstate[i % afterstate.length]
    ),
    Int32Array.from({ length: network.numCodes }, (_, code) => code),
  ).rewards;
  faces.forEach((face, code) => {
    if (prior[code] < 0.01) return; // an unused code learns nothing
    assert.ok(
      Math.abs(rewards[code] - (face + 1) / 6) < 0.1,
      `code ${code} (face ${face + 1}): reward ${rewards[code]}`,
    );
  });
  learner.dispose();
  network.dispose();
});

Deno.test("with one code the model predicts the average throw, not any face", () => {
  const { network, learner } = trainDie(1);
  const predicted = tf.tidy(() => {
    const state = network.represent(tf.zeros([1, FACES.length]) as tf.Tensor2D);
    const { afterstate } = network.afterstate(state, tf.tensor1d([0], "int32"));
    const next = network.chance(afterstate, network.quantizer.lookup(tf.tensor1d([0], "int32")));
    return Array.from(tf.sigmoid(network.decode(next.state)).dataSync());
  });
  // Each face's plane is lit with the face's probability: a blur of the six outcomes.
  predicted.forEach((p, face) =>
    assert.ok(Math.abs(p - FACES[face]) < 0.05, `face ${face + 1}: ${predicted}`)
  );
  learner.dispose();
  network.dispose();
});

Deno.test("training steps leak no tensors", () => {
  const rng = new Rng(1);
  const dataset = new OneSidedDataset(dieThrows(50, rng), FACES.length, 1, 1);
  const network = new VqPlanningNetwork({
    observationSize: FACES.length,
    numActions: 1,
    latentSize: 4,
    hiddenSize: 8,
    numCodes: 4,
    codeSize: 2,
    commitmentCost: 0.25,
    codebookDecay: 0.99,
    restartBelow: 0,
  }, new Rng(2));
  const learner = new VqPlanningLearner(network, { learningRate: 1e-3, reconstructionWeight: 1 });
  for (let i = 0; i < 3; i++) learner.step(dataset.sample(16, 2, rng), rng);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) learner.step(dataset.sample(16, 2, rng), rng);
  network.initialInference(new Float32Array(FACES.length * 2), 2);
  network.afterstateInference(new Float32Array(8), Int32Array.of(0, 0));
  network.chanceInference(new Float32Array(8), Int32Array.of(1, 3));
  assert.equal(tf.memory().numTensors, before);
  learner.dispose();
  network.dispose();
});
