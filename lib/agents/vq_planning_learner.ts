/**
 * The training step of the VQ model for planning (Ozair et al. 2021, Section 3, with MuZero's
 * unrolled losses, Schrittwieser et al. 2020, Equation 1 and Appendix G). From a sampled position
 * the model is unrolled K steps along the actions played; at every step the response is encoded
 * in hindsight, quantised, and fed to the chance dynamics, so the state after a code is the state
 * after that response. The loss sums, over the unroll,
 *
 *   value      (v_k - z_t+k)²                      the return of the data,
 *   policy     -log p_k(a_t+k)                      the behaviour's move (the paper's chess policy
 *                                                   is trained on the games' moves too),
 *   rewards    (r^a_k - u^a_t+k)² + (r^c_k - u^c_t+k)²,
 *   prior      -log σ(c_k | φ_k)                    the code the encoder chose, as a fixed target,
 *   commitment β ||z_e - sg[e_c]||²                 (lib/models/vq.ts),
 *   decoder    cross-entropy of d(s_k) and o_t+k     weighted by `reconstructionWeight`,
 *
 * with steps 1..K scaled by 1/K and the gradient entering each afterstate halved, as MuZero does.
 * The paper trains its VQ-VAE first and the model on frozen codes second; we train them together,
 * which keeps one loop and lets the codes serve the value and reward as well as the decoder. After
 * each gradient step the codebook takes one moving-average step on the codes of real steps.
 */
import { adam, tf } from "../tensor/mod.ts";
import type { Rng } from "../rng.ts";
import { UserError } from "../errors.ts";
import { scaleGradient } from "../models/muzero.ts";
import { oneHotRows } from "../models/nn.ts";
import type { VqPlanningNetwork } from "../models/vq_planning.ts";
import type { UnrollBatch } from "./one_sided_data.ts";

export interface VqPlanningLearnerConfig {
  learningRate: number;
  /** Weight of the decoder's reconstruction loss. */
  reconstructionWeight: number;
}

/** Mean loss terms of one update. */
export interface VqPlanningLosses {
  value: number;
  policy: number;
  reward: number;
  prior: number;
  commitment: number;
  reconstruction: number;
  total: number;
}

/** A loss became NaN or infinite; training stops before the parameters change. */
export class NonFiniteVqLossError extends UserError {
  constructor(term: string, update: number, value: number) {
    super(
      `VQ model training diverged: the ${term} loss is ${value} at update ${update}; lower the ` +
        `learning rate`,
    );
    this.name = "NonFiniteVqLossError";
  }
}

/** Sigmoid cross-entropy summed over the last axis: [B]. */
function binaryCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Tensor1D {
  // softplus(l) - y l, the stable form of -y log σ(l) - (1 - y) log(1 - σ(l)).
  return tf.sum(tf.sub(tf.softplus(logits), tf.mul(targets, logits)), 1) as tf.Tensor1D;
}

/** Cross-entropy of logits [B, N] against class indices [B]: [B]. */
function crossEntropy(logits: tf.Tensor2D, classes: tf.Tensor1D, numClasses: number): tf.Tensor1D {
  return tf.neg(
    tf.sum(tf.mul(oneHotRows(classes, numClasses), tf.logSoftmax(logits)), 1),
  ) as tf.Tensor1D;
}

/** Column k of a [B, width] tensor as [B]. */
function column(x: tf.Tensor2D, k: number): tf.Tensor1D {
  return x.slice([0, k], [-1, 1]).reshape([-1]) as tf.Tensor1D;
}

