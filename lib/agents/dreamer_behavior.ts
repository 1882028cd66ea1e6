/**
 * Learning behaviours in imagination: Dreamer's actor and critic (Hafner et al. 2020, "Dream to
 * Control", Section 3, Equations 4 to 8 and Algorithm 1) with DreamerV2's changes (Hafner et al.
 * 2021, "Mastering Atari with Discrete World Models", Section 2.2, Equations 4 to 6).
 *
 * From every posterior state of a training batch the world model imagines H steps ahead (the
 * papers: H = 15), the actor choosing each action and the prior sampling each next state, without
 * observations. On that imagined trajectory s_0 .. s_H:
 *   rewards        r_t = r(s_t) from the reward head, for t = 1 .. H
 *   discounts      gamma_t = gamma * P(s_t continues) (DreamerV2's discount predictor), or gamma
 *   values         v_t = v'(s_t) from the slow target critic (DreamerV2; Dreamer v1 used v)
 *   lambda-returns G_H = v_H,  G_t = r_{t+1} + gamma_{t+1} ((1 - lambda) v_{t+1} + lambda G_{t+1})
 *   weights        w_0 = 1, w_t = w_{t-1} gamma_t (the chance, discounted, that s_t is reached)
 * with lambda = 0.95 and gamma = 0.99. The critic regresses v(s_t) on G_t. The actor maximises
 *   sum_t w_t [ rho ln pi(a_t | s_t) sg(G_t - v'(s_t)) + (1 - rho) G_t + eta H(pi(. | s_t)) ],
 * REINFORCE (rho = 1, DreamerV2 on Atari) or the gradient of the returns back through the learned
 * dynamics (rho = 0, Dreamer v1 and DreamerV2 on continuous control), or a mix, with an entropy
 * bonus eta. Continuous actions come from a tanh-squashed Gaussian sampled by reparameterisation
 * (Dreamer v1: mean 5 tanh(mu / 5), standard deviation softplus(sigma + softplus^-1(5)) + 1e-4);
 * discrete ones from a categorical sampled as a one-hot vector with straight-through gradients.
 * The slow critic copies the critic every 100 updates (DreamerV2).
 *
 * Where the actor is trained by REINFORCE alone, imagination runs outside the actor's gradient
 * tape, which then only holds the policy's log-probabilities: a large saving on a CPU.
 */
import { adam, tf } from "../tensor/mod.ts";
import type { Rng } from "../rng.ts";
import { UserError } from "../errors.ts";
import { dense, type Layer, ParameterSet, sequential } from "../models/nn.ts";
import { categoricalEntropy, stopGradient, straightThroughSample } from "../models/latent.ts";
import type { Rssm, RssmState } from "../models/rssm.ts";
import { squashedGaussian } from "./sac.ts";

/** What the actor outputs: a vector in [-1, 1]^size, or one of `count` actions as one-hot. */
export type ActionKind =
  | { kind: "continuous"; size: number }
  | { kind: "discrete"; count: number };

/** Numbers in an action as the world model sees it. */
export function actionVectorSize(actions: ActionKind): number {
  return actions.kind === "continuous" ? actions.size : actions.count;
}

export interface BehaviorConfig {
  /** H, imagined steps per trajectory (papers: 15). */
  horizon: number;
  /** gamma (Dreamer: 0.99). */
  discount: number;
  /** lambda of the lambda-returns (papers: 0.95). */
  lambda: number;
  /** Units of the actor's and the critic's hidden layers (papers: 400). */
  hiddenSize: number;
  /** Hidden layers of each (Dreamer v1: 3 for the critic, 4 for the actor; DreamerV2: 4). */
  hiddenLayers: number;
  /** Adam step sizes (Dreamer v1: 8e-5 both; DreamerV2 on Atari: 4e-5 and 1e-4). */
  actorLearningRate: number;
  criticLearningRate: number;
  adamEpsilon: number;
  /** Gradients are rescaled to at most this global norm (papers: 100). */
  gradClipNorm: number;
  /** eta, the entropy bonus's weight (DreamerV2: 1e-3 on Atari, 1e-4 on continuous control). */
  entropyScale: number;
  /** rho: 1 for REINFORCE alone, 0 for gradients through the dynamics alone. */
  reinforceMix: number;
  /** The slow critic copies the critic every this many updates (DreamerV2: 100; 1: no lag). */
  slowCriticUpdateEvery: number;
  /** Continuous actions: the policy's initial standard deviation before the squash (v1: 5). */
  initialStd: number;
  /** Continuous actions: the smallest standard deviation (v1: 1e-4). */
  minStd: number;
  /** Continuous actions: the bound of the mean before the squash, meanScale tanh(mu / meanScale). */
  meanScale: number;
}

