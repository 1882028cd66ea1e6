/**
 * Monte Carlo tree search with chance nodes over discrete codes: the search of Vector Quantized
 * Models for Planning (Ozair et al. 2021, Section 4 "Monte Carlo Tree Search with VQ models"),
 * with the chance-node rule of Stochastic MuZero (Antonoglou et al. 2022, Section 4, "Stochastic
 * Search"), on many roots at once.
 *
 * Decision nodes hold states s where the agent moves; chance nodes hold afterstates φ = g(s, a),
 * where the environment answers with one of K codes c drawn from the model's prior σ(c | φ), and
 * the code leads to the next state s' = g(φ, c). The tree alternates the two. At a decision node
 * the action is chosen by MuZero's pUCT (lib/planners/mcts.ts, the same constants, min-max
 * normalised Q, unvisited Q̄ = 0); at a chance node the code is
 *
 *   c = argmax_c σ(c | φ) / (N(φ, c) + 1),
 *
 * Stochastic MuZero's rule, which visits codes in proportion to the prior without drawing random
 * numbers (Ozair et al. sample codes from the prior; this rule has the same limit and makes the
 * search deterministic). Ties go to the lowest code.
 *
 * Values are seen by one agent throughout (the other player, if any, is part of the environment,
 * as in Ozair et al.'s chess), so nothing changes sign. A decision edge's value is
 * Q(s, a) = r(s, a) + V(φ) with V(φ) the mean of the returns r(φ, c) + γ V(s') backed up through
 * the chance node: γ counts once per step of the environment, at the chance edge.
 *
 * A simulation that ends on a new decision edge makes two model calls, the afterstate one and the
 * chance one, so every simulation expands exactly one new decision node, as MuZero's does; one
 * that ends on an unvisited code of a known chance node makes the chance call only. With one code
 * (K = 1) the search is MuZero's single-player search on a deterministic model.
 */
import type { Rng } from "../rng.ts";
import {
  checkMctsConfig,
  type InferenceOutput,
  maskedSoftmax,
  type MctsConfig,
  MUZERO_PUCT,
  MUZERO_ROOT_EXPLORATION_FRACTION,
  type SearchOptions,
  type SearchResult,
  selectByVisitCount,
  setRootPrior,
} from "./mcts.ts";

/** What the afterstate call returns for a batch of B (state, action) pairs. */
export interface AfterstateOutput {
  /** φ = g(s, a), row-major [B * afterstateSize]. */
  afterstates: Float32Array;
  /** The reward of the agent's action, [B]. */
  rewards: Float32Array;
  /** Logits of the prior σ(c | φ) over codes, row-major [B * numCodes]. */
  codeLogits: Float32Array;
}

/**
 * A model with chance nodes as the search sees it: `initialInference` and `chanceInference`
 * return MuZero's `InferenceOutput` (the reward of `chanceInference` is the environment's, for
 * the step the code stands for), `afterstateInference` the afterstate and its prior over codes.
 */
export interface ChanceModel<Observation> {
  readonly numActions: number;
  readonly numCodes: number;
  readonly latentSize: number;
  readonly afterstateSize: number;
  initialInference(observations: Observation, batchSize: number): InferenceOutput;
  afterstateInference(latents: Float32Array, actions: Int32Array): AfterstateOutput;
  chanceInference(afterstates: Float32Array, codes: Int32Array): InferenceOutput;
}

/** MuZero's search settings without `twoPlayer`: values here are always one agent's. */
export type ChanceMctsConfig = Omit<MctsConfig, "twoPlayer">;

export interface ChanceSearchResult extends SearchResult {
  /** Codes tried under each root action: N(φ_a, c), [batchSize * numActions * numCodes]. */
  codeVisits: Int32Array;
  /** σ(c | φ_a) of each root action's chance node; NaN where it was never expanded. */
  codePriors: Float32Array;
  /** How many times `afterstateInference` was called. */
  afterstateCalls: number;
}

