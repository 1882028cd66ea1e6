/**
 * Proximal Policy Optimization with the clipped surrogate (Schulman, Wolski, Dhariwal, Radford &
 * Klimov 2017, "Proximal Policy Optimization Algorithms", arXiv:1707.06347): Section 3 for the
 * clipped objective L^CLIP, Section 5 for the combined loss with a value term and an entropy
 * bonus and for Algorithm 1 (collect T steps, then K epochs of minibatch Adam), and generalized
 * advantage estimation (Schulman et al. 2016, "High-Dimensional Continuous Control Using
 * Generalized Advantage Estimation", Section 3).
 *
 * - Continuous actions: a Gaussian with a state-dependent mean and a state-independent log
 *   standard deviation, as in the paper's MuJoCo runs; the environment clips samples to its box.
 * - Discrete actions: a softmax over logits.
 * - Separate policy and value networks of the same shape (tanh hidden layers); advantages are
 *   normalised per minibatch; Adam, as in the paper's Table 3.
 */
import { z } from "zod";
import { adam, tf } from "../tensor/mod.ts";
import { Rng } from "../rng.ts";
import { dense, type Layer, ParameterSet, sequential } from "../models/nn.ts";
import type { Action, Env } from "../envs/types.ts";
import type { Progress } from "../progress.ts";
import { UserError } from "../errors.ts";

export const ppoConfigSchema = z.object({
  /** Units in each hidden layer of the policy and the value network (paper: 64). */
  hiddenSize: z.number().int().positive(),
  hiddenLayers: z.number().int().positive(),
  /** T, environment steps collected before each update (paper, MuJoCo: 2048). */
  rolloutSteps: z.number().int().positive(),
  /** K, passes over each rollout (paper: 10). */
  epochs: z.number().int().positive(),
  /** Minibatch size (paper: 64). */
  minibatchSize: z.number().int().positive(),
  /** gamma (paper: 0.99). */
  discount: z.number().min(0).max(1),
  /** lambda of GAE (paper: 0.95). */
  gaeLambda: z.number().min(0).max(1),
  /** epsilon, the clip range of the probability ratio (paper: 0.2). */
  clipRange: z.number().positive(),
  /** c1, the weight of the value loss. */
  valueCoefficient: z.number().nonnegative(),
  /** c2, the weight of the entropy bonus (paper, MuJoCo: 0). */
  entropyCoefficient: z.number().nonnegative(),
  /** Adam's step size (paper: 3e-4). */
  learningRate: z.number().positive(),
  /** Log standard deviation of the Gaussian policy at the start. */
  initialLogStd: z.number(),
}).strict();

export type PpoConfig = z.infer<typeof ppoConfigSchema>;

/** The paper's MuJoCo settings (Table 3), with c1 = 0.5 from its Atari table. */
export const PPO_PAPER_CONFIG: PpoConfig = {
  hiddenSize: 64,
  hiddenLayers: 2,
  rolloutSteps: 2048,
  epochs: 10,
  minibatchSize: 64,
  discount: 0.99,
  gaeLambda: 0.95,
  clipRange: 0.2,
  valueCoefficient: 0.5,
  entropyCoefficient: 0,
  learningRate: 3e-4,
  initialLogStd: 0,
};

/**
 * GAE: delta_t = r_t + gamma V(s_{t+1}) - V(s_t), A_t = delta_t + gamma lambda A_{t+1}, the sum
 * restarting after each step that ends an episode. `nextValues[t]` is V(s_{t+1}): 0 where the
 * task terminated, the value of the last observation where the time limit cut the episode.
 * Returns the advantages and the value targets A_t + V(s_t).
 */
export function generalizedAdvantages(
  rewards: ArrayLike<number>,
  values: ArrayLike<number>,
  nextValues: ArrayLike<number>,
  episodeEnds: ArrayLike<boolean | number>,
  discount: number,
  lambda: number,
): { advantages: Float32Array; returns: Float32Array } {
  const steps = rewards.length;
  const advantages = new Float32Array(steps);
  const returns = new Float32Array(steps);
  let running = 0;
  for (let t = steps - 1; t >= 0; t--) {
    if (episodeEnds[t]) running = 0;
    const delta = rewards[t] + discount * nextValues[t] - values[t];
    running = delta + discount * lambda * running;
    advantages[t] = running;
    returns[t] = running + values[t];
  }
  return { advantages, returns };
}

/**
 * L^CLIP per sample: min(rho A, clip(rho, 1 - eps, 1 + eps) A), rho = exp(logNew - logOld).
 * To be maximised.
 */
