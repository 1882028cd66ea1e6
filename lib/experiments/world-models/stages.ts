/**
 * The stages shared by the World Models experiments (Ha & Schmidhuber 2018, sections 3 and 5):
 * collect rollouts with a random policy, train V (the ConvVAE) on a sample of their frames,
 * encode every frame to z once, train M (the MDN-RNN) on the z sequences, and evolve C with
 * CMA-ES, either in the real environment seen through V and M, or inside M's dream.
 *
 * Frames are not kept: a rollout is saved as its seed and actions (plus a sample of frames for
 * V), and replayed through the deterministic environment when its frames are encoded.
 */
import { adam, tf } from "../../tensor/mod.ts";
import { throwIfInterrupted } from "../../errors.ts";
import { z } from "zod";
import { Rng } from "../../rng.ts";
import type { Action, Env } from "../../envs/types.ts";
import {
  controllerAct,
  controllerInputSize,
  type ControllerShape,
  writeControllerInput,
} from "../../agents/world_models_controller.ts";
import { chunksPerEpoch, type LatentEpisode, MdnRnn, trainEpoch } from "../../models/mdn_rnn.ts";
import type { LstmState } from "../../models/lstm.ts";
import { createVision, type Vision, type VisionLosses } from "./vision.ts";
import type { StageStore, StageTimer } from "./store.ts";
import type { Progress } from "../types.ts";
import { CmaEs } from "../../evolution/cmaes.ts";
import { type Frame, frameFrom } from "../../viz/image.ts";

export const FRAME_SIZE = 64 * 64 * 3;

/** Splits stored frame bytes (64x64x3 each, back to back) into frames for figures and GIFs. */
export function framesFromBytes(bytes: Uint8Array): Frame[] {
  return Array.from(
    { length: bytes.length / FRAME_SIZE },
    (_, i) => frameFrom(bytes.subarray(i * FRAME_SIZE, (i + 1) * FRAME_SIZE), [64, 64, 3]),
  );
}

/** How a task is seen by the World Models pipeline. */
export interface TaskAdapter {
  /** Short name, part of the stage files' config hash. */
  name: string;
  make(): Env<Uint8Array>;
  /** Numbers per action as M sees it (3 for CarRacing, 1 for TakeCover). */
  actionSize: number;
  /**
   * A fresh random policy for one episode, writing M's form of the action into `out`; with
   * `holdSteps` each random action is held for a random number of frames up to about that many
   * (the task's default if not given).
   */
  randomPolicy(rng: Rng, holdSteps?: number): (out: Float32Array) => void;
  /** The environment's action for M's form of an action. */
  envAction(modelAction: Float32Array): Action;
  /** M's form of the action for C's tanh outputs. */
  controllerAction(raw: Float32Array, out: Float32Array): Float32Array;
}

/** Rollouts saved as seeds and actions. */
export interface RolloutSet {
  seeds: Int32Array;
  steps: Int32Array;
  terminated: Uint8Array;
  returns: Float32Array;
  /** Every episode's actions, concatenated, [sum(steps) * actionSize]. */
  actions: Float32Array;
  /** A uniform sample of frames for training V, [count * 64 * 64 * 3]. */
  frames: Uint8Array;
}

export type ProgressFn = (progress: Progress) => void;