/** What one update of actor and critic measured. */
export interface BehaviorLosses {
  actor: number;
  critic: number;
  /** Mean entropy of the policy over the imagined states (estimated for continuous actions). */
  entropy: number;
  /** Mean lambda-return G_0 of the imagined trajectories' start states. */
  imaginedReturn: number;
}

/** An actor or critic loss became NaN or infinite: training stops and names the term. */
export class NonFiniteBehaviorLossError extends UserError {
  constructor(readonly term: "actor" | "critic", readonly updateIndex: number, value: number) {
    super(
      `Dreamer's behaviour training diverged: the ${term} loss is ${value} at update ` +
        `${updateIndex}; lower the learning rates or check the world model`,
    );
    this.name = "NonFiniteBehaviorLossError";
  }
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
    layers.push(dense(params, `hidden${i}`, width, hiddenSize, "elu"));
    width = hiddenSize;
  }
  layers.push(dense(params, "output", width, outputSize));
  return sequential(...layers);
}

/**
 * lambda-returns of an imagined trajectory, all [rows] tensors: `rewards[t]` and `discounts[t]`
 * belong to s_{t+1} (t = 0 .. H-1), `values[t]` to s_t (t = 0 .. H). Returns G_0 .. G_{H-1}.
 */
export function lambdaReturns(
  rewards: tf.Tensor1D[],
  discounts: tf.Tensor1D[],
  values: tf.Tensor1D[],
  lambda: number,
): tf.Tensor1D[] {
  const horizon = rewards.length;
  if (discounts.length !== horizon || values.length !== horizon + 1) {
    throw new RangeError(
      `lambdaReturns: ${horizon} rewards need ${horizon} discounts and ${horizon + 1} values`,
    );
  }
  const returns: tf.Tensor1D[] = new Array(horizon);
  let next = values[horizon];
  for (let t = horizon - 1; t >= 0; t--) {
    const blended = tf.add(tf.mul(1 - lambda, values[t + 1]), tf.mul(lambda, next));
    next = tf.add(rewards[t], tf.mul(discounts[t], blended)) as tf.Tensor1D;
    returns[t] = next;
  }
  return returns;
}

/** The randomness of one imagination: per step, the policy's and the prior's samples. */
export interface ImaginationNoise {
  /** Standard normals [rows, actionSize] (continuous) or uniforms [rows, 1] (discrete). */
  policy: tf.Tensor2D[];
  /** The prior's noise [rows, noiseSize] (see `Rssm.fillNoise`). */
  latent: tf.Tensor2D[];
}

/** An imagined trajectory from N start states, time-major lists. */
interface Imagined {
  /** Features of s_0 .. s_H. */
  features: tf.Tensor2D[];
  /** Actions a_0 .. a_{H-1} in the model's layout. */
  actions: tf.Tensor2D[];
  /** G_0 .. G_{H-1}. */
  returns: tf.Tensor1D[];
  /** v'(s_0) .. v'(s_{H-1}) from the slow critic. */
  baselines: tf.Tensor1D[];
  /** w_0 .. w_{H-1}, without gradient. */
  weights: tf.Tensor1D[];
  /** ln pi(a_t | s_t) and the policy's entropy at s_t, when imagined inside the actor's tape. */
  logProbs: tf.Tensor1D[];
  entropies: tf.Tensor1D[];
}

export class DreamerBehavior {
  readonly actorParams: ParameterSet;
  readonly criticParams: ParameterSet;
  readonly targetCriticParams: ParameterSet;
  readonly actorOptimizer: tf.AdamOptimizer;
  readonly criticOptimizer: tf.AdamOptimizer;
  readonly actionSize: number;
  /** Updates so far; the slow critic follows the critic every `slowCriticUpdateEvery`. */
  updates = 0;
  readonly #actor: Layer;
  readonly #critic: Layer;
  readonly #targetCritic: Layer;
  /** softplus^-1 of the initial standard deviation, added before the softplus. */
  readonly #stdOffset: number;