export function clippedSurrogate(
  logProbNew: tf.Tensor1D,
  logProbOld: tf.Tensor1D,
  advantages: tf.Tensor1D,
  clipRange: number,
): tf.Tensor1D {
  return tf.tidy(() => {
    const ratio = tf.exp(tf.sub(logProbNew, logProbOld));
    const clipped = tf.clipByValue(ratio, 1 - clipRange, 1 + clipRange);
    return tf.minimum(tf.mul(ratio, advantages), tf.mul(clipped, advantages)) as tf.Tensor1D;
  });
}

const LOG_2PI = Math.log(2 * Math.PI);

function mlp(params: ParameterSet, input: number, config: PpoConfig, output: number): Layer {
  const layers: Layer[] = [];
  let width = input;
  for (let i = 0; i < config.hiddenLayers; i++) {
    layers.push(dense(params, `hidden${i}`, width, config.hiddenSize, "tanh"));
    width = config.hiddenSize;
  }
  layers.push(dense(params, "output", width, output));
  return sequential(...layers);
}

export interface PpoLosses {
  policyObjective: number;
  valueLoss: number;
  entropy: number;
  /** Fraction of samples whose ratio left [1 - eps, 1 + eps] in the last minibatch. */
  clipFraction: number;
}

export class PpoAgent {
  readonly config: PpoConfig;
  readonly discrete: boolean;
  /** Actions per step: the box's size, or the number of discrete choices. */
  readonly actionSize: number;
  readonly parameters: { policy: ParameterSet; value: ParameterSet };
  readonly #policy: Layer;
  readonly #value: Layer;
  readonly #logStd: tf.Variable | null;
  readonly #optimizer: tf.Optimizer;
  readonly #rng: Rng;
  readonly #variables: tf.Variable[];