/** Yields to the event loop so a notebook or terminal can redraw. */
export const breathe = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Runs `numEpisodes` episodes of the random policy and keeps a reservoir sample of
 * `framesKept` frames (Vitter's algorithm R) for V.
 */
export async function collectRandomRollouts(
  task: TaskAdapter,
  options: {
    numEpisodes: number;
    maxSteps: number;
    framesKept: number;
    seedBase: number;
    actionHoldSteps?: number;
  },
  rng: Rng,
  onProgress: ProgressFn,
): Promise<RolloutSet> {
  const env = task.make();
  const { numEpisodes, maxSteps, framesKept } = options;
  const seeds = new Int32Array(numEpisodes);
  const steps = new Int32Array(numEpisodes);
  const terminated = new Uint8Array(numEpisodes);
  const returns = new Float32Array(numEpisodes);
  const actionChunks: Float32Array[] = [];
  const frames = new Uint8Array(framesKept * FRAME_SIZE);
  let seen = 0;
  const keep = (frame: Uint8Array) => {
    const slot = seen < framesKept ? seen : rng.int(seen + 1);
    if (slot < framesKept) frames.set(frame, slot * FRAME_SIZE);
    seen++;
  };
  const action = new Float32Array(task.actionSize);
  for (let episode = 0; episode < numEpisodes; episode++) {
    const seed = options.seedBase + episode;
    seeds[episode] = seed;
    const policy = task.randomPolicy(rng, options.actionHoldSteps);
    keep(env.reset(seed));
    const actions = new Float32Array(maxSteps * task.actionSize);
    let t = 0;
    let total = 0;
    while (t < maxSteps) {
      policy(action);
      actions.set(action, t * task.actionSize);
      const result = env.step(task.envAction(action));
      total += result.reward;
      t++;
      keep(result.observation);
      if (result.terminated) terminated[episode] = 1;
      if (result.terminated || result.truncated) break;
    }
    steps[episode] = t;
    returns[episode] = total;
    actionChunks.push(actions.slice(0, t * task.actionSize));
    onProgress({
      stage: "random rollouts",
      done: episode + 1,
      total: numEpisodes,
      message: `${seen} frames`,
    });
    if (episode % 4 === 3) await breathe();
  }
  const kept = Math.min(seen, framesKept);
  return {
    seeds,
    steps,
    terminated,
    returns,
    actions: concat(actionChunks),
    frames: frames.slice(0, kept * FRAME_SIZE),
  };
}

export function concat(chunks: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/**
 * Replays saved rollouts through the environment and encodes every frame with V, in batches of
 * `batchSize` frames: the z sequences M trains on.
 */
export async function encodeRollouts(
  task: TaskAdapter,
  rollouts: RolloutSet,
  vision: Vision,
  batchSize: number,
  onProgress: ProgressFn,
): Promise<LatentEpisode[]> {
  const env = task.make();
  const L = vision.latentSize;
  const A = task.actionSize;
  const episodes: LatentEpisode[] = [];
  let actionOffset = 0;
  const batch = new Uint8Array(batchSize * FRAME_SIZE);
  for (let e = 0; e < rollouts.seeds.length; e++) {
    const steps = rollouts.steps[e];
    const actions = rollouts.actions.slice(actionOffset, actionOffset + steps * A);
    actionOffset += steps * A;
    const mu = new Float32Array((steps + 1) * L);
    const logVar = new Float32Array((steps + 1) * L);
    let pending = 0;
    let written = 0;
    const flush = () => {
      if (pending === 0) return;
      const out = vision.encode(batch.subarray(0, pending * FRAME_SIZE), pending);
      mu.set(out.mu, written * L);
      logVar.set(out.logVar, written * L);
      written += pending;
      pending = 0;
    };
    const push = (frame: Uint8Array) => {
      batch.set(frame, pending * FRAME_SIZE);
      pending++;
      if (pending === batchSize) flush();
    };
    push(env.reset(rollouts.seeds[e]));
    for (let t = 0; t < steps; t++) {
      push(env.step(task.envAction(actions.subarray(t * A, (t + 1) * A))).observation);
    }
    flush();
    episodes.push({ mu, logVar, actions, steps, terminated: rollouts.terminated[e] === 1 });
    onProgress({ stage: "encode frames to z", done: e + 1, total: rollouts.seeds.length });
    await breathe();
  }
  return episodes;
}

/** LatentEpisodes packed into flat arrays for a stage file, and back. */
export function packLatents(episodes: readonly LatentEpisode[]) {
  return {
    steps: Int32Array.from(episodes.map((e) => e.steps)),
    terminated: Uint8Array.from(episodes.map((e) => (e.terminated ? 1 : 0))),
    mu: concat(episodes.map((e) => e.mu)),
    logVar: concat(episodes.map((e) => e.logVar)),
    actions: concat(episodes.map((e) => e.actions)),
  };
}

export function unpackLatents(
  arrays: Record<string, Float32Array | Uint8Array | Int32Array>,
  latentSize: number,
  actionSize: number,
): LatentEpisode[] {
  const steps = arrays.steps as Int32Array;
  const terminated = arrays.terminated as Uint8Array;
  const mu = arrays.mu as Float32Array;
  const logVar = arrays.logVar as Float32Array;
  const actions = arrays.actions as Float32Array;
  const out: LatentEpisode[] = [];
  let zOffset = 0;
  let aOffset = 0;
  for (let e = 0; e < steps.length; e++) {
    const zLength = (steps[e] + 1) * latentSize;
    const aLength = steps[e] * actionSize;
    out.push({
      mu: mu.subarray(zOffset, zOffset + zLength),
      logVar: logVar.subarray(zOffset, zOffset + zLength),
      actions: actions.subarray(aOffset, aOffset + aLength),
      steps: steps[e],
      terminated: terminated[e] === 1,
    });
    zOffset += zLength;
    aOffset += aLength;
  }
  return out;
}

/** What a batch of controlled rollouts in the real environment gives back. */
export interface RealRolloutResult {
  returns: Float64Array;
  steps: Int32Array;
  /** Each episode as z sequences (V's posterior), for retraining M (iterative training). */
  latents?: LatentEpisode[];
  /** Row 0's frames and V's reconstructions of them, when `recordFrames` is set. */
  frames?: Uint8Array[];
}

export interface RealRolloutOptions {
  maxSteps: number;
  /** Keep every episode's z sequence. */
  keepLatents?: boolean;
  /** Keep row 0's first frames (up to this many). */
  recordFrames?: number;
  onStep?: (step: number) => void;
}

/**
 * Runs N controllers (one parameter vector per row; rows may share one) for one episode each,
 * in lock-step: every step encodes all live frames with V in one batch, C acts on [z, h] and
 * M advances on [z, a]. Episode i starts from `seeds[i]`.
 */
export async function rolloutInReality(
  task: TaskAdapter,
  vision: Vision,
  model: MdnRnn | null,
  shape: ControllerShape,
  thetas: readonly ArrayLike<number>[],
  seeds: readonly number[],
  options: RealRolloutOptions,
): Promise<RealRolloutResult> {
  const n = thetas.length;
  const L = vision.latentSize;
  const A = task.actionSize;
  const H = shape.rnnSize;
  const needsModel = shape.features === "zh" || shape.features === "zch";
  if (needsModel && !model) throw new Error("rolloutInReality: C sees h but no M was given");
  const envs = Array.from({ length: n }, () => task.make());
  const alive = new Uint8Array(n).fill(1);
  const returns = new Float64Array(n);
  const stepsTaken = new Int32Array(n);
  const frames = new Uint8Array(n * FRAME_SIZE);
  for (let i = 0; i < n; i++) frames.set(envs[i].reset(seeds[i]), i * FRAME_SIZE);
  const input = new Float32Array(controllerInputSize(shape));
  const raw = new Float32Array(A);
  const scratch = new Float32Array(shape.hiddenLayerSize);
  const modelActions = new Float32Array(n * A);
  const mInputs = model ? new Float32Array(n * model.inputSize) : new Float32Array(0);
  let state: LstmState | null = needsModel || options.keepLatents ? model!.lstm.zeroState(n) : null;
  let h: Float32Array = new Float32Array(n * H);
  let c: Float32Array = new Float32Array(n * H);
  const empty = new Float32Array(0);
  const latents = options.keepLatents
    ? Array.from({ length: n }, () => ({
      mu: [] as Float32Array[],
      logVar: [] as Float32Array[],
      actions: [] as Float32Array[],
    }))
    : null;
  const endedByGame = new Uint8Array(n);
  const recorded: Uint8Array[] = [];
  const liveIndex: number[] = [];
  for (let t = 0; t < options.maxSteps; t++) {
    liveIndex.length = 0;
    for (let i = 0; i < n; i++) if (alive[i]) liveIndex.push(i);
    if (liveIndex.length === 0) break;
    // Only live rows are encoded; M steps every row (ended rows repeat their last input).
    const encodeRows = liveIndex;
    const batch = new Uint8Array(encodeRows.length * FRAME_SIZE);
    encodeRows.forEach((row, k) =>
      batch.set(frames.subarray(row * FRAME_SIZE, (row + 1) * FRAME_SIZE), k * FRAME_SIZE)
    );
    const { mu, logVar } = vision.encode(batch, encodeRows.length);
    if (options.recordFrames && t < options.recordFrames && alive[0]) {
      recorded.push(frames.slice(0, FRAME_SIZE));
    }
    for (let k = 0; k < encodeRows.length; k++) {
      const i = encodeRows[k];
      if (!alive[i]) continue;
      const zRow = mu.subarray(k * L, (k + 1) * L);
      writeControllerInput(
        shape,
        zRow,
        state ? h.subarray(i * H, (i + 1) * H) : empty,
        state ? c.subarray(i * H, (i + 1) * H) : empty,
        input,
      );
      controllerAct(shape, thetas[i], input, raw, scratch);
      task.controllerAction(raw, modelActions.subarray(i * A, (i + 1) * A));
      if (latents) {
        latents[i].mu.push(zRow.slice());
        latents[i].logVar.push(logVar.slice(k * L, (k + 1) * L));
        latents[i].actions.push(modelActions.slice(i * A, (i + 1) * A));
      }
      if (model) {
        const row = i * model.inputSize;
        mInputs.set(zRow, row);
        mInputs.set(modelActions.subarray(i * A, (i + 1) * A), row + L);
        if (model.config.episodeStartInput) mInputs[row + L + A] = t === 0 ? 1 : 0;
      }
    }
    for (const i of liveIndex) {
      const result = envs[i].step(task.envAction(modelActions.subarray(i * A, (i + 1) * A)));
      returns[i] += result.reward;
      stepsTaken[i]++;
      frames.set(result.observation, i * FRAME_SIZE);
      if (result.terminated) endedByGame[i] = 1;
      if (result.terminated || result.truncated) alive[i] = 0;
    }
    if (state && model) {
      const next = model.advance(mInputs, state);
      tf.dispose([state.h, state.c]);
      state = next;
      h = state.h.dataSync() as Float32Array;
      c = state.c.dataSync() as Float32Array;
    }
    options.onStep?.(t);
    if (t % 25 === 24) await breathe();
  }
  if (state) tf.dispose([state.h, state.c]);
  let latentEpisodes: LatentEpisode[] | undefined;
  if (latents) {
    // The final frame of each episode is encoded too, so z has steps + 1 rows.
    const finals = new Uint8Array(n * FRAME_SIZE);
    finals.set(frames);
    const { mu, logVar } = vision.encode(finals, n);
    latentEpisodes = latents.map((record, i) => ({
      mu: concat([...record.mu, mu.slice(i * L, (i + 1) * L)]),
      logVar: concat([...record.logVar, logVar.slice(i * L, (i + 1) * L)]),
      actions: concat(record.actions),
      steps: stepsTaken[i],
      terminated: endedByGame[i] === 1,
    }));
  }
  return { returns, steps: stepsTaken, latents: latentEpisodes, frames: recorded };
}

export interface DreamRolloutOptions {
  tau: number;
  maxSteps: number;
  /** Done probability above which a dream ends. */
  doneThreshold: number;
  /** Keep row 0's z sequence (to decode a dream into frames). */
  recordLatents?: number;
}

/**
 * Runs N controllers inside M's dream (section 5.2): z_0 is drawn from V's posterior of a real
 * episode's first frame, then every step C acts on [z, (c,) h], M advances and samples the next
 * z and done at temperature tau. The reward is +1 per step survived, as in TakeCover.
 */
export function rolloutInDream(
  model: MdnRnn,
  task: TaskAdapter,
  shape: ControllerShape,
  thetas: readonly ArrayLike<number>[],
  startLatents: readonly LatentEpisode[],
  rng: Rng,
  options: DreamRolloutOptions,
): { returns: Float64Array; dreamLatents: Float32Array[] } {
  const n = thetas.length;
  const L = model.config.latentSize;
  const A = task.actionSize;
  const H = model.config.hiddenSize;
  const zBatch = new Float32Array(n * L);
  for (let i = 0; i < n; i++) {
    const start = startLatents[rng.int(startLatents.length)];
    for (let d = 0; d < L; d++) {
      zBatch[i * L + d] = start.mu[d] + Math.exp(0.5 * start.logVar[d]) * rng.normal();
    }
  }
  const alive = new Uint8Array(n).fill(1);
  const returns = new Float64Array(n);
  const input = new Float32Array(controllerInputSize(shape));
  const raw = new Float32Array(A);
  const scratch = new Float32Array(shape.hiddenLayerSize);
  const action = new Float32Array(A);
  const mInputs = new Float32Array(n * model.inputSize);
  const done = new Float32Array(n);
  const dreamLatents: Float32Array[] = [];
  let state = model.lstm.zeroState(n);
  let h: Float32Array = new Float32Array(n * H);
  let c: Float32Array = new Float32Array(n * H);
  for (let t = 0; t < options.maxSteps; t++) {
    let live = 0;
    for (let i = 0; i < n; i++) {
      const zi = zBatch.subarray(i * L, (i + 1) * L);
      writeControllerInput(
        shape,
        zi,
        h.subarray(i * H, (i + 1) * H),
        c.subarray(i * H, (i + 1) * H),
        input,
      );
      controllerAct(shape, thetas[i], input, raw, scratch);
      task.controllerAction(raw, action);
      const row = i * model.inputSize;
      mInputs.set(zi, row);
      mInputs.set(action, row + L);
      if (model.config.episodeStartInput) mInputs[row + L + A] = t === 0 ? 1 : 0;
      if (alive[i]) live++;
    }
    if (live === 0) break;
    if (options.recordLatents && t < options.recordLatents && alive[0]) {
      dreamLatents.push(zBatch.slice(0, L));
    }
    const next = model.advance(mInputs, state);
    tf.dispose([state.h, state.c]);
    state = next;
    h = state.h.dataSync() as Float32Array;
    c = state.c.dataSync() as Float32Array;
    model.sample(state.h, options.tau, rng, zBatch, done);
    for (let i = 0; i < n; i++) {
      if (!alive[i]) continue;
      returns[i] += 1;
      if (model.config.predictDone && done[i] > options.doneThreshold) alive[i] = 0;
    }
  }
  tf.dispose([state.h, state.c]);
  return { returns, dreamLatents };
}

/** Fitness statistics of one CMA-ES generation. */
export interface GenerationRecord {
  generation: number;
  mean: number;
  best: number;
  worst: number;
  /** Spread of the candidates' fitness (standard deviation). */
  std: number;
}

/**
 * How noisy a candidate's fitness is: one candidate's fitness measured over many single rollouts,
 * against the spread of fitness across a generation's candidates. With R rollouts per candidate
 * the noise of a fitness is about rolloutStd / sqrt(R); when that is near the population's
 * spread, CMA-ES ranks its candidates mostly by luck.
 */
export interface FitnessNoise {
  rolloutsPerCandidate: number;
  /** Standard deviation of one rollout's return, for the evolved controller. */
  rolloutStd: number;
  /** Standard deviation of fitness across the last generation's candidates. */
  populationStd: number;
}

/** FitnessNoise from single-rollout returns of one controller and the evolution's curve. */
export function fitnessNoise(
  rolloutReturns: ArrayLike<number>,
  rolloutsPerCandidate: number,
  curve: readonly GenerationRecord[],
): FitnessNoise {
  const values = Array.from(rolloutReturns);
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1);
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(values.length, 1);
  return {
    rolloutsPerCandidate,
    rolloutStd: Math.sqrt(variance),
    populationStd: curve.at(-1)?.std ?? Number.NaN,
  };
}

export interface EvolveOptions {
  dimension: number;
  populationSize: number;
  initialSigma: number;
  generations: number;
  rng: Rng;
  /** Fitness of each candidate (higher is better), e.g. mean return over rollouts. */
  evaluate: (candidates: Float64Array[], generation: number) => Promise<number[]>;
  /** Start from these parameters (iterative training) instead of zeros. */
  initialMean?: Float64Array;
  onGeneration?: (record: GenerationRecord) => void;
  /**
   * Scores the distribution's mean on held-out episodes every `every` generations (and after
   * the last), for the score-against-generations curve.
   */
  heldOut?: { every: number; evaluate(mean: Float64Array, generation: number): Promise<number[]> };
}

/** The held-out returns of the distribution's mean after a generation. */
export interface HeldOutRecord {
  generation: number;
  returns: number[];
}

/** Held-out curves of several seeds pooled generation by generation (absent ones skipped). */
export function poolHeldOut(curves: readonly (HeldOutRecord[] | undefined)[]): HeldOutRecord[] {
  const byGeneration = new Map<number, number[]>();
  for (const curve of curves) {
    for (const { generation, returns } of curve ?? []) {
      byGeneration.set(generation, [...(byGeneration.get(generation) ?? []), ...returns]);
    }
  }
  return [...byGeneration].sort((a, b) => a[0] - b[0]).map(([generation, returns]) => ({
    generation,
    returns,
  }));
}

/**
 * Evolves C's parameters with CMA-ES (Hansen 2016) from lib/evolution, maximising fitness.
 * Returns the distribution's final mean (what the paper's code evaluates) and the curve.
 */
export async function evolveController(
  options: EvolveOptions,
): Promise<{ theta: Float64Array; curve: GenerationRecord[]; heldOut: HeldOutRecord[] }> {
  const es = new CmaEs({
    dimension: options.dimension,
    populationSize: options.populationSize,
    initialSigma: options.initialSigma,
    initialMean: options.initialMean,
    rng: options.rng,
    maximize: true,
  });
  const curve: GenerationRecord[] = [];
  const heldOutCurve: HeldOutRecord[] = [];
  for (let g = 0; g < options.generations; g++) {
    const candidates = es.ask();
    const fitness = await options.evaluate(candidates, g);
    es.tell(candidates, fitness);
    const mean = fitness.reduce((a, b) => a + b, 0) / fitness.length;
    const record = {
      generation: g + 1,
      mean,
      best: Math.max(...fitness),
      worst: Math.min(...fitness),
      std: Math.sqrt(fitness.reduce((a, b) => a + (b - mean) ** 2, 0) / fitness.length),
    };
    curve.push(record);
    options.onGeneration?.(record);
    const { heldOut } = options;
    if (heldOut && (record.generation % heldOut.every === 0 || g === options.generations - 1)) {
      const center = Float64Array.from(es.mean);
      heldOutCurve.push({
        generation: record.generation,
        returns: await heldOut.evaluate(center, record.generation),
      });
    }
    await breathe();
  }
  return { theta: Float64Array.from(es.mean), curve, heldOut: heldOutCurve };
}

/** Trains V for `epochs` passes over a frame sample; returns the mean losses of each epoch. */
export async function trainVision(
  vision: Vision,
  frames: Uint8Array,
  options: { epochs: number; batchSize: number },
  rng: Rng,
  onProgress: ProgressFn,
  signal?: AbortSignal,
): Promise<VisionLosses[]> {
  const count = frames.length / FRAME_SIZE;
  const batches = Math.max(1, Math.floor(count / options.batchSize));
  const batch = new Uint8Array(options.batchSize * FRAME_SIZE);
  const curve: VisionLosses[] = [];
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const order = rng.shuffle(Array.from({ length: count }, (_, i) => i));
    const sum: VisionLosses = { loss: 0, reconstruction: 0, kl: 0 };
    for (let b = 0; b < batches; b++) {
      const size = Math.min(options.batchSize, count);
      for (let k = 0; k < size; k++) {
        const frame = order[b * options.batchSize + k];
        batch.set(frames.subarray(frame * FRAME_SIZE, (frame + 1) * FRAME_SIZE), k * FRAME_SIZE);
      }
      const losses = vision.trainStep(batch.subarray(0, size * FRAME_SIZE), size, rng);
      sum.loss += losses.loss / batches;
      sum.reconstruction += losses.reconstruction / batches;
      sum.kl += losses.kl / batches;
      onProgress({
        stage: "train V",
        done: epoch * batches + b + 1,
        total: options.epochs * batches,
        message: `loss ${losses.loss.toFixed(1)}`,
      });
      await breathe();
      throwIfInterrupted(signal);
    }
    curve.push(sum);
  }
  return curve;
}

