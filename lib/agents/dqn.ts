/**
 * DQN (Mnih et al. 2015, "Human-level control through deep reinforcement learning", Methods and
 * Algorithm 1) as the MinAtar paper's baseline (Young & Tian 2019, "MinAtar: An Atari-Inspired
 * Testbed for Thorough and Reproducible Reinforcement Learning Experiments", arXiv 1903.03176,
 * Section 4 and its Table of hyperparameters; the settings below are those of its reference
 * implementation's DQN, github.com/kenjyoung/MinAtar, examples/dqn.py).
 *
 * - The network: one 3x3 convolution with 16 filters and stride 1 (a quarter of DQN's 64) on the
 *   10x10xC grid, ReLU, a dense layer of 128 ReLU units (a quarter of DQN's 512), one output per
 *   action. An MLP on state vectors stands in for it on small test problems.
 * - A replay buffer of the last 100,000 transitions, sampled uniformly in batches of 32; learning
 *   starts once it holds 5,000, with uniform random actions until then.
 * - epsilon-greedy acting, epsilon annealed linearly from 1.0 to 0.1 over the 100,000 steps after
 *   learning starts, then kept at 0.1.
 * - One update per environment step on the Huber loss of Q(s, a) against
 *     y = r + gamma (1 - terminal) max_a' Q'(s', a'),   gamma = 0.99,
 *   where Q' is a target network copied from Q every 1,000 updates.
 * - Centered RMSProp with step size 2.5e-4, squared-gradient and gradient momentum 0.95 and
 *   "minimum squared gradient" 0.01, added to the root as the reference's PyTorch optimiser does.
 *   (TensorFlow.js 4.22's centered RMSProp subtracts its epsilon under the root, which gives NaN
 *   as soon as the gradient's variance falls below it, so the update is written here.)
 *
 * The paper trains for 5 million frames; our budgets run far fewer and shorten the warm-up and the
 * annealing with them (config fields `replayStart` and `epsilonDecaySteps`).
 */
import { z } from "zod";
import { tf } from "../tensor/mod.ts";
import { Rng } from "../rng.ts";
import { UserError } from "../errors.ts";
import { conv2d, dense, type Layer, ParameterSet, sequential } from "../models/nn.ts";
import { boxSize, type Env } from "../envs/types.ts";
import type { Progress } from "../progress.ts";
import { type TransitionBatch, TransitionReplay } from "./transition_replay.ts";

export const dqnConfigSchema = z.object({
  /** The Q network: MinAtar's convolution and dense layer, or an MLP on state vectors. */
  network: z.discriminatedUnion("kind", [
    z.object({
      kind: z.literal("minatar-conv"),
      /** Filters of the 3x3 convolution (paper: 16). */
      filters: z.number().int().positive(),
      /** Units of the dense hidden layer (paper: 128). */
      hiddenSize: z.number().int().positive(),
    }).strict(),
    z.object({
      kind: z.literal("mlp"),
      hiddenSize: z.number().int().positive(),
      hiddenLayers: z.number().int().nonnegative(),
    }).strict(),
  ]),
  /** Transitions per update (paper: 32). */
  batchSize: z.number().int().positive(),
  /** Transitions the replay keeps (paper: 100,000). */
  replayCapacity: z.number().int().positive(),
  /** Environment steps of uniform random actions before learning starts (paper: 5,000). */
  replayStart: z.number().int().nonnegative(),
  /** Environment steps per update (paper: 1). */
  trainEvery: z.number().int().positive(),
  /** Updates between copies of Q into the target network (paper: 1,000). */
  targetUpdateEvery: z.number().int().positive(),
  /** epsilon at the start of learning, after annealing, and the annealing's length in steps. */
  epsilonStart: z.number().min(0).max(1),
  epsilonEnd: z.number().min(0).max(1),
  epsilonDecaySteps: z.number().int().positive(),
  /** epsilon of evaluation episodes. */
  evaluationEpsilon: z.number().min(0).max(1),
  /** Centered RMSProp (paper: 2.5e-4, 0.95, 0.95, 0.01). */
  learningRate: z.number().positive(),
  rmspropDecay: z.number().min(0).max(1),
  rmspropMomentum: z.number().min(0).max(1),
  rmspropEpsilon: z.number().positive(),
  /** gamma (paper: 0.99). */
  discount: z.number().min(0).max(1),
}).strict();

export type DqnConfig = z.infer<typeof dqnConfigSchema>;

