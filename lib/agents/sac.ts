/**
 * Soft Actor-Critic (Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and Applications":
 * Section 4 for the soft actor-critic updates, Section 5 for the automatic temperature, Section 6
 * and Algorithm 1 for the practical algorithm, Appendix C for the action bounds, Appendix D for the
 * hyperparameters), the model-free baseline the PlaNet reproduction compares with.
 *
 * - Two Q networks, each with a target copy moved by Polyak averaging (tau = 0.005); the smaller
 *   of the two target values is bootstrapped,
 *     y = r + gamma (1 - terminal) (min_i Q'_i(s', a') - alpha log pi(a'|s')),  a' ~ pi(.|s').
 * - A Gaussian policy squashed by tanh, its log-density corrected by the Jacobian of the squash,
 *   trained by reparameterisation to minimise E[alpha log pi(a|s) - min_i Q_i(s, a)].
 * - The temperature alpha tuned towards a target entropy of -|A|, optimised as log alpha so it
 *   stays positive.
 * - Adam with learning rate 3e-4 everywhere, two hidden layers of 256 ReLU units, batch 256,
 *   gamma 0.99, one gradient step per environment step after a warm-up of uniform random actions.
 *
 * The policy acts in [-1, 1]^|A|; actions are rescaled to the environment's box on the way out and
 * back on the way into the replay buffer, so the target entropy refers to the squashed space.
 */
import { z } from "zod";
import { adam, tf } from "../tensor/mod.ts";
import { Rng } from "../rng.ts";
import { dense, type Layer, ParameterSet, sequential } from "../models/nn.ts";
import type { Env } from "../envs/types.ts";
import type { Progress } from "../progress.ts";
import { UserError } from "../errors.ts";
import { type Transition, type TransitionBatch, TransitionReplay } from "./transition_replay.ts";

export const sacConfigSchema = z.object({
  /** Units in each hidden layer of the policy and both Q networks (paper: 256). */
  hiddenSize: z.number().int().positive(),
  /** Hidden layers in each network (paper: 2). */
  hiddenLayers: z.number().int().positive(),
  /** Transitions per gradient step (paper: 256). */
  batchSize: z.number().int().positive(),
  /** Transitions the replay buffer holds (paper: 1e6). */
  replayCapacity: z.number().int().positive(),
  /** Observed transitions during which `act` returns uniform random actions. */
  randomSteps: z.number().int().nonnegative(),
  /** Stored transitions needed before the first gradient step. */
  updateAfter: z.number().int().nonnegative(),
  /** Gradient steps per `update()` call, i.e. per environment step (paper: 1). */
  updatesPerStep: z.number().int().positive(),
  /** gamma (paper: 0.99). */
  discount: z.number().min(0).max(1),
  /** tau, the Polyak averaging rate of the target Q networks (paper: 0.005). */
  polyakRate: z.number().gt(0).max(1),
  /** Adam's learning rate for policy, Q networks and temperature (paper: 3e-4). */
  learningRate: z.number().positive(),
  /** alpha before any tuning. */
  initialTemperature: z.number().positive(),
  /** The entropy alpha is tuned towards; default -|A| as in the paper. */
  targetEntropy: z.number().optional(),
}).strict();

export type SacConfig = z.infer<typeof sacConfigSchema>;

/**
 * The published hyperparameters (Haarnoja et al. 2018, Appendix D). The warm-up lengths are not
 * in the paper's table; these are the usual choices of public implementations.
 */
export const SAC_PAPER_CONFIG: SacConfig = {
  hiddenSize: 256,
  hiddenLayers: 2,
  batchSize: 256,
  replayCapacity: 1_000_000,
  randomSteps: 5_000,
  updateAfter: 1_000,
  updatesPerStep: 1,
  discount: 0.99,
  polyakRate: 0.005,
  learningRate: 3e-4,
  initialTemperature: 1,
};

