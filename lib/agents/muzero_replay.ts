/**
 * MuZero's replay buffer and training targets (Schrittwieser et al. 2020, "Mastering Atari, Go,
 * chess and shogi by planning with a learned model", Section 3 and Appendix G "Training").
 *
 * Whole games are stored, each position with the search's policy π_t and value ν_t, the action
 * played and the reward it earned. A training sample is a position t and the K actions played
 * after it; its targets at unroll step k are
 *
 *   policy  π_{t+k},
 *   reward  u_{t+k}         (the reward of the action that led to step k, for k ≥ 1),
 *   value   z_{t+k} = u_{t+k+1} + γ u_{t+k+2} + ... + γ^{n-1} u_{t+k+n} + γ^n ν_{t+k+n},
 *
 * with γ negated in two-player games, since every reward is seen by the player who moved and
 * every value by the player to move (the convention of lib/planners/mcts.ts). Board games
 * bootstrap to the end of the game (n = the longest game), Atari n = 10 steps. Past the end of a
 * game the states are absorbing: reward and value 0, no policy target, and random actions. An
 * episode cut by a time limit instead bootstraps from the value of its last observation and has
 * no targets past its end.
 *
 * Sampling is prioritised (Schaul et al. 2016, as the paper does for Atari): position i is drawn
 * with P(i) = p_i^α / Σ_k p_k^α, where p_i = |ν_i - z_i| when the game is stored and the network's
 * error |v_i - z_i| once it has trained on it, and the loss is weighted by (1 / (N P(i)))^β,
 * divided by the batch's largest weight as Schaul et al. do. α = 0 samples uniformly, as the paper
 * does for board games.
 *
 * Two of EfficientZero's additions (Ye et al. 2021) reach into the samples, each only when its
 * config field is set: the observations o_{t+1..t+K} the dynamics should agree with (the
 * consistency loss), and a value horizon that shrinks with the age of the sampled position
 * (the off-policy correction, lib/agents/efficientzero_targets.ts). Every game remembers the
 * environment step its first position was collected at, so a position's age is known.
 */
import type { Rng } from "../rng.ts";
import { offPolicyTdSteps } from "./efficientzero_targets.ts";

/** One finished game (or episode) as self-play or evaluation recorded it. */
export interface GameRecord {
  /** Decisions T. */
  length: number;
  /** o_t for t < T, [T * observationSize]. */
  observations: Float32Array;
  /** a_t, [T]. */
  actions: Int32Array;
  /** u_{t+1}: the reward of a_t, seen by the player who played it, [T]. */
  rewards: Float32Array;
  /** ν_t: the search's root value for the player to move, [T]. */
  rootValues: Float32Array;
  /** π_t: the search's visit distribution, [T * numActions]. */
  policies: Float32Array;
  /** Legal actions at each position (1) for searches on stored positions, [T * numActions]. */
  legalMasks: Uint8Array;
  /** Ended by the task's rules; false when a time limit cut it. */
  terminated: boolean;
  /** The observation after the last action, [observationSize]. */
  finalObservation: Float32Array;
  /** The value of `finalObservation` for the player to move there (used when cut, else 0). */
  finalValue: number;
}

export interface MuZeroReplayConfig {
  observationSize: number;
  numActions: number;
  /** Games kept; the oldest leave first (the pseudocode's window_size). */
  capacityGames: number;
  /** K. */
  unrollSteps: number;
  /** n of the value target. */
  tdSteps: number;
  /** γ. */
  discount: number;
  twoPlayer: boolean;
  /** α (the paper: 1; 0 samples uniformly). */
  priorityExponent: number;
  /** β (the paper: 1). */
  importanceExponent: number;
  /** Added to every priority so that no position stops being drawn. */
  priorityFloor: number;
  /** Samples carry o_{t+1..t+K} for EfficientZero's consistency loss (default: no). */
  targetObservations?: boolean;
  /** The value horizon shrinks with the data's age (EfficientZero's correction; default: no). */
  offPolicyCorrection?: { ageStepsPerHorizonStep: number };
}

