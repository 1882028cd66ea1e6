/**
 * The Monte Carlo tree search of MuZero (Schrittwieser et al. 2020, "Mastering Atari, Go, chess
 * and shogi by planning with a learned model", Appendix B "Search", and the pseudocode published
 * with the paper), run on many roots at once.
 *
 * Every simulation descends each root's tree by pUCT,
 *
 *   a = argmax_a  Q̄(s, a) + P(s, a) · sqrt(N(s)) / (1 + N(s, a))
 *                            · (c1 + log((N(s) + c2 + 1) / c2)),
 *
 * expands one leaf per root with a single batched call of the model's recurrent function, and
 * backs the leaf's value up the path: each edge's return is G = r + γ·G', with the sign of G'
 * flipped at every ply in two-player zero-sum games, so every node's value is seen by the player
 * to move there and every reward by the player who acted. Q̄ is Q rescaled to [0, 1] by the
 * smallest and largest Q seen so far in that root's tree (or given bounds); an unvisited edge
 * counts as Q̄ = 0, as in the pseudocode. The root's priors are restricted to the legal actions
 * and mixed with Dirichlet noise; interior nodes take every action, since a learned model does
 * not know the rules (a model that does may report terminal states, which are then never
 * expanded and back up a value of 0).
 *
 * Two choices go beyond the paper's formula. N(s) counts a node's own expansion as one visit,
 * as the pseudocode does for interior nodes and mctx does everywhere: the root starts with one
 * visit carrying the model's value, so even the first simulation follows the prior. Ties in pUCT
 * go to the lowest action, so a search without noise is deterministic.
 *
 * Node statistics live in typed arrays sized once per batch, and latent states in one
 * `Float32Array` of rows: a simulation allocates nothing but what the model returns.
 */
import type { Rng } from "../rng.ts";

/** Constants of the pUCT rule (Appendix B): c1 and c2. */
export const MUZERO_PUCT = { pbCInit: 1.25, pbCBase: 19652 } as const;

/** Fraction of the root prior replaced by Dirichlet noise (Appendix B, as in AlphaZero). */
export const MUZERO_ROOT_EXPLORATION_FRACTION = 0.25;

/**
 * Dirichlet α per game in the pseudocode: chess 0.3, shogi 0.15, Go 0.03 (about 10 over the
 * typical number of legal moves) and Atari 0.25.
 */
export const MUZERO_DIRICHLET_ALPHA = { chess: 0.3, shogi: 0.15, go: 0.03, atari: 0.25 } as const;

/** Rewards and values of the paper's board games lie in [-1, 1]. */
export const BOARD_GAME_VALUE_BOUNDS = { min: -1, max: 1 } as const;

/** What one inference call returns for a batch of B states. */
export interface InferenceOutput {
  /** The hidden states s^k, row-major [B * latentSize]. */
  latents: Float32Array;
  /**
   * r^k: the reward for the action that led here, seen by the player who took it, [B]. Ignored
   * for initial inference.
   */
  rewards: Float32Array;
  /** v^k: the value of the new state, seen by the player to move in it, [B]. */
  values: Float32Array;
  /** p^k as logits over every action, row-major [B * numActions]; -Infinity means prior 0. */
  policyLogits: Float32Array;
  /**
   * 1 where the state is known to be terminal, [B]. Only a model that knows the rules says so;
   * a learned model leaves it out. Ignored for initial inference.
   */
  terminal?: Uint8Array;
}

/**
 * MuZero's learned model as the search sees it: the representation h and prediction f together
 * (`initialInference`), and the dynamics g with f (`recurrentInference`). Each is called once per
 * simulation for the whole batch, so a TensorFlow.js network can answer with one batched pass and
 * one read-back. Latent states are rows of floats; the search stores them and hands back the rows
 * of the parents it expands. The search copies what it needs out of an `InferenceOutput` before
 * calling again, so a model may return the same buffers every time.
 */
