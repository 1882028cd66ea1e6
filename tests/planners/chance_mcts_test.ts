/**
 * The search with chance nodes (Ozair et al. 2021, Section 4; Stochastic MuZero's code rule)
 * checked where the answer is known: a one-step tree traced by hand, its limit (the expectation
 * over codes), codes visited in the proportions of a loaded die, and with one code the very tree
 * MuZero's single-player search builds.
 */
import assert from "node:assert/strict";
import {
  type AfterstateOutput,
  type ChanceModel,
  ChanceSearch,
  selectCode,
} from "../../lib/planners/chance_mcts.ts";
import { type InferenceOutput, type MuZeroModel, MuZeroSearch } from "../../lib/planners/mcts.ts";
import { Rng } from "../../lib/rng.ts";
import { assertAllClose } from "../envs/_helpers.ts";

/**
 * One step to the end: every action's afterstate reward and prior over codes, and every code's
 * reward, are fixed; the state after a code is terminal. Latents carry nothing.
 */
class OneStepModel implements ChanceModel<null> {
  readonly latentSize = 1;
  readonly afterstateSize = 1;
  readonly numActions: number;
  readonly numCodes: number;
  afterstateCalls = 0;
  chanceCalls = 0;

  constructor(
    readonly actionRewards: number[],
    readonly codePrior: number[],
    readonly codeRewards: number[],
    readonly terminal = true,
  ) {
    this.numActions = actionRewards.length;
    this.numCodes = codePrior.length;
  }

  initialInference(_: null, batchSize: number): InferenceOutput {
    return {
      latents: new Float32Array(batchSize),
      rewards: new Float32Array(batchSize),
      values: new Float32Array(batchSize),
      policyLogits: new Float32Array(batchSize * this.numActions),
    };
  }

  afterstateInference(latents: Float32Array, actions: Int32Array): AfterstateOutput {
    this.afterstateCalls++;
    const batch = actions.length;
    const codeLogits = new Float32Array(batch * this.numCodes);
    for (let row = 0; row < batch; row++) {
      codeLogits.set(this.codePrior.map(Math.log), row * this.numCodes);
    }
    return {
      afterstates: latents.slice(),
      rewards: Float32Array.from(actions, (a) => this.actionRewards[a]),
      codeLogits,
    };
  }

  chanceInference(_afterstates: Float32Array, codes: Int32Array): InferenceOutput {
    this.chanceCalls++;
    const batch = codes.length;
    return {
      latents: new Float32Array(batch),
      rewards: Float32Array.from(codes, (c) => this.codeRewards[c]),
      values: new Float32Array(batch),
      policyLogits: new Float32Array(batch * this.numActions),
      terminal: new Uint8Array(batch).fill(this.terminal ? 1 : 0),
    };
  }
}

const settings = (numSimulations: number) => ({
  numSimulations,
  discount: 1,
  dirichletAlpha: 1,
  valueBounds: { min: -1, max: 1 },
});

Deno.test("selectCode follows the prior, ties to the lowest code", () => {
  const prior = [0.75, 0.25];
  const visits = [0, 0];
  const order: number[] = [];
  for (let i = 0; i < 8; i++) {
    const code = selectCode(prior, visits, 0, 2);
    order.push(code);
    visits[code]++;
  }
  // 0.75/1, 0.75/2, then 0.75/3 = 0.25/1 (a tie: code 0), 0.75/4 < 0.25, ...
  assert.deepEqual(order, [0, 0, 0, 1, 0, 0, 0, 1]);
});