/** A batch of samples, row-major; arrays reused from one call of `sample` to the next. */
export interface MuZeroBatch {
  size: number;
  unrollSteps: number;
  /** [B * observationSize]. */
  observations: Float32Array;
  /** [B * K]. */
  actions: Int32Array;
  /** z per step, [B * (K + 1)]. */
  targetValues: Float32Array;
  /** u per step (step 0 unused), [B * (K + 1)]. */
  targetRewards: Float32Array;
  /** π per step, [B * (K + 1) * numActions]. */
  targetPolicies: Float32Array;
  /** 1 where a step has a value and reward target, [B * (K + 1)]. */
  valueMask: Float32Array;
  /** 1 where a step has a policy target, [B * (K + 1)]. */
  policyMask: Float32Array;
  /** Importance-sampling weights, [B]. */
  weights: Float32Array;
  /** Where each sample came from, for priority updates. */
  gameIds: Int32Array;
  positions: Int32Array;
  /** n of each sample's value targets (shorter for old data under the off-policy correction). */
  tdSteps: Int32Array;
  /** o_{t+k} for k = 1..K, [B * K * observationSize], when the config asks for them. */
  nextObservations: Float32Array | null;
  /** 1 where o_{t+k} exists (t + k ≤ T; o_T is the final observation), [B * K]. */
  nextObservationMask: Float32Array | null;
}

const MAGIC = "MUZERO-REPLAY-1";

/** A stored game with its bookkeeping. */
interface StoredGame {
  id: number;
  /** The environment step (over every game ever added) of its first position. */
  firstStep: number;
  record: GameRecord;
  /** p_t^α per position. */
  weights: Float64Array;
  total: number;
}

export class MuZeroReplay {
  readonly config: Readonly<MuZeroReplayConfig>;
  #games: StoredGame[] = [];
  /** Ids are counted from 0 over every game ever added, so a resumed buffer keeps them. */
  #nextId = 0;
  /** Positions ever added (stored or already dropped). */
  #stepsAdded = 0;
  #cumulative = new Float64Array(0);
  #cumulativeDirty = true;
  #positions = 0;

  constructor(config: MuZeroReplayConfig) {
    for (const name of ["observationSize", "numActions", "capacityGames", "unrollSteps"] as const) {
      if (!Number.isInteger(config[name]) || config[name] < 1) {
        throw new RangeError(
          `MuZeroReplay: ${name} must be a positive integer, got ${config[name]}`,
        );
      }
    }
    if (!Number.isInteger(config.tdSteps) || config.tdSteps < 1) {
      throw new RangeError(
        `MuZeroReplay: tdSteps must be a positive integer, got ${config.tdSteps}`,
      );
    }
    if (!(config.discount >= 0 && config.discount <= 1)) {
      throw new RangeError(`MuZeroReplay: discount must be in [0, 1], got ${config.discount}`);
    }
    if (!(config.priorityFloor > 0)) {
      throw new RangeError(
        `MuZeroReplay: priorityFloor must be positive, got ${config.priorityFloor}`,
      );
    }
    this.config = { ...config };
  }

  /** Games stored now. */
  get numGames(): number {
    return this.#games.length;
  }

  /** Games ever added (stored or already dropped). */
  get gamesAdded(): number {
    return this.#nextId;
  }

  /** Positions stored now. */
  get numPositions(): number {
    return this.#positions;
  }

  /** Positions ever added: the environment steps collected so far. */
  get stepsAdded(): number {
    return this.#stepsAdded;
  }

  /** Environment steps collected after position t of game `id` was (the newest: 0). */
  ageOf(id: number, t: number): number {
    const stored = this.#find(id);
    if (!stored) throw new RangeError(`MuZeroReplay: game ${id} is not stored`);
    return this.#stepsAdded - 1 - (stored.firstStep + t);
  }

  /** The stored games, oldest first, with their ids. */
  games(): { id: number; record: GameRecord }[] {
    return this.#games.map(({ id, record }) => ({ id, record }));
  }

  /** The stored game with this id, or null when it left the buffer. */
  game(id: number): GameRecord | null {
    return this.#find(id)?.record ?? null;
  }

  /** Stores a game with priorities |ν_t - z_t|; drops the oldest beyond capacity. */
  addGame(record: GameRecord): number {
    this.#check(record);
    const stored: StoredGame = {
      id: this.#nextId++,
      firstStep: this.#stepsAdded,
      record,
      weights: new Float64Array(record.length),
      total: 0,
    };
    this.#games.push(stored);
    this.#positions += record.length;
    this.#stepsAdded += record.length;
    this.refreshPriorities(stored.id);
    while (this.#games.length > this.config.capacityGames) {
      this.#positions -= this.#games.shift()!.record.length;
    }
    this.#cumulativeDirty = true;
    return stored.id;
  }

  /** Recomputes a game's priorities from its stored search values (after Reanalyse, say). */
  refreshPriorities(id: number): void {
    const stored = this.#find(id);
    if (!stored) return;
    const { record } = stored;
    stored.total = 0;
    for (let t = 0; t < record.length; t++) {
      const error = Math.abs(record.rootValues[t] - this.valueTarget(record, t));
      stored.weights[t] = this.#priorityWeight(error);
      stored.total += stored.weights[t];
    }
    this.#cumulativeDirty = true;
  }