export interface MemoryTraining {
  epochs: number;
  batchSize: number;
  chunkLength: number;
  learningRate: number;
}

/** Trains M on z sequences with Adam; returns the mean loss of each epoch. */
export async function trainMemory(
  model: MdnRnn,
  episodes: readonly LatentEpisode[],
  options: MemoryTraining,
  rng: Rng,
  onProgress: ProgressFn,
  stage = "train M",
  signal?: AbortSignal,
): Promise<number[]> {
  const optimizer = adam(options.learningRate);
  const perEpoch = chunksPerEpoch(episodes, options.batchSize, options.chunkLength);
  const curve: number[] = [];
  try {
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      let last = performance.now();
      const loss = trainEpoch(model, optimizer, episodes, {
        batchSize: options.batchSize,
        chunkLength: options.chunkLength,
        rng,
        onChunk: (done, _total, meanLoss) => {
          const now = performance.now();
          if (now - last > 500 || done === perEpoch) {
            last = now;
            onProgress({
              stage,
              done: epoch * perEpoch + done,
              total: options.epochs * perEpoch,
              message: `loss ${meanLoss.toFixed(3)}`,
            });
          }
        },
      });
      curve.push(loss);
      await breathe();
      throwIfInterrupted(signal);
    }
  } finally {
    optimizer.dispose();
  }
  return curve;
}

