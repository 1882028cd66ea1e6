/**
 * How MuZero's networks represent rewards and values (Schrittwieser et al. 2020, "Mastering Atari,
 * Go, chess and shogi by planning with a learned model", Appendix F "Network Architecture", after
 * Pohlen et al. 2018, "Observe and look further").
 *
 * Targets are first squashed by the invertible transform
 *
 *   h(x) = sign(x) (sqrt(|x| + 1) - 1) + ε x,   ε = 0.001,
 *
 * and then spread over a support of the integers -S..S: a scalar becomes weights on its two
 * neighbouring integers that sum to 1 and whose mean is the scalar (3.7 puts 0.3 on 3 and 0.7 on
 * 4). The network answers with a softmax over the same 2S + 1 integers; its scalar is the mean
 * under that softmax, passed back through h⁻¹. The paper's Atari support is S = 300. Board games
 * use plain scalars with a squared error (the paper's footnote to Equation 1), which is the
 * `scalar` head here.
 */
import { tf } from "../tensor/mod.ts";

/** ε of the transform h, the same "in all our experiments" of the paper. */
export const VALUE_SCALING_EPSILON = 0.001;

/** The paper's Atari support: one bin per integer from -300 to 300. */
export const MUZERO_ATARI_SUPPORT_SIZE = 300;

/**
 * How a network head outputs a reward or a value: a scalar bounded to [-1, 1] by tanh and trained
 * by squared error (the board games' rewards and outcomes), or a softmax over the support -S..S
 * of h-transformed scalars trained by cross-entropy (Atari, and any unbounded return).
 */
export type HeadSpec = { kind: "scalar" } | { kind: "support"; size: number };

/** Numbers a head outputs: 1 for a scalar, 2S + 1 for a support. */
export function headWidth(head: HeadSpec): number {
  return head.kind === "scalar" ? 1 : 2 * head.size + 1;
}

/** h(x) = sign(x) (sqrt(|x| + 1) - 1) + ε x. */
export function scaleTarget(x: number, epsilon = VALUE_SCALING_EPSILON): number {
  return Math.sign(x) * (Math.sqrt(Math.abs(x) + 1) - 1) + epsilon * x;
}

/**
 * h⁻¹(y) in closed form (solve the quadratic in sqrt(|x| + 1)):
 * sign(y) (((sqrt(1 + 4ε(|y| + 1 + ε)) - 1) / (2ε))² - 1).
 */
export function unscaleTarget(y: number, epsilon = VALUE_SCALING_EPSILON): number {
  const root = (Math.sqrt(1 + 4 * epsilon * (Math.abs(y) + 1 + epsilon)) - 1) / (2 * epsilon);
  return Math.sign(y) * (root * root - 1);
}

/**
 * Writes the support representation of h(x) into out[offset .. offset + 2S + 1): weight on the
 * two integers around h(x), clipped to [-S, S] first.
 */
export function scalarToSupport(
  x: number,
  size: number,
  out: Float32Array,
  offset = 0,
  epsilon = VALUE_SCALING_EPSILON,
): Float32Array {
  const width = 2 * size + 1;
  out.fill(0, offset, offset + width);
  const scaled = Math.min(size, Math.max(-size, scaleTarget(x, epsilon)));
  const low = Math.floor(scaled);
  const upperWeight = scaled - low;
  out[offset + low + size] = 1 - upperWeight;
  if (upperWeight > 0) out[offset + low + size + 1] = upperWeight;
  return out;
}

/** The scalar a probability vector over -S..S stands for: h⁻¹ of its mean. */
export function supportToScalar(
  probabilities: ArrayLike<number>,
  size: number,
  offset = 0,
  epsilon = VALUE_SCALING_EPSILON,
): number {
  let mean = 0;
  for (let i = 0; i < 2 * size + 1; i++) mean += probabilities[offset + i] * (i - size);
  return unscaleTarget(mean, epsilon);
}

/** h⁻¹ on a tensor, element-wise. */
export function unscaleTargetTensor(y: tf.Tensor, epsilon = VALUE_SCALING_EPSILON): tf.Tensor {
  return tf.tidy(() => {
    const root = tf.div(
      tf.sub(tf.sqrt(tf.add(tf.mul(tf.add(tf.abs(y), 1 + epsilon), 4 * epsilon), 1)), 1),
      2 * epsilon,
    );
    return tf.mul(tf.sign(y), tf.sub(tf.square(root), 1));
  });
}

/** The support's integers -S..S as a [2S + 1, 1] column, to take means by a matrix product. */
export function supportColumn(size: number): tf.Tensor2D {
  return tf.tensor2d(Float32Array.from({ length: 2 * size + 1 }, (_, i) => i - size), [
    2 * size + 1,
    1,
  ]);
}

/**
 * The scalars a head's raw output [B, width] stands for, [B]: the output itself for a scalar
 * head (already bounded), h⁻¹ of the softmax mean for a support head. `column` is
 * `supportColumn(size)`, made once by the caller.
 */
export function headToScalar(
  raw: tf.Tensor2D,
  head: HeadSpec,
  column: tf.Tensor2D | null,
): tf.Tensor1D {
  return tf.tidy(() => {
    if (head.kind === "scalar") return tf.reshape(raw, [-1]) as tf.Tensor1D;
    const mean = tf.matMul(tf.softmax(raw), column!);
    return tf.reshape(unscaleTargetTensor(mean), [-1]) as tf.Tensor1D;
  });
}