/** The MinAtar paper's DQN. */
export const MINATAR_DQN_CONFIG: DqnConfig = {
  network: { kind: "minatar-conv", filters: 16, hiddenSize: 128 },
  batchSize: 32,
  replayCapacity: 100_000,
  replayStart: 5_000,
  trainEvery: 1,
  targetUpdateEvery: 1_000,
  epsilonStart: 1,
  epsilonEnd: 0.1,
  epsilonDecaySteps: 100_000,
  evaluationEpsilon: 0,
  learningRate: 2.5e-4,
  rmspropDecay: 0.95,
  rmspropMomentum: 0.95,
  rmspropEpsilon: 0.01,
  discount: 0.99,
};

/**
 * Centered RMSProp with momentum (Graves 2013, Equations 38 to 41), as PyTorch computes it:
 *   n = rho n + (1 - rho) g^2,   m = rho m + (1 - rho) g,
 *   v = mu v + lr g / (sqrt(n - m^2) + epsilon),   theta = theta - v.
 */
export class CenteredRmsProp {
  readonly #slots = new Map<tf.Variable, { n: tf.Variable; m: tf.Variable; v: tf.Variable }>();

  constructor(
    readonly learningRate: number,
    readonly decay: number,
    readonly momentum: number,
    readonly epsilon: number,
  ) {}

  /** Applies gradients given by variable name to `variables`. */
  apply(variables: tf.Variable[], grads: tf.NamedTensorMap): void {
    const { learningRate, decay, momentum, epsilon } = this;
    tf.tidy(() => {
      for (const variable of variables) {
        const g = grads[variable.name];
        if (!g) continue;
        let slots = this.#slots.get(variable);
        if (!slots) {
          const zero = () => tf.variable(tf.zerosLike(variable), false);
          slots = { n: zero(), m: zero(), v: zero() };
          this.#slots.set(variable, slots);
        }
        const n = tf.add(tf.mul(decay, slots.n), tf.mul(1 - decay, tf.square(g)));
        const m = tf.add(tf.mul(decay, slots.m), tf.mul(1 - decay, g));
        // Rounding can make n - m^2 a hair negative where the gradient barely varies.
        const root = tf.sqrt(tf.relu(tf.sub(n, tf.square(m))));
        const step = tf.div(tf.mul(learningRate, g), tf.add(root, epsilon));
        const v = tf.add(tf.mul(momentum, slots.v), step);
        slots.n.assign(n);
        slots.m.assign(m);
        slots.v.assign(v);
        variable.assign(tf.sub(variable, v));
      }
    });
  }

  dispose(): void {
    for (const { n, m, v } of this.#slots.values()) tf.dispose([n, m, v]);
    this.#slots.clear();
  }
}

/** Huber loss with threshold 1 (PyTorch's smooth L1), elementwise. */
export function huber(error: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const absolute = tf.abs(error);
    const quadratic = tf.minimum(absolute, 1);
    return tf.add(tf.mul(0.5, tf.square(quadratic)), tf.sub(absolute, quadratic));
  });
}

/** A transition with a discrete action. */
export interface DqnTransition {
  observation: ArrayLike<number>;
  action: number;
  reward: number;
  nextObservation: ArrayLike<number>;
  /** The task ended the episode; a time-limit cut is not terminal. */
  terminated: boolean;
}

function qNetwork(
  params: ParameterSet,
  config: DqnConfig["network"],
  observationShape: readonly number[],
  actions: number,
): Layer {
  if (config.kind === "minatar-conv") {
    const [height, width, channels] = observationShape;
    if (observationShape.length !== 3) {
      throw new UserError(`DQN's convolution needs HxWxC observations, got [${observationShape}]`);
    }
    const conv = conv2d(params, "conv", channels, config.filters, {
      kernelSize: 3,
      stride: 1,
      activation: "relu",
    });
    const flat = (height - 2) * (width - 2) * config.filters;
    const head = sequential(
      dense(params, "hidden", flat, config.hiddenSize, "relu"),
      dense(params, "output", config.hiddenSize, actions),
    );
    return {
      apply: (x) =>
        head.apply(conv.apply(x.reshape([-1, height, width, channels])).reshape([-1, flat])),
    };
  }
  const layers: Layer[] = [];
  let size = observationShape.reduce((a, b) => a * b, 1);
  for (let i = 0; i < config.hiddenLayers; i++) {
    layers.push(dense(params, `hidden${i}`, size, config.hiddenSize, "relu"));
    size = config.hiddenSize;
  }
  layers.push(dense(params, "output", size, actions));
  return sequential(...layers);
}

export class DqnAgent {
  readonly config: DqnConfig;
  readonly observationSize: number;
  readonly replay: TransitionReplay;
  readonly params: ParameterSet;
  readonly targetParams: ParameterSet;
  readonly optimizer: CenteredRmsProp;
  readonly #q: Layer;
  readonly #targetQ: Layer;
  readonly #rng: Rng;
  readonly #batch: TransitionBatch;
  readonly #stored = new Float32Array(1);
  /** Transitions observed so far (environment steps). */
  observedSteps = 0;
  /** Updates so far. */
  updates = 0;