  constructor(
    config: PpoConfig,
    readonly observationSize: number,
    action: { kind: "box"; size: number } | { kind: "discrete"; n: number },
    rng: Rng,
  ) {
    this.config = ppoConfigSchema.parse(config);
    this.discrete = action.kind === "discrete";
    this.actionSize = action.kind === "discrete" ? action.n : action.size;
    this.#rng = rng;
    const policy = new ParameterSet("ppo_policy", rng.fork());
    const value = new ParameterSet("ppo_value", rng.fork());
    this.#policy = mlp(policy, observationSize, this.config, this.actionSize);
    this.#value = mlp(value, observationSize, this.config, 1);
    this.#logStd = this.discrete ? null : policy.create(
      "log_std",
      [this.actionSize],
      new Float32Array(this.actionSize).fill(this.config.initialLogStd),
    );
    this.parameters = { policy, value };
    this.#variables = [...policy.list(), ...value.list()];
    this.#optimizer = adam(this.config.learningRate);
  }

  /** log pi(a|s) and the entropy of pi(.|s) per row. */
  #logProbAndEntropy(observations: tf.Tensor2D, actions: tf.Tensor) {
    const output = this.#policy.apply(observations) as tf.Tensor2D;
    if (this.discrete) {
      const logProbs = tf.logSoftmax(output);
      const chosen = tf.sum(
        tf.mul(logProbs, tf.oneHot(actions as tf.Tensor1D, this.actionSize)),
        1,
      );
      const entropy = tf.neg(tf.sum(tf.mul(tf.exp(logProbs), logProbs), 1));
      return { logProb: chosen as tf.Tensor1D, entropy: entropy as tf.Tensor1D };
    }
    const logStd = this.#logStd!;
    const z = tf.div(tf.sub(actions, output), tf.exp(logStd));
    const logProb = tf.sum(tf.sub(tf.sub(tf.mul(tf.square(z), -0.5), logStd), 0.5 * LOG_2PI), 1);
    const entropy = tf.add(tf.sum(logStd), this.actionSize * 0.5 * (1 + LOG_2PI));
    return {
      logProb: logProb as tf.Tensor1D,
      entropy: tf.mul(tf.onesLike(logProb), entropy) as tf.Tensor1D,
    };
  }

  /**
   * An action for one observation: sampled, or the mean (argmax) when `deterministic`; with the
   * sample's log-probability and the state's value.
   */
  act(
    observation: Float32Array,
    options: { deterministic?: boolean } = {},
  ): { action: Action; logProb: number; value: number } {
    const [output, value] = tf.tidy(() => {
      const x = tf.tensor2d(observation, [1, this.observationSize]);
      return [this.#policy.apply(x).dataSync(), this.#value.apply(x).dataSync()[0]] as const;
    });
    if (this.discrete) {
      let max = -Infinity;
      for (const v of output) max = Math.max(max, v);
      let total = 0;
      const probs = Array.from(output, (v) => Math.exp(v - max));
      for (const p of probs) total += p;
      let choice = 0;
      if (options.deterministic) {
        for (let i = 1; i < probs.length; i++) if (probs[i] > probs[choice]) choice = i;
      } else {
        let u = this.#rng.next() * total;
        while (choice < probs.length - 1 && u >= probs[choice]) u -= probs[choice++];
      }
      return { action: choice, logProb: Math.log(probs[choice] / total), value };
    }
    const logStd = this.#logStd!.dataSync();
    const action = new Float32Array(this.actionSize);
    let logProb = 0;
    for (let i = 0; i < this.actionSize; i++) {
      const noise = options.deterministic ? 0 : this.#rng.normal();
      action[i] = output[i] + Math.exp(logStd[i]) * noise;
      logProb += -0.5 * noise * noise - logStd[i] - 0.5 * LOG_2PI;
    }
    return { action, logProb, value };
  }

  /** V(s) of one observation. */
  value(observation: Float32Array): number {
    return tf.tidy(() =>
      this.#value.apply(tf.tensor2d(observation, [1, this.observationSize])).dataSync()[0]
    );
  }

  /** K epochs of minibatch Adam on the combined loss -L^CLIP + c1 L^VF - c2 S over one rollout. */
  update(rollout: PpoRollout): PpoLosses {
    const { epochs, minibatchSize, clipRange, valueCoefficient, entropyCoefficient } = this.config;
    const steps = rollout.rewards.length;
    const { advantages, returns } = generalizedAdvantages(
      rollout.rewards,
      rollout.values,
      rollout.nextValues,
      rollout.episodeEnds,
      this.config.discount,
      this.config.gaeLambda,
    );
    const indices = Array.from({ length: steps }, (_, i) => i);
    let losses: PpoLosses = { policyObjective: 0, valueLoss: 0, entropy: 0, clipFraction: 0 };
    const actionWidth = this.discrete ? 1 : this.actionSize;
    for (let epoch = 0; epoch < epochs; epoch++) {
      this.#rng.shuffle(indices);
      for (let start = 0; start < steps; start += minibatchSize) {
        const batch = indices.slice(start, start + minibatchSize);
        if (batch.length < 2) continue;
        const observations = new Float32Array(batch.length * this.observationSize);
        const actions = new Float32Array(batch.length * actionWidth);
        const oldLogProbs = new Float32Array(batch.length);
        const batchAdvantages = new Float32Array(batch.length);
        const batchReturns = new Float32Array(batch.length);
        batch.forEach((t, row) => {
          observations.set(rollout.observations[t], row * this.observationSize);
          actions.set(rollout.actions[t], row * actionWidth);
          oldLogProbs[row] = rollout.logProbs[t];
          batchAdvantages[row] = advantages[t];
          batchReturns[row] = returns[t];
        });
        normaliseInPlace(batchAdvantages);
        const stats = { objective: 0, value: 0, entropy: 0, clipped: 0 };
        tf.tidy(() => {
          const x = tf.tensor2d(observations, [batch.length, this.observationSize]);
          const a = this.discrete
            ? tf.tensor1d(actions, "int32")
            : tf.tensor2d(actions, [batch.length, actionWidth]);
          const old = tf.tensor1d(oldLogProbs);
          const adv = tf.tensor1d(batchAdvantages);
          const target = tf.tensor1d(batchReturns);
          this.#optimizer.minimize(
            () => {
              const { logProb, entropy } = this.#logProbAndEntropy(x, a);
              const objective = tf.mean(clippedSurrogate(logProb, old, adv, clipRange));
              const value = tf.reshape(this.#value.apply(x), [-1]);
              const valueLoss = tf.mean(tf.square(tf.sub(value, target)));
              const meanEntropy = tf.mean(entropy);
              const ratio = tf.exp(tf.sub(logProb, old));
              stats.clipped = tf.mean(
                tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), clipRange), "float32"),
              ).dataSync()[0];
              stats.objective = objective.dataSync()[0];
              stats.value = valueLoss.dataSync()[0];
              stats.entropy = meanEntropy.dataSync()[0];
              return tf.add(
                tf.neg(objective),
                tf.sub(
                  tf.mul(valueCoefficient, valueLoss),
                  tf.mul(entropyCoefficient, meanEntropy),
                ),
              ) as tf.Scalar;
            },
            false,
            this.#variables,
          );
        });
        losses = {
          policyObjective: stats.objective,
          valueLoss: stats.value,
          entropy: stats.entropy,
          clipFraction: stats.clipped,
        };
      }
    }
    return losses;
  }

  dispose(): void {
    this.parameters.policy.dispose();
    this.parameters.value.dispose();
    this.#optimizer.dispose();
  }
}