/** Config blocks shared by the World Models experiments. */
export const rolloutsSchema = z.object({
  /** Random-policy episodes (the paper: 10,000). */
  numEpisodes: z.number().int().min(1).max(100_000),
  /** Steps per episode at most. */
  maxSteps: z.number().int().min(10).max(2100),
  /** Frames kept (uniformly sampled) to train V on. */
  framesForVision: z.number().int().min(16).max(1_000_000),
  /**
   * The random policy holds each random action for a random number of frames, up to about this
   * many (the task's default when absent: 20 for CarRacing; 1 for TakeCover, a new uniform action
   * every frame as in the paper).
   */
  actionHoldSteps: z.number().int().min(1).max(1000).optional(),
});

export const visionSchema = z.object({
  latentSize: z.number().int().min(2).max(256),
  /** Output channels of the encoder's four convolutions (the paper: 32, 64, 128, 256). */
  encoderChannels: z.array(z.number().int().min(1).max(512)).length(4),
  /** Input channels of the decoder's four transposed convolutions (the paper: 1024, 128, 64, 32). */
  decoderChannels: z.array(z.number().int().min(1).max(2048)).length(4),
  epochs: z.number().int().min(1).max(1000),
  batchSize: z.number().int().min(1).max(1024),
  learningRate: z.number().gt(0).max(1),
  /** Free bits: the KL term is not pushed below this many nats per latent dimension. */
  klTolerance: z.number().min(0).max(10),
});

