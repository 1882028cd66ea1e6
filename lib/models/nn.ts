/**
 * Building blocks for the world models: named, seeded parameters and the few layers the papers
 * use (dense, convolution, transposed convolution), written on TensorFlow.js core ops so every
 * training step can pass an explicit `varList`.
 *
 * Initialisation is Glorot-uniform (Glorot & Bengio 2010) drawn from lib/rng, so the same seed
 * gives the same network on every backend.
 */
import { tf } from "../tensor/mod.ts";
import { Rng } from "../rng.ts";

export type Activation = "linear" | "relu" | "tanh" | "sigmoid" | "elu" | "softplus";

export function activate(x: tf.Tensor, activation: Activation): tf.Tensor {
  switch (activation) {
    case "linear":
      return x;
    case "relu":
      return tf.relu(x);
    case "tanh":
      return tf.tanh(x);
    case "sigmoid":
      return tf.sigmoid(x);
    case "elu":
      return tf.elu(x);
    case "softplus":
      return tf.softplus(x);
  }
}

let nextScopeId = 0;

/**
 * The trainable parameters of one model, by local name ("encoder/conv1/kernel"). TensorFlow.js
 * wants globally unique variable names, so each set prefixes its own with a unique scope.
 */
export class ParameterSet {
  readonly variables = new Map<string, tf.Variable>();
  readonly #scope: string;

  constructor(scope: string, readonly rng: Rng) {
    this.#scope = `${scope}_${nextScopeId++}`;
  }

  /** Creates a variable with values from `init` (a shape-filling function or a fixed array). */
  create(name: string, shape: number[], init: Init): tf.Variable {
    if (this.variables.has(name)) throw new Error(`parameter ${name} already exists`);
    const size = shape.reduce((a, b) => a * b, 1);
    const values = typeof init === "function" ? init(size, shape, this.rng) : init;
    if (values.length !== size) {
      throw new Error(`parameter ${name}: ${values.length} initial values for shape [${shape}]`);
    }
    const variable = tf.tidy(() =>
      tf.variable(tf.tensor(values, shape, "float32"), true, `${this.#scope}/${name}`)
    );
    this.variables.set(name, variable);
    return variable;
  }

  /** The variables in creation order, for `optimizer.minimize(..., varList)`. */
  list(): tf.Variable[] {
    return [...this.variables.values()];
  }

  /** Total number of scalar parameters. */
  count(): number {
    let total = 0;
    for (const v of this.variables.values()) total += v.size;
    return total;
  }

  /** Copies every value from another set with the same names and shapes. */
  copyFrom(other: ParameterSet): void {
    for (const [name, variable] of this.variables) {
      const source = other.variables.get(name);
      if (!source) throw new Error(`copyFrom: the other set has no parameter ${name}`);
      variable.assign(source);
    }
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
  }
}

export type Init = Float32Array | ((size: number, shape: number[], rng: Rng) => Float32Array);

/** Glorot-uniform with the given fan-in and fan-out. */
export function glorotUniform(fanIn: number, fanOut: number): Init {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return (size, _shape, rng) => {
    const out = new Float32Array(size);
    for (let i = 0; i < size; i++) out[i] = rng.uniform(-limit, limit);
    return out;
  };
}

export const zeros: Init = (size) => new Float32Array(size);
export const constant = (value: number): Init => (size) => new Float32Array(size).fill(value);

export interface Layer {
  apply(x: tf.Tensor): tf.Tensor;
}

/** y = activation(x W + b) on the last axis. */
export function dense(
  params: ParameterSet,
  name: string,
  inputSize: number,
  outputSize: number,
  activation: Activation = "linear",
): Layer {
  const kernel = params.create(
    `${name}/kernel`,
    [inputSize, outputSize],
    glorotUniform(inputSize, outputSize),
  );
  const bias = params.create(`${name}/bias`, [outputSize], zeros);
  const fused = fusedPart(activation);
  const rest: Activation = fused === activation ? "linear" : activation;
  return {
    apply(x) {
      // Fold leading axes into the batch so any rank works.
      const flat = (x.rank === 2 ? x : x.reshape([-1, inputSize])) as tf.Tensor2D;
      const y = tf.fused.matMul({ a: flat, b: kernel as tf.Tensor2D, bias, activation: fused });
      const shaped = x.rank === 2 ? y : y.reshape([...x.shape.slice(0, -1), outputSize]);
      return activate(shaped, rest);
    },
  };
}

