/**
 * MuZero's training step (Schrittwieser et al. 2020, "Mastering Atari, Go, chess and shogi by
 * planning with a learned model", Equation 1 and Appendix G "Training"): the model is unrolled K
 * steps from a sampled position along the actions actually played, and every step's predictions
 * are pulled towards that step's targets,
 *
 *   l_t(θ) = Σ_{k=0..K} l^r(u_{t+k}, r^k) + l^v(z_{t+k}, v^k) + l^p(π_{t+k}, p^k) + c ||θ||²,
 *
 * with squared errors for scalar heads (board games, the paper's footnote) and cross-entropy
 * against the support representation for support heads (Atari), cross-entropy for the policy.
 * "To maintain roughly similar magnitude of gradient across different unroll steps", the losses
 * of steps 1..K are scaled by 1/K (step 0 keeps 1, as in the pseudocode) and the gradient into
 * each dynamics step is halved (`MuZeroNetwork.unroll`). Each sample's loss is weighted by its
 * importance-sampling weight. The value loss can be weighted down (Appendix H: 0.25 in MuZero
 * Reanalyze).
 *
 * EfficientZero (Ye et al. 2021, Sections 4.1 and 4.2) changes two things here, each only when
 * the network has the part: with the value-prefix LSTM the reward term is trained on the sums of
 * real rewards since the LSTM's memory was cleared (lib/agents/efficientzero_targets.ts); with
 * the consistency heads a term λ Σ_{k=1..K} (1/K) (1 − cos(q(g(s^k)), sg[g(h(o_{t+k}))])) joins
 * the loss, each step scaled as the other unrolled terms are. The target branch g(h(o_{t+k})) is
 * computed before the gradient is taken, so no gradient flows through it (SimSiam's stop-gradient).
 */
import { adam, tf } from "../tensor/mod.ts";
import { UserError } from "../errors.ts";
import type { MuZeroNetwork } from "../models/muzero.ts";
import { type HeadSpec, headWidth, scalarToSupport } from "../models/muzero_support.ts";
import type { MuZeroBatch } from "./muzero_replay.ts";
import { consistencyLoss } from "../models/efficientzero.ts";
import { valuePrefixTargets } from "./efficientzero_targets.ts";

export interface MuZeroLearnerConfig {
  /** The step size at the first update. */
  learningRate: number;
  /**
   * The step size decays as learningRate · rate^(updates / steps), the pseudocode's schedule
   * (the paper: rate 0.1 over 350,000 steps in Atari, 400,000 in board games); rate 1 keeps it.
   */
  learningRateDecayRate: number;
  learningRateDecaySteps: number;
  /** "adam", or SGD with momentum 0.9 as the paper trains. */
  optimizer: "adam" | "momentum";
  /** c of the L2 term (the paper: 1e-4). */
  weightDecay: number;
  /** Weight of the value loss (1; MuZero Reanalyze: 0.25). */
  valueLossWeight: number;
  /** Gradients are rescaled to at most this global norm (0: no clipping). */
  gradClipNorm: number;
  /**
   * λ of EfficientZero's consistency term (the paper: 2); used when the network has consistency
   * heads and the batch carries o_{t+1..t+K}.
   */
  consistencyWeight?: number;
}

/** The loss terms of one step, averaged over the batch. */
export interface MuZeroLosses {
  value: number;
  /** The reward term: per-step rewards, or value prefixes with EfficientZero's LSTM. */
  reward: number;
  policy: number;
  /** EfficientZero's consistency term before its weight (present only when it is on). */
  consistency?: number;
  total: number;
}

/** A loss term became NaN or infinite: training stops and names the term. */
export class NonFiniteMuZeroLossError extends UserError {
  constructor(readonly term: keyof MuZeroLosses, readonly update: number, value: number) {
    super(
      `MuZero training diverged: the ${term} loss is ${value} at update ${update}; lower the ` +
        `learning rate or check the targets`,
    );
    this.name = "NonFiniteMuZeroLossError";
  }
}