/** Mean of `values` [B] over the rows where `mask` [B] is 1 (0 when none is). */
function maskedMean(values: tf.Tensor1D, mask: tf.Tensor1D): tf.Scalar {
  return tf.div(tf.sum(tf.mul(values, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}

export class VqPlanningLearner {
  readonly network: VqPlanningNetwork;
  readonly config: Readonly<VqPlanningLearnerConfig>;
  readonly optimizer: tf.Optimizer;
  updates = 0;

  constructor(network: VqPlanningNetwork, config: VqPlanningLearnerConfig) {
    if (!(config.learningRate > 0)) {
      throw new RangeError(`learningRate must be positive, got ${config.learningRate}`);
    }
    if (!(config.reconstructionWeight >= 0)) {
      throw new RangeError(`reconstructionWeight must be >= 0, got ${config.reconstructionWeight}`);
    }
    this.network = network;
    this.config = { ...config };
    this.optimizer = adam(config.learningRate);
  }

  /** One gradient step and one codebook step; `rng` restarts dead codes. */
  step(batch: UnrollBatch, rng: Rng): VqPlanningLosses {
    const network = this.network;
    const { size, unrollSteps: K, observationSize: O } = batch;
    const A = network.numActions;
    const inputs = tf.tidy(() => ({
      observations: tf.unstack(
        tf.tensor3d(batch.observations, [size, K + 1, O]),
        1,
      ) as tf.Tensor2D[],
      actions: tf.unstack(tf.tensor2d(batch.actions, [size, K], "int32"), 1) as tf.Tensor1D[],
      values: tf.tensor2d(batch.values, [size, K + 1]),
      policyActions: tf.unstack(
        tf.tensor2d(batch.policyActions, [size, K + 1], "int32"),
        1,
      ) as tf.Tensor1D[],
      policyMask: tf.tensor2d(batch.policyMask, [size, K + 1]),
      moveRewards: tf.tensor2d(batch.moveRewards, [size, K]),
      replyRewards: tf.tensor2d(batch.replyRewards, [size, K]),
      stepMask: tf.tensor2d(batch.stepMask, [size, K]),
    }));
    const ones = tf.ones([size]) as tf.Tensor1D;
    let kept: tf.Tensor[] = [];
    const varList = network.trainableVariables();
    const { value: total, grads } = tf.variableGrads(() => {
      const terms = {
        value: [] as tf.Scalar[],
        policy: [] as tf.Scalar[],
        reward: [] as tf.Scalar[],
        prior: [] as tf.Scalar[],
        commitment: [] as tf.Scalar[],
        reconstruction: [] as tf.Scalar[],
      };
      const encoded: tf.Tensor2D[] = [];
      const codes: tf.Tensor1D[] = [];
      const scale = (k: number) => (k === 0 ? 1 : 1 / K);
      const stateLosses = (state: tf.Tensor2D, k: number) => {
        const { value, policyLogits } = network.predict(state);
        const valueError = tf.square(tf.sub(value.reshape([-1]), column(inputs.values, k)));
        terms.value.push(tf.mul(tf.mean(valueError), scale(k)) as tf.Scalar);
        const policy = crossEntropy(policyLogits, inputs.policyActions[k], A);
        terms.policy.push(
          tf.mul(maskedMean(policy, column(inputs.policyMask, k)), scale(k)) as tf.Scalar,
        );
        const reconstruction = binaryCrossEntropy(network.decode(state), inputs.observations[k]);
        const real = k === 0 ? ones : column(inputs.stepMask, k - 1);
        terms.reconstruction.push(tf.mul(maskedMean(reconstruction, real), scale(k)) as tf.Scalar);
      };
      let state = network.represent(inputs.observations[0]);
      stateLosses(state, 0);
      for (let k = 0; k < K; k++) {
        const real = column(inputs.stepMask, k);
        const { afterstate, reward: moveReward } = network.afterstate(
          scaleGradient(state, 0.5) as tf.Tensor2D,
          inputs.actions[k],
        );
        const z = network.encode(
          inputs.observations[k],
          inputs.actions[k],
          inputs.observations[k + 1],
        );
        const { quantized, codes: chosen, commitmentLoss } = network.quantizer.quantize(z);
        encoded.push(z);
        codes.push(chosen);
        const prior = crossEntropy(network.codeLogits(afterstate), chosen, network.numCodes);
        terms.prior.push(tf.mul(maskedMean(prior, real), 1 / K) as tf.Scalar);
        terms.commitment.push(tf.mul(commitmentLoss, 1 / K) as tf.Scalar);
        const next = network.chance(afterstate, quantized);
        const rewardError = tf.add(
          tf.square(tf.sub(moveReward.reshape([-1]), column(inputs.moveRewards, k))),
          tf.square(tf.sub(next.reward.reshape([-1]), column(inputs.replyRewards, k))),
        );
        terms.reward.push(tf.mul(tf.mean(rewardError), 1 / K) as tf.Scalar);
        state = next.state;
        stateLosses(state, k + 1);
      }
      const sums = Object.fromEntries(
        Object.entries(terms).map(([name, list]) => [name, tf.addN(list) as tf.Scalar]),
      ) as Record<keyof typeof terms, tf.Scalar>;
      kept = [
        ...Object.values(sums).map((t) => tf.keep(t)),
        tf.keep(tf.concat(encoded, 0)),
        tf.keep(tf.concat(codes, 0)),
      ];
      return tf.addN([
        sums.value,
        sums.policy,
        sums.reward,
        sums.prior,
        sums.commitment,
        tf.mul(sums.reconstruction, this.config.reconstructionWeight),
      ]) as tf.Scalar;
    }, varList);
    const names = ["value", "policy", "reward", "prior", "commitment", "reconstruction"] as const;
    const values = kept.slice(0, names.length).map((t) => t.dataSync()[0]);
    const losses = Object.fromEntries(names.map((name, i) => [name, values[i]])) as Omit<
      VqPlanningLosses,
      "total"
    >;
    const result: VqPlanningLosses = { ...losses, total: total.dataSync()[0] };
    const encodedRows = kept[names.length].dataSync() as Float32Array;
    const codeRows = kept[names.length + 1].dataSync() as Int32Array;
    tf.dispose([...kept, total, ones, ...flatten(inputs)]);
    for (const [term, value] of Object.entries(result)) {
      if (!Number.isFinite(value)) {
        tf.dispose(grads);
        throw new NonFiniteVqLossError(term, this.updates, value);
      }
    }
    this.optimizer.applyGradients(grads);
    tf.dispose(grads);
    this.#updateCodebook(batch, encodedRows, codeRows, rng);
    this.updates++;
    return result;
  }

  /** The codebook's moving-average step on the rows of real steps (encoded step-major). */
  #updateCodebook(batch: UnrollBatch, encoded: Float32Array, codes: Int32Array, rng: Rng): void {
    const { size, unrollSteps: K } = batch;
    const D = this.network.quantizer.codeSize;
    const rows: number[] = [];
    for (let k = 0; k < K; k++) {
      for (let row = 0; row < size; row++) {
        if (batch.stepMask[row * K + k] === 1) rows.push(k * size + row);
      }
    }
    const inputs = new Float32Array(rows.length * D);
    const chosen = new Int32Array(rows.length);
    rows.forEach((at, i) => {
      inputs.set(encoded.subarray(at * D, (at + 1) * D), i * D);
      chosen[i] = codes[at];
    });
    this.network.quantizer.update(inputs, chosen, rng);
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

function flatten(inputs: Record<string, tf.Tensor | tf.Tensor[]>): tf.Tensor[] {
  return Object.values(inputs).flatMap((x) => (Array.isArray(x) ? x : [x]));
}
