/**
 * The epilogue of TensorFlow.js's fused kernels (`_FusedMatMul`, `FusedConv2D`): add a bias along
 * the last axis, then apply the activation, in place on the product. Written out here for the
 * BLAS kernels, which compute the product outside the wasm backend.
 */
import type { TensorInfo } from "./wasm_backend.ts";
import { sizeOf } from "./wasm_backend.ts";

/** Activations TensorFlow.js fuses (`backend_util.Activation`). */
export type FusedActivation =
  | "linear"
  | "relu"
  | "relu6"
  | "prelu"
  | "leakyrelu"
  | "sigmoid"
  | "elu";

/** A bias or PReLU weight this epilogue handles: one value, or one per output channel. */
function perChannel(info: TensorInfo | undefined | null, channels: number): boolean {
  if (!info) return true;
  const size = sizeOf(info.shape);
  return info.dtype === "float32" && (size === 1 || size === channels) &&
    info.shape.slice(0, -1).every((side) => side === 1);
}

/**
 * Whether the epilogue can run here; other shapes go to the shipped kernel. The bias must be
 * broadcast along the last axis only (a scalar, [C], or [1, ..., C]).
 */
export function canApplyEpilogue(
  activation: string | undefined,
  bias: TensorInfo | undefined | null,
  preluWeights: TensorInfo | undefined | null,
  channels: number,
): boolean {
  const known = ["linear", "relu", "relu6", "prelu", "leakyrelu", "sigmoid", "elu"];
  if (activation !== undefined && !known.includes(activation)) return false;
  if (activation === "prelu" && !preluWeights) return false;
  return perChannel(bias, channels) && perChannel(preluWeights, channels);
}

/**
 * out[i, c] = act(out[i, c] + bias[c]) over rows of `channels` numbers. `bias` and `prelu` are
 * per-channel values (length 1 or `channels`), read from the wasm heap by the caller.
 */
export function applyEpilogue(
  out: Float32Array,
  channels: number,
  bias: Float32Array | null,
  activation: FusedActivation = "linear",
  leakyreluAlpha = 0.2,
  prelu: Float32Array | null = null,
): void {
  const size = out.length;
  if (bias) {
    if (bias.length === 1) {
      const b = bias[0];
      for (let i = 0; i < size; i++) out[i] += b;
    } else {
      for (let row = 0; row < size; row += channels) {
        for (let c = 0; c < channels; c++) out[row + c] += bias[c];
      }
    }
  }
  switch (activation) {
    case "linear":
      return;
    case "relu":
      for (let i = 0; i < size; i++) if (out[i] < 0) out[i] = 0;
      return;
    case "relu6":
      for (let i = 0; i < size; i++) out[i] = Math.min(6, Math.max(0, out[i]));
      return;
    case "leakyrelu":
      for (let i = 0; i < size; i++) if (out[i] < 0) out[i] *= leakyreluAlpha;
      return;
    case "sigmoid":
      for (let i = 0; i < size; i++) out[i] = 1 / (1 + Math.exp(-out[i]));
      return;
    case "elu":
      for (let i = 0; i < size; i++) if (out[i] < 0) out[i] = Math.expm1(out[i]);
      return;
    case "prelu": {
      const weights = prelu!;
      const single = weights.length === 1;
      for (let i = 0; i < size; i++) {
        if (out[i] < 0) out[i] *= single ? weights[0] : weights[i % channels];
      }
      return;
    }
  }
}