export class MuZeroLearner {
  readonly network: MuZeroNetwork;
  readonly config: Readonly<MuZeroLearnerConfig>;
  readonly optimizer: tf.Optimizer;
  updates = 0;
  /** Scratch for the support targets, [B * (K + 1) * width]. */
  #valueSupport = new Float32Array(0);
  #rewardSupport = new Float32Array(0);
  #prefixScratch = new Float32Array(0);

  constructor(network: MuZeroNetwork, config: MuZeroLearnerConfig) {
    if (!(config.learningRate > 0)) {
      throw new RangeError(`learningRate must be positive, got ${config.learningRate}`);
    }
    if (!(config.learningRateDecayRate > 0 && config.learningRateDecayRate <= 1)) {
      throw new RangeError(
        `learningRateDecayRate must be in (0, 1], got ${config.learningRateDecayRate}`,
      );
    }
    this.network = network;
    this.config = { ...config };
    this.optimizer = config.optimizer === "adam"
      ? adam(config.learningRate)
      : tf.train.momentum(config.learningRate, 0.9);
  }

  /**
   * One gradient step on a batch. Returns the mean losses and, per sample, the network's value at
   * step 0 minus its target (the new priorities). Throws `NonFiniteMuZeroLossError` before the
   * parameters change if a loss is not finite.
   */
  step(batch: MuZeroBatch): { losses: MuZeroLosses; valueErrors: Float32Array } {
    const { losses, grads, predicted } = this.#lossAndGradients(batch);
    for (const term of ["value", "reward", "policy", "consistency", "total"] as const) {
      if (losses[term] !== undefined && !Number.isFinite(losses[term])) {
        tf.dispose(grads);
        throw new NonFiniteMuZeroLossError(term, this.updates, losses[term]!);
      }
    }
    this.#setLearningRate();
    tf.tidy(() => {
      const names = Object.keys(grads);
      let scale: tf.Tensor | number = 1;
      if (this.config.gradClipNorm > 0) {
        const norm = tf.sqrt(tf.addN(names.map((name) => tf.sum(tf.square(grads[name])))));
        scale = tf.minimum(1, tf.div(this.config.gradClipNorm, tf.add(norm, 1e-6)));
      }
      this.optimizer.applyGradients(
        names.map((name) => ({
          name,
          tensor: scale === 1 ? grads[name] : tf.mul(grads[name], scale),
        })),
      );
    });
    tf.dispose(grads);
    this.updates++;
    const steps = batch.unrollSteps + 1;
    const valueErrors = new Float32Array(batch.size);
    for (let row = 0; row < batch.size; row++) {
      valueErrors[row] = predicted[row] - batch.targetValues[row * steps];
    }
    return { losses, valueErrors };
  }

  /**
   * The losses of a batch and the gradient of the total with respect to every parameter, by
   * variable name, without changing anything (the caller disposes the gradients).
   */
  gradients(batch: MuZeroBatch): { losses: MuZeroLosses; grads: tf.NamedTensorMap } {
    const { losses, grads } = this.#lossAndGradients(batch);
    return { losses, grads };
  }