export const memorySchema = z.object({
  /** LSTM units (the paper: 256 CarRacing, 512 TakeCover). */
  hiddenSize: z.number().int().min(1).max(2048),
  numMixtures: z.number().int().min(1).max(20),
  epochs: z.number().int().min(1).max(10_000),
  batchSize: z.number().int().min(1).max(1024),
  chunkLength: z.number().int().min(2).max(2100),
  learningRate: z.number().gt(0).max(1),
});

export const evolutionSchema = z.object({
  /** CMA-ES population (the paper: 64). */
  populationSize: z.number().int().min(4).max(1024),
  /** Rollouts averaged into one candidate's fitness (the paper: 16). */
  rolloutsPerCandidate: z.number().int().min(1).max(128),
  generations: z.number().int().min(1).max(100_000),
  /** Initial CMA-ES step size (the paper: 0.1). */
  initialSigma: z.number().gt(0).max(10),
  /** Steps per fitness rollout. */
  episodeSteps: z.number().int().min(10).max(2100),
  /**
   * Every this many generations, the distribution's mean is scored on `heldOutEpisodes`
   * held-out episodes (the first of the final evaluation's), for the score against generations.
   */
  heldOutEvery: z.number().int().min(1).max(100_000).optional(),
  heldOutEpisodes: z.number().int().min(1).max(100).optional(),
});

