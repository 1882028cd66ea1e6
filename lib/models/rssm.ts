/**
 * PlaNet's recurrent state-space model (Hafner et al. 2019, "Learning Latent Dynamics for
 * Planning from Pixels", Section 3, "Recurrent state-space model", and Appendix A).
 *
 * The latent state has a deterministic part h (a GRU, 200 units in the paper) and a stochastic
 * part s (a diagonal Gaussian, 30 units):
 *   deterministic   h_t = f(h_{t-1}, s_{t-1}, a_{t-1})
 *   prior           s_t ~ p(s_t | h_t)
 *   posterior       s_t ~ q(s_t | h_t, o_t)
 *   observation     o_t ~ N(g(h_t, s_t), sigma^2 I)   (sigma = 1 in the paper)
 *   reward          r_t ~ N(r(h_t, s_t), 1)
 * trained on the evidence lower bound: reconstruction and reward log-likelihoods minus the KL from
 * posterior to prior, with the KL clamped below at the free nats (3 in the paper) so the model is
 * not pushed to match the prior beyond what it must. Latent overshooting (Section 4) is left out;
 * the paper's own agent on the continuous control tasks trains without it.
 *
 * Observations are state vectors (an MLP encoder and decoder) or RGB images (PlaNet's convolutional
 * pair with 4x4 stride-2 convolutions and transposed convolutions; 64x64 as in the paper, or 32x32
 * with one layer fewer for a laptop CPU).
 *
 * `imagine` implements the planners' `ImaginationModel`: it rolls every candidate action sequence
 * forward with the prior's mean (no observations), in one batched pass per step, and sums the
 * predicted rewards.
 *
 * For Dreamer (Hafner et al. 2020, "Dream to Control", Section 3) and DreamerV2 (Hafner et al.
 * 2021, "Mastering Atari with Discrete World Models", Section 2) the same model takes a few
 * optional settings, all absent for PlaNet: the stochastic state as 32 categorical variables of
 * 32 classes with straight-through samples (`latent`, see latent.ts), KL balancing (`klBalance`)
 * and a KL weight (`klScale`), a head that predicts whether the episode continues
 * (`continuationScale`, DreamerV2's discount predictor, for tasks that end), masks for chunks
 * padded past an episode's end, and `imagineStep`, one sampled step of the prior for learning
 * behaviours in imagination.
 */
import { adam, tf } from "../tensor/mod.ts";
import type { Rng } from "../rng.ts";
import { UserError } from "../errors.ts";
import type { ImaginationModel } from "../planners/types.ts";
import { conv2d, conv2dTranspose, dense, type Layer, ParameterSet, sequential } from "./nn.ts";
import { type GruCell, gruCell } from "./gru.ts";
import {
  balancedKl,
  categoricalKl,
  categoricalMode,
  type LatentSpec,
  stopGradient,
  straightThroughSample,
} from "./latent.ts";

export type ObservationModel =
  | { kind: "vector"; size: number }
  | { kind: "pixels"; imageSize: 32 | 64 };

export interface RssmConfig {
  observation: ObservationModel;
  actionSize: number;
  /** Units of the GRU's deterministic state h (paper: 200). */
  deterministicSize: number;
  /**
   * Numbers in the stochastic state s: the Gaussian's dimensions (paper: 30), or for categorical
   * latents variables x classes (DreamerV2: 32 x 32 = 1024).
   */
  stochasticSize: number;
  /** Units of the hidden dense layers (paper: 200). */
  hiddenSize: number;
  /** Size of the vector encoder's output (pixels: fixed by the convolutions). */
  embedSize: number;
  /** Channel multiplier of the convolutional encoder and decoder (paper: 32). */
  convDepth: number;
  /** Lower bound on the stochastic state's standard deviation (paper: 0.1). */
  minStd: number;
  /** KL values below this many nats are not penalised (paper: 3). */
  freeNats: number;
  /**
   * Standard deviation of the Gaussian observation model (paper: 1, for pixels). Smaller values
   * weight the reconstruction more, which state vectors of a few numbers need to be modelled
   * precisely; default 1.
   */
  observationStd?: number;
  /** The stochastic state's distribution; default Gaussian (PlaNet, Dreamer). */
  latent?: LatentSpec;
  /**
   * KL balancing's alpha (DreamerV2: 0.8), the share of the KL term's gradient that trains the
   * prior; absent: the plain KL, whose gradient trains both alike.
   */
  klBalance?: number;
  /** beta, the KL term's weight in the loss (default 1; DreamerV2 on Atari: 0.1). */
  klScale?: number;
  /**
   * Weight of the loss of a head that predicts whether each state continues the episode
   * (DreamerV2's discount predictor, a Bernoulli); absent: no such head.
   */
  continuationScale?: number;
}