function normaliseInPlace(values: Float32Array): void {
  let mean = 0;
  for (const v of values) mean += v / values.length;
  let variance = 0;
  for (const v of values) variance += (v - mean) ** 2 / values.length;
  const std = Math.sqrt(variance) + 1e-8;
  for (let i = 0; i < values.length; i++) values[i] = (values[i] - mean) / std;
}

/** One rollout of T steps, in the order collected. */
export interface PpoRollout {
  observations: Float32Array[];
  /** Box actions as given to the env, or [index] for discrete ones. */
  actions: Float32Array[];
  logProbs: number[];
  rewards: number[];
  values: number[];
  /** V(s_{t+1}): 0 after termination, bootstrapped after truncation and at the rollout's end. */
  nextValues: number[];
  episodeEnds: boolean[];
}

export interface TrainPpoOptions {
  environmentSteps: number;
  seed?: number;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
}

export interface PpoTrainingResult {
  /** Each training episode's return and the env step at which it ended. */
  episodes: { steps: number[]; returns: number[] };
  lastLosses: PpoLosses | null;
  wallSeconds: number;
  /** The trained agent; dispose it when done. */
  agent: PpoAgent;
}

/** Trains PPO on `env` for `environmentSteps` calls to `env.step` (Algorithm 1). */
export async function trainPpo(
  env: Env,
  config: PpoConfig,
  options: TrainPpoOptions,
): Promise<PpoTrainingResult> {
  const started = performance.now();
  const { environmentSteps } = options;
  if (!Number.isInteger(environmentSteps) || environmentSteps < 1) {
    throw new RangeError(`environmentSteps must be a positive integer, got ${environmentSteps}`);
  }
  if (env.observationSpec.dtype !== "float32" || env.observationSpec.shape.length !== 1) {
    throw new UserError(`PPO here takes state vectors; ${env.id} observes images`);
  }
  const observationSize = env.observationSpec.shape[0];
  const rng = new Rng(options.seed ?? 0);
  const agent = new PpoAgent(
    config,
    observationSize,
    env.actionSpec.kind === "discrete"
      ? { kind: "discrete", n: env.actionSpec.n }
      : { kind: "box", size: env.actionSpec.shape[0] },
    rng.fork(),
  );
  const episodes = { steps: [] as number[], returns: [] as number[] };
  let lastLosses: PpoLosses | null = null;
  try {
    let observation = env.reset(rng.seedInt()).slice();
    let episodeReturn = 0;
    let step = 0;
    while (step < environmentSteps) {
      const length = Math.min(agent.config.rolloutSteps, environmentSteps - step);
      const rollout: PpoRollout = {
        observations: [],
        actions: [],
        logProbs: [],
        rewards: [],
        values: [],
        nextValues: [],
        episodeEnds: [],
      };
      for (let t = 0; t < length; t++) {
        const { action, logProb, value } = agent.act(observation);
        const result = env.step(action);
        step++;
        episodeReturn += result.reward;
        rollout.observations.push(observation);
        rollout.actions.push(
          typeof action === "number" ? Float32Array.of(action) : action as Float32Array,
        );
        rollout.logProbs.push(logProb);
        rollout.rewards.push(result.reward);
        rollout.values.push(value);
        const ended = result.terminated || result.truncated;
        const next = result.observation.slice();
        rollout.nextValues.push(
          result.terminated ? 0 : (ended || t === length - 1 ? agent.value(next) : Number.NaN),
        );
        rollout.episodeEnds.push(ended);
        if (ended) {
          episodes.steps.push(step);
          episodes.returns.push(episodeReturn);
          options.onProgress?.({
            stage: "ppo",
            done: step,
            total: environmentSteps,
            message: `episode return ${episodeReturn.toFixed(1)}`,
          });
          episodeReturn = 0;
          observation = env.reset(rng.seedInt()).slice();
        } else {
          observation = next;
        }
      }
      // Within an episode V(s_{t+1}) is the next step's value, known only now.
      for (let t = 0; t < length - 1; t++) {
        if (Number.isNaN(rollout.nextValues[t])) rollout.nextValues[t] = rollout.values[t + 1];
      }
      lastLosses = agent.update(rollout);
      await new Promise((resolve) => setTimeout(resolve, 0));
      options.signal?.throwIfAborted();
    }
  } catch (error) {
    agent.dispose();
    throw error;
  }
  return {
    episodes,
    lastLosses,
    wallSeconds: (performance.now() - started) / 1000,
    agent,
  };
}