export type RolloutsConfig = z.infer<typeof rolloutsSchema>;
export type VisionConfig = z.infer<typeof visionSchema>;
export type MemoryConfig = z.infer<typeof memorySchema>;
export type EvolutionConfig = z.infer<typeof evolutionSchema>;

/**
 * Times named stages; the results file records them and the CLI prints them. A stage loaded from
 * disk counts the seconds it took when it was computed (saved beside it), and is listed in
 * `resumed`, so a rerun that only redraws still reports what each stage cost.
 */
export class StageClock implements StageTimer {
  readonly seconds: Record<string, number> = {};
  readonly resumed: string[] = [];
  #current: { started: number; resumedSeconds: number | null; loaded: boolean } | null = null;

  async time<T>(name: string, work: () => Promise<T>): Promise<T> {
    const entry = { started: performance.now(), resumedSeconds: null, loaded: false };
    this.#current = entry;
    try {
      return await work();
    } finally {
      const measured = (performance.now() - entry.started) / 1000;
      const seconds = entry.resumedSeconds ?? measured;
      this.seconds[name] = Math.round(((this.seconds[name] ?? 0) + seconds) * 100) / 100;
      if (entry.loaded && !this.resumed.includes(name)) this.resumed.push(name);
      this.#current = null;
    }
  }

