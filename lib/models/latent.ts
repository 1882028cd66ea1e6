/**
 * DreamerV2's discrete latent state and KL balancing (Hafner et al. 2021, "Mastering Atari with
 * Discrete World Models", Section 2.1, "Algorithm 1: Straight-Through Gradients with Automatic
 * Differentiation" and "Algorithm 2: KL Balancing with Automatic Differentiation").
 *
 * The stochastic state is a vector of `variables` categorical variables of `classes` classes each
 * (the paper: 32 of 32), each sampled as a one-hot vector. Sampling has no gradient, so the sample
 * is passed forward while the gradient flows to the class probabilities as if the sample were
 * them: the straight-through estimator (Bengio et al. 2013), written in the paper as
 * `sample + probs - stop_grad(probs)`. Here it is a custom gradient with the same effect.
 *
 * KL balancing splits KL(q || p) between posterior q and prior p into two terms with the same
 * value, one training only the prior and one only the posterior,
 *   alpha KL(sg(q) || p) + (1 - alpha) KL(q || sg(p)),     alpha = 0.8 in the paper,
 * so the prior is pulled towards the posterior faster than the posterior is regularised towards
 * a prior that is still poor.
 */
import { tf } from "../tensor/mod.ts";

/** The stochastic part of an RSSM state: PlaNet's and Dreamer's Gaussian, or DreamerV2's. */
export type LatentSpec =
  | { kind: "gaussian" }
  | {
    kind: "categorical";
    /** Independent categorical variables (paper: 32). */
    variables: number;
    /** Classes of each variable (paper: 32). */
    classes: number;
  };

/** The identity, with a zero gradient: what autodiff libraries call stop_gradient. */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const op = tf.customGrad((input) => ({
    value: tf.clone(input as tf.Tensor),
    gradFunc: (dy) => tf.zerosLike(dy as tf.Tensor),
  }));
  return op(x) as T;
}

/** Class probabilities of logits [rows, variables * classes], per variable. */
export function categoricalProbabilities(logits: tf.Tensor2D, classes: number): tf.Tensor2D {
  const [rows, width] = logits.shape;
  return tf.softmax(logits.reshape([rows * (width / classes), classes])).reshape([rows, width]);
}

/**
 * One-hot samples of every variable, with straight-through gradients to the class probabilities.
 * `uniforms` [rows, variables] are uniform in [0, 1), drawn by the caller from the seeded
 * generator: the class is the first whose cumulative probability exceeds the uniform (inverse
 * transform sampling, one random number per variable).
 */
export function straightThroughSample(
  logits: tf.Tensor2D,
  uniforms: tf.Tensor2D,
  classes: number,
): tf.Tensor2D {
  const [rows, width] = logits.shape;
  const variables = width / classes;
  if (
    !Number.isInteger(variables) || uniforms.shape[0] !== rows || uniforms.shape[1] !== variables
  ) {
    throw new RangeError(
      `straightThroughSample: logits [${logits.shape}] with ${classes} classes need uniforms ` +
        `[${rows}, ${variables}], got [${uniforms.shape}]`,
    );
  }
  const probabilities = categoricalProbabilities(logits, classes);
  const oneHot = tf.tidy(() => {
    const flat = probabilities.reshape([rows * variables, classes]);
    const below = tf.step(tf.sub(uniforms.reshape([rows * variables, 1]), tf.cumsum(flat, 1)));
    // Rounding can leave the last cumulative probability a hair under the uniform.
    const index = tf.minimum(tf.sum(below, 1), classes - 1);
    return tf.oneHot(tf.cast(index, "int32"), classes).reshape([rows, width])
      .toFloat() as tf.Tensor2D;
  });
  return passThrough(probabilities, oneHot);
}

/** The most likely class of every variable as one-hot vectors (no gradient). */
export function categoricalMode(logits: tf.Tensor2D, classes: number): tf.Tensor2D {
  return tf.tidy(() => {
    const [rows, width] = logits.shape;
    const index = tf.argMax(logits.reshape([rows * (width / classes), classes]), 1);
    return tf.oneHot(index, classes).reshape([rows, width]).toFloat() as tf.Tensor2D;
  });
}

/**
 * `value` forward, and the upstream gradient passed unchanged to `through` backward: the
 * straight-through estimator's `value + through - stop_grad(through)` in one op.
 */
function passThrough(through: tf.Tensor2D, value: tf.Tensor2D): tf.Tensor2D {
  const op = tf.customGrad((_input) => ({
    value: tf.clone(value),
    gradFunc: (dy) => tf.clone(dy as tf.Tensor),
  }));
  const out = op(through) as tf.Tensor2D;
  value.dispose();
  return out;
}

/**
 * KL(q || p) of two products of categoricals given as logits [rows, variables * classes], summed
 * over variables: sum_v sum_k q_vk (log q_vk - log p_vk).
 */
export function categoricalKl(
  qLogits: tf.Tensor2D,
  pLogits: tf.Tensor2D,
  classes: number,
): tf.Tensor1D {
  return tf.tidy(() => {
    const [rows, width] = qLogits.shape;
    const shape: [number, number] = [rows * (width / classes), classes];
    const logQ = tf.logSoftmax(qLogits.reshape(shape));
    const logP = tf.logSoftmax(pLogits.reshape(shape));
    const perClass = tf.mul(tf.exp(logQ), tf.sub(logQ, logP));
    return tf.sum(perClass.reshape([rows, width]), -1) as tf.Tensor1D;
  });
}

/** Entropy of each row's product of categoricals, summed over variables: [rows]. */
export function categoricalEntropy(logits: tf.Tensor2D, classes: number): tf.Tensor1D {
  return tf.tidy(() => {
    const [rows, width] = logits.shape;
    const logP = tf.logSoftmax(logits.reshape([rows * (width / classes), classes]));
    return tf.neg(tf.sum(tf.mul(tf.exp(logP), logP).reshape([rows, width]), -1)) as tf.Tensor1D;
  });
}

/**
 * KL balancing: the value of KL(q || p), with a fraction `balance` (alpha) of its gradient
 * training the prior and the rest the posterior. `kl(q, p)` computes the divergence and
 * `stop(d)` returns a distribution with the same values and no gradient. `clamp` (free nats, or
 * the identity) is applied to each term, as the reference implementation does.
 */
export function balancedKl<D>(
  kl: (q: D, p: D) => tf.Tensor,
  stop: (distribution: D) => D,
  posterior: D,
  prior: D,
  balance: number,
  clamp: (kl: tf.Tensor) => tf.Tensor = (x) => x,
): tf.Tensor {
  if (!(balance >= 0 && balance <= 1)) {
    throw new RangeError(`KL balance must be in [0, 1], got ${balance}`);
  }
  const priorTerm = clamp(kl(stop(posterior), prior));
  const posteriorTerm = clamp(kl(posterior, stop(prior)));
  return tf.add(tf.mul(balance, priorTerm), tf.mul(1 - balance, posteriorTerm));
}