/** Smaller networks and batches for a 2-core laptop: the same algorithm, cheaper steps. */
export const SAC_LAPTOP_CONFIG: SacConfig = {
  ...SAC_PAPER_CONFIG,
  hiddenSize: 64,
  batchSize: 64,
  replayCapacity: 100_000,
  randomSteps: 1_000,
  updateAfter: 500,
};

/** Bounds of the policy's log standard deviation, reached smoothly through tanh. */
export const LOG_STD_MIN = -5;
export const LOG_STD_MAX = 2;

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * Reparameterised sample of a tanh-squashed Gaussian and its log-density:
 *   u = mean + exp(logStd) * noise,  action = tanh(u),
 *   log pi(action) = sum_i [log N(u_i; mean_i, std_i) - log(1 - tanh(u_i)^2)].
 * The Jacobian term is computed as 2 (log 2 - u - softplus(-2u)), which equals log(1 - tanh^2 u)
 * without the rounding to log(0) that the direct form hits once |u| > 9.
 * Shapes: [batch, actionSize] in, action [batch, actionSize] and logProb [batch] out.
 */
export function squashedGaussian(
  mean: tf.Tensor2D,
  logStd: tf.Tensor2D,
  noise: tf.Tensor2D,
): { action: tf.Tensor2D; logProb: tf.Tensor1D } {
  return tf.tidy(() => {
    const preSquash = tf.add(mean, tf.mul(tf.exp(logStd), noise));
    // log N(u; mean, std) with (u - mean) / std = noise.
    const gaussian = tf.sub(tf.sub(tf.mul(tf.square(noise), -0.5), logStd), 0.5 * LOG_2PI);
    const logJacobian = tf.mul(
      tf.sub(tf.sub(Math.log(2), preSquash), tf.softplus(tf.mul(preSquash, -2))),
      2,
    );
    return {
      action: tf.tanh(preSquash) as tf.Tensor2D,
      logProb: tf.sum(tf.sub(gaussian, logJacobian), 1) as tf.Tensor1D,
    };
  });
}

/**
 * The soft Bellman target of the Q networks, with two target critics:
 *   y = r + gamma (1 - terminal) (min(Q'_1, Q'_2) - alpha log pi(a'|s')).
 * All inputs are [batch] except the scalars.
 */
export function softBellmanTarget(
  rewards: tf.Tensor1D,
  terminals: tf.Tensor1D,
  nextQ1: tf.Tensor1D,
  nextQ2: tf.Tensor1D,
  nextLogProb: tf.Tensor1D,
  temperature: number | tf.Scalar,
  discount: number,
): tf.Tensor1D {
  return tf.tidy(() => {
    const softValue = tf.sub(tf.minimum(nextQ1, nextQ2), tf.mul(temperature, nextLogProb));
    const continuing = tf.sub(1, terminals);
    return tf.add(rewards, tf.mul(tf.mul(continuing, discount), softValue)) as tf.Tensor1D;
  });
}

/** target <- (1 - rate) target + rate source, for every parameter (the same names and shapes). */
export function polyakUpdate(target: ParameterSet, source: ParameterSet, rate: number): void {
  for (const [name, variable] of target.variables) {
    const from = source.variables.get(name);
    if (!from) throw new Error(`polyakUpdate: the source has no parameter ${name}`);
    tf.tidy(() => variable.assign(tf.add(tf.mul(variable, 1 - rate), tf.mul(from, rate))));
  }
}

/** Losses and temperature after one gradient step. */
export interface SacLosses {
  criticLoss: number;
  actorLoss: number;
  temperatureLoss: number;
  temperature: number;
  /** -mean log pi of the batch's fresh policy actions: the entropy estimate alpha is tuned on. */
  entropy: number;
}

export interface SacAgentOptions {
  /** The environment's action box; actions are rescaled from [-1, 1] to it (default [-1, 1]). */
  actionLow?: ArrayLike<number>;
  actionHigh?: ArrayLike<number>;
}