/** PlaNet's published sizes for pixels. */
export const PLANET_RSSM_SIZES = {
  deterministicSize: 200,
  stochasticSize: 30,
  hiddenSize: 200,
  embedSize: 1024,
  convDepth: 32,
  minStd: 0.1,
  freeNats: 3,
} as const;

/** A batch of latent states: h [batch, deterministicSize] and s [batch, stochasticSize]. */
export interface RssmState {
  deterministic: tf.Tensor2D;
  stochastic: tf.Tensor2D;
}

/** A diagonal Gaussian over the stochastic state. */
export interface Gaussian {
  mean: tf.Tensor2D;
  std: tf.Tensor2D;
}

/** The prior or posterior over the stochastic state: a Gaussian, or categorical logits. */
export type LatentDistribution =
  | ({ kind: "gaussian" } & Gaussian)
  | { kind: "categorical"; logits: tf.Tensor2D };

/** Numbers per observation (image pixels x 3 channels for pixels). */
export function observationSize(observation: ObservationModel): number {
  return observation.kind === "vector"
    ? observation.size
    : observation.imageSize * observation.imageSize * 3;
}

/**
 * KL(q || p) of two diagonal Gaussians, summed over the last axis:
 *   sum_i log(sigma_p / sigma_q) + (sigma_q^2 + (mu_q - mu_p)^2) / (2 sigma_p^2) - 1/2
 */
export function gaussianKl(q: Gaussian, p: Gaussian): tf.Tensor1D {
  return tf.tidy(() => {
    const varianceRatio = tf.square(tf.div(q.std, p.std));
    const meanTerm = tf.square(tf.div(tf.sub(q.mean, p.mean), p.std));
    const perDim = tf.mul(
      0.5,
      tf.sub(tf.add(varianceRatio, meanTerm), tf.add(1, tf.log(varianceRatio))),
    );
    return tf.sum(perDim, -1) as tf.Tensor1D;
  });
}

/** PlaNet's free nats: KL values below `freeNats` count as `freeNats` (no gradient there). */
export function freeNatsKl(kl: tf.Tensor, freeNats: number): tf.Tensor {
  return freeNats > 0 ? tf.maximum(kl, freeNats) : kl;
}

/** A training batch: `batch` chunks of `length` consecutive steps. */
export interface SequenceBatch {
  /** [batch, length, observationSize]; pixels scaled to [-0.5, 0.5]. */
  observations: tf.Tensor3D;
  /** [batch, length, actionSize]: actions[t] is the action that led to observations[t]. */
  actions: tf.Tensor3D;
  /** [batch, length]: rewards[t] is the reward received on arriving at observations[t]. */
  rewards: tf.Tensor2D;
  /** [batch, length]: 0 where observations[t] ends the episode, else 1 (continuation head). */
  continues?: tf.Tensor2D;
  /** [batch, length]: 1 for real steps, 0 for padding past an episode's end. Absent: all real. */
  mask?: tf.Tensor2D;
}

/** The three terms of the loss, averaged over batch and time. */
export interface RssmLosses {
  reconstruction: number;
  reward: number;
  kl: number;
  total: number;
}

/** The loss terms with the continuation term of models that predict it. */
export type WorldModelLosses = RssmLosses & { continuation?: number };

/** The loss terms as scalars (the continuation term only for models with that head). */
export interface RssmLossTensors {
  total: tf.Scalar;
  reconstruction: tf.Scalar;
  reward: tf.Scalar;
  kl: tf.Scalar;
  continuation?: tf.Scalar;
}

