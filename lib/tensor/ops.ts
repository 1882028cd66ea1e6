/**
 * Ops whose TensorFlow.js gradient is slower than it needs to be.
 *
 * `logSumExp`: TensorFlow.js differentiates through the max it subtracts for stability, which
 * costs an `Equal` mask per call (half the time of the MDN-RNN's loss gradient on wasm) and
 * contributes exactly zero. The gradient of log sum exp(x) is softmax(x), written here directly.
 */
import * as tf from "@tensorflow/tfjs";

/** log(sum(exp(x), axis)), stable, with the softmax as its gradient. */
export function logSumExp(x: tf.Tensor, axis: number, keepDims = false): tf.Tensor {
  const along = axis < 0 ? axis + x.rank : axis;
  const op = tf.customGrad((input, save) => {
    const kept = tf.logSumExp(input as tf.Tensor, along, true);
    (save as tf.GradSaveFunc)([input as tf.Tensor, kept]);
    return {
      value: keepDims ? kept : tf.squeeze(kept, [along]),
      gradFunc: (dy, saved) => {
        const [values, total] = saved;
        const upstream = keepDims ? dy as tf.Tensor : tf.expandDims(dy as tf.Tensor, along);
        return tf.mul(upstream, tf.exp(tf.sub(values, total)));
      },
    };
  });
  return op(x);
}