  #lossAndGradients(batch: MuZeroBatch): {
    losses: MuZeroLosses;
    grads: tf.NamedTensorMap;
    predicted: Float32Array;
  } {
    const network = this.network;
    const { size, unrollSteps } = batch;
    const steps = unrollSteps + 1;
    const numActions = network.numActions;
    const valueHead = network.config.value;
    const rewardHead = network.config.reward;
    const rewardTargets = network.valuePrefix
      ? valuePrefixTargets(
        batch.targetRewards,
        size,
        unrollSteps,
        network.valuePrefix.horizon,
        this.#prefixBuffer(size * steps),
      )
      : batch.targetRewards;
    const consistency = this.#consistencyTargets(batch);
    const inputs = tf.tidy(() => ({
      observations: tf.tensor2d(batch.observations, [size, network.observationSize]),
      actions: tf.tensor2d(batch.actions, [size, unrollSteps], "int32"),
      values: this.#targets(batch.targetValues, valueHead, "value", size, steps),
      rewards: this.#targets(rewardTargets, rewardHead, "reward", size, steps),
      policies: tf.tensor3d(batch.targetPolicies, [size, steps, numActions]),
      valueMask: tf.tensor2d(batch.valueMask, [size, steps]),
      policyMask: tf.tensor2d(batch.policyMask, [size, steps]),
      weights: tf.tensor1d(batch.weights),
      // Step 0 counts fully, steps 1..K by 1/K; step 0 has no reward.
      stepScale: tf.tensor2d(
        Float32Array.from({ length: steps }, (_, k) => (k === 0 ? 1 : 1 / unrollSteps)),
        [1, steps],
      ),
      rewardSteps: tf.tensor2d(
        Float32Array.from({ length: steps }, (_, k) => (k === 0 ? 0 : 1 / unrollSteps)),
        [1, steps],
      ),
    }));
    let parts: tf.Tensor[] = [];
    const varList = network.params.list();
    const { value: total, grads } = tf.variableGrads(() => {
      const predictions = network.unroll(inputs.observations, inputs.actions);
      const values = tf.stack(predictions.map((p) => p.value), 1) as tf.Tensor3D;
      // Step 0 has no reward prediction: zeros, masked out by rewardSteps.
      const rewards = tf.stack(
        predictions.map((p) => p.reward ?? tf.zerosLike(predictions[1]?.reward ?? p.value)),
        1,
      ) as tf.Tensor3D;
      const logits = tf.stack(predictions.map((p) => p.policyLogits), 1) as tf.Tensor3D;
      const valueLoss = tf.mul(headLoss(values, inputs.values, valueHead), inputs.valueMask);
      const rewardLoss = tf.mul(headLoss(rewards, inputs.rewards, rewardHead), inputs.valueMask);
      const policyLoss = tf.mul(
        tf.neg(tf.sum(tf.mul(inputs.policies, tf.logSoftmax(logits)), 2)),
        inputs.policyMask,
      );
      // [B]: each sample's loss over its unroll, then weighted by importance.
      const perSample = (loss: tf.Tensor, scale: tf.Tensor) => tf.sum(tf.mul(loss, scale), 1);
      const valuePart = perSample(valueLoss, inputs.stepScale);
      const rewardPart = perSample(rewardLoss, inputs.rewardSteps);
      const policyPart = perSample(policyLoss, inputs.stepScale);
      const weighted = (part: tf.Tensor) => tf.mean(tf.mul(part, inputs.weights));
      const valueMean = weighted(valuePart);
      const rewardMean = weighted(rewardPart);
      const policyMean = weighted(policyPart);
      const l2 = tf.addN(varList.map((v) => tf.sum(tf.square(v))));
      const terms = [
        tf.mul(valueMean, this.config.valueLossWeight),
        rewardMean,
        policyMean,
        tf.mul(l2, this.config.weightDecay),
      ];
      parts = [
        tf.keep(valueMean),
        tf.keep(rewardMean),
        tf.keep(policyMean),
        tf.keep(network.valueScalar(predictions[0].value)),
      ];
      if (consistency) {
        const consistencyMean = weighted(
          perSample(
            this.#consistencyPerStep(predictions, consistency.targets, consistency.mask),
            inputs.rewardSteps,
          ),
        );
        terms.push(tf.mul(consistencyMean, consistency.weight));
        parts.push(tf.keep(consistencyMean));
      }
      return tf.addN(terms) as tf.Scalar;
    }, varList);
    const [value, reward, policy] = parts.slice(0, 3).map((t) => t.dataSync()[0]);
    const predicted = (parts[3].dataSync() as Float32Array).slice();
    const losses: MuZeroLosses = { value, reward, policy, total: total.dataSync()[0] };
    if (consistency) losses.consistency = parts[4].dataSync()[0];
    tf.dispose([...parts, total, ...Object.values(inputs)]);
    if (consistency) tf.dispose([consistency.targets, consistency.mask]);
    return { losses, grads, predicted };
  }

  /**
   * The consistency term's fixed side: g(h(o_{t+k})) for k = 1..K, [B * K, P], and its mask
   * [B, K + 1] (step 0 has no term). Computed outside any gradient: the stop-gradient. Null when
   * the term is off.
   */
  #consistencyTargets(
    batch: MuZeroBatch,
  ): { targets: tf.Tensor2D; mask: tf.Tensor2D; weight: number } | null {
    const heads = this.network.consistency;
    const weight = this.config.consistencyWeight ?? 0;
    if (!heads || weight <= 0) return null;
    if (!batch.nextObservations || !batch.nextObservationMask) {
      throw new Error("the consistency loss needs batches with o_{t+1..t+K} (targetObservations)");
    }
    const { size, unrollSteps } = batch;
    const observationSize = this.network.observationSize;
    const mask = new Float32Array(size * (unrollSteps + 1));
    for (let row = 0; row < size; row++) {
      for (let k = 1; k <= unrollSteps; k++) {
        mask[row * (unrollSteps + 1) + k] = batch.nextObservationMask[row * unrollSteps + k - 1];
      }
    }
    const network = this.network;
    const targets = tf.tidy(() =>
      heads.project(
        network.represent(
          tf.tensor2d(batch.nextObservations!, [size * unrollSteps, observationSize]),
        ),
      )
    );
    return { targets, mask: tf.tensor2d(mask, [size, unrollSteps + 1]), weight };
  }

  /** 1 − cos between q(g(s^k)) and the targets, masked, [B, K + 1] with 0 at step 0. */
  #consistencyPerStep(
    predictions: { state: tf.Tensor }[],
    targets: tf.Tensor2D,
    mask: tf.Tensor2D,
  ): tf.Tensor2D {
    const heads = this.network.consistency!;
    const size = mask.shape[0];
    const unrollSteps = predictions.length - 1;
    // Every unrolled state at once: row (row, k) of [B, K] laid out as the targets are.
    const states = tf.stack(predictions.slice(1).map((p) => p.state), 1);
    const online = heads.projectAndPredict(
      tf.reshape(states, [size * unrollSteps, ...states.shape.slice(2)]),
    );
    const perStep = tf.reshape(consistencyLoss(online, targets), [size, unrollSteps]);
    return tf.mul(tf.concat([tf.zeros([size, 1]), perStep], 1), mask) as tf.Tensor2D;
  }

  #prefixBuffer(length: number): Float32Array {
    if (this.#prefixScratch.length !== length) this.#prefixScratch = new Float32Array(length);
    return this.#prefixScratch;
  }

  /** The decayed step size of the coming update. */
  learningRateNow(): number {
    const { learningRate, learningRateDecayRate, learningRateDecaySteps } = this.config;
    return learningRate * Math.pow(learningRateDecayRate, this.updates / learningRateDecaySteps);
  }

  #setLearningRate(): void {
    const rate = this.learningRateNow();
    // Adam reads its step size at every update; SGD with momentum keeps it in a scalar.
    const optimizer = this.optimizer as unknown as {
      learningRate: number;
      setLearningRate?: (rate: number) => void;
    };
    if (optimizer.setLearningRate) optimizer.setLearningRate(rate);
    else optimizer.learningRate = rate;
  }

  /** Targets as the head wants them: [B, steps, 1] scalars or [B, steps, 2S + 1] supports. */
  #targets(
    scalars: Float32Array,
    head: HeadSpec,
    which: "value" | "reward",
    size: number,
    steps: number,
  ): tf.Tensor3D {
    if (head.kind === "scalar") return tf.tensor3d(scalars, [size, steps, 1]);
    const width = headWidth(head);
    const needed = size * steps * width;
    let scratch = which === "value" ? this.#valueSupport : this.#rewardSupport;
    if (scratch.length !== needed) {
      scratch = new Float32Array(needed);
      if (which === "value") this.#valueSupport = scratch;
      else this.#rewardSupport = scratch;
    }
    for (let i = 0; i < size * steps; i++) {
      scalarToSupport(scalars[i], head.size, scratch, i * width);
    }
    return tf.tensor3d(scratch, [size, steps, width]);
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

/** Per-sample, per-step loss [B, steps]: squared error or cross-entropy against the support. */
function headLoss(predicted: tf.Tensor3D, target: tf.Tensor3D, head: HeadSpec): tf.Tensor2D {
  if (head.kind === "scalar") return tf.squeeze(tf.squaredDifference(predicted, target), [2]);
  return tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(predicted)), 2)) as tf.Tensor2D;
}