export class Rssm implements ImaginationModel<RssmState> {
  readonly params: ParameterSet;
  readonly observationSize: number;
  readonly featureSize: number;
  readonly #embedSize: number;
  readonly #transitionInput: Layer;
  readonly #gru: GruCell;
  readonly #prior: Layer;
  readonly #posterior: Layer;
  readonly #encoder: Layer;
  readonly #decoder: Layer;
  readonly #reward: Layer;
  readonly #continuation: Layer | null;
  /** The stochastic state's distribution (Gaussian unless the config says otherwise). */
  readonly latent: LatentSpec;

  constructor(readonly config: RssmConfig, rng: Rng) {
    const { actionSize, deterministicSize, stochasticSize, hiddenSize } = config;
    this.latent = config.latent ?? { kind: "gaussian" };
    if (
      this.latent.kind === "categorical" &&
      this.latent.variables * this.latent.classes !== stochasticSize
    ) {
      throw new RangeError(
        `Rssm: ${this.latent.variables} categorical variables of ${this.latent.classes} classes ` +
          `need stochasticSize ${
            this.latent.variables * this.latent.classes
          }, got ${stochasticSize}`,
      );
    }
    // A Gaussian needs a mean and a standard deviation per dimension; categoricals one logit each.
    const distributionSize = this.latent.kind === "gaussian" ? 2 * stochasticSize : stochasticSize;
    const params = new ParameterSet("rssm", rng);
    this.params = params;
    this.observationSize = observationSize(config.observation);
    this.featureSize = deterministicSize + stochasticSize;

    // Encoder first, so its output size is known to the posterior.
    if (config.observation.kind === "vector") {
      this.#embedSize = config.embedSize;
      this.#encoder = sequential(
        dense(params, "encoder/1", this.observationSize, hiddenSize, "elu"),
        dense(params, "encoder/2", hiddenSize, config.embedSize, "elu"),
      );
    } else {
      const { encoder, embedSize } = convEncoder(params, config.observation.imageSize, config);
      this.#encoder = encoder;
      this.#embedSize = embedSize;
    }

