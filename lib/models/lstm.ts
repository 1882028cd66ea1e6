/**
 * A single-layer LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000)
 * on TensorFlow.js core ops with explicit variables, the recurrent core of the World Models
 * MDN-RNN (Ha & Schmidhuber 2018, section 2.2).
 *
 * Parameters: an input kernel [inputSize, 4H], a recurrent kernel [H, 4H] and one bias [4H], so
 * 4H(inputSize + H) + 4H scalars, the count the paper's table implies. Gates are stacked in the
 * order input, forget, candidate, output.
 */
import { tf } from "../tensor/mod.ts";
import { glorotUniform, type Init, type ParameterSet } from "./nn.ts";

export interface LstmState {
  /** Hidden state h, [batch, H]. */
  h: tf.Tensor2D;
  /** Cell state c, [batch, H]. */
  c: tf.Tensor2D;
}

export class Lstm {
  readonly inputKernel: tf.Variable;
  readonly recurrentKernel: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    params: ParameterSet,
    name: string,
    readonly inputSize: number,
    readonly hiddenSize: number,
  ) {
    const gates = 4 * hiddenSize;
    this.inputKernel = params.create(
      `${name}/input_kernel`,
      [inputSize, gates],
      glorotUniform(inputSize, gates),
    );
    this.recurrentKernel = params.create(
      `${name}/recurrent_kernel`,
      [hiddenSize, gates],
      glorotUniform(hiddenSize, gates),
    );
    // A forget-gate bias of 1 keeps the cell's memory early in training (Jozefowicz et al. 2015).
    const biasInit: Init = (size) => {
      const out = new Float32Array(size);
      out.fill(1, hiddenSize, 2 * hiddenSize);
      return out;
    };
    this.bias = params.create(`${name}/bias`, [gates], biasInit);
  }

  /** Zero state for a batch (caller disposes). */
  zeroState(batch: number): LstmState {
    return {
      h: tf.zeros([batch, this.hiddenSize]) as tf.Tensor2D,
      c: tf.zeros([batch, this.hiddenSize]) as tf.Tensor2D,
    };
  }

  /** One step from pre-computed input projections `xProj` = x W_x + b, [batch, 4H]. */
  #cell(xProj: tf.Tensor2D, state: LstmState): LstmState {
    const H = this.hiddenSize;
    const z = tf.add(xProj, tf.matMul(state.h, this.recurrentKernel as tf.Tensor2D)) as tf.Tensor2D;
    const [i, f, g, o] = tf.split(z, [H, H, H, H], 1) as tf.Tensor2D[];
    const c = tf.add(
      tf.mul(tf.sigmoid(f), state.c),
      tf.mul(tf.sigmoid(i), tf.tanh(g)),
    ) as tf.Tensor2D;
    const h = tf.mul(tf.sigmoid(o), tf.tanh(c)) as tf.Tensor2D;
    return { h, c };
  }

  /** One step: x [batch, inputSize] to the next state. Call inside tf.tidy or dispose. */
  step(x: tf.Tensor2D, state: LstmState): LstmState {
    const xProj = tf.add(tf.matMul(x, this.inputKernel as tf.Tensor2D), this.bias) as tf.Tensor2D;
    return this.#cell(xProj, state);
  }

  /**
   * Runs a sequence xs [batch, T, inputSize] from `state`; returns every hidden state
   * [batch, T, H] and the final state. The input projection of all T steps is one matmul.
   * Call inside tf.tidy (or a gradient function) so the intermediates are released.
   */
  unroll(xs: tf.Tensor3D, state: LstmState): { outputs: tf.Tensor3D; final: LstmState } {
    const [batch, steps] = xs.shape;
    const projected = tf.add(
      tf.matMul(xs.reshape([batch * steps, this.inputSize]), this.inputKernel as tf.Tensor2D),
      this.bias,
    ).reshape([batch, steps, 4 * this.hiddenSize]);
    const perStep = tf.unstack(projected, 1) as tf.Tensor2D[];
    const outputs: tf.Tensor2D[] = [];
    let current = state;
    for (const xProj of perStep) {
      current = this.#cell(xProj, current);
      outputs.push(current.h);
    }
    return { outputs: tf.stack(outputs, 1) as tf.Tensor3D, final: current };
  }

  /** 4H(inputSize + H) + 4H. */
  static parameterCount(inputSize: number, hiddenSize: number): number {
    return 4 * hiddenSize * (inputSize + hiddenSize) + 4 * hiddenSize;
  }
}