function mlp(
  params: ParameterSet,
  inputSize: number,
  hiddenSize: number,
  hiddenLayers: number,
  outputSize: number,
): Layer {
  const layers: Layer[] = [];
  let width = inputSize;
  for (let i = 0; i < hiddenLayers; i++) {
    layers.push(dense(params, `hidden${i}`, width, hiddenSize, "relu"));
    width = hiddenSize;
  }
  layers.push(dense(params, "output", width, outputSize));
  return sequential(...layers);
}

export class SacAgent {
  readonly config: SacConfig;
  readonly observationSize: number;
  readonly actionSize: number;
  readonly targetEntropy: number;
  readonly replay: TransitionReplay;
  /** The parameters of each network and the temperature, for tests, checkpoints and inspection. */
  readonly parameters: {
    actor: ParameterSet;
    critic1: ParameterSet;
    critic2: ParameterSet;
    targetCritic1: ParameterSet;
    targetCritic2: ParameterSet;
    /** Holds "log_alpha", the temperature's trainable form (log keeps alpha positive). */
    temperature: ParameterSet;
  };
  readonly #logTemperature: tf.Variable;

  readonly #rng: Rng;
  readonly #actor: Layer;
  readonly #critics: [Layer, Layer];
  readonly #targetCritics: [Layer, Layer];
  readonly #criticVariables: tf.Variable[];
  readonly #actorOptimizer: tf.Optimizer;
  readonly #criticOptimizer: tf.Optimizer;
  readonly #temperatureOptimizer: tf.Optimizer;
  readonly #actionCenter: Float32Array;
  readonly #actionHalfRange: Float32Array;
  readonly #batch: TransitionBatch;
  readonly #nextNoise: Float32Array;
  readonly #policyNoise: Float32Array;
  readonly #squashedAction: Float32Array;
  readonly #environmentAction: Float32Array;
  readonly #stored: Transition;
  #observedSteps = 0;
  #gradientSteps = 0;

