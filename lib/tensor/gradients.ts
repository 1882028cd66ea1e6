/**
 * Zero gradients for the comparison and logical ops TensorFlow.js 4.22 leaves without one
 * (GreaterEqual has one; Greater, Less, ... do not), so that `tf.where(tf.greater(x, 0), ...)`
 * and masks built from comparisons can sit inside a loss. They are piecewise constant, so zero
 * is their gradient almost everywhere, as in TensorFlow (float32, as the tape requires even for
 * boolean inputs).
 */
import * as tf from "@tensorflow/tfjs";

const BINARY = ["Greater", "Less", "LessEqual", "Equal", "NotEqual", "LogicalAnd", "LogicalOr"];
const UNARY = ["LogicalNot"];

/** Names of the ops given a gradient here. */
export const ADDED_GRADIENTS: readonly string[] = [...BINARY, ...UNARY];

export function registerMissingGradients(): void {
  for (const kernelName of BINARY) {
    if (tf.getGradient(kernelName)) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: ["a", "b"],
      gradFunc: (_dy, saved) => ({
        a: () => tf.zeros(saved[0].shape),
        b: () => tf.zeros(saved[1].shape),
      }),
    });
  }
  for (const kernelName of UNARY) {
    if (tf.getGradient(kernelName)) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: ["x"],
      gradFunc: (_dy, saved) => ({ x: () => tf.zeros(saved[0].shape) }),
    });
  }
}