  constructor(
    config: DqnConfig,
    readonly observationShape: readonly number[],
    readonly numActions: number,
    rng: Rng,
  ) {
    this.config = dqnConfigSchema.parse(config);
    this.observationSize = observationShape.reduce((a, b) => a * b, 1);
    this.#rng = rng;
    this.params = new ParameterSet("dqn", rng.fork());
    this.targetParams = new ParameterSet("dqn_target", rng.fork());
    this.#q = qNetwork(this.params, this.config.network, observationShape, numActions);
    this.#targetQ = qNetwork(this.targetParams, this.config.network, observationShape, numActions);
    this.targetParams.copyFrom(this.params);
    const { learningRate, rmspropDecay, rmspropMomentum, rmspropEpsilon } = this.config;
    this.optimizer = new CenteredRmsProp(
      learningRate,
      rmspropDecay,
      rmspropMomentum,
      rmspropEpsilon,
    );
    this.replay = new TransitionReplay(this.config.replayCapacity, this.observationSize, 1);
    this.#batch = this.replay.allocateBatch(this.config.batchSize);
  }

  /** epsilon after `step` environment steps: 1 before learning starts, then annealed. */
  epsilon(step = this.observedSteps): number {
    const { replayStart, epsilonStart, epsilonEnd, epsilonDecaySteps } = this.config;
    if (step < replayStart) return 1;
    const fraction = Math.min(1, (step - replayStart) / epsilonDecaySteps);
    return epsilonStart + fraction * (epsilonEnd - epsilonStart);
  }

  /** Q values [numActions] of one observation. */
  qValues(observation: ArrayLike<number>): Float32Array {
    return tf.tidy(() =>
      this.#q.apply(tf.tensor2d(Float32Array.from(observation), [1, this.observationSize]))
        .dataSync() as Float32Array
    );
  }

  /** The greedy action, ties to the lowest index. */
  greedyAction(observation: ArrayLike<number>): number {
    const q = this.qValues(observation);
    let best = 0;
    for (let a = 1; a < q.length; a++) if (q[a] > q[best]) best = a;
    return best;
  }