  /**
   * z_t: n-step return with the search value at t + n as bootstrap; past the end, the final
   * value of a cut episode or nothing (0) after a terminal state. n is the config's unless given.
   */
  valueTarget(record: GameRecord, t: number, tdSteps = this.config.tdSteps): number {
    const { discount, twoPlayer } = this.config;
    const factor = twoPlayer ? -discount : discount;
    const T = record.length;
    if (t >= T) return record.terminated ? 0 : record.finalValue;
    const bootstrap = t + tdSteps;
    let value = 0;
    let scale = 1;
    for (let i = t; i < Math.min(bootstrap, T); i++) {
      value += scale * record.rewards[i];
      scale *= factor;
    }
    if (bootstrap < T) value += scale * record.rootValues[bootstrap];
    else if (!record.terminated) value += scale * record.finalValue;
    return value;
  }

  /** An empty batch for `sample` to fill again and again. */
  allocateBatch(size: number): MuZeroBatch {
    const { observationSize, numActions, unrollSteps } = this.config;
    const steps = unrollSteps + 1;
    return {
      size,
      unrollSteps,
      observations: new Float32Array(size * observationSize),
      actions: new Int32Array(size * unrollSteps),
      targetValues: new Float32Array(size * steps),
      targetRewards: new Float32Array(size * steps),
      targetPolicies: new Float32Array(size * steps * numActions),
      valueMask: new Float32Array(size * steps),
      policyMask: new Float32Array(size * steps),
      weights: new Float32Array(size),
      gameIds: new Int32Array(size),
      positions: new Int32Array(size),
      tdSteps: new Int32Array(size),
      nextObservations: this.config.targetObservations
        ? new Float32Array(size * unrollSteps * observationSize)
        : null,
      nextObservationMask: this.config.targetObservations
        ? new Float32Array(size * unrollSteps)
        : null,
    };
  }

  /** n of the value targets of position t of a stored game, by the data's age when corrected. */
  tdStepsOf(id: number, t: number): number {
    const correction = this.config.offPolicyCorrection;
    if (!correction) return this.config.tdSteps;
    return offPolicyTdSteps(
      this.config.tdSteps,
      this.ageOf(id, t),
      correction.ageStepsPerHorizonStep,
    );
  }

  /**
   * Recomputes a batch's value targets from the stored games, with each sample's n (after fresh
   * bootstrap values were written into them, say). Games that left the buffer keep their targets.
   */
  refillValueTargets(batch: MuZeroBatch): void {
    const steps = batch.unrollSteps + 1;
    for (let row = 0; row < batch.size; row++) {
      const record = this.game(batch.gameIds[row]);
      if (!record) continue;
      for (let k = 0; k < steps; k++) {
        const cell = row * steps + k;
        batch.targetValues[cell] = batch.valueMask[cell]
          ? this.valueTarget(record, batch.positions[row] + k, batch.tdSteps[row])
          : 0;
      }
    }
  }

