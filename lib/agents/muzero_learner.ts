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
 */
import { adam, tf } from "../tensor/mod.ts";
import { UserError } from "../errors.ts";
import type { MuZeroNetwork } from "../models/muzero.ts";
import { type HeadSpec, headWidth, scalarToSupport } from "../models/muzero_support.ts";
import type { MuZeroBatch } from "./muzero_replay.ts";

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
}

/** The loss terms of one step, averaged over the batch. */
export interface MuZeroLosses {
  value: number;
  reward: number;
  policy: number;
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
    const network = this.network;
    const { size, unrollSteps } = batch;
    const steps = unrollSteps + 1;
    const numActions = network.numActions;
    const valueHead = network.config.value;
    const rewardHead = network.config.reward;
    const inputs = tf.tidy(() => ({
      observations: tf.tensor2d(batch.observations, [size, network.observationSize]),
      actions: tf.tensor2d(batch.actions, [size, unrollSteps], "int32"),
      values: this.#targets(batch.targetValues, valueHead, "value", size, steps),
      rewards: this.#targets(batch.targetRewards, rewardHead, "reward", size, steps),
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
      parts = [
        tf.keep(valueMean),
        tf.keep(rewardMean),
        tf.keep(policyMean),
        tf.keep(network.valueScalar(predictions[0].value)),
      ];
      return tf.addN([
        tf.mul(valueMean, this.config.valueLossWeight),
        rewardMean,
        policyMean,
        tf.mul(l2, this.config.weightDecay),
      ]) as tf.Scalar;
    }, varList);
    const [value, reward, policy] = parts.slice(0, 3).map((t) => t.dataSync()[0]);
    const predicted = parts[3].dataSync() as Float32Array;
    const losses: MuZeroLosses = { value, reward, policy, total: total.dataSync()[0] };
    tf.dispose([...parts, total, ...Object.values(inputs)]);
    for (const term of ["value", "reward", "policy", "total"] as const) {
      if (!Number.isFinite(losses[term])) {
        tf.dispose(grads);
        throw new NonFiniteMuZeroLossError(term, this.updates, losses[term]);
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
    const valueErrors = new Float32Array(size);
    for (let row = 0; row < size; row++) {
      valueErrors[row] = predicted[row] - batch.targetValues[row * steps];
    }
    return { losses, valueErrors };
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
