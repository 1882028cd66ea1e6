/**
 * The gated recurrent unit (Cho et al. 2014, "Learning Phrase Representations using RNN
 * Encoder-Decoder", Section 2.3), the deterministic path of PlaNet's recurrent state-space model
 * (Hafner et al. 2019, Section 3, "Recurrent state-space model").
 *
 *   r = sigmoid(x W_r + h U_r + b_r)            reset gate
 *   u = sigmoid(x W_u + h U_u + b_u)            update gate
 *   c = tanh(x W_c + r * (h U_c) + b_c)         candidate
 *   h' = u * h + (1 - u) * c
 *
 * The three gates share one matrix product per input ([x, h] against a stacked kernel), so a
 * step is two matMuls, not six; this matters inside the planner's batched rollouts.
 */
import { tf } from "../tensor/mod.ts";
import { glorotUniform, type ParameterSet } from "./nn.ts";

export interface GruCell {
  readonly inputSize: number;
  readonly hiddenSize: number;
  /** One step: input [batch, inputSize], hidden [batch, hiddenSize] -> new hidden. */
  step(input: tf.Tensor2D, hidden: tf.Tensor2D): tf.Tensor2D;
}

export function gruCell(
  params: ParameterSet,
  name: string,
  inputSize: number,
  hiddenSize: number,
): GruCell {
  const inputKernel = params.create(
    `${name}/input_kernel`,
    [inputSize, 3 * hiddenSize],
    glorotUniform(inputSize, 3 * hiddenSize),
  );
  const recurrentKernel = params.create(
    `${name}/recurrent_kernel`,
    [hiddenSize, 3 * hiddenSize],
    glorotUniform(hiddenSize, 3 * hiddenSize),
  );
  // Reset and update gate biases start at 0 and 1: the cell begins by mostly keeping its state.
  const biasInit = new Float32Array(3 * hiddenSize);
  biasInit.fill(1, hiddenSize, 2 * hiddenSize);
  const bias = params.create(`${name}/bias`, [3 * hiddenSize], biasInit);
  return {
    inputSize,
    hiddenSize,
    step(input, hidden) {
      const fromInput = tf.add(tf.matMul(input, inputKernel as tf.Tensor2D), bias);
      const fromHidden = tf.matMul(hidden, recurrentKernel as tf.Tensor2D);
      const [inR, inU, inC] = tf.split(fromInput, 3, 1);
      const [hidR, hidU, hidC] = tf.split(fromHidden, 3, 1);
      const reset = tf.sigmoid(tf.add(inR, hidR));
      const update = tf.sigmoid(tf.add(inU, hidU));
      const candidate = tf.tanh(tf.add(inC, tf.mul(reset, hidC)));
      return tf.add(tf.mul(update, hidden), tf.mul(tf.sub(1, update), candidate)) as tf.Tensor2D;
    },
  };
}