  /** Fills `batch` with samples drawn by priority, with replacement. */
  sample(rng: Rng, batch: MuZeroBatch): MuZeroBatch {
    if (this.#positions === 0) throw new Error("MuZeroReplay: cannot sample from an empty buffer");
    this.#rebuildCumulative();
    const { importanceExponent } = this.config;
    const grandTotal = this.#cumulative[this.#games.length - 1];
    let largestWeight = 0;
    for (let row = 0; row < batch.size; row++) {
      const { stored, position, probability } = this.#draw(rng, grandTotal);
      this.#fillRow(batch, row, stored, position, rng);
      const weight = Math.pow(1 / (this.#positions * probability), importanceExponent);
      batch.weights[row] = weight;
      largestWeight = Math.max(largestWeight, weight);
    }
    for (let row = 0; row < batch.size; row++) batch.weights[row] /= largestWeight;
    return batch;
  }

  /** Sets new priorities |v - z| for sampled positions (games that left the buffer are skipped). */
  updatePriorities(gameIds: Int32Array, positions: Int32Array, errors: ArrayLike<number>): void {
    for (let i = 0; i < gameIds.length; i++) {
      const stored = this.#find(gameIds[i]);
      if (!stored) continue;
      const weight = this.#priorityWeight(Math.abs(errors[i]));
      stored.total += weight - stored.weights[positions[i]];
      stored.weights[positions[i]] = weight;
    }
    this.#cumulativeDirty = true;
  }

  #priorityWeight(error: number): number {
    const priority = (Number.isFinite(error) ? error : 0) + this.config.priorityFloor;
    return Math.pow(priority, this.config.priorityExponent);
  }

  #rebuildCumulative(): void {
    if (!this.#cumulativeDirty) return;
    if (this.#cumulative.length < this.#games.length) {
      this.#cumulative = new Float64Array(Math.max(16, 2 * this.#games.length));
    }
    let running = 0;
    for (let i = 0; i < this.#games.length; i++) {
      const stored = this.#games[i];
      running += stored.total;
      this.#cumulative[i] = running;
    }
    this.#cumulativeDirty = false;
  }

  #draw(
    rng: Rng,
    grandTotal: number,
  ): { stored: StoredGame; position: number; probability: number } {
    const target = rng.next() * grandTotal;
    // The first game whose cumulative total exceeds the target.
    let low = 0;
    let high = this.#games.length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.#cumulative[middle] > target) high = middle;
      else low = middle + 1;
    }
    const stored = this.#games[low];
    let within = target - (low > 0 ? this.#cumulative[low - 1] : 0);
    let position = 0;
    while (position < stored.record.length - 1 && within >= stored.weights[position]) {
      within -= stored.weights[position];
      position++;
    }
    return { stored, position, probability: stored.weights[position] / grandTotal };
  }

  #fillRow(batch: MuZeroBatch, row: number, stored: StoredGame, t: number, rng: Rng): void {
    const { observationSize, numActions, unrollSteps } = this.config;
    const record = stored.record;
    const T = record.length;
    const steps = unrollSteps + 1;
    batch.gameIds[row] = stored.id;
    batch.positions[row] = t;
    const tdSteps = this.tdStepsOf(stored.id, t);
    batch.tdSteps[row] = tdSteps;
    batch.observations.set(
      record.observations.subarray(t * observationSize, (t + 1) * observationSize),
      row * observationSize,
    );
    for (let k = 0; k < unrollSteps; k++) {
      const index = t + k;
      batch.actions[row * unrollSteps + k] = index < T
        ? record.actions[index]
        : rng.int(numActions);
    }
    for (let k = 0; k < steps; k++) {
      const index = t + k;
      const cell = row * steps + k;
      // Cut episodes have no targets past their end; finished ones are absorbing there.
      const valueKnown = record.terminated || index <= T ? 1 : 0;
      batch.valueMask[cell] = valueKnown;
      batch.targetValues[cell] = valueKnown ? this.valueTarget(record, index, tdSteps) : 0;
      batch.targetRewards[cell] = k > 0 && index - 1 < T ? record.rewards[index - 1] : 0;
      batch.policyMask[cell] = index < T ? 1 : 0;
      const policyOffset = cell * numActions;
      if (index < T) {
        batch.targetPolicies.set(
          record.policies.subarray(index * numActions, (index + 1) * numActions),
          policyOffset,
        );
      } else {
        batch.targetPolicies.fill(0, policyOffset, policyOffset + numActions);
      }
    }
    if (batch.nextObservations && batch.nextObservationMask) {
      for (let k = 1; k < steps; k++) {
        const index = t + k;
        const cell = row * unrollSteps + k - 1;
        const offset = cell * observationSize;
        const source = index < T
          ? record.observations.subarray(index * observationSize, (index + 1) * observationSize)
          : index === T
          ? record.finalObservation
          : null;
        batch.nextObservationMask[cell] = source ? 1 : 0;
        if (source) batch.nextObservations.set(source, offset);
        else batch.nextObservations.fill(0, offset, offset + observationSize);
      }
    }
  }