  /** An epsilon-greedy action (`epsilon` defaults to the schedule's). */
  act(observation: ArrayLike<number>, epsilon = this.epsilon()): number {
    if (this.#rng.next() < epsilon) return this.#rng.int(this.numActions);
    return this.greedyAction(observation);
  }

  observe(transition: DqnTransition): void {
    this.#stored[0] = transition.action;
    this.replay.add({ ...transition, action: this.#stored });
    this.observedSteps++;
  }

  /**
   * An update when learning has started and the step count says so (every `trainEvery` steps);
   * returns its loss, else null. Copies Q into the target network on schedule.
   */
  update(): number | null {
    const { replayStart, trainEvery, batchSize } = this.config;
    if (this.observedSteps < Math.max(replayStart, 1) || this.replay.size < batchSize) return null;
    if (this.observedSteps % trainEvery !== 0) return null;
    this.replay.sample(this.#rng, this.#batch);
    return this.updateOnBatch(this.#batch);
  }

  /** y = r + gamma (1 - terminal) max_a' Q'(s', a') of a batch; the caller disposes it. */
  targets(batch: TransitionBatch): tf.Tensor1D {
    return tf.tidy(() => {
      const size = batch.size;
      const next = tf.tensor2d(
        batch.nextObservations.subarray(0, size * this.observationSize),
        [size, this.observationSize],
      );
      const best = tf.max(this.#targetQ.apply(next), 1);
      const continuing = tf.sub(1, tf.tensor1d(batch.terminals.subarray(0, size)));
      return tf.add(
        tf.tensor1d(batch.rewards.subarray(0, size)),
        tf.mul(this.config.discount, tf.mul(continuing, best)),
      ) as tf.Tensor1D;
    });
  }

  /** One gradient step of the Huber loss on a batch; returns the loss. */
  updateOnBatch(batch: TransitionBatch): number {
    const size = batch.size;
    const targets = this.targets(batch);
    const observations = tf.tensor2d(
      batch.observations.subarray(0, size * this.observationSize),
      [size, this.observationSize],
    );
    const actions = tf.oneHot(
      tf.tensor1d(Int32Array.from(batch.actions.subarray(0, size)), "int32"),
      this.numActions,
    ).toFloat();
    try {
      const variables = this.params.list();
      const { value: loss, grads } = tf.variableGrads(() => {
        const chosen = tf.sum(tf.mul(this.#q.apply(observations), actions), 1);
        return tf.mean(huber(tf.sub(chosen, targets))) as tf.Scalar;
      }, variables);
      const value = loss.dataSync()[0];
      loss.dispose();
      if (!Number.isFinite(value)) {
        tf.dispose(grads);
        throw new UserError(`DQN diverged: the Q loss is ${value} at update ${this.updates}`);
      }
      this.optimizer.apply(variables, grads);
      tf.dispose(grads);
      this.updates++;
      if (this.updates % this.config.targetUpdateEvery === 0) this.syncTarget();
      return value;
    } finally {
      tf.dispose([targets, observations, actions]);
    }
  }

  /** Copies Q into the target network. */
  syncTarget(): void {
    this.targetParams.copyFrom(this.params);
  }

  dispose(): void {
    this.params.dispose();
    this.targetParams.dispose();
    this.optimizer.dispose();
  }
}

export interface TrainDqnOptions {
  /** Environment steps to train for. */
  environmentSteps: number;
  seed: number;
  /** Greedy evaluation episodes after training (default 0). */
  evaluationEpisodes?: number;
  /** Cap on an evaluation episode's steps (default: the environment's own limit). */
  evaluationMaxSteps?: number;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
  label?: string;
}

export interface DqnResult {
  /** Each training episode's return and the environment step at which it ended. */
  episodes: { steps: number[]; returns: number[] };
  /** Returns of the evaluation episodes after training. */
  evaluation: number[];
  updates: number;
  wallSeconds: number;
  /** The trained agent; dispose it when done. */
  agent: DqnAgent;
}

/** Runs episodes of an agent's epsilon-greedy policy; returns their returns. */
export function evaluateDqn(
  agent: DqnAgent,
  env: Env<Float32Array>,
  episodes: number,
  seeds: (episode: number) => number,
  maxSteps = env.maxEpisodeSteps,
): number[] {
  const returns: number[] = [];
  for (let episode = 0; episode < episodes; episode++) {
    let observation = env.reset(seeds(episode));
    let total = 0;
    for (let step = 0; step < maxSteps; step++) {
      const result = env.step(agent.act(observation, agent.config.evaluationEpsilon));
      total += result.reward;
      observation = result.observation;
      if (result.terminated || result.truncated) break;
    }
    returns.push(total);
  }
  return returns;
}

/** Trains DQN on a discrete-action environment for `environmentSteps` steps. */
export async function trainDqn(
  env: Env<Float32Array>,
  config: DqnConfig,
  options: TrainDqnOptions,
): Promise<DqnResult> {
  const started = performance.now();
  if (env.actionSpec.kind !== "discrete") {
    throw new UserError(`DQN needs discrete actions; ${env.id} has continuous ones`);
  }
  const { environmentSteps, seed } = options;
  const rng = new Rng(seed);
  const agent = new DqnAgent(
    { ...config, replayCapacity: Math.min(config.replayCapacity, Math.max(environmentSteps, 1)) },
    env.observationSpec.shape,
    env.actionSpec.n,
    rng.fork(),
  );
  const label = options.label ?? `DQN seed ${seed}`;
  const episodes = { steps: [] as number[], returns: [] as number[] };
  const observation = new Float32Array(boxSize(env.observationSpec));
  try {
    let episode = 0;
    observation.set(env.reset(seed * 10_007 + episode));
    let episodeReturn = 0;
    for (let step = 1; step <= environmentSteps; step++) {
      const action = agent.act(observation);
      const result = env.step(action);
      agent.observe({
        observation,
        action,
        reward: result.reward,
        nextObservation: result.observation,
        terminated: result.terminated,
      });
      episodeReturn += result.reward;
      observation.set(result.observation);
      agent.update();
      if (result.terminated || result.truncated) {
        episodes.steps.push(step);
        episodes.returns.push(episodeReturn);
        episodeReturn = 0;
        episode++;
        observation.set(env.reset(seed * 10_007 + episode));
      }
      if (step % 500 === 0) {
        options.onProgress?.({
          stage: label,
          done: step,
          total: environmentSteps,
          message: `${episodes.returns.length} episodes, epsilon ${agent.epsilon().toFixed(2)}`,
        });
        // Let progress displays and abort signals through.
        await new Promise((resolve) => setTimeout(resolve, 0));
        options.signal?.throwIfAborted();
      }
    }
    const evaluation = evaluateDqn(
      agent,
      env,
      options.evaluationEpisodes ?? 0,
      (i) => 5_000_000 + seed * 1000 + i,
      options.evaluationMaxSteps,
    );
    return {
      episodes,
      evaluation,
      updates: agent.updates,
      wallSeconds: (performance.now() - started) / 1000,
      agent,
    };
  } catch (error) {
    agent.dispose();
    throw error;
  }
}