export interface MuZeroModel<Observation> {
  readonly numActions: number;
  /** Numbers in one latent row. */
  readonly latentSize: number;
  /** h then f on the observations of `batchSize` roots, in any batch form the model likes. */
  initialInference(observations: Observation, batchSize: number): InferenceOutput;
  /**
   * g then f: `parentLatents` [B * latentSize], `actions` [B]. B is the number of roots that need
   * a new node in this simulation: all of them, unless some reached a terminal state.
   */
  recurrentInference(parentLatents: Float32Array, actions: Int32Array): InferenceOutput;
}

export interface MctsConfig {
  /** Simulations per search (the paper: 800 for board games, 50 for Atari). */
  numSimulations: number;
  /** γ (the paper: 1 for board games, 0.997 for Atari). */
  discount: number;
  /** Two players who alternate moves in a zero-sum game: values change sign at every ply. */
  twoPlayer: boolean;
  /** Dirichlet α of the root noise (see `MUZERO_DIRICHLET_ALPHA`). */
  dirichletAlpha: number;
  /** Share of the root prior replaced by noise (default 0.25). */
  explorationFraction?: number;
  /** c1 (default 1.25). */
  pbCInit?: number;
  /** c2 (default 19652). */
  pbCBase?: number;
  /**
   * Known range of Q, the starting point of the min-max normalisation (the pseudocode uses
   * [-1, 1] for board games and none for Atari).
   */
  valueBounds?: { min: number; max: number };
}

/** MuZero's board-game settings (the pseudocode's `make_board_game_config`), minus α. */
export const MUZERO_BOARD_GAME_SETTINGS: Omit<MctsConfig, "dirichletAlpha"> = {
  numSimulations: 800,
  discount: 1,
  twoPlayer: true,
  valueBounds: BOARD_GAME_VALUE_BOUNDS,
};

/** MuZero's Atari settings (the pseudocode's `make_atari_config`). */
export const MUZERO_ATARI_SETTINGS: MctsConfig = {
  numSimulations: 50,
  discount: 0.997,
  twoPlayer: false,
  dirichletAlpha: MUZERO_DIRICHLET_ALPHA.atari,
};

export interface SearchOptions {
  /** Draws the root noise and, with a temperature above 0, the chosen actions. */
  rng: Rng;
  /**
   * Nonzero for each legal root action, [batchSize * numActions] (default: every action is
   * legal). Interior nodes take every action.
   */
  legalActions?: Uint8Array;
  /** Mix Dirichlet noise into the root priors, as in self-play (default true). */
  addNoise?: boolean;
  /**
   * The action is drawn with probability ∝ N(root, a)^(1/T); 0 takes the most visited (default
   * 1, the paper's temperature early in a game; 0 for evaluation).
   */
  temperature?: number;
}

/** Per-root results, row-major over [batchSize] or [batchSize * numActions]. */
export interface SearchResult {
  batchSize: number;
  numActions: number;
  /** N(root, a); they sum to `numSimulations` per root and are 0 for illegal actions. */
  visitCounts: Int32Array;
  /** Visit counts divided by their sum: the policy target of MuZero's training. */
  searchPolicy: Float32Array;
  /** The chosen action per root, always legal. */
  actions: Int32Array;
  /**
   * The root's value for the player to move: the mean of the model's value and the
   * `numSimulations` returns backed up through the root.
   */
  rootValues: Float32Array;
  /** Q(root, a) for the player to move; NaN where never visited. */
  qValues: Float32Array;
  /** The priors the root searched with: legal actions only, noise mixed in. */
  rootPriors: Float32Array;
  /** The smallest and largest Q the normalisation used at the end, per root. */
  minQ: Float32Array;
  maxQ: Float32Array;
  /** How many times `recurrentInference` was called (at most one per simulation). */
  modelCalls: number;
}