/** Stochastic MuZero's code choice: argmax σ(c) / (N(c) + 1), the lowest code among equals. */
export function selectCode(
  priors: ArrayLike<number>,
  visits: ArrayLike<number>,
  offset: number,
  numCodes: number,
): number {
  let best = 0;
  let bestScore = -Infinity;
  for (let c = 0; c < numCodes; c++) {
    const score = priors[offset + c] / (visits[offset + c] + 1);
    if (score > bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}

/** A batched search over decision and chance nodes with one model. */
export class ChanceSearch<Observation> {
  readonly model: ChanceModel<Observation>;
  readonly config: Readonly<ChanceMctsConfig>;
  readonly numActions: number;
  readonly numCodes: number;
  readonly #pbCInit: number;
  readonly #pbCBase: number;
  readonly #explorationFraction: number;

  // Decision nodes (capacity batch * (numSimulations + 1)).
  #dVisits = new Int32Array(0);
  #dValueSum = new Float64Array(0);
  /** The reward of the code edge into the node. */
  #dReward = new Float32Array(0);
  /** The chance node above, -1 at a root. */
  #dParent = new Int32Array(0);
  /** The code of the edge into the node. */
  #dCode = new Int32Array(0);
  #dTerminal = new Uint8Array(0);
  #latents = new Float32Array(0);
  /** Per decision edge (node * numActions + action): the chance node, or -1. */
  #dChild = new Int32Array(0);
  #dPrior = new Float32Array(0);
  // Chance nodes (capacity batch * numSimulations).
  #cVisits = new Int32Array(0);
  #cValueSum = new Float64Array(0);
  /** The reward of the agent's action into the afterstate. */
  #cReward = new Float32Array(0);
  #cParent = new Int32Array(0);
  #afterstates = new Float32Array(0);
  /** Per chance edge (node * numCodes + code): the decision node, or -1; and its visits. */
  #cChild = new Int32Array(0);
  #cChildVisits = new Int32Array(0);
  #cPrior = new Float32Array(0);
  // Per root.
  #minQ = new Float64Array(0);
  #maxQ = new Float64Array(0);
  #rootLegal = new Uint8Array(0);
  #noise = new Float64Array(0);
  // Per pending row of one simulation.
  #pendingRoot = new Int32Array(0);
  /** The decision node whose edge needs an afterstate, or -1 when the chance node exists. */
  #pendingDecision = new Int32Array(0);
  #pendingAction = new Int32Array(0);
  #pendingChance = new Int32Array(0);
  #pendingCode = new Int32Array(0);
  #afterstateRows = new Int32Array(0);
  #parentLatents = new Float32Array(0);
  #chanceInputs = new Float32Array(0);
  #batchCapacity = 0;
  #decisionCount = 0;
  #chanceCount = 0;

  constructor(model: ChanceModel<Observation>, config: ChanceMctsConfig) {
    checkMctsConfig(config);
    for (const field of ["numActions", "numCodes", "latentSize", "afterstateSize"] as const) {
      const value = model[field];
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`model.${field} must be a positive integer, got ${value}`);
      }
    }
    this.model = model;
    this.config = { ...config };
    this.numActions = model.numActions;
    this.numCodes = model.numCodes;
    this.#pbCInit = config.pbCInit ?? MUZERO_PUCT.pbCInit;
    this.#pbCBase = config.pbCBase ?? MUZERO_PUCT.pbCBase;
    this.#explorationFraction = config.explorationFraction ?? MUZERO_ROOT_EXPLORATION_FRACTION;
  }

  /** Searches from `batchSize` roots; `observations` go to the model's initial inference. */
  run(observations: Observation, batchSize: number, options: SearchOptions): ChanceSearchResult {
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    }
    const { legalActions } = options;
    if (legalActions !== undefined && legalActions.length !== batchSize * this.numActions) {
      throw new RangeError(
        `legalActions has ${legalActions.length} entries, expected batchSize * numActions = ` +
          `${batchSize * this.numActions}`,
      );
    }
    const temperature = options.temperature ?? 1;
    if (!(temperature >= 0)) throw new RangeError(`temperature must be >= 0, got ${temperature}`);
    this.#reserve(batchSize);
    const initial = this.model.initialInference(observations, batchSize);
    this.#check(initial.latents, batchSize * this.model.latentSize, "initialInference latents");
    this.#check(initial.values, batchSize, "initialInference values");
    this.#check(initial.policyLogits, batchSize * this.numActions, "initialInference policyLogits");
    this.#initRoots(initial, batchSize, legalActions, options);

    let modelCalls = 0;
    let afterstateCalls = 0;
    for (let simulation = 0; simulation < this.config.numSimulations; simulation++) {
      let pending = 0;
      let needAfterstate = 0;
      for (let root = 0; root < batchSize; root++) {
        const terminal = this.#descend(root, pending);
        if (terminal >= 0) {
          this.#backup(terminal, 0, root);
          continue;
        }
        if (this.#pendingDecision[pending] >= 0) this.#afterstateRows[needAfterstate++] = pending;
        pending++;
      }
      if (pending === 0) continue;
      if (needAfterstate > 0) {
        this.#expandAfterstates(needAfterstate);
        afterstateCalls++;
      }
      this.#expandChance(pending);
      modelCalls++;
    }
    return this.#results(batchSize, temperature, options.rng, modelCalls, afterstateCalls);
  }

  #check(array: ArrayLike<number> | undefined, expected: number, what: string): void {
    if (array?.length !== expected) {
      throw new RangeError(`${what} has ${array?.length} entries, expected ${expected}`);
    }
  }

  #reserve(batchSize: number): void {
    if (batchSize <= this.#batchCapacity) return;
    const { numSimulations } = this.config;
    const { latentSize, afterstateSize } = this.model;
    const decisions = batchSize * (numSimulations + 1);
    const chances = batchSize * numSimulations;
    this.#dVisits = new Int32Array(decisions);
    this.#dValueSum = new Float64Array(decisions);
    this.#dReward = new Float32Array(decisions);
    this.#dParent = new Int32Array(decisions);
    this.#dCode = new Int32Array(decisions);
    this.#dTerminal = new Uint8Array(decisions);
    this.#latents = new Float32Array(decisions * latentSize);
    this.#dChild = new Int32Array(decisions * this.numActions);
    this.#dPrior = new Float32Array(decisions * this.numActions);
    this.#cVisits = new Int32Array(chances);
    this.#cValueSum = new Float64Array(chances);
    this.#cReward = new Float32Array(chances);
    this.#cParent = new Int32Array(chances);
    this.#afterstates = new Float32Array(chances * afterstateSize);
    this.#cChild = new Int32Array(chances * this.numCodes);
    this.#cChildVisits = new Int32Array(chances * this.numCodes);
    this.#cPrior = new Float32Array(chances * this.numCodes);
    this.#minQ = new Float64Array(batchSize);
    this.#maxQ = new Float64Array(batchSize);
    this.#rootLegal = new Uint8Array(batchSize * this.numActions);
    this.#noise = new Float64Array(this.numActions);
    this.#pendingRoot = new Int32Array(batchSize);
    this.#pendingDecision = new Int32Array(batchSize);
    this.#pendingAction = new Int32Array(batchSize);
    this.#pendingChance = new Int32Array(batchSize);
    this.#pendingCode = new Int32Array(batchSize);
    this.#afterstateRows = new Int32Array(batchSize);
    this.#parentLatents = new Float32Array(batchSize * latentSize);
    this.#chanceInputs = new Float32Array(batchSize * afterstateSize);
    this.#batchCapacity = batchSize;
  }

  #initRoots(
    initial: InferenceOutput,
    batchSize: number,
    legalActions: Uint8Array | undefined,
    options: SearchOptions,
  ): void {
    const numActions = this.numActions;
    const fraction = this.#explorationFraction;
    const addNoise = (options.addNoise ?? true) && fraction > 0;
    const bounds = this.config.valueBounds;
    for (let i = 0; i < batchSize * numActions; i++) {
      this.#rootLegal[i] = legalActions === undefined || legalActions[i] !== 0 ? 1 : 0;
    }
    this.#latents.set(initial.latents);
    const noise = addNoise
      ? { alpha: this.config.dirichletAlpha, fraction, rng: options.rng, scratch: this.#noise }
      : null;
    for (let root = 0; root < batchSize; root++) {
      this.#initDecision(root, -1, 0, 0);
      setRootPrior(initial.policyLogits, this.#dPrior, this.#rootLegal, root, numActions, noise);
      // The root's own evaluation counts as its first visit, as in MuZero's search.
      this.#dVisits[root] = 1;
      this.#dValueSum[root] = initial.values[root];
      this.#minQ[root] = bounds ? bounds.min : Infinity;
      this.#maxQ[root] = bounds ? bounds.max : -Infinity;
    }
    this.#decisionCount = batchSize;
    this.#chanceCount = 0;
  }

  #initDecision(node: number, parent: number, reward: number, terminal: number): void {
    this.#dVisits[node] = 0;
    this.#dValueSum[node] = 0;
    this.#dReward[node] = reward;
    this.#dParent[node] = parent;
    this.#dTerminal[node] = terminal;
    this.#dChild.fill(-1, node * this.numActions, (node + 1) * this.numActions);
  }

  /**
   * Walks down from `root`. Returns a terminal decision node reached, or -1 after queueing the
   * expansion as pending row `row`: a new afterstate (and its first code) or a new code.
   */
  #descend(root: number, row: number): number {
    const numActions = this.numActions;
    const numCodes = this.numCodes;
    const minQ = this.#minQ[root];
    const range = this.#maxQ[root] - minQ;
    const normalise = range > 0;
    let node = root;
    for (;;) {
      if (this.#dTerminal[node] === 1) return node;
      const parentVisits = this.#dVisits[node];
      const exploration = (this.#pbCInit +
        Math.log((parentVisits + this.#pbCBase + 1) / this.#pbCBase)) * Math.sqrt(parentVisits);
      const base = node * numActions;
      const atRoot = node === root;
      let bestAction = -1;
      let bestScore = -Infinity;
      for (let a = 0; a < numActions; a++) {
        if (atRoot && this.#rootLegal[base + a] === 0) continue;
        const chance = this.#dChild[base + a];
        const prior = this.#dPrior[base + a];
        let score: number;
        if (chance < 0) {
          score = prior * exploration;
        } else {
          const n = this.#cVisits[chance];
          const q = this.#cReward[chance] + this.#cValueSum[chance] / n;
          score = (normalise ? (q - minQ) / range : q) + prior * exploration / (n + 1);
        }
        if (score > bestScore) {
          bestScore = score;
          bestAction = a;
        }
      }
      if (bestAction < 0) {
        // Only NaN scores (a model that returned NaN): take the first allowed action.
        bestAction = 0;
        while (atRoot && this.#rootLegal[base + bestAction] === 0) bestAction++;
      }
      this.#pendingRoot[row] = root;
      const chance = this.#dChild[base + bestAction];
      if (chance < 0) {
        this.#pendingDecision[row] = node;
        this.#pendingAction[row] = bestAction;
        return -1;
      }
      const code = selectCode(this.#cPrior, this.#cChildVisits, chance * numCodes, numCodes);
      const next = this.#cChild[chance * numCodes + code];
      if (next < 0) {
        this.#pendingDecision[row] = -1;
        this.#pendingChance[row] = chance;
        this.#pendingCode[row] = code;
        return -1;
      }
      node = next;
    }
  }

  /** One afterstate call for the rows whose decision edge is new; each gets its first code. */
  #expandAfterstates(count: number): void {
    const { latentSize, afterstateSize } = this.model;
    const numCodes = this.numCodes;
    const actions = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const row = this.#afterstateRows[i];
      const parent = this.#pendingDecision[row];
      this.#parentLatents.set(
        this.#latents.subarray(parent * latentSize, (parent + 1) * latentSize),
        i * latentSize,
      );
      actions[i] = this.#pendingAction[row];
    }
    const output = this.model.afterstateInference(
      this.#parentLatents.subarray(0, count * latentSize),
      actions,
    );
    this.#check(output.afterstates, count * afterstateSize, "afterstateInference afterstates");
    this.#check(output.rewards, count, "afterstateInference rewards");
    this.#check(output.codeLogits, count * numCodes, "afterstateInference codeLogits");
    for (let i = 0; i < count; i++) {
      const row = this.#afterstateRows[i];
      const parent = this.#pendingDecision[row];
      const chance = this.#chanceCount++;
      this.#cVisits[chance] = 0;
      this.#cValueSum[chance] = 0;
      this.#cReward[chance] = output.rewards[i];
      this.#cParent[chance] = parent;
      this.#cChild.fill(-1, chance * numCodes, (chance + 1) * numCodes);
      this.#cChildVisits.fill(0, chance * numCodes, (chance + 1) * numCodes);
      this.#afterstates.set(
        output.afterstates.subarray(i * afterstateSize, (i + 1) * afterstateSize),
        chance * afterstateSize,
      );
      maskedSoftmax(
        output.codeLogits,
        i * numCodes,
        this.#cPrior,
        chance * numCodes,
        numCodes,
        null,
        0,
      );
      this.#dChild[parent * this.numActions + this.#pendingAction[row]] = chance;
      this.#pendingChance[row] = chance;
      this.#pendingCode[row] = selectCode(
        this.#cPrior,
        this.#cChildVisits,
        chance * numCodes,
        numCodes,
      );
    }
  }

  /** One chance call for every pending row: a new decision node each, backed up. */
  #expandChance(count: number): void {
    const { latentSize, afterstateSize } = this.model;
    const numActions = this.numActions;
    const codes = new Int32Array(count);
    for (let row = 0; row < count; row++) {
      const chance = this.#pendingChance[row];
      this.#chanceInputs.set(
        this.#afterstates.subarray(chance * afterstateSize, (chance + 1) * afterstateSize),
        row * afterstateSize,
      );
      codes[row] = this.#pendingCode[row];
    }
    const output = this.model.chanceInference(
      this.#chanceInputs.subarray(0, count * afterstateSize),
      codes,
    );
    this.#check(output.latents, count * latentSize, "chanceInference latents");
    this.#check(output.rewards, count, "chanceInference rewards");
    this.#check(output.values, count, "chanceInference values");
    this.#check(output.policyLogits, count * numActions, "chanceInference policyLogits");
    for (let row = 0; row < count; row++) {
      const chance = this.#pendingChance[row];
      const node = this.#decisionCount++;
      const terminal = output.terminal !== undefined && output.terminal[row] === 1 ? 1 : 0;
      this.#initDecision(node, chance, output.rewards[row], terminal);
      this.#cChild[chance * this.numCodes + codes[row]] = node;
      this.#dCode[node] = codes[row];
      this.#latents.set(
        output.latents.subarray(row * latentSize, (row + 1) * latentSize),
        node * latentSize,
      );
      if (terminal === 0) {
        maskedSoftmax(
          output.policyLogits,
          row * numActions,
          this.#dPrior,
          node * numActions,
          numActions,
          null,
          0,
        );
      }
      this.#backup(node, terminal ? 0 : output.values[row], this.#pendingRoot[row]);
    }
  }

  /** Adds `value` (the return from decision node `leaf` on) to it and every node above. */
  #backup(leaf: number, value: number, root: number): void {
    const discount = this.config.discount;
    const numCodes = this.numCodes;
    let node = leaf;
    let ret = value;
    let minQ = this.#minQ[root];
    let maxQ = this.#maxQ[root];
    for (;;) {
      this.#dValueSum[node] += ret;
      this.#dVisits[node]++;
      const chance = this.#dParent[node];
      if (chance < 0) break;
      ret = this.#dReward[node] + discount * ret;
      this.#cValueSum[chance] += ret;
      this.#cVisits[chance]++;
      this.#cChildVisits[chance * numCodes + this.#dCode[node]]++;
      const q = this.#cReward[chance] + this.#cValueSum[chance] / this.#cVisits[chance];
      if (q < minQ) minQ = q;
      if (q > maxQ) maxQ = q;
      ret = this.#cReward[chance] + ret;
      node = this.#cParent[chance];
    }
    this.#minQ[root] = minQ;
    this.#maxQ[root] = maxQ;
  }

  #results(
    batchSize: number,
    temperature: number,
    rng: Rng,
    modelCalls: number,
    afterstateCalls: number,
  ): ChanceSearchResult {
    const numActions = this.numActions;
    const numCodes = this.numCodes;
    const size = batchSize * numActions;
    const result: ChanceSearchResult = {
      batchSize,
      numActions,
      visitCounts: new Int32Array(size),
      searchPolicy: new Float32Array(size),
      actions: new Int32Array(batchSize),
      rootValues: new Float32Array(batchSize),
      qValues: new Float32Array(size).fill(Number.NaN),
      rootPriors: this.#dPrior.slice(0, size),
      minQ: new Float32Array(batchSize),
      maxQ: new Float32Array(batchSize),
      modelCalls,
      codeVisits: new Int32Array(size * numCodes),
      codePriors: new Float32Array(size * numCodes).fill(Number.NaN),
      afterstateCalls,
    };
    for (let root = 0; root < batchSize; root++) {
      const base = root * numActions;
      let total = 0;
      for (let a = 0; a < numActions; a++) {
        const chance = this.#dChild[base + a];
        if (chance < 0) continue;
        const n = this.#cVisits[chance];
        result.visitCounts[base + a] = n;
        result.qValues[base + a] = this.#cReward[chance] + this.#cValueSum[chance] / n;
        total += n;
        for (let c = 0; c < numCodes; c++) {
          result.codeVisits[(base + a) * numCodes + c] = this.#cChildVisits[chance * numCodes + c];
          result.codePriors[(base + a) * numCodes + c] = this.#cPrior[chance * numCodes + c];
        }
      }
      for (let a = 0; a < numActions; a++) {
        result.searchPolicy[base + a] = result.visitCounts[base + a] / total;
      }
      result.rootValues[root] = this.#dValueSum[root] / this.#dVisits[root];
      result.minQ[root] = this.#minQ[root];
      result.maxQ[root] = this.#maxQ[root];
      result.actions[root] = selectByVisitCount(
        result.visitCounts,
        base,
        numActions,
        temperature,
        rng,
      );
    }
    return result;
  }
}