  constructor(
    readonly config: BehaviorConfig,
    readonly actions: ActionKind,
    readonly featureSize: number,
    rng: Rng,
  ) {
    const { hiddenSize, hiddenLayers } = config;
    this.actionSize = actionVectorSize(actions);
    const actorOutputs = actions.kind === "continuous" ? 2 * actions.size : actions.count;
    this.actorParams = new ParameterSet("dreamer_actor", rng.fork());
    this.criticParams = new ParameterSet("dreamer_critic", rng.fork());
    this.targetCriticParams = new ParameterSet("dreamer_target_critic", rng.fork());
    this.#actor = mlp(this.actorParams, featureSize, hiddenSize, hiddenLayers, actorOutputs);
    this.#critic = mlp(this.criticParams, featureSize, hiddenSize, hiddenLayers, 1);
    this.#targetCritic = mlp(this.targetCriticParams, featureSize, hiddenSize, hiddenLayers, 1);
    this.targetCriticParams.copyFrom(this.criticParams);
    this.actorOptimizer = adam(config.actorLearningRate, 0.9, 0.999, config.adamEpsilon);
    this.criticOptimizer = adam(config.criticLearningRate, 0.9, 0.999, config.adamEpsilon);
    this.#stdOffset = Math.log(Math.expm1(config.initialStd));
  }