/**
 * The part of an activation a fused kernel (matmul or convolution plus bias) can take on:
 * TensorFlow.js differentiates fused kernels only with no activation or ReLU, so the others are
 * applied after a fused bias.
 */
function fusedPart(activation: Activation): "linear" | "relu" {
  return activation === "relu" ? "relu" : "linear";
}

export interface ConvOptions {
  kernelSize: number;
  stride: number;
  padding?: "valid" | "same";
  activation?: Activation;
}

/** 2-D convolution on NHWC images. */
export function conv2d(
  params: ParameterSet,
  name: string,
  inChannels: number,
  outChannels: number,
  { kernelSize, stride, padding = "valid", activation = "linear" }: ConvOptions,
): Layer {
  const fanIn = kernelSize * kernelSize * inChannels;
  const fanOut = kernelSize * kernelSize * outChannels;
  const kernel = params.create(
    `${name}/kernel`,
    [kernelSize, kernelSize, inChannels, outChannels],
    glorotUniform(fanIn, fanOut),
  );
  const bias = params.create(`${name}/bias`, [outChannels], zeros);
  const fused = fusedPart(activation);
  const rest: Activation = fused === activation ? "linear" : activation;
  return {
    apply(x) {
      const y = tf.fused.conv2d({
        x: x as tf.Tensor4D,
        filter: kernel as tf.Tensor4D,
        strides: stride,
        pad: padding,
        bias,
        activation: fused,
      });
      return activate(y, rest);
    },
  };
}

/** Output side of a transposed convolution with "valid" padding. */
export function transposedOutputSize(
  inputSize: number,
  kernelSize: number,
  stride: number,
): number {
  return (inputSize - 1) * stride + kernelSize;
}

/** 2-D transposed convolution ("deconvolution") on NHWC images, "valid" padding. */
export function conv2dTranspose(
  params: ParameterSet,
  name: string,
  inChannels: number,
  outChannels: number,
  { kernelSize, stride, activation = "linear" }: ConvOptions,
): Layer {
  const fanIn = kernelSize * kernelSize * inChannels;
  const fanOut = kernelSize * kernelSize * outChannels;
  // TensorFlow's layout for transposed kernels is [h, w, out, in].
  const kernel = params.create(
    `${name}/kernel`,
    [kernelSize, kernelSize, outChannels, inChannels],
    glorotUniform(fanIn, fanOut),
  );
  const bias = params.create(`${name}/bias`, [outChannels], zeros);
  return {
    apply(x) {
      const [batch, height, width] = x.shape;
      const outHeight = transposedOutputSize(height!, kernelSize, stride);
      const outWidth = transposedOutputSize(width!, kernelSize, stride);
      const y = tf.conv2dTranspose(
        x as tf.Tensor4D,
        kernel as tf.Tensor4D,
        [batch!, outHeight, outWidth, outChannels],
        stride,
        "valid",
      );
      return activate(tf.add(y, bias), activation);
    },
  };
}

/** Applies layers in order. */
export function sequential(...layers: Layer[]): Layer {
  return { apply: (x) => layers.reduce((h, layer) => layer.apply(h), x) };
}

/** One-hot rows [B, depth] of int32 indices [B] as floats; TensorFlow.js refuses depth 1. */
export function oneHotRows(indices: tf.Tensor1D, depth: number): tf.Tensor2D {
  if (depth === 1) return tf.onesLike(indices).toFloat().reshape([-1, 1]) as tf.Tensor2D;
  return tf.oneHot(indices, depth).toFloat() as tf.Tensor2D;
}