  #find(id: number): StoredGame | null {
    // Ids increase along the buffer: a binary search.
    let low = 0;
    let high = this.#games.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const candidate = this.#games[middle].id;
      if (candidate === id) return this.#games[middle];
      if (candidate < id) low = middle + 1;
      else high = middle - 1;
    }
    return null;
  }

  #check(record: GameRecord): void {
    const { observationSize, numActions } = this.config;
    const T = record.length;
    const expect = (name: string, length: number, expected: number) => {
      if (length !== expected) {
        throw new RangeError(`MuZeroReplay: ${name} has ${length} entries, expected ${expected}`);
      }
    };
    if (!Number.isInteger(T) || T < 1) {
      throw new RangeError(`MuZeroReplay: a game needs at least one decision, got ${T}`);
    }
    expect("observations", record.observations.length, T * observationSize);
    expect("actions", record.actions.length, T);
    expect("rewards", record.rewards.length, T);
    expect("rootValues", record.rootValues.length, T);
    expect("policies", record.policies.length, T * numActions);
    expect("legalMasks", record.legalMasks.length, T * numActions);
    expect("finalObservation", record.finalObservation.length, observationSize);
  }

  /** The buffer as bytes: a JSON header, then each game's arrays as float32. */
  serialize(): Uint8Array {
    const { observationSize, numActions } = this.config;
    const games = this.#games.map(({ id, firstStep, record, weights }) => ({
      id,
      firstStep,
      length: record.length,
      terminated: record.terminated,
      finalValue: record.finalValue,
      // Priorities as trained on, so a resumed run samples as the uninterrupted one would.
      weights: Array.from(weights),
    }));
    const header = new TextEncoder().encode(
      JSON.stringify({
        magic: MAGIC,
        config: this.config,
        nextId: this.#nextId,
        stepsAdded: this.#stepsAdded,
        games,
      }) + "\n",
    );
    const floats = this.#games.reduce(
      (sum, { record }) => sum + floatsPerGame(record.length, observationSize, numActions),
      0,
    );
    const headerBytes = Math.ceil(header.length / 4) * 4;
    const out = new Uint8Array(4 + headerBytes + 4 * floats);
    new DataView(out.buffer).setUint32(0, headerBytes, true);
    out.fill(0x20, 4, 4 + headerBytes);
    out.set(header, 4);
    const data = new Float32Array(out.buffer, 4 + headerBytes, floats);
    let offset = 0;
    for (const { record } of this.#games) {
      for (
        const array of [
          record.observations,
          record.actions,
          record.rewards,
          record.rootValues,
          record.policies,
          record.legalMasks,
          record.finalObservation,
        ]
      ) {
        data.set(array, offset);
        offset += array.length;
      }
    }
    return out;
  }

  /** Reads what `serialize` wrote; a RangeError says what is wrong otherwise. */
  static deserialize(bytes: Uint8Array): MuZeroReplay {
    if (bytes.length < 4) throw new RangeError("replay file is truncated");
    const copy = bytes.slice();
    const headerBytes = new DataView(copy.buffer).getUint32(0, true);
    if (4 + headerBytes > copy.length) throw new RangeError("replay file is truncated");
    let header: {
      magic: string;
      config: MuZeroReplayConfig;
      nextId: number;
      /** Absent in files written before ages were kept. */
      stepsAdded?: number;
      games: {
        id: number;
        firstStep?: number;
        length: number;
        terminated: boolean;
        finalValue: number;
        weights: number[];
      }[];
    };
    try {
      header = JSON.parse(new TextDecoder().decode(copy.subarray(4, 4 + headerBytes)));
    } catch {
      throw new RangeError("replay file has an unreadable header");
    }
    if (header.magic !== MAGIC) throw new RangeError("not a MuZero replay file");
    const { observationSize, numActions } = header.config;
    const floats = header.games.reduce(
      (sum, g) => sum + floatsPerGame(g.length, observationSize, numActions),
      0,
    );
    if (copy.length !== 4 + headerBytes + 4 * floats) {
      throw new RangeError(
        `replay file holds ${copy.length} bytes, its header promises ${
          4 + headerBytes + 4 * floats
        }`,
      );
    }
    const replay = new MuZeroReplay(header.config);
    const data = new Float32Array(copy.buffer, 4 + headerBytes, floats);
    let offset = 0;
    const take = (n: number) => data.slice(offset, offset += n);
    // Older files: dropped games' steps are unknown, so ages count from the first stored game.
    let step = 0;
    for (const game of header.games) {
      const firstStep = game.firstStep ?? step;
      step = firstStep + game.length;
      const T = game.length;
      const record: GameRecord = {
        length: T,
        observations: take(T * observationSize),
        actions: Int32Array.from(take(T)),
        rewards: take(T),
        rootValues: take(T),
        policies: take(T * numActions),
        legalMasks: Uint8Array.from(take(T * numActions)),
        finalObservation: take(observationSize),
        terminated: game.terminated,
        finalValue: game.finalValue,
      };
      const weights = Float64Array.from(game.weights);
      replay.#games.push({
        id: game.id,
        firstStep,
        record,
        weights,
        total: weights.reduce((a, b) => a + b, 0),
      });
      replay.#positions += T;
    }
    replay.#nextId = header.nextId;
    replay.#stepsAdded = header.stepsAdded ?? step;
    replay.#cumulativeDirty = true;
    return replay;
  }
}

function floatsPerGame(length: number, observationSize: number, numActions: number): number {
  return length * (observationSize + 3 + 2 * numActions) + observationSize;
}