  /** The continuous policy's mean and log standard deviation before the squash. */
  #gaussianHead(features: tf.Tensor2D): { mean: tf.Tensor2D; logStd: tf.Tensor2D } {
    const [rawMean, rawStd] = tf.split(this.#actor.apply(features), 2, -1) as tf.Tensor2D[];
    const scale = this.config.meanScale;
    const mean = tf.mul(scale, tf.tanh(tf.div(rawMean, scale))) as tf.Tensor2D;
    const std = tf.add(tf.softplus(tf.add(rawStd, this.#stdOffset)), this.config.minStd);
    return { mean, logStd: tf.log(std) as tf.Tensor2D };
  }

  /**
   * A sampled action for each row of `features` with `noise` (standard normals [rows, size] for
   * continuous actions, uniforms [rows, 1] for discrete ones), its log-probability and the
   * policy's entropy (for continuous actions, the estimate -ln pi of the sample).
   */
  policySample(
    features: tf.Tensor2D,
    noise: tf.Tensor2D,
  ): { action: tf.Tensor2D; logProb: tf.Tensor1D; entropy: tf.Tensor1D } {
    if (this.actions.kind === "continuous") {
      const { mean, logStd } = this.#gaussianHead(features);
      const { action, logProb } = squashedGaussian(mean, logStd, noise);
      return { action, logProb, entropy: tf.neg(logProb) as tf.Tensor1D };
    }
    const logits = this.#actor.apply(features) as tf.Tensor2D;
    const action = straightThroughSample(logits, noise, this.actions.count);
    return { action, ...this.#categoricalTerms(logits, action) };
  }

  #categoricalTerms(
    logits: tf.Tensor2D,
    action: tf.Tensor2D,
  ): { logProb: tf.Tensor1D; entropy: tf.Tensor1D } {
    return {
      logProb: tf.sum(tf.mul(action, tf.logSoftmax(logits)), -1) as tf.Tensor1D,
      entropy: categoricalEntropy(logits, (this.actions as { count: number }).count),
    };
  }

  /** ln pi(action | s) and the entropy at s for given actions (REINFORCE's log-probabilities). */
  #logProbOf(
    features: tf.Tensor2D,
    action: tf.Tensor2D,
  ): { logProb: tf.Tensor1D; entropy: tf.Tensor1D } {
    if (this.actions.kind === "discrete") {
      return this.#categoricalTerms(this.#actor.apply(features) as tf.Tensor2D, action);
    }
    // Invert the squash to find the pre-squash sample and its Gaussian noise.
    const { mean, logStd } = this.#gaussianHead(features);
    const clipped = tf.clipByValue(action, -1 + 1e-6, 1 - 1e-6);
    const preSquash = tf.atanh(clipped);
    const noise = tf.div(tf.sub(preSquash, mean), tf.exp(logStd)) as tf.Tensor2D;
    const { logProb } = squashedGaussian(mean, logStd, noise);
    return { logProb, entropy: tf.neg(logProb) as tf.Tensor1D };
  }

  /**
   * The action to take in the environment for one state's features [1, featureSize]: sampled
   * when exploring, the policy's mode otherwise (tanh of the mean; the likeliest action). In the
   * model's layout: a vector in [-1, 1], or a one-hot vector. Exploration noise (Dreamer v1: a
   * Gaussian of std 0.3 on continuous actions) is the caller's.
   */
  act(features: tf.Tensor2D, explore: boolean, rng: Rng): Float32Array {
    const out = new Float32Array(this.actionSize);
    if (this.actions.kind === "continuous") {
      const size = this.actions.size;
      const head = tf.tidy(() => {
        const { mean, logStd } = this.#gaussianHead(features);
        return tf.concat([mean, logStd], 1).dataSync();
      });
      for (let i = 0; i < size; i++) {
        const std = Math.exp(head[size + i]);
        out[i] = Math.tanh(explore ? head[i] + std * rng.normal() : head[i]);
      }
      return out;
    }
    const probabilities = tf.tidy(() =>
      tf.softmax(this.#actor.apply(features) as tf.Tensor2D).dataSync()
    );
    let choice = 0;
    if (explore) {
      let u = rng.next();
      choice = probabilities.length - 1;
      for (let i = 0; i < probabilities.length; i++) {
        u -= probabilities[i];
        if (u < 0) {
          choice = i;
          break;
        }
      }
    } else {
      for (let i = 1; i < probabilities.length; i++) {
        if (probabilities[i] > probabilities[choice]) choice = i;
      }
    }
    out[choice] = 1;
    return out;
  }

  /** The critic's value [rows] of features. */
  value(features: tf.Tensor2D): tf.Tensor1D {
    return this.#critic.apply(features).reshape([-1]) as tf.Tensor1D;
  }

  /**
   * Imagines `horizon` steps from `start` and computes returns, baselines and weights. Inside
   * the actor's tape, gradients flow from the returns back through the dynamics to the actions.
   */
  #imagine(
    model: Rssm,
    start: RssmState,
    startWeights: tf.Tensor1D,
    noise: ImaginationNoise,
  ): Imagined {
    const { horizon, discount, lambda } = this.config;
    let state = start;
    const features = [model.features(start)];
    const actions: tf.Tensor2D[] = [];
    const logProbs: tf.Tensor1D[] = [];
    const entropies: tf.Tensor1D[] = [];
    for (let t = 0; t < horizon; t++) {
      // The policy sees the state, but its gradient reaches the actor only through the action.
      const sample = this.policySample(stopGradient(features[t]), noise.policy[t]);
      actions.push(sample.action);
      logProbs.push(sample.logProb);
      entropies.push(sample.entropy);
      state = model.imagineStep(state, sample.action, noise.latent[t]);
      features.push(model.features(state));
    }
    const later = tf.concat(features.slice(1), 0);
    const rows = startWeights.shape[0];
    const rewards = tf.split(model.predictReward(later), horizon) as tf.Tensor1D[];
    const continuation = model.predictContinuation(later);
    const discounts = continuation
      ? tf.split(tf.mul(discount, tf.sigmoid(continuation)), horizon) as tf.Tensor1D[]
      : Array.from({ length: horizon }, () => tf.fill([rows], discount) as tf.Tensor1D);
    const allValues = this.#targetCritic.apply(tf.concat(features, 0)).reshape([-1]);
    const values = tf.split(allValues, horizon + 1) as tf.Tensor1D[];
    const returns = lambdaReturns(rewards, discounts, values, lambda);
    const weights: tf.Tensor1D[] = [stopGradient(startWeights)];
    for (let t = 1; t < horizon; t++) {
      weights.push(stopGradient(tf.mul(weights[t - 1], discounts[t - 1])) as tf.Tensor1D);
    }
    return {
      features,
      actions,
      returns,
      baselines: values.slice(0, horizon),
      weights,
      logProbs,
      entropies,
    };
  }

  /**
   * The actor's loss on trajectories imagined from `start` with `noise` (see `drawNoise`), as a
   * scalar inside the caller's gradient tape: -1/(H N) sum_t sum_n w_t [rho ln pi sg(G_t - v'_t) +
   * (1 - rho) G_t + eta H_t]. Exposed for gradient checks; `train` uses the same objective.
   */
  actorLoss(
    model: Rssm,
    start: RssmState,
    startWeights: tf.Tensor1D,
    noise: ImaginationNoise,
  ): tf.Scalar {
    return this.#actorObjective(this.#imagine(model, start, startWeights, noise), null).loss;
  }

  /**
   * The objective of an imagined trajectory. With `replayed` (REINFORCE alone) the trajectory
   * was imagined outside the tape and only the policy's log-probabilities are recomputed here.
   */
  #actorObjective(
    imagined: Imagined,
    replayed: Imagined | null,
  ): { loss: tf.Scalar; entropy: tf.Scalar; imaginedReturn: tf.Scalar } {
    const { horizon, reinforceMix: rho, entropyScale } = this.config;
    const rows = imagined.weights[0].shape[0];
    let logProbs = imagined.logProbs, entropies = imagined.entropies;
    if (replayed) {
      const stacked = tf.concat(replayed.features.slice(0, horizon), 0);
      const terms = this.#logProbOf(stacked, tf.concat(replayed.actions, 0));
      logProbs = tf.split(terms.logProb, horizon) as tf.Tensor1D[];
      entropies = tf.split(terms.entropy, horizon) as tf.Tensor1D[];
    }
    let objective: tf.Tensor = tf.scalar(0);
    let entropySum: tf.Tensor = tf.scalar(0);
    for (let t = 0; t < horizon; t++) {
      let term: tf.Tensor = tf.mul(entropyScale, entropies[t]);
      if (rho > 0) {
        const advantage = stopGradient(tf.sub(imagined.returns[t], imagined.baselines[t]));
        term = tf.add(term, tf.mul(rho, tf.mul(logProbs[t], advantage)));
      }
      if (rho < 1) term = tf.add(term, tf.mul(1 - rho, imagined.returns[t]));
      objective = tf.add(objective, tf.sum(tf.mul(imagined.weights[t], term)));
      entropySum = tf.add(entropySum, tf.sum(entropies[t]));
    }
    return {
      loss: tf.neg(tf.div(objective, horizon * rows)) as tf.Scalar,
      entropy: tf.div(entropySum, horizon * rows) as tf.Scalar,
      imaginedReturn: tf.mean(imagined.returns[0]) as tf.Scalar,
    };
  }

  /**
   * One update of actor, critic and (on schedule) slow critic from the start states `start`
   * ([rows] posterior states, no gradient), each weighted by `startWeights` ([rows]: 0 for
   * padding and terminal states, whose futures are not the task's). Noise for the imagined
   * policy and prior samples comes from `rng`. Throws `NonFiniteBehaviorLossError` naming the
   * term before any parameter changes if a loss is not finite.
   */
  train(model: Rssm, start: RssmState, startWeights: tf.Tensor1D, rng: Rng): BehaviorLosses {
    const { horizon } = this.config;
    const rows = startWeights.shape[0];
    const noise = this.drawNoise(model, rows, rng);
    const keep = <T extends tf.Tensor>(list: T[]) => list.map((x) => tf.keep(x));
    // With REINFORCE alone the imagined trajectory is data: roll it out once, without a tape.
    const replayed: Imagined | null = this.config.reinforceMix < 1 ? null : tf.tidy(() => {
      const imagined = this.#imagine(model, start, startWeights, noise);
      return {
        ...imagined,
        features: keep(imagined.features),
        actions: keep(imagined.actions),
        returns: keep(imagined.returns),
        baselines: keep(imagined.baselines),
        weights: keep(imagined.weights),
        logProbs: [],
        entropies: [],
      };
    });
    // What the critic needs from the trajectory, kept out of the actor's tape.
    let critic: { features: tf.Tensor2D[]; returns: tf.Tensor1D[]; weights: tf.Tensor1D[] } = {
      features: [],
      returns: [],
      weights: [],
    };
    const scalars: tf.Scalar[] = [];
    const actorResult = tf.variableGrads(() => {
      const imagined = replayed ?? this.#imagine(model, start, startWeights, noise);
      if (!replayed) {
        critic = {
          features: keep(imagined.features.slice(0, horizon)),
          returns: keep(imagined.returns),
          weights: keep(imagined.weights),
        };
      }
      const { loss, entropy, imaginedReturn } = this.#actorObjective(imagined, replayed);
      scalars.push(tf.keep(entropy), tf.keep(imaginedReturn));
      return loss;
    }, this.actorParams.list());
    if (replayed) {
      critic = {
        features: replayed.features.slice(0, horizon),
        returns: replayed.returns,
        weights: replayed.weights,
      };
    }
    const actorLoss = actorResult.value.dataSync()[0];
    const [entropy, imaginedReturn] = scalars.map((x) => x.dataSync()[0]);

    // The critic regresses on the returns from the imagined states (no gradient into the model).
    const criticFeatures = tf.concat(critic.features, 0);
    const criticTargets = tf.concat(critic.returns, 0);
    const criticWeights = tf.concat(critic.weights, 0);
    const criticResult = tf.variableGrads(() => {
      const error = tf.sub(this.value(criticFeatures), criticTargets);
      return tf.div(tf.sum(tf.mul(criticWeights, tf.mul(0.5, tf.square(error)))), horizon * rows);
    }, this.criticParams.list());
    const criticLoss = criticResult.value.dataSync()[0];
    tf.dispose([
      actorResult.value,
      criticResult.value,
      ...scalars,
      criticFeatures,
      criticTargets,
      criticWeights,
      ...critic.features,
      ...critic.returns,
      ...critic.weights,
      ...(replayed ? [replayed.features[horizon], ...replayed.actions, ...replayed.baselines] : []),
      ...noise.policy,
      ...noise.latent,
    ]);
    for (const [term, value] of [["actor", actorLoss], ["critic", criticLoss]] as const) {
      if (!Number.isFinite(value)) {
        tf.dispose([actorResult.grads, criticResult.grads]);
        throw new NonFiniteBehaviorLossError(term, this.updates, value);
      }
    }
    this.#apply(this.actorOptimizer, actorResult.grads);
    this.#apply(this.criticOptimizer, criticResult.grads);
    tf.dispose([actorResult.grads, criticResult.grads]);
    this.updates++;
    if (this.updates % this.config.slowCriticUpdateEvery === 0) {
      this.targetCriticParams.copyFrom(this.criticParams);
    }
    return { actor: actorLoss, critic: criticLoss, entropy, imaginedReturn };
  }

  /** Standard normals or uniforms for every imagined step's policy and prior samples. */
  drawNoise(model: Rssm, rows: number, rng: Rng): ImaginationNoise {
    const policyWidth = this.actions.kind === "continuous" ? this.actions.size : 1;
    const policy: tf.Tensor2D[] = [];
    const latent: tf.Tensor2D[] = [];
    for (let t = 0; t < this.config.horizon; t++) {
      const values = new Float32Array(rows * policyWidth);
      if (this.actions.kind === "continuous") rng.fillNormal(values);
      else for (let i = 0; i < values.length; i++) values[i] = rng.next();
      policy.push(tf.tensor2d(values, [rows, policyWidth]));
      const latentValues = model.fillNoise(new Float32Array(rows * model.noiseSize), rng);
      latent.push(tf.tensor2d(latentValues, [rows, model.noiseSize]));
    }
    return { policy, latent };
  }

  #apply(optimizer: tf.Optimizer, grads: tf.NamedTensorMap): void {
    tf.tidy(() => {
      const names = Object.keys(grads);
      const norm = tf.sqrt(tf.addN(names.map((name) => tf.sum(tf.square(grads[name])))));
      const scale = tf.minimum(1, tf.div(this.config.gradClipNorm, tf.add(norm, 1e-6)));
      optimizer.applyGradients(names.map((name) => ({ name, tensor: tf.mul(grads[name], scale) })));
    });
  }

  dispose(): void {
    this.actorParams.dispose();
    this.criticParams.dispose();
    this.targetCriticParams.dispose();
    this.actorOptimizer.dispose();
    this.criticOptimizer.dispose();
  }
}