    this.#transitionInput = dense(
      params,
      "transition/input",
      stochasticSize + actionSize,
      hiddenSize,
      "elu",
    );
    this.#gru = gruCell(params, "transition/gru", hiddenSize, deterministicSize);
    this.#prior = sequential(
      dense(params, "prior/1", deterministicSize, hiddenSize, "elu"),
      dense(params, "prior/2", hiddenSize, distributionSize),
    );
    this.#posterior = sequential(
      dense(params, "posterior/1", deterministicSize + this.#embedSize, hiddenSize, "elu"),
      dense(params, "posterior/2", hiddenSize, distributionSize),
    );
    this.#decoder = config.observation.kind === "vector"
      ? sequential(
        dense(params, "decoder/1", this.featureSize, hiddenSize, "elu"),
        dense(params, "decoder/2", hiddenSize, hiddenSize, "elu"),
        dense(params, "decoder/3", hiddenSize, this.observationSize),
      )
      : convDecoder(params, config.observation.imageSize, this.featureSize, config);
    this.#reward = sequential(
      dense(params, "reward/1", this.featureSize, hiddenSize, "elu"),
      dense(params, "reward/2", hiddenSize, hiddenSize, "elu"),
      dense(params, "reward/3", hiddenSize, 1),
    );
    // Created last, so models without it keep their parameters and initial values.
    this.#continuation = config.continuationScale === undefined ? null : sequential(
      dense(params, "continuation/1", this.featureSize, hiddenSize, "elu"),
      dense(params, "continuation/2", hiddenSize, hiddenSize, "elu"),
      dense(params, "continuation/3", hiddenSize, 1),
    );
  }

  /** Random numbers one posterior or prior sample needs per row: normals or uniforms. */
  get noiseSize(): number {
    return this.latent.kind === "gaussian" ? this.config.stochasticSize : this.latent.variables;
  }

  /**
   * Fills `out` with the randomness of samples (`noiseSize` numbers per row): standard normals
   * for Gaussian latents, uniforms in [0, 1) for categorical ones.
   */
  fillNoise(out: Float32Array, rng: Rng): Float32Array {
    if (this.latent.kind === "gaussian") {
      rng.fillNormal(out);
    } else {
      for (let i = 0; i < out.length; i++) out[i] = rng.next();
    }
    return out;
  }

  /** The all-zero state PlaNet starts every sequence from. */
  initialState(batch: number): RssmState {
    return {
      deterministic: tf.zeros([batch, this.config.deterministicSize]),
      stochastic: tf.zeros([batch, this.config.stochasticSize]),
    };
  }

  #distribution(raw: tf.Tensor): LatentDistribution {
    if (this.latent.kind === "categorical") {
      return { kind: "categorical", logits: raw as tf.Tensor2D };
    }
    const [mean, stdRaw] = tf.split(raw as tf.Tensor2D, 2, -1) as tf.Tensor2D[];
    return {
      kind: "gaussian",
      mean,
      std: tf.add(tf.softplus(stdRaw), this.config.minStd) as tf.Tensor2D,
    };
  }

  /** h_t = f(h_{t-1}, s_{t-1}, a_{t-1}) and the prior p(s_t | h_t). */
  transition(
    state: RssmState,
    action: tf.Tensor2D,
  ): { deterministic: tf.Tensor2D; prior: LatentDistribution } {
    const deterministic = this.#deterministicStep(state, action);
    return { deterministic, prior: this.#distribution(this.#prior.apply(deterministic)) };
  }

  /**
   * One step of imagination (Dreamer): h_t from the previous state and action, then s_t sampled
   * from the prior with `noise` ([batch, noiseSize]), reparameterised (Gaussian) or
   * straight-through (categorical), so gradients flow back through the step.
   */
  imagineStep(state: RssmState, action: tf.Tensor2D, noise: tf.Tensor2D): RssmState {
    const { deterministic, prior } = this.transition(state, action);
    return { deterministic, stochastic: this.sample(prior, noise) };
  }

  /** A sample of the distribution with the caller's `noise` (see `fillNoise`). */
  sample(distribution: LatentDistribution, noise: tf.Tensor2D): tf.Tensor2D {
    if (distribution.kind === "gaussian") {
      return tf.add(distribution.mean, tf.mul(distribution.std, noise)) as tf.Tensor2D;
    }
    return straightThroughSample(distribution.logits, noise, this.#classes());
  }

  /** The Gaussian's mean, or the most likely class of every categorical variable. */
  pointEstimate(distribution: LatentDistribution): tf.Tensor2D {
    return distribution.kind === "gaussian"
      ? distribution.mean
      : categoricalMode(distribution.logits, this.#classes());
  }

  /** KL(q || p) of each row, summed over the stochastic state. */
  klDivergence(q: LatentDistribution, p: LatentDistribution): tf.Tensor1D {
    if (q.kind === "gaussian" && p.kind === "gaussian") return gaussianKl(q, p);
    if (q.kind === "categorical" && p.kind === "categorical") {
      return categoricalKl(q.logits, p.logits, this.#classes());
    }
    throw new Error("klDivergence: the two distributions are of different kinds");
  }

  #classes(): number {
    if (this.latent.kind !== "categorical") throw new Error("this RSSM's latents are Gaussian");
    return this.latent.classes;
  }

  /** The same distribution with no gradient, for KL balancing. */
  #stopped(distribution: LatentDistribution): LatentDistribution {
    return distribution.kind === "gaussian"
      ? {
        kind: "gaussian",
        mean: stopGradient(distribution.mean),
        std: stopGradient(distribution.std),
      }
      : { kind: "categorical", logits: stopGradient(distribution.logits) };
  }

  #deterministicStep(state: RssmState, action: tf.Tensor2D): tf.Tensor2D {
    const input = this.#transitionInput.apply(tf.concat([state.stochastic, action], -1));
    return this.#gru.step(input as tf.Tensor2D, state.deterministic);
  }

  /** The prior's mean alone: imagination needs no standard deviation (categorical: the mode). */
  #priorMean(deterministic: tf.Tensor2D): tf.Tensor2D {
    const raw = this.#prior.apply(deterministic) as tf.Tensor2D;
    if (this.latent.kind === "categorical") return categoricalMode(raw, this.latent.classes);
    return tf.split(raw, 2, -1)[0] as tf.Tensor2D;
  }

  /** q(s_t | h_t, o_t) from the encoder's embedding of o_t. */
  posterior(deterministic: tf.Tensor2D, embedding: tf.Tensor2D): LatentDistribution {
    return this.#distribution(this.#posterior.apply(tf.concat([deterministic, embedding], -1)));
  }

  /** Embeds flat observations [n, observationSize] to [n, embedSize]. */
  encode(observations: tf.Tensor2D): tf.Tensor2D {
    const { observation } = this.config;
    const input = observation.kind === "vector"
      ? observations
      : observations.reshape([-1, observation.imageSize, observation.imageSize, 3]);
    return this.#encoder.apply(input).reshape([-1, this.#embedSize]) as tf.Tensor2D;
  }

  /** Decodes features [n, featureSize] to flat observations [n, observationSize]. */
  decode(features: tf.Tensor2D): tf.Tensor2D {
    return this.#decoder.apply(features).reshape([-1, this.observationSize]) as tf.Tensor2D;
  }

  /** Predicted reward [n] of features [n, featureSize]. */
  predictReward(features: tf.Tensor2D): tf.Tensor1D {
    return this.#reward.apply(features).reshape([-1]) as tf.Tensor1D;
  }

  /**
   * Logits [n] of the probability that each state continues the episode; null without the head.
   */
  predictContinuation(features: tf.Tensor2D): tf.Tensor1D | null {
    return this.#continuation
      ? this.#continuation.apply(features).reshape([-1]) as tf.Tensor1D
      : null;
  }

  features(state: RssmState): tf.Tensor2D {
    return tf.concat([state.deterministic, state.stochastic], -1);
  }

  /**
   * Filtering while acting: the next posterior state after taking `action` and seeing
   * `observation` ([1, observationSize]). Uses the posterior mean (categorical: its mode), so
   * acting is deterministic given the data.
   */
  observeStep(state: RssmState, action: tf.Tensor2D, observation: tf.Tensor2D): RssmState {
    return tf.tidy(() => {
      const { deterministic } = this.transition(state, action);
      const posterior = this.posterior(deterministic, this.encode(observation));
      return { deterministic, stochastic: this.pointEstimate(posterior) };
    });
  }

  /**
   * The negative evidence lower bound of a batch, with posterior samples drawn from `noise`
   * ([batch, length, noiseSize], drawn by the caller from the seeded generator with `fillNoise`:
   * standard normals for Gaussian latents, reparameterised; uniforms for categorical ones,
   * straight-through). Returns the total and each term as scalars.
   */
  loss(batch: SequenceBatch, noise: tf.Tensor3D): RssmLossTensors {
    const { states: _states, ...terms } = this.lossWithStates(batch, noise);
    return terms;
  }

  /**
   * `loss`, and the posterior states of every step, time-major: row t * batch + b is step t of
   * chunk b.
   */
  lossWithStates(
    batch: SequenceBatch,
    noise: tf.Tensor3D,
  ): RssmLossTensors & { states: RssmState } {
    const [batchSize, length] = batch.observations.shape;
    const embeddings = this.encode(batch.observations.reshape([-1, this.observationSize]))
      .reshape([batchSize, length, this.#embedSize]);
    const embeddingSteps = tf.unstack(embeddings, 1) as tf.Tensor2D[];
    const actionSteps = tf.unstack(batch.actions, 1) as tf.Tensor2D[];
    const noiseSteps = tf.unstack(noise, 1) as tf.Tensor2D[];
    let state = this.initialState(batchSize);
    const features: tf.Tensor2D[] = [];
    const deterministicSteps: tf.Tensor2D[] = [];
    const stochasticSteps: tf.Tensor2D[] = [];
    const kls: tf.Tensor[] = [];
    const { klBalance, freeNats } = this.config;
    for (let t = 0; t < length; t++) {
      const { deterministic, prior } = this.transition(state, actionSteps[t]);
      const posterior = this.posterior(deterministic, embeddingSteps[t]);
      const stochastic = this.sample(posterior, noiseSteps[t]);
      state = { deterministic, stochastic };
      features.push(this.features(state));
      deterministicSteps.push(deterministic);
      stochasticSteps.push(stochastic);
      kls.push(
        klBalance === undefined ? this.klDivergence(posterior, prior) : balancedKl(
          (q, p) => this.klDivergence(q, p),
          (d) => this.#stopped(d),
          posterior,
          prior,
          klBalance,
          (kl) => freeNatsKl(kl, freeNats),
        ),
      );
    }
    const allFeatures = tf.concat(features, 0); // time-major [length * batch, featureSize]
    const mask = batch.mask ? tf.transpose(batch.mask).reshape([-1]) : null;
    // The mean over real steps; without a mask, every step is real (PlaNet's plain mean).
    const average = (perStep: tf.Tensor) =>
      (mask ? tf.div(tf.sum(tf.mul(perStep, mask)), tf.maximum(tf.sum(mask), 1)) : tf.mean(
        perStep,
      )) as tf.Scalar;
    const targets = tf.transpose(batch.observations, [1, 0, 2]).reshape([-1, this.observationSize]);
    const precision = 1 / (this.config.observationStd ?? 1) ** 2;
    const reconstruction = average(
      tf.mul(0.5 * precision, tf.sum(tf.square(tf.sub(this.decode(allFeatures), targets)), -1)),
    );
    const rewardTargets = tf.transpose(batch.rewards).reshape([-1]);
    const reward = average(
      tf.mul(0.5, tf.square(tf.sub(this.predictReward(allFeatures), rewardTargets))),
    );
    // Balanced terms are clamped one by one inside balancedKl; plain ones here.
    const stackedKl = tf.stack(kls).reshape([-1]);
    const kl = average(klBalance === undefined ? freeNatsKl(stackedKl, freeNats) : stackedKl);
    let total = tf.add(
      tf.add(reconstruction, reward),
      this.config.klScale === undefined ? kl : tf.mul(this.config.klScale, kl),
    ) as tf.Scalar;
    const states: RssmState = {
      deterministic: tf.concat(deterministicSteps, 0),
      stochastic: tf.concat(stochasticSteps, 0),
    };
    const continuationLogits = this.predictContinuation(allFeatures);
    if (!continuationLogits) return { total, reconstruction, reward, kl, states };
    if (!batch.continues) {
      throw new RangeError("Rssm.loss: this model predicts continuation; the batch has none");
    }
    const labels = tf.transpose(batch.continues).reshape([-1]);
    // Bernoulli negative log-likelihood from logits: softplus(x) - y x.
    const continuation = average(
      tf.sub(tf.softplus(continuationLogits), tf.mul(labels, continuationLogits)),
    );
    total = tf.add(total, tf.mul(this.config.continuationScale!, continuation)) as tf.Scalar;
    return { total, reconstruction, reward, kl, continuation, states };
  }

  /**
   * Open-loop prediction: filters the first `context` steps of one sequence with observations,
   * then predicts the rest from the actions alone (prior means) and decodes every step.
   * observations [length, observationSize], actions [length, actionSize] -> decoded
   * [length, observationSize].
   */
  openLoop(observations: tf.Tensor2D, actions: tf.Tensor2D, context: number): tf.Tensor2D {
    return tf.tidy(() => {
      const length = observations.shape[0];
      const embeddings = this.encode(observations);
      let state = this.initialState(1);
      const decoded: tf.Tensor2D[] = [];
      for (let t = 0; t < length; t++) {
        const action = actions.slice([t, 0], [1, -1]) as tf.Tensor2D;
        const { deterministic, prior } = this.transition(state, action);
        const stochastic = t < context
          ? this.pointEstimate(
            this.posterior(deterministic, embeddings.slice([t, 0], [1, -1]) as tf.Tensor2D),
          )
          : this.pointEstimate(prior);
        state = { deterministic, stochastic };
        decoded.push(this.decode(this.features(state)));
      }
      return tf.concat(decoded, 0);
    });
  }

  /** Sum of predicted rewards of each candidate, rolled forward with the prior's mean. */
  imagine(startState: RssmState, actionSequences: tf.Tensor3D): tf.Tensor1D {
    return this.#rollout(startState, actionSequences, false);
  }

  /**
   * The same rollout, but decoding every imagined step to an observation as a model that plans
   * over whole frames would have to: the cost PlaNet avoids by planning in latent space.
   */
  imagineWithFrames(startState: RssmState, actionSequences: tf.Tensor3D): tf.Tensor1D {
    return this.#rollout(startState, actionSequences, true);
  }

  #rollout(
    startState: RssmState,
    actionSequences: tf.Tensor3D,
    decodeFrames: boolean,
  ): tf.Tensor1D {
    const candidates = actionSequences.shape[0];
    let state: RssmState = {
      deterministic: tf.tile(startState.deterministic, [candidates, 1]),
      stochastic: tf.tile(startState.stochastic, [candidates, 1]),
    };
    let total: tf.Tensor1D | null = null;
    for (const action of tf.unstack(actionSequences, 1) as tf.Tensor2D[]) {
      const deterministic = this.#deterministicStep(state, action);
      state = { deterministic, stochastic: this.#priorMean(deterministic) };
      const features = this.features(state);
      let reward = this.predictReward(features);
      if (decodeFrames) {
        // Keep the decoded frames in the result so the backend cannot skip computing them.
        reward = tf.add(reward, tf.mul(0, tf.sum(this.decode(features), -1))) as tf.Tensor1D;
      }
      total = total === null ? reward : tf.add(total, reward) as tf.Tensor1D;
    }
    return total!;
  }

  dispose(): void {
    this.params.dispose();
  }
}

/** PlaNet's encoder: 4x4 convolutions with stride 2 and ReLU, channels doubling each layer. */
function convEncoder(
  params: ParameterSet,
  imageSize: 32 | 64,
  config: RssmConfig,
): { encoder: Layer; embedSize: number } {
  const depth = config.convDepth;
  const channels = imageSize === 64 ? [depth, 2 * depth, 4 * depth, 8 * depth] : [
    depth,
    2 * depth,
    4 * depth,
  ];
  const layers: Layer[] = [];
  let inChannels = 3;
  let side: number = imageSize;
  channels.forEach((outChannels, i) => {
    layers.push(
      conv2d(params, `encoder/conv${i + 1}`, inChannels, outChannels, {
        kernelSize: 4,
        stride: 2,
        activation: "relu",
      }),
    );
    inChannels = outChannels;
    side = Math.floor((side - 4) / 2) + 1;
  });
  return { encoder: sequential(...layers), embedSize: side * side * inChannels };
}

/**
 * PlaNet's decoder: a dense layer to a 1x1 map, then transposed convolutions with stride 2 up to
 * the image (64: kernels 5, 5, 6, 6; 32: kernels 5, 5, 8).
 */
function convDecoder(
  params: ParameterSet,
  imageSize: 32 | 64,
  featureSize: number,
  config: RssmConfig,
): Layer {
  const depth = config.convDepth;
  const bottleneck = imageSize === 64 ? 32 * depth : 8 * depth;
  const stages = imageSize === 64
    ? [[5, 4 * depth], [5, 2 * depth], [6, depth], [6, 3]]
    : [[5, 2 * depth], [5, depth], [8, 3]];
  const project = dense(params, "decoder/dense", featureSize, bottleneck);
  const layers: Layer[] = [];
  let inChannels = bottleneck;
  stages.forEach(([kernelSize, outChannels], i) => {
    const last = i === stages.length - 1;
    layers.push(
      conv2dTranspose(params, `decoder/deconv${i + 1}`, inChannels, outChannels, {
        kernelSize,
        stride: 2,
        activation: last ? "linear" : "relu",
      }),
    );
    inChannels = outChannels;
  });
  const deconvs = sequential(...layers);
  return {
    apply: (x) => deconvs.apply(project.apply(x).reshape([-1, 1, 1, bottleneck])),
  };
}

/** A loss term became NaN or infinite: training stops and names the term. */
export class NonFiniteLossError extends UserError {
  constructor(
    readonly term: keyof WorldModelLosses,
    readonly updateIndex: number,
    value: number,
  ) {
    super(
      `RSSM training diverged: the ${term} loss is ${value} at update ${updateIndex}; ` +
        `lower the learning rate or check the data`,
    );
    this.name = "NonFiniteLossError";
  }
}

export interface RssmTrainerOptions {
  /** Adam step size (paper: 1e-3). */
  learningRate: number;
  /** Adam epsilon (paper: 1e-4). */
  adamEpsilon: number;
  /** Gradients are rescaled to at most this global norm (paper: 1000). */
  gradClipNorm: number;
}

export const PLANET_TRAINER_OPTIONS: RssmTrainerOptions = {
  learningRate: 1e-3,
  adamEpsilon: 1e-4,
  gradClipNorm: 1000,
};

/** Adam on the RSSM's loss with global-norm gradient clipping, as PlaNet trains it. */
export class RssmTrainer {
  readonly optimizer: tf.AdamOptimizer;
  updates = 0;

  constructor(readonly model: Rssm, readonly options: RssmTrainerOptions) {
    this.optimizer = adam(options.learningRate, 0.9, 0.999, options.adamEpsilon);
  }

  /**
   * One gradient step on a batch. Throws `NonFiniteLossError` naming the term if any loss is not
   * finite, before the parameters are touched.
   */
  step(batch: SequenceBatch, noise: tf.Tensor3D): WorldModelLosses {
    return this.#step(batch, noise, false).losses;
  }

  /**
   * `step`, also returning the batch's posterior states (time-major, no gradient), from which
   * Dreamer starts its imagined trajectories. The caller disposes them.
   */
  stepWithStates(
    batch: SequenceBatch,
    noise: tf.Tensor3D,
  ): { losses: WorldModelLosses; states: RssmState } {
    const { losses, states } = this.#step(batch, noise, true);
    return { losses, states: states! };
  }

  #step(
    batch: SequenceBatch,
    noise: tf.Tensor3D,
    keepStates: boolean,
  ): { losses: WorldModelLosses; states: RssmState | null } {
    const varList = this.model.params.list();
    let parts: tf.Scalar[] = [];
    let states: RssmState | null = null;
    const { value, grads } = tf.variableGrads(() => {
      const losses = this.model.lossWithStates(batch, noise);
      parts = [tf.keep(losses.reconstruction), tf.keep(losses.reward), tf.keep(losses.kl)];
      if (losses.continuation) parts.push(tf.keep(losses.continuation));
      if (keepStates) {
        states = {
          deterministic: tf.keep(losses.states.deterministic),
          stochastic: tf.keep(losses.states.stochastic),
        };
      }
      return losses.total;
    }, varList);
    const [reconstruction, reward, kl, ...rest] = [...parts, value].map((t) => t.dataSync()[0]);
    tf.dispose([...parts, value]);
    const total = rest.pop()!;
    const losses: WorldModelLosses = { reconstruction, reward, kl, total };
    if (rest.length > 0) losses.continuation = rest[0];
    const terms = ["reconstruction", "reward", "kl", "continuation"] as const;
    for (const term of terms) {
      const loss = losses[term];
      if (loss !== undefined && !Number.isFinite(loss)) {
        tf.dispose(grads);
        if (states) {
          tf.dispose([(states as RssmState).deterministic, (states as RssmState).stochastic]);
        }
        throw new NonFiniteLossError(term, this.updates, loss);
      }
    }
    tf.tidy(() => {
      const names = Object.keys(grads);
      const norm = tf.sqrt(tf.addN(names.map((name) => tf.sum(tf.square(grads[name])))));
      const scale = tf.minimum(1, tf.div(this.options.gradClipNorm, tf.add(norm, 1e-6)));
      this.optimizer.applyGradients(
        names.map((name) => ({ name, tensor: tf.mul(grads[name], scale) })),
      );
    });
    tf.dispose(grads);
    this.updates++;
    return { losses, states };
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