Deno.test("a one-step tree traced by hand", () => {
  // Action 0: reward 0; action 1: reward 0.1. Codes: prior (0.75, 0.25), rewards (+1, -1).
  const model = new OneStepModel([0, 0.1], [0.75, 0.25], [1, -1]);
  const search = new ChanceSearch(model, settings(5));
  const result = search.run(null, 1, { rng: new Rng(0), addNoise: false, temperature: 0 });
  // Root: N = 1, priors (0.5, 0.5); E(N) = (1.25 + log((N + 19653) / 19652)) sqrt(N).
  // 1: a tie, action 0; new afterstate, code 0 (+1). Q(0) = 1.
  // 2: action 0 scores 1 + 0.5 E(2) / 2 = 1.44 against 0.5 E(2) = 0.88; code 0 again (0.375 >
  //    0.25), a terminal node: no model call, +1.
  // 3: action 0 (1.36 against 1.08); codes tie at 0.25: code 0, +1.
  // 4: action 0 (1.31 against 1.25); code 1 (0.25 > 0.1875), new, -1. Q(0) = 2/4 = 0.5,
  //    normalised by the bounds [-1, 1] to 0.75.
  // 5: action 0 scores 0.75 + 0.5 E(5) / 5 = 1.03, action 1 0.5 E(5) = 1.40: action 1, new
  //    afterstate, code 0: Q(1) = 0.1 + 1 = 1.1, above the bound, so max Q becomes 1.1.
  assert.deepEqual([...result.visitCounts], [4, 1]);
  assertAllClose(result.qValues, [0.5, 1.1], 1e-6);
  assert.deepEqual([...result.codeVisits], [3, 1, 1, 0]);
  assertAllClose(result.codePriors, [0.75, 0.25, 0.75, 0.25], 1e-6);
  // The root's value: its own 0 and the returns 1, 1, 1, -1, 1.1 over 6 visits.
  assertAllClose(result.rootValues, [3.1 / 6], 1e-6);
  assertAllClose([result.minQ[0], result.maxQ[0]], [-1, 1.1], 1e-6);
  assert.equal(result.afterstateCalls, 2);
  assert.equal(result.modelCalls, 3, "simulations 2 and 3 ended on a known terminal node");
  assert.equal(model.afterstateCalls, 2);
  assert.equal(model.chanceCalls, 3);
  assert.deepEqual([...result.actions], [0]);
});

Deno.test("Q tends to the expectation over codes; the best expectation wins", () => {
  // Action 0: 0 + (0.75 - 0.25) = 0.5. Action 1: 0.6 + (0.2 - 0.8) = 0. Action 2: 0.3 + 0 = 0.3
  // with codes tied.
  class Three extends OneStepModel {
    override afterstateInference(latents: Float32Array, actions: Int32Array): AfterstateOutput {
      const out = super.afterstateInference(latents, actions);
      actions.forEach((a, row) => {
        const prior = [[0.75, 0.25], [0.2, 0.8], [0.5, 0.5]][a];
        out.codeLogits.set(prior.map(Math.log), row * 2);
      });
      return out;
    }
  }
  const model = new Three([0, 0.6, 0.3], [0.5, 0.5], [1, -1]);
  const result = new ChanceSearch(model, settings(800)).run(null, 1, {
    rng: new Rng(0),
    addNoise: false,
    temperature: 0,
  });
  const exact = [0.5, 0, 0.3];
  for (let a = 0; a < 3; a++) {
    const visits = result.visitCounts[a];
    // Codes follow the prior to within one visit, so Q is within 2 / N of its expectation.
    assert.ok(
      Math.abs(result.qValues[a] - exact[a]) <= 2 / visits + 1e-6,
      `action ${a}: Q ${result.qValues[a]} after ${visits} visits, expected ${exact[a]}`,
    );
  }
  assert.equal(result.actions[0], 0);
  assert.ok(result.visitCounts[0] > result.visitCounts[2] && result.visitCounts[2] > 0);
});

Deno.test("a loaded die: codes are visited in proportion to its faces' probabilities", () => {
  const faces = [0.1, 0.1, 0.2, 0.05, 0.25, 0.3];
  const model = new OneStepModel([0], faces, [1, 2, 3, 4, 5, 6]);
  const simulations = 600;
  const result = new ChanceSearch(model, { ...settings(simulations), valueBounds: undefined }).run(
    null,
    1,
    { rng: new Rng(0), addNoise: false },
  );
  const visits = [...result.codeVisits];
  assert.equal(visits.reduce((a, b) => a + b), simulations);
  for (let face = 0; face < 6; face++) {
    assert.ok(
      Math.abs(visits[face] - faces[face] * simulations) <= 1,
      `face ${face + 1}: ${visits[face]} visits, expected ${faces[face] * simulations}`,
    );
  }
  // The root action's value is the die's mean, 1·0.1 + 2·0.1 + ... = 4.
  const mean = faces.reduce((sum, p, i) => sum + p * (i + 1), 0);
  assertAllClose(result.qValues, [mean], 1e-3);
});

/**
 * A deterministic model in two halves: a MuZero model whose latent is a hash of the path, and the
 * same model cut at the afterstate with one code. Both searches must build the same tree.
 */