/** Draws log Gamma(shape, 1), by Marsaglia & Tsang (2000), boosted below shape 1. */
export function sampleLogGamma(shape: number, rng: Rng): number {
  if (shape < 1) {
    // Gamma(a) = Gamma(a + 1) · U^(1/a); in logs, so tiny shapes do not underflow to 0.
    let u = 0;
    while (u === 0) u = rng.next();
    return sampleLogGamma(shape + 1, rng) + Math.log(u) / shape;
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = rng.normal();
    const root = 1 + c * x;
    if (root <= 0) continue;
    const v = root * root * root;
    const u = rng.next();
    if (u > 0 && Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return Math.log(d * v);
  }
}

/** Fills out[offset .. offset + count) with one draw of a symmetric Dirichlet(α, ..., α). */
export function sampleDirichlet(
  alpha: number,
  count: number,
  rng: Rng,
  out: Float32Array | Float64Array = new Float64Array(count),
  offset = 0,
): typeof out {
  if (!(alpha > 0)) throw new RangeError(`Dirichlet alpha must be positive, got ${alpha}`);
  let largest = -Infinity;
  for (let i = 0; i < count; i++) {
    out[offset + i] = sampleLogGamma(alpha, rng);
    largest = Math.max(largest, out[offset + i]);
  }
  let total = 0;
  for (let i = 0; i < count; i++) {
    out[offset + i] = Math.exp(out[offset + i] - largest);
    total += out[offset + i];
  }
  for (let i = 0; i < count; i++) out[offset + i] /= total;
  return out;
}

/**
 * An action drawn with probability ∝ counts[offset + a]^(1/temperature), a in [0, numActions);
 * temperature 0 takes the largest count (the lowest action among equals).
 */
export function selectByVisitCount(
  counts: ArrayLike<number>,
  offset: number,
  numActions: number,
  temperature: number,
  rng: Rng,
): number {
  let best = -1;
  let most = 0;
  for (let a = 0; a < numActions; a++) {
    if (counts[offset + a] > most) {
      most = counts[offset + a];
      best = a;
    }
  }
  if (best < 0) throw new RangeError("no action has a positive visit count");
  if (temperature === 0) return best;
  // Scaled by the largest count, so a low temperature cannot overflow.
  let total = 0;
  for (let a = 0; a < numActions; a++) {
    const n = counts[offset + a];
    if (n > 0) total += Math.exp(Math.log(n / most) / temperature);
  }
  let threshold = rng.next() * total;
  for (let a = 0; a < numActions; a++) {
    const n = counts[offset + a];
    if (n === 0) continue;
    threshold -= Math.exp(Math.log(n / most) / temperature);
    if (threshold < 0) return a;
  }
  return best;
}

/** Softmax of logits[from .. from + n) into out[to ..], over the entries where mask is 1. */
export function maskedSoftmax(
  logits: Float32Array,
  from: number,
  out: Float32Array,
  to: number,
  n: number,
  mask: Uint8Array | null,
  maskOffset: number,
): void {
  let largest = -Infinity;
  for (let a = 0; a < n; a++) {
    if (mask !== null && mask[maskOffset + a] === 0) continue;
    if (logits[from + a] > largest) largest = logits[from + a];
  }
  let total = 0;
  for (let a = 0; a < n; a++) {
    const allowed = mask === null || mask[maskOffset + a] === 1;
    const p = allowed && largest !== -Infinity ? Math.exp(logits[from + a] - largest) : 0;
    out[to + a] = p;
    total += p;
  }
  if (total > 0 && Number.isFinite(total)) {
    for (let a = 0; a < n; a++) out[to + a] /= total;
    return;
  }
  // Every allowed logit was -Infinity (or not a number): fall back to uniform over the allowed.
  let allowedCount = 0;
  for (let a = 0; a < n; a++) if (mask === null || mask[maskOffset + a] === 1) allowedCount++;
  for (let a = 0; a < n; a++) {
    out[to + a] = mask === null || mask[maskOffset + a] === 1 ? 1 / allowedCount : 0;
  }
}

/**
 * A root's prior over actions: the policy's softmax over its legal actions, mixed with one
 * Dirichlet draw over those actions in action order when `noise` is given (one draw per root, in
 * root order, keeps seeded searches reproducible). Throws if the root has no legal action.
 */
export function setRootPrior(
  logits: Float32Array,
  prior: Float32Array,
  legal: Uint8Array,
  root: number,
  numActions: number,
  noise: { alpha: number; fraction: number; rng: Rng; scratch: Float64Array } | null,
): void {
  const base = root * numActions;
  let legalCount = 0;
  for (let a = 0; a < numActions; a++) legalCount += legal[base + a] === 1 ? 1 : 0;
  if (legalCount === 0) throw new RangeError(`root ${root} has no legal action to search`);
  maskedSoftmax(logits, base, prior, base, numActions, legal, base);
  if (!noise) return;
  sampleDirichlet(noise.alpha, legalCount, noise.rng, noise.scratch);
  let k = 0;
  for (let a = 0; a < numActions; a++) {
    if (legal[base + a] === 0) continue;
    prior[base + a] = prior[base + a] * (1 - noise.fraction) + noise.scratch[k++] * noise.fraction;
  }
}

/** Throws a `RangeError` naming the first setting of a search config out of its range. */
export function checkMctsConfig(config: Omit<MctsConfig, "twoPlayer">): void {
  const { numSimulations, discount, dirichletAlpha } = config;
  if (!Number.isInteger(numSimulations) || numSimulations < 1) {
    throw new RangeError(`numSimulations must be a positive integer, got ${numSimulations}`);
  }
  if (!(discount >= 0 && discount <= 1)) {
    throw new RangeError(`discount must be in [0, 1], got ${discount}`);
  }
  if (!(dirichletAlpha > 0)) {
    throw new RangeError(`dirichletAlpha must be positive, got ${dirichletAlpha}`);
  }
  const fraction = config.explorationFraction ?? MUZERO_ROOT_EXPLORATION_FRACTION;
  if (!(fraction >= 0 && fraction <= 1)) {
    throw new RangeError(`explorationFraction must be in [0, 1], got ${fraction}`);
  }
  if (config.valueBounds && !(config.valueBounds.min < config.valueBounds.max)) {
    const { min, max } = config.valueBounds;
    throw new RangeError(`valueBounds.min must be below valueBounds.max, got [${min}, ${max}]`);
  }
}

/**
 * MuZero's search over a batch of roots with one model. Buffers are kept between calls and grown
 * to the largest batch seen, so repeated searches allocate only their results.
 */
export class MuZeroSearch<Observation> {
  readonly model: MuZeroModel<Observation>;
  readonly config: Readonly<MctsConfig>;
  readonly numActions: number;
  readonly latentSize: number;
  readonly #pbCInit: number;
  readonly #pbCBase: number;
  readonly #explorationFraction: number;
  /** γ, negated in two-player games: a child's value seen from its parent. */
  readonly #childValueFactor: number;

  // Per node (capacity = batch * (numSimulations + 1)).
  #nodeVisits = new Int32Array(0);
  #nodeValueSum = new Float64Array(0);
  #nodeReward = new Float32Array(0);
  #nodeParent = new Int32Array(0);
  #nodeTerminal = new Uint8Array(0);
  #latents = new Float32Array(0);
  // Per edge (node * numActions + action).
  #edgeChild = new Int32Array(0);
  #edgePrior = new Float32Array(0);
  // Per root.
  #minQ = new Float64Array(0);
  #maxQ = new Float64Array(0);
  #rootLegal = new Uint8Array(0);
  // Per root, the pending expansion of this simulation.
  #pendingParent = new Int32Array(0);
  #pendingRoot = new Int32Array(0);
  #parentLatents = new Float32Array(0);
  #pendingActions = new Int32Array(0);
  #noise = new Float64Array(0);
  #batchCapacity = 0;
  #nodeCount = 0;
  // Views of the pending rows handed to the model, remade only when their number changes.
  #viewRows = -1;
  #parentLatentsView = new Float32Array(0);
  #actionsView = new Int32Array(0);

  constructor(model: MuZeroModel<Observation>, config: MctsConfig) {
    checkMctsConfig(config);
    if (!Number.isInteger(model.numActions) || model.numActions < 1) {
      throw new RangeError(`model.numActions must be a positive integer, got ${model.numActions}`);
    }
    if (!Number.isInteger(model.latentSize) || model.latentSize < 1) {
      throw new RangeError(`model.latentSize must be a positive integer, got ${model.latentSize}`);
    }
    this.model = model;
    this.config = { ...config };
    this.numActions = model.numActions;
    this.latentSize = model.latentSize;
    this.#pbCInit = config.pbCInit ?? MUZERO_PUCT.pbCInit;
    this.#pbCBase = config.pbCBase ?? MUZERO_PUCT.pbCBase;
    this.#explorationFraction = config.explorationFraction ?? MUZERO_ROOT_EXPLORATION_FRACTION;
    this.#childValueFactor = config.twoPlayer ? -config.discount : config.discount;
  }

  /** Searches from `batchSize` roots; `observations` go to the model's initial inference. */
  run(observations: Observation, batchSize: number, options: SearchOptions): SearchResult {
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    }
    const numActions = this.numActions;
    const { legalActions } = options;
    if (legalActions !== undefined && legalActions.length !== batchSize * numActions) {
      throw new RangeError(
        `legalActions has ${legalActions.length} entries, expected batchSize * numActions = ` +
          `${batchSize * numActions}`,
      );
    }
    const temperature = options.temperature ?? 1;
    if (!(temperature >= 0)) throw new RangeError(`temperature must be >= 0, got ${temperature}`);
    this.#reserve(batchSize);
    const initial = this.model.initialInference(observations, batchSize);
    this.#checkOutput(initial, batchSize, "initialInference");
    this.#initRoots(initial, batchSize, legalActions, options);

    let modelCalls = 0;
    const simulations = this.config.numSimulations;
    for (let simulation = 0; simulation < simulations; simulation++) {
      let pending = 0;
      for (let root = 0; root < batchSize; root++) {
        const leaf = this.#descend(root, pending);
        if (leaf >= 0) this.#backup(leaf, 0, root); // a terminal node: nothing to expand
        else pending++;
      }
      if (pending === 0) continue;
      if (pending !== this.#viewRows) {
        this.#viewRows = pending;
        this.#parentLatentsView = this.#parentLatents.subarray(0, pending * this.latentSize);
        this.#actionsView = this.#pendingActions.subarray(0, pending);
      }
      const output = this.model.recurrentInference(this.#parentLatentsView, this.#actionsView);
      modelCalls++;
      this.#checkOutput(output, pending, "recurrentInference");
      for (let row = 0; row < pending; row++) this.#expand(row, output);
    }
    return this.#results(batchSize, temperature, options.rng, modelCalls);
  }

  #reserve(batchSize: number): void {
    if (batchSize <= this.#batchCapacity) return;
    const nodes = batchSize * (this.config.numSimulations + 1);
    const edges = nodes * this.numActions;
    this.#nodeVisits = new Int32Array(nodes);
    this.#nodeValueSum = new Float64Array(nodes);
    this.#nodeReward = new Float32Array(nodes);
    this.#nodeParent = new Int32Array(nodes);
    this.#nodeTerminal = new Uint8Array(nodes);
    this.#latents = new Float32Array(nodes * this.latentSize);
    this.#edgeChild = new Int32Array(edges);
    this.#edgePrior = new Float32Array(edges);
    this.#minQ = new Float64Array(batchSize);
    this.#maxQ = new Float64Array(batchSize);
    this.#rootLegal = new Uint8Array(batchSize * this.numActions);
    this.#pendingParent = new Int32Array(batchSize);
    this.#pendingRoot = new Int32Array(batchSize);
    this.#parentLatents = new Float32Array(batchSize * this.latentSize);
    this.#pendingActions = new Int32Array(batchSize);
    this.#noise = new Float64Array(this.numActions);
    this.#batchCapacity = batchSize;
    this.#viewRows = -1;
  }

  #checkOutput(output: InferenceOutput, batch: number, where: string): void {
    const expect = (name: string, length: number | undefined, expected: number) => {
      if (length !== expected) {
        throw new RangeError(
          `${where} returned ${name} of length ${length}, ` +
            `expected ${expected} for a batch of ${batch}`,
        );
      }
    };
    expect("latents", output.latents?.length, batch * this.latentSize);
    expect("values", output.values?.length, batch);
    expect("policyLogits", output.policyLogits?.length, batch * this.numActions);
    if (where === "recurrentInference") {
      expect("rewards", output.rewards?.length, batch);
      if (output.terminal !== undefined) expect("terminal", output.terminal.length, batch);
    }
  }

  #initRoots(
    initial: InferenceOutput,
    batchSize: number,
    legalActions: Uint8Array | undefined,
    options: SearchOptions,
  ): void {
    const numActions = this.numActions;
    const addNoise = (options.addNoise ?? true) && this.#explorationFraction > 0;
    const fraction = this.#explorationFraction;
    const bounds = this.config.valueBounds;
    for (let i = 0; i < batchSize * numActions; i++) {
      this.#rootLegal[i] = legalActions === undefined || legalActions[i] !== 0 ? 1 : 0;
    }
    this.#latents.set(initial.latents);
    const noise = addNoise
      ? { alpha: this.config.dirichletAlpha, fraction, rng: options.rng, scratch: this.#noise }
      : null;
    for (let root = 0; root < batchSize; root++) {
      this.#initNode(root, -1, 0, 0);
      setRootPrior(initial.policyLogits, this.#edgePrior, this.#rootLegal, root, numActions, noise);
      this.#nodeVisits[root] = 1;
      this.#nodeValueSum[root] = initial.values[root];
      this.#minQ[root] = bounds ? bounds.min : Infinity;
      this.#maxQ[root] = bounds ? bounds.max : -Infinity;
    }
    this.#nodeCount = batchSize;
  }

  #initNode(node: number, parent: number, reward: number, terminal: number): void {
    this.#nodeVisits[node] = 0;
    this.#nodeValueSum[node] = 0;
    this.#nodeReward[node] = reward;
    this.#nodeParent[node] = parent;
    this.#nodeTerminal[node] = terminal;
    this.#edgeChild.fill(-1, node * this.numActions, (node + 1) * this.numActions);
  }

  /**
   * Walks down from `root` by pUCT. Returns a terminal node reached, or -1 after queueing the
   * expansion of an unvisited edge as pending row `row`.
   */
  #descend(root: number, row: number): number {
    const numActions = this.numActions;
    const visits = this.#nodeVisits;
    const valueSum = this.#nodeValueSum;
    const rewards = this.#nodeReward;
    const children = this.#edgeChild;
    const priors = this.#edgePrior;
    const factor = this.#childValueFactor;
    const minQ = this.#minQ[root];
    const range = this.#maxQ[root] - minQ;
    const normalise = range > 0;
    let node = root;
    for (;;) {
      if (this.#nodeTerminal[node] === 1) return node;
      const parentVisits = visits[node];
      const exploration = (this.#pbCInit +
        Math.log((parentVisits + this.#pbCBase + 1) / this.#pbCBase)) * Math.sqrt(parentVisits);
      const base = node * numActions;
      const atRoot = node === root;
      let bestAction = -1;
      let bestScore = -Infinity;
      for (let a = 0; a < numActions; a++) {
        if (atRoot && this.#rootLegal[base + a] === 0) continue;
        const child = children[base + a];
        let score: number;
        if (child < 0) {
          score = priors[base + a] * exploration;
        } else {
          const n = visits[child];
          const q = rewards[child] + factor * valueSum[child] / n;
          // Before two distinct Q values exist, the pseudocode uses Q itself.
          score = (normalise ? (q - minQ) / range : q) + priors[base + a] * exploration / (n + 1);
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
      const child = children[base + bestAction];
      if (child >= 0) {
        node = child;
        continue;
      }
      this.#pendingParent[row] = node;
      this.#pendingRoot[row] = root;
      this.#pendingActions[row] = bestAction;
      const latentSize = this.latentSize;
      for (let i = 0; i < latentSize; i++) {
        this.#parentLatents[row * latentSize + i] = this.#latents[node * latentSize + i];
      }
      return -1;
    }
  }

  #expand(row: number, output: InferenceOutput): void {
    const numActions = this.numActions;
    const latentSize = this.latentSize;
    const parent = this.#pendingParent[row];
    const node = this.#nodeCount++;
    const terminal = output.terminal !== undefined && output.terminal[row] === 1 ? 1 : 0;
    this.#initNode(node, parent, output.rewards[row], terminal);
    this.#edgeChild[parent * numActions + this.#pendingActions[row]] = node;
    for (let i = 0; i < latentSize; i++) {
      this.#latents[node * latentSize + i] = output.latents[row * latentSize + i];
    }
    if (terminal === 0) {
      maskedSoftmax(
        output.policyLogits,
        row * numActions,
        this.#edgePrior,
        node * numActions,
        numActions,
        null,
        0,
      );
    }
    this.#backup(node, terminal ? 0 : output.values[row], this.#pendingRoot[row]);
  }

  /** Adds `value` (seen by the player to move at `leaf`) to the leaf and every node above it. */
  #backup(leaf: number, value: number, root: number): void {
    const factor = this.#childValueFactor;
    let node = leaf;
    let ret = value;
    let minQ = this.#minQ[root];
    let maxQ = this.#maxQ[root];
    for (;;) {
      this.#nodeValueSum[node] += ret;
      this.#nodeVisits[node]++;
      const parent = this.#nodeParent[node];
      if (parent < 0) break;
      const reward = this.#nodeReward[node];
      const q = reward + factor * this.#nodeValueSum[node] / this.#nodeVisits[node];
      if (q < minQ) minQ = q;
      if (q > maxQ) maxQ = q;
      ret = reward + factor * ret;
      node = parent;
    }
    this.#minQ[root] = minQ;
    this.#maxQ[root] = maxQ;
  }

  #results(batchSize: number, temperature: number, rng: Rng, modelCalls: number): SearchResult {
    const numActions = this.numActions;
    const size = batchSize * numActions;
    const result: SearchResult = {
      batchSize,
      numActions,
      visitCounts: new Int32Array(size),
      searchPolicy: new Float32Array(size),
      actions: new Int32Array(batchSize),
      rootValues: new Float32Array(batchSize),
      qValues: new Float32Array(size).fill(Number.NaN),
      rootPriors: this.#edgePrior.slice(0, size),
      minQ: new Float32Array(batchSize),
      maxQ: new Float32Array(batchSize),
      modelCalls,
    };
    const factor = this.#childValueFactor;
    for (let root = 0; root < batchSize; root++) {
      const base = root * numActions;
      let total = 0;
      for (let a = 0; a < numActions; a++) {
        const child = this.#edgeChild[base + a];
        if (child < 0) continue;
        const n = this.#nodeVisits[child];
        result.visitCounts[base + a] = n;
        result.qValues[base + a] = this.#nodeReward[child] +
          factor * this.#nodeValueSum[child] / n;
        total += n;
      }
      for (let a = 0; a < numActions; a++) {
        result.searchPolicy[base + a] = result.visitCounts[base + a] / total;
      }
      result.rootValues[root] = this.#nodeValueSum[root] / this.#nodeVisits[root];
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
