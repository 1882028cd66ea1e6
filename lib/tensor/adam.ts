/**
 * Adam (Kingma & Ba 2015, Algorithm 1) with each variable's update done in one pass on the wasm
 * backend. TensorFlow.js's `AdamOptimizer` spends ten element-wise kernels per variable per step
 * (each a pass over the parameters and a new tensor); on the World Models VAE's 4.3M parameters
 * that was about a tenth of a training step. The arithmetic is the same:
 *
 *   m <- beta1 m + (1 - beta1) g,   v <- beta2 v + (1 - beta2) g^2,
 *   theta <- theta - lr (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon)
 *
 * The class extends TensorFlow.js's, so the moment variables, their names and the checkpoint
 * format (lib/tensor/checkpoint.ts) are unchanged; on other backends it is TensorFlow.js's Adam.
 */
import * as tf from "@tensorflow/tfjs";
import type { TensorInfo, WasmBackend } from "./kernels/wasm_backend.ts";

export const FUSED_ADAM_KERNEL = "MbrlFusedAdam";

interface FusedAdamAttrs {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1 - beta1^t and 1 - beta2^t for this step t. */
  firstCorrection: number;
  secondCorrection: number;
}

function fusedAdamWasm(
  args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap },
): TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const { value, firstMoment, secondMoment, gradient } = args.inputs as Record<string, TensorInfo>;
  const { learningRate, beta1, beta2, epsilon, firstCorrection, secondCorrection } = args
    .attrs as unknown as FusedAdamAttrs;
  const outputs = [value, firstMoment, secondMoment].map((t) =>
    backend.makeOutput([...t.shape], "float32")
  );
  // Views after the last allocation: growing the heap replaces the buffer.
  const [newValue, newFirst, newSecond] = outputs.map((t) =>
    backend.typedArrayFromHeap(t) as Float32Array
  );
  const theta = backend.typedArrayFromHeap(value) as Float32Array;
  const m = backend.typedArrayFromHeap(firstMoment) as Float32Array;
  const v = backend.typedArrayFromHeap(secondMoment) as Float32Array;
  const g = backend.typedArrayFromHeap(gradient) as Float32Array;
  const keepFirst = 1 - beta1;
  const keepSecond = 1 - beta2;
  const stepSize = learningRate / firstCorrection;
  const secondScale = 1 / secondCorrection;
  for (let i = 0; i < theta.length; i++) {
    const gradientValue = g[i];
    const first = beta1 * m[i] + keepFirst * gradientValue;
    const second = beta2 * v[i] + keepSecond * gradientValue * gradientValue;
    newFirst[i] = first;
    newSecond[i] = second;
    newValue[i] = theta[i] - stepSize * first / (Math.sqrt(second * secondScale) + epsilon);
  }
  return outputs;
}

/** Registers the one-pass update for the wasm backend (once). */
export function registerFusedAdam(): void {
  if (tf.getKernel(FUSED_ADAM_KERNEL, "wasm")) return;
  tf.registerKernel({
    kernelName: FUSED_ADAM_KERNEL,
    backendName: "wasm",
    kernelFunc: fusedAdamWasm as unknown as tf.KernelFunc,
  });
}

type Moment = { originalName: string; variable: tf.Variable };

/** The fields TensorFlow.js's AdamOptimizer keeps private, which this subclass updates too. */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Moment[];
  accumulatedSecondMoment: Moment[];
}

/** Adam with a one-pass update per variable where the backend has the kernel. */
export class FusedAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(
    variableGradients: Parameters<tf.AdamOptimizer["applyGradients"]>[0],
  ): void {
    if (!tf.getKernel(FUSED_ADAM_KERNEL, tf.getBackend())) {
      super.applyGradients(variableGradients);
      return;
    }
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((v) => v.name)
      : Object.keys(variableGradients);
    // The bias corrections of step t = iterations + 1, as TensorFlow.js's accBeta variables.
    const step = this.iterations + 1;
    const state = this as unknown as AdamState;
    const firstMoments = state.accumulatedFirstMoment;
    const secondMoments = state.accumulatedSecondMoment;
    const attrs: FusedAdamAttrs = {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      firstCorrection: 1 - this.beta1 ** step,
      secondCorrection: 1 - this.beta2 ** step,
    };
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name] as tf.Variable;
        firstMoments[i] ??= {
          originalName: `${name}/m`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
        secondMoments[i] ??= {
          originalName: `${name}/v`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
        const gradient = Array.isArray(variableGradients)
          ? variableGradients[i].tensor
          : variableGradients[name];
        if (gradient == null) return;
        const [newValue, newFirst, newSecond] = tf.engine().runKernel(FUSED_ADAM_KERNEL, {
          value,
          firstMoment: firstMoments[i].variable,
          secondMoment: secondMoments[i].variable,
          gradient,
        }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
        firstMoments[i].variable.assign(newFirst);
        secondMoments[i].variable.assign(newSecond);
        value.assign(newValue);
      });
      // Kept in step for TensorFlow.js's own code paths (setWeights recomputes them anyway).
      state.accBeta1.assign(tf.mul(state.accBeta1, this.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }
}

/** Adam as `tf.train.adam` takes it (epsilon defaults to the backend's, as there). */
export function adam(
  learningRate = 0.001,
  beta1 = 0.9,
  beta2 = 0.999,
  epsilon?: number,
): FusedAdamOptimizer {
  return new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon);
}