function hashedOutputs(parent: number, action: number, numActions: number) {
  const latent = (parent * 31 + action * 7 + 3) % 101;
  const rng = new Rng(latent);
  return {
    latent,
    reward: rng.uniform(-0.2, 0.2),
    value: rng.uniform(-1, 1),
    logits: Array.from({ length: numActions }, () => rng.normal()),
  };
}

class HashedMuZero implements MuZeroModel<null> {
  readonly latentSize = 1;
  constructor(readonly numActions: number) {}

  initialInference(_: null, batchSize: number): InferenceOutput {
    const policyLogits = new Float32Array(batchSize * this.numActions);
    for (let row = 0; row < batchSize; row++) {
      policyLogits.set(hashedOutputs(row, 0, this.numActions).logits, row * this.numActions);
    }
    return {
      latents: Float32Array.from({ length: batchSize }, (_, row) => row + 1000),
      rewards: new Float32Array(batchSize),
      values: new Float32Array(batchSize).fill(0.1),
      policyLogits,
    };
  }

  recurrentInference(parents: Float32Array, actions: Int32Array): InferenceOutput {
    const batch = actions.length;
    const out = {
      latents: new Float32Array(batch),
      rewards: new Float32Array(batch),
      values: new Float32Array(batch),
      policyLogits: new Float32Array(batch * this.numActions),
    };
    for (let row = 0; row < batch; row++) {
      const next = hashedOutputs(parents[row], actions[row], this.numActions);
      out.latents[row] = next.latent;
      out.rewards[row] = next.reward;
      out.values[row] = next.value;
      out.policyLogits.set(next.logits, row * this.numActions);
    }
    return out;
  }
}

class HashedOneCode implements ChanceModel<null> {
  readonly latentSize = 1;
  readonly afterstateSize = 2;
  readonly numCodes = 1;
  constructor(readonly muzero: HashedMuZero, readonly numActions = muzero.numActions) {}

  initialInference(_: null, batchSize: number): InferenceOutput {
    return this.muzero.initialInference(null, batchSize);
  }

  afterstateInference(latents: Float32Array, actions: Int32Array): AfterstateOutput {
    const afterstates = new Float32Array(actions.length * 2);
    actions.forEach((a, row) => afterstates.set([latents[row], a], row * 2));
    return {
      afterstates,
      rewards: new Float32Array(actions.length),
      codeLogits: new Float32Array(actions.length),
    };
  }

  chanceInference(afterstates: Float32Array, codes: Int32Array): InferenceOutput {
    const parents = Float32Array.from(codes, (_, row) => afterstates[row * 2]);
    const actions = Int32Array.from(codes, (_, row) => afterstates[row * 2 + 1]);
    return this.muzero.recurrentInference(parents, actions);
  }
}

Deno.test("with one code the tree is MuZero's single-player tree", () => {
  const muzero = new HashedMuZero(4);
  const config = { numSimulations: 60, discount: 0.9, dirichletAlpha: 0.3 };
  const legalActions = Uint8Array.of(1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1);
  const options = () => ({ rng: new Rng(7), legalActions, temperature: 1 });
  const expected = new MuZeroSearch(muzero, { ...config, twoPlayer: false }).run(
    null,
    3,
    options(),
  );
  const actual = new ChanceSearch(new HashedOneCode(muzero), config).run(null, 3, options());
  assert.deepEqual([...actual.visitCounts], [...expected.visitCounts]);
  assertAllClose(actual.qValues.filter((q) => !Number.isNaN(q)), [
    ...expected.qValues.filter((q) => !Number.isNaN(q)),
  ], 1e-5);
  assertAllClose(actual.rootValues, expected.rootValues, 1e-5);
  assert.deepEqual([...actual.actions], [...expected.actions]);
  assert.equal(actual.modelCalls, expected.modelCalls);
});

Deno.test("the search refuses a model that answers with the wrong sizes", () => {
  const model = new OneStepModel([0, 0], [0.5, 0.5], [1, -1]);
  model.afterstateInference = (latents: Float32Array, actions: Int32Array) => ({
    afterstates: latents.slice(),
    rewards: new Float32Array(actions.length),
    codeLogits: new Float32Array(1),
  });
  assert.throws(
    () => new ChanceSearch(model, settings(3)).run(null, 2, { rng: new Rng(0) }),
    /afterstateInference codeLogits has 1 entries, expected 4/,
  );
});
