/**
 * The controller "C" of World Models (Ha & Schmidhuber 2018, section 2.3): a single linear layer
 * a_t = W_c [z_t, h_t] + b_c, squashed by tanh, small enough to be evolved by CMA-ES. Also the
 * variants of the CarRacing ablation (section 3.4, Table 1): C seeing z only, and z through one
 * hidden layer of 40 tanh units; and the TakeCover form, which sees [z, c, h] (the paper's code
 * feeds both LSTM states there, which is how its C reaches 1,088 weights).
 *
 * Plain JavaScript on flat parameter vectors: a population of candidates acts in one loop with no
 * tensors, so evolution stays cheap.
 */

/** What C sees: z only, z through a hidden layer, [z, h], or [z, c, h]. */
export type ControllerFeatures = "z" | "z-hidden" | "zh" | "zch";

export interface ControllerShape {
  latentSize: number;
  /** M's LSTM units (unused by "z" and "z-hidden"). */
  rnnSize: number;
  actionSize: number;
  features: ControllerFeatures;
  /** Units of the hidden layer of "z-hidden" (the paper's code: 40). */
  hiddenLayerSize: number;
}

/** Length of the input vector C sees. */
export function controllerInputSize(shape: ControllerShape): number {
  switch (shape.features) {
    case "z":
    case "z-hidden":
      return shape.latentSize;
    case "zh":
      return shape.latentSize + shape.rnnSize;
    case "zch":
      return shape.latentSize + 2 * shape.rnnSize;
  }
}

/** Number of evolved parameters: weights and biases of every layer. */
export function controllerParameterCount(shape: ControllerShape): number {
  const input = controllerInputSize(shape);
  if (shape.features === "z-hidden") {
    const hidden = shape.hiddenLayerSize;
    return hidden * input + hidden + shape.actionSize * hidden + shape.actionSize;
  }
  return shape.actionSize * input + shape.actionSize;
}

/**
 * Writes C's input for one row into `out` at `offset`: z, then c (for "zch"), then h.
 * `z`, `h`, `c` are the row's slices.
 */
export function writeControllerInput(
  shape: ControllerShape,
  z: Float32Array,
  h: Float32Array,
  c: Float32Array,
  out: Float32Array,
): void {
  out.set(z, 0);
  if (shape.features === "zh") out.set(h, shape.latentSize);
  if (shape.features === "zch") {
    out.set(c, shape.latentSize);
    out.set(h, shape.latentSize + shape.rnnSize);
  }
}

/**
 * tanh(W x + b) for one candidate's parameters `theta` (W row-major [actions, inputs], then b;
 * for "z-hidden" the hidden layer first). `scratch` needs hiddenLayerSize floats.
 */
export function controllerAct(
  shape: ControllerShape,
  theta: ArrayLike<number>,
  input: Float32Array,
  out: Float32Array,
  scratch?: Float32Array,
): Float32Array {
  const inputSize = controllerInputSize(shape);
  const A = shape.actionSize;
  let x: ArrayLike<number> = input;
  let offset = 0;
  let width = inputSize;
  if (shape.features === "z-hidden") {
    const hidden = shape.hiddenLayerSize;
    const h = scratch ?? new Float32Array(hidden);
    for (let j = 0; j < hidden; j++) {
      let sum = theta[hidden * inputSize + j];
      const row = j * inputSize;
      for (let i = 0; i < inputSize; i++) sum += theta[row + i] * input[i];
      h[j] = Math.tanh(sum);
    }
    x = h;
    offset = hidden * inputSize + hidden;
    width = hidden;
  }
  for (let a = 0; a < A; a++) {
    let sum = theta[offset + A * width + a];
    const row = offset + a * width;
    for (let i = 0; i < width; i++) sum += theta[row + i] * x[i];
    out[a] = Math.tanh(sum);
  }
  return out;
}

/**
 * The paper's map from C's tanh outputs to CarRacing's action: steering in [-1, 1], gas
 * rescaled to [0, 1], brake clipped to [0, 1].
 */
export function carRacingAction(raw: Float32Array, out: Float32Array): Float32Array {
  out[0] = raw[0];
  out[1] = (raw[1] + 1) / 2;
  out[2] = Math.min(Math.max(raw[2], 0), 1);
  return out;
}

/**
 * The paper's map from C's one tanh output to TakeCover's discrete action: left below -1/3,
 * right above 1/3, stay in between. Returns -1, 0 or 1.
 */
export function takeCoverMove(raw: number): -1 | 0 | 1 {
  if (raw < -1 / 3) return -1;
  if (raw > 1 / 3) return 1;
  return 0;
}