  constructor(
    config: SacConfig,
    observationSize: number,
    actionSize: number,
    rng: Rng,
    options: SacAgentOptions = {},
  ) {
    this.config = sacConfigSchema.parse(config);
    this.observationSize = observationSize;
    this.actionSize = actionSize;
    this.targetEntropy = this.config.targetEntropy ?? -actionSize;
    this.#rng = rng;
    this.#actionCenter = new Float32Array(actionSize);
    this.#actionHalfRange = new Float32Array(actionSize).fill(1);
    if (options.actionLow || options.actionHigh) {
      const low = options.actionLow ?? new Float32Array(actionSize).fill(-1);
      const high = options.actionHigh ?? new Float32Array(actionSize).fill(1);
      if (low.length !== actionSize || high.length !== actionSize) {
        throw new RangeError(`SacAgent: action bounds need ${actionSize} values each`);
      }
      for (let i = 0; i < actionSize; i++) {
        if (!Number.isFinite(low[i]) || !Number.isFinite(high[i]) || !(low[i] < high[i])) {
          throw new RangeError(
            `SacAgent: action bound ${i} is [${low[i]}, ${high[i]}]; SAC needs a finite box`,
          );
        }
        this.#actionCenter[i] = (high[i] + low[i]) / 2;
        this.#actionHalfRange[i] = (high[i] - low[i]) / 2;
      }
    }

    const { hiddenSize, hiddenLayers, batchSize } = this.config;
    const criticInput = observationSize + actionSize;
    const actor = new ParameterSet("sac_actor", rng.fork());
    const critic1 = new ParameterSet("sac_critic1", rng.fork());
    const critic2 = new ParameterSet("sac_critic2", rng.fork());
    const targetCritic1 = new ParameterSet("sac_target_critic1", rng.fork());
    const targetCritic2 = new ParameterSet("sac_target_critic2", rng.fork());
    this.#actor = mlp(actor, observationSize, hiddenSize, hiddenLayers, 2 * actionSize);
    this.#critics = [
      mlp(critic1, criticInput, hiddenSize, hiddenLayers, 1),
      mlp(critic2, criticInput, hiddenSize, hiddenLayers, 1),
    ];
    this.#targetCritics = [
      mlp(targetCritic1, criticInput, hiddenSize, hiddenLayers, 1),
      mlp(targetCritic2, criticInput, hiddenSize, hiddenLayers, 1),
    ];
    targetCritic1.copyFrom(critic1);
    targetCritic2.copyFrom(critic2);
    const temperature = new ParameterSet("sac_temperature", rng);
    this.#logTemperature = temperature.create(
      "log_alpha",
      [],
      Float32Array.of(Math.log(this.config.initialTemperature)),
    );
    this.parameters = { actor, critic1, critic2, targetCritic1, targetCritic2, temperature };
    this.#criticVariables = [...critic1.list(), ...critic2.list()];
    this.#actorOptimizer = adam(this.config.learningRate);
    this.#criticOptimizer = adam(this.config.learningRate);
    this.#temperatureOptimizer = adam(this.config.learningRate);

    this.replay = new TransitionReplay(this.config.replayCapacity, observationSize, actionSize);
    this.#batch = this.replay.allocateBatch(batchSize);
    this.#nextNoise = new Float32Array(batchSize * actionSize);
    this.#policyNoise = new Float32Array(batchSize * actionSize);
    this.#squashedAction = new Float32Array(actionSize);
    this.#environmentAction = new Float32Array(actionSize);
    // One transition object, refilled by `observe`, so storing allocates nothing.
    this.#stored = {
      observation: new Float32Array(0),
      action: this.#squashedAction,
      reward: 0,
      nextObservation: new Float32Array(0),
      terminated: false,
    };
  }

  /** The current alpha. */
  get temperature(): number {
    return Math.exp(this.#logTemperature.dataSync()[0]);
  }

  /** Transitions passed to `observe` so far. */
  get observedSteps(): number {
    return this.#observedSteps;
  }

  /** Gradient steps taken so far. */
  get gradientSteps(): number {
    return this.#gradientSteps;
  }

  /** Policy mean and log standard deviation (bounded) for a batch of observations. */
  #policyHead(observations: tf.Tensor2D): { mean: tf.Tensor2D; logStd: tf.Tensor2D } {
    const output = this.#actor.apply(observations);
    const [mean, rawLogStd] = tf.split(output, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
    const logStd = tf.add(
      LOG_STD_MIN,
      tf.mul(0.5 * (LOG_STD_MAX - LOG_STD_MIN), tf.add(tf.tanh(rawLogStd), 1)),
    ) as tf.Tensor2D;
    return { mean, logStd };
  }

  #policySample(observations: tf.Tensor2D, noise: tf.Tensor2D) {
    const { mean, logStd } = this.#policyHead(observations);
    return squashedGaussian(mean, logStd, noise);
  }

  /** Q_1 and Q_2 of each row: [2, batch]. */
  #twinQ(critics: [Layer, Layer], observations: tf.Tensor2D, actions: tf.Tensor2D): tf.Tensor2D {
    // Two separate 2-D networks: wasm's batched (rank-3) matMul is far slower than two plain ones.
    const input = tf.concat([observations, actions], 1);
    return tf.squeeze(tf.stack(critics.map((critic) => critic.apply(input))), [2]) as tf.Tensor2D;
  }

  /**
   * An action in the environment's units: uniform random during the first `randomSteps` observed
   * transitions, then a sample of the policy; `deterministic` uses the policy mean, tanh(mean).
   * The returned array is reused by the next call.
   */
  act(observation: ArrayLike<number>, { deterministic = false } = {}): Float32Array {
    const squashed = this.#squashedAction;
    if (!deterministic && this.#observedSteps < this.config.randomSteps) {
      for (let i = 0; i < this.actionSize; i++) squashed[i] = this.#rng.uniform(-1, 1);
    } else {
      if (observation.length !== this.observationSize) {
        throw new RangeError(
          `SacAgent.act: observations have ${this.observationSize} values, got ${observation.length}`,
        );
      }
      const head = tf.tidy(() => {
        const input = tf.tensor2d(Float32Array.from(observation), [1, this.observationSize]);
        const { mean, logStd } = this.#policyHead(input);
        return tf.concat([mean, logStd], 1).dataSync();
      });
      for (let i = 0; i < this.actionSize; i++) {
        const mean = head[i];
        const std = Math.exp(head[this.actionSize + i]);
        squashed[i] = Math.tanh(deterministic ? mean : mean + std * this.#rng.normal());
      }
    }
    const action = this.#environmentAction;
    for (let i = 0; i < this.actionSize; i++) {
      action[i] = this.#actionCenter[i] + this.#actionHalfRange[i] * squashed[i];
    }
    return action;
  }

  /** Stores a transition; its action is in the environment's units, as `act` returns it. */
  observe(transition: Transition): void {
    const squashed = this.#squashedAction;
    for (let i = 0; i < this.actionSize; i++) {
      const value = (transition.action[i] - this.#actionCenter[i]) / this.#actionHalfRange[i];
      squashed[i] = Math.min(1, Math.max(-1, value));
    }
    const stored = this.#stored;
    stored.observation = transition.observation;
    stored.reward = transition.reward;
    stored.nextObservation = transition.nextObservation;
    stored.terminated = transition.terminated;
    this.replay.add(stored);
    this.#observedSteps++;
  }

  /**
   * `updatesPerStep` gradient steps on minibatches from the replay buffer; null (and nothing done)
   * while the buffer holds fewer than `updateAfter` transitions. Returns the last step's losses.
   */
  update(): SacLosses | null {
    if (this.replay.size === 0 || this.replay.size < this.config.updateAfter) return null;
    let losses: SacLosses | null = null;
    for (let i = 0; i < this.config.updatesPerStep; i++) {
      this.replay.sample(this.#rng, this.#batch);
      this.#rng.fillNormal(this.#nextNoise);
      this.#rng.fillNormal(this.#policyNoise);
      losses = this.updateOnBatch(this.#batch, this.#nextNoise, this.#policyNoise);
    }
    return losses;
  }

  /**
   * The soft Bellman targets of a batch, with `nextNoise` ([batch * actionSize] standard normals)
   * drawing a' ~ pi(.|s'). Exposed for tests; the caller disposes the result.
   */
  softTargets(batch: TransitionBatch, nextNoise: Float32Array): tf.Tensor1D {
    return tf.tidy(() => {
      const size = batch.size;
      const nextObservations = tf.tensor2d(
        batch.nextObservations.subarray(0, size * this.observationSize),
        [size, this.observationSize],
      );
      const noise = tf.tensor2d(
        nextNoise.subarray(0, size * this.actionSize),
        [size, this.actionSize],
      );
      const next = this.#policySample(nextObservations, noise);
      const [nextQ1, nextQ2] = tf.unstack(
        this.#twinQ(this.#targetCritics, nextObservations, next.action),
      ) as tf.Tensor1D[];
      return softBellmanTarget(
        tf.tensor1d(batch.rewards.subarray(0, size)),
        tf.tensor1d(batch.terminals.subarray(0, size)),
        nextQ1,
        nextQ2,
        next.logProb,
        tf.exp(this.#logTemperature) as tf.Scalar,
        this.config.discount,
      );
    });
  }

  /**
   * One gradient step of Algorithm 1 on a given batch: Q networks, then policy, then temperature,
   * then the targets. `nextNoise` draws a' for the targets, `policyNoise` the policy's actions.
   */
  updateOnBatch(
    batch: TransitionBatch,
    nextNoise: Float32Array,
    policyNoise: Float32Array,
  ): SacLosses {
    const size = batch.size;
    const o = this.observationSize;
    const a = this.actionSize;
    const targets = this.softTargets(batch, nextNoise);
    const observations = tf.tensor2d(batch.observations.subarray(0, size * o), [size, o]);
    const actions = tf.tensor2d(batch.actions.subarray(0, size * a), [size, a]);
    const noise = tf.tensor2d(policyNoise.subarray(0, size * a), [size, a]);
    const scalars: tf.Scalar[] = [];
    try {
      const criticLoss = this.#criticOptimizer.minimize(
        () => {
          // J_Q = E[(Q - y)^2 / 2] summed over both critics: the mean over [2, batch].
          const errors = tf.sub(this.#twinQ(this.#critics, observations, actions), targets);
          return tf.mean(tf.square(errors)) as tf.Scalar;
        },
        true,
        this.#criticVariables,
      )!;
      scalars.push(criticLoss);

      let meanLogProb: tf.Scalar | null = null;
      const actorLoss = this.#actorOptimizer.minimize(
        () => {
          const { action, logProb } = this.#policySample(observations, noise);
          const q = tf.min(this.#twinQ(this.#critics, observations, action), 0);
          meanLogProb = tf.keep(tf.mean(logProb) as tf.Scalar);
          const temperature = tf.exp(this.#logTemperature);
          return tf.mean(tf.sub(tf.mul(temperature, logProb), q)) as tf.Scalar;
        },
        true,
        this.parameters.actor.list(),
      )!;
      scalars.push(actorLoss, meanLogProb!);

      // J(alpha) = E[-alpha (log pi + target entropy)], minimised over log alpha.
      const entropyGap = tf.add(meanLogProb!, this.targetEntropy);
      scalars.push(entropyGap as tf.Scalar);
      const temperatureLoss = this.#temperatureOptimizer.minimize(
        () => tf.neg(tf.mul(this.#logTemperature, entropyGap)) as tf.Scalar,
        true,
        [this.#logTemperature],
      )!;
      scalars.push(temperatureLoss);

      const rate = this.config.polyakRate;
      polyakUpdate(this.parameters.targetCritic1, this.parameters.critic1, rate);
      polyakUpdate(this.parameters.targetCritic2, this.parameters.critic2, rate);
      this.#gradientSteps++;
      return {
        criticLoss: criticLoss.dataSync()[0],
        actorLoss: actorLoss.dataSync()[0],
        temperatureLoss: temperatureLoss.dataSync()[0],
        temperature: this.temperature,
        entropy: -(meanLogProb! as tf.Scalar).dataSync()[0],
      };
    } finally {
      tf.dispose([targets, observations, actions, noise, ...scalars]);
    }
  }

  dispose(): void {
    for (const set of Object.values(this.parameters)) set.dispose();
    this.#actorOptimizer.dispose();
    this.#criticOptimizer.dispose();
    this.#temperatureOptimizer.dispose();
  }
}

export interface TrainSacOptions {
  /** Environment steps (calls to `env.step`) to train for. */
  environmentSteps: number;
  /** Seeds the networks, exploration, minibatches and episode starts (default 0). */
  seed?: number;
  /** Environment steps between evaluations of the deterministic policy (default: a tenth). */
  evaluateEvery?: number;
  /** Episodes per evaluation (default 5). */
  evaluationEpisodes?: number;
  /**
   * A second copy of the environment to evaluate on at exact step counts. Without one, each
   * evaluation runs on the training environment at the first episode boundary at or after its
   * step count (exact when `evaluateEvery` is a multiple of the episode length).
   */
  evaluationEnv?: Env;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
}

export interface SacTrainingResult {
  /** Mean and std of the deterministic policy's return over `evaluationEpisodes`, by env step. */
  evaluation: { steps: number[]; meanReturn: number[]; stdReturn: number[] };
  /** Each training episode's return and the env step at which it ended. */
  episodes: { steps: number[]; returns: number[] };
  /** Losses of the last gradient step, null when none was taken. */
  lastLosses: SacLosses | null;
  gradientSteps: number;
  wallSeconds: number;
  /** The trained agent; dispose it when done. */
  agent: SacAgent;
}

/** Runs whole episodes of the deterministic policy and returns their returns. */
export function evaluateSac(
  agent: SacAgent,
  env: Env,
  episodes: number,
  rng: Rng,
): number[] {
  const returns: number[] = [];
  for (let episode = 0; episode < episodes; episode++) {
    let observation = env.reset(rng.seedInt());
    let total = 0;
    for (let step = 0; step < env.maxEpisodeSteps; step++) {
      const result = env.step(agent.act(observation, { deterministic: true }));
      total += result.reward;
      observation = result.observation;
      if (result.terminated || result.truncated) break;
    }
    returns.push(total);
  }
  return returns;
}

function checkEnv(env: Env): { low: Float32Array; high: Float32Array; observationSize: number } {
  if (env.actionSpec.kind !== "box") {
    throw new UserError(`SAC needs continuous actions; ${env.id} has discrete actions`);
  }
  if (env.observationSpec.dtype !== "float32" || env.observationSpec.shape.length !== 1) {
    throw new UserError(
      `SAC here takes state vectors; ${env.id} observes ${env.observationSpec.shape}`,
    );
  }
  return {
    low: env.actionSpec.low,
    high: env.actionSpec.high,
    observationSize: env.observationSpec.shape[0],
  };
}

function meanOf(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function stdOf(values: number[]): number {
  const m = meanOf(values);
  return Math.sqrt(meanOf(values.map((v) => (v - m) ** 2)));
}

/**
 * Trains SAC on `env` for `environmentSteps` steps and returns its learning curve (deterministic
 * policy return against environment steps, first point before any training). Steps are counted
 * as calls to `env.step`: wrap the environment to repeat actions, and its steps are what count.
 */
export async function trainSac(
  env: Env,
  config: SacConfig,
  options: TrainSacOptions,
): Promise<SacTrainingResult> {
  const started = performance.now();
  const { environmentSteps } = options;
  if (!Number.isInteger(environmentSteps) || environmentSteps < 1) {
    throw new RangeError(`environmentSteps must be a positive integer, got ${environmentSteps}`);
  }
  const evaluateEvery = options.evaluateEvery ?? Math.max(1, Math.floor(environmentSteps / 10));
  const evaluationEpisodes = options.evaluationEpisodes ?? 5;
  const { low, high, observationSize } = checkEnv(env);
  const rng = new Rng(options.seed ?? 0);
  const evaluationRng = rng.fork();
  const agent = new SacAgent(
    { ...config, replayCapacity: Math.min(config.replayCapacity, environmentSteps) },
    observationSize,
    low.length,
    rng.fork(),
    { actionLow: low, actionHigh: high },
  );
  const evaluation = {
    steps: [] as number[],
    meanReturn: [] as number[],
    stdReturn: [] as number[],
  };
  const episodes = { steps: [] as number[], returns: [] as number[] };
  const report = (done: number, message: string) =>
    options.onProgress?.({ stage: "sac", done, total: environmentSteps, message });
  const evaluate = (step: number) => {
    const returns = evaluateSac(
      agent,
      options.evaluationEnv ?? env,
      evaluationEpisodes,
      evaluationRng,
    );
    evaluation.steps.push(step);
    evaluation.meanReturn.push(meanOf(returns));
    evaluation.stdReturn.push(stdOf(returns));
    report(step, `evaluation return ${meanOf(returns).toFixed(1)} at step ${step}`);
  };

  let lastLosses: SacLosses | null = null;
  try {
    evaluate(0);
    let nextEvaluation = evaluateEvery;
    const observation = new Float32Array(observationSize);
    const transition: Transition = {
      observation,
      action: observation,
      reward: 0,
      nextObservation: observation,
      terminated: false,
    };
    observation.set(env.reset(rng.seedInt()));
    let episodeReturn = 0;
    for (let step = 1; step <= environmentSteps; step++) {
      const action = agent.act(observation);
      const result = env.step(action);
      transition.action = action;
      transition.reward = result.reward;
      transition.nextObservation = result.observation;
      transition.terminated = result.terminated;
      agent.observe(transition);
      observation.set(result.observation);
      episodeReturn += result.reward;
      lastLosses = agent.update() ?? lastLosses;

      const episodeEnded = result.terminated || result.truncated;
      if (episodeEnded) {
        episodes.steps.push(step);
        episodes.returns.push(episodeReturn);
        report(step, `episode return ${episodeReturn.toFixed(1)}`);
        episodeReturn = 0;
      }
      if (step >= nextEvaluation && (options.evaluationEnv || episodeEnded)) {
        evaluate(step);
        while (nextEvaluation <= step) nextEvaluation += evaluateEvery;
      }
      if (episodeEnded) observation.set(env.reset(rng.seedInt()));
      if (step % 250 === 0) {
        // Let progress displays and abort signals through.
        await new Promise((resolve) => setTimeout(resolve, 0));
        options.signal?.throwIfAborted();
      }
    }
    if (evaluation.steps.at(-1) !== environmentSteps) evaluate(environmentSteps);
  } catch (error) {
    agent.dispose();
    throw error;
  }
  return {
    evaluation,
    episodes,
    lastLosses,
    gradientSteps: agent.gradientSteps,
    wallSeconds: (performance.now() - started) / 1000,
    agent,
  };
}

/**
 * `deno run -A lib/agents/sac.ts ENV_ID [--steps N] [--seed S] [--every N] [--paper]` trains SAC
 * on a registered environment and prints its evaluation curve (laptop config unless --paper).
 */
async function main(args: string[]): Promise<void> {
  const option = (name: string, fallback: number) => {
    const index = args.indexOf(`--${name}`);
    return index >= 0 ? Number(args[index + 1]) : fallback;
  };
  const id = args.find((arg, i) => !arg.startsWith("--") && !args[i - 1]?.startsWith("--"));
  if (!id) throw new UserError("usage: lib/agents/sac.ts ENV_ID [--steps N] [--seed S] [--paper]");
  const { CLASSIC_CONTROL_IDS, isClassicControlId, makeEnv } = await import(
    "../envs/registry.ts"
  );
  if (!isClassicControlId(id)) {
    throw new UserError(
      `SAC runs on state vectors; '${id}' is not one of ${CLASSIC_CONTROL_IDS.join(", ")}`,
    );
  }
  const environmentSteps = option("steps", 10_000);
  const config = args.includes("--paper") ? SAC_PAPER_CONFIG : SAC_LAPTOP_CONFIG;
  const result = await trainSac(makeEnv(id), config, {
    environmentSteps,
    seed: option("seed", 0),
    evaluateEvery: option("every", Math.max(1, Math.floor(environmentSteps / 10))),
    onProgress: (progress) => {
      if (progress.message?.startsWith("evaluation")) console.log(progress.message);
    },
  });
  const last = result.lastLosses;
  console.log(
    `${id}: ${environmentSteps} steps, ${result.gradientSteps} updates in ` +
      `${result.wallSeconds.toFixed(0)} s; final evaluation ` +
      `${result.evaluation.meanReturn.at(-1)!.toFixed(1)} ± ${
        result.evaluation.stdReturn.at(-1)!.toFixed(1)
      }` + (last ? `; alpha ${last.temperature.toFixed(3)}` : ""),
  );
  result.agent.dispose();
}

if (import.meta.main) await main(Deno.args);