  elapsed(): number {
    return this.#current ? (performance.now() - this.#current.started) / 1000 : 0;
  }

  markResumed(seconds: number | null): void {
    if (!this.#current) return;
    this.#current.loaded = true;
    this.#current.resumedSeconds = seconds;
  }
}

export interface WorldModel {
  vision: Vision;
  model: MdnRnn;
  /** z sequences of the random rollouts. */
  latents: LatentEpisode[];
  /** Random-policy returns, per episode. */
  randomReturns: number[];
  visionCurve: VisionLosses[];
  memoryCurve: number[];
  /** A held-out sample of frames V never trained on (for reconstructions). */
  heldOutFrames: Uint8Array;
}

export interface PrepareOptions {
  task: TaskAdapter;
  store: StageStore;
  seed: number;
  rollouts: RolloutsConfig;
  vision: VisionConfig;
  memory: MemoryConfig;
  /** M's fixed architecture choices for the task (done head, episode-start input). */
  memoryShape: { predictDone: boolean; episodeStartInput: boolean; doneLossWeight: number };
  clock: StageClock;
  onProgress: ProgressFn;
  signal?: AbortSignal;
}

/**
 * Steps 1-3 of the paper's recipe, each loaded from the store when already done: random
 * rollouts, V trained on their frames, every frame encoded to z, M trained on the z sequences.
 */
export async function prepareWorldModel(options: PrepareOptions): Promise<WorldModel> {
  const { task, store, seed, clock, onProgress, signal } = options;
  const rolloutFields = { seed, rollouts: options.rollouts, task: task.name };
  const visionFields = { ...rolloutFields, vision: options.vision };
  const memoryFields = { ...visionFields, memory: options.memory, shape: options.memoryShape };

  const rollouts = await clock.time("random rollouts", async () => {
    const loaded = await store.load("rollouts", rolloutFields);
    if (loaded) return loaded.arrays as unknown as RolloutSet;
    const collected = await collectRandomRollouts(
      task,
      {
        numEpisodes: options.rollouts.numEpisodes,
        maxSteps: options.rollouts.maxSteps,
        framesKept: options.rollouts.framesForVision,
        seedBase: seed * 1_000_000,
        actionHoldSteps: options.rollouts.actionHoldSteps,
      },
      new Rng(seed * 7919 + 1),
      onProgress,
    );
    await store.save("rollouts", rolloutFields, { ...collected });
    return collected;
  });
  throwIfInterrupted(signal);

  // Held-out frames for V's reconstructions: one more random episode V never sees.
  const heldOut = await collectRandomRollouts(
    task,
    {
      numEpisodes: 1,
      maxSteps: options.rollouts.maxSteps,
      framesKept: 16,
      seedBase: -1 - seed,
      actionHoldSteps: options.rollouts.actionHoldSteps,
    },
    new Rng(seed * 7919 + 2),
    () => {},
  );

  const vision = createVision(options.vision, new Rng(seed * 7919 + 3));
  const visionCurve = await clock.time("train V", async () => {
    const meta = await store.loadParameters("vision", visionFields, vision.params);
    if (meta) return meta.curve as VisionLosses[];
    const curve = await trainVision(
      vision,
      rollouts.frames,
      options.vision,
      new Rng(seed * 7919 + 4),
      onProgress,
      signal,
    );
    await store.saveParameters("vision", visionFields, vision.params, { curve });
    return curve;
  });

  const latents = await clock.time("encode frames to z", async () => {
    const loaded = await store.load("latents", visionFields);
    if (loaded) return unpackLatents(loaded.arrays, vision.latentSize, task.actionSize);
    const encoded = await encodeRollouts(task, rollouts, vision, 64, onProgress);
    await store.save("latents", visionFields, packLatents(encoded));
    return encoded;
  });
  throwIfInterrupted(signal);

  const model = new MdnRnn({
    latentSize: options.vision.latentSize,
    actionSize: task.actionSize,
    hiddenSize: options.memory.hiddenSize,
    numMixtures: options.memory.numMixtures,
    ...options.memoryShape,
  }, new Rng(seed * 7919 + 5));
  const memoryCurve = await clock.time("train M", async () => {
    const meta = await store.loadParameters("memory", memoryFields, model.params);
    if (meta) return meta.curve as number[];
    const curve = await trainMemory(
      model,
      latents,
      options.memory,
      new Rng(seed * 7919 + 6),
      onProgress,
      "train M",
      signal,
    );
    await store.saveParameters("memory", memoryFields, model.params, { curve });
    return curve;
  });
  return {
    vision,
    model,
    latents,
    randomReturns: Array.from(rollouts.returns),
    visionCurve,
    memoryCurve,
    heldOutFrames: heldOut.frames,
  };
}
