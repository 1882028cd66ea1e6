/**
 * The two networks EfficientZero adds to MuZero's model (Ye et al. 2021, "Mastering Atari Games
 * with Limited Data", Sections 4.1 and 4.2, and Appendix A.1 "Models and Hyper-parameters").
 *
 * Consistency heads (Section 4.1, after SimSiam, Chen & He 2021): a projection of a hidden state
 * (three dense layers) and, on the online branch only, a prediction head (two dense layers). The
 * paper's heads carry batch normalisation; ours do not, like every other network here, and the
 * supervised terms of the loss keep the projections from collapsing to a constant.
 *
 * Value prefix (Section 4.2): an LSTM reads the hidden states the dynamics unrolls, s¹, s², ...,
 * and a head on its output predicts the sum of the rewards so far, the "value prefix"
 * Σ_{j ≤ k} r_{t+j}, instead of each step's reward. Its memory is cleared every `horizon` steps
 * (the paper: 5), in training and in the search alike.
 */
import { tf } from "../tensor/mod.ts";
import { dense, type Layer, type ParameterSet, sequential } from "./nn.ts";
import { Lstm, type LstmState } from "./lstm.ts";

/** Widths of the consistency heads (the paper's Atari model: 1024, 1024 and 512). */
export interface ConsistencySettings {
  /** Units of the projection's two hidden layers. */
  projectionHidden: number;
  /** Units of a projection (and of a prediction). */
  projectionSize: number;
  /** Units of the prediction head's hidden layer. */
  predictionHidden: number;
}

/** The value-prefix LSTM (the paper's Atari model: 512 units, memory cleared every 5 steps). */
export interface ValuePrefixSettings {
  lstmHiddenSize: number;
  /** Steps after which the LSTM's memory and the prefix start again from zero. */
  horizon: number;
}

/** Which of EfficientZero's model additions a network has (null: not this one). */
export interface EfficientZeroModelSettings {
  consistency: ConsistencySettings | null;
  valuePrefix: ValuePrefixSettings | null;
}

/** Projection g and prediction head q of the temporal consistency loss. */
export class ConsistencyHeads {
  readonly #projection: Layer;
  readonly #prediction: Layer;

  constructor(params: ParameterSet, readonly stateSize: number, settings: ConsistencySettings) {
    const { projectionHidden, projectionSize, predictionHidden } = settings;
    this.#projection = sequential(
      dense(params, "consistency/projection0", stateSize, projectionHidden, "relu"),
      dense(params, "consistency/projection1", projectionHidden, projectionHidden, "relu"),
      dense(params, "consistency/projection2", projectionHidden, projectionSize),
    );
    this.#prediction = sequential(
      dense(params, "consistency/prediction0", projectionSize, predictionHidden, "relu"),
      dense(params, "consistency/prediction1", predictionHidden, projectionSize),
    );
  }

  /** g(s): hidden states of any shape [B, ...] to projections [B, projectionSize]. */
  project(states: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() =>
      this.#projection.apply(tf.reshape(states, [states.shape[0]!, this.stateSize])) as tf.Tensor2D
    );
  }

  /** q(g(s)): the online branch, which the loss pulls towards the target projection. */
  projectAndPredict(states: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => this.#prediction.apply(this.project(states)) as tf.Tensor2D);
  }
}

/**
 * The consistency loss per row, 1 − cos(online, target) [B]: the paper's negative cosine
 * similarity shifted by 1, so that equal directions cost exactly 0 (the gradient is the same).
 * Norms are floored at 1e-5 as the reference implementation's normalisation does; the floor is
 * taken on the squared norm, so an all-zero row has gradient 0 rather than NaN.
 */
export function consistencyLoss(online: tf.Tensor2D, target: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const unit = (x: tf.Tensor2D) =>
      tf.div(x, tf.sqrt(tf.maximum(tf.sum(tf.square(x), 1, true), 1e-10))) as tf.Tensor2D;
    return tf.sub(1, tf.sum(tf.mul(unit(online), unit(target)), 1)) as tf.Tensor1D;
  });
}

/** The value-prefix LSTM and its output head (raw outputs, as wide as the reward head). */
export class ValuePrefixHead {
  readonly lstm: Lstm;
  readonly horizon: number;
  readonly hiddenSize: number;
  readonly #output: Layer;

  constructor(
    params: ParameterSet,
    readonly stateSize: number,
    settings: ValuePrefixSettings,
    outputWidth: number,
  ) {
    if (!Number.isInteger(settings.horizon) || settings.horizon < 1) {
      throw new RangeError(
        `value prefix horizon must be a positive integer, got ${settings.horizon}`,
      );
    }
    this.horizon = settings.horizon;
    this.hiddenSize = settings.lstmHiddenSize;
    this.lstm = new Lstm(params, "value_prefix/lstm", stateSize, settings.lstmHiddenSize);
    const width = settings.lstmHiddenSize;
    this.#output = sequential(
      dense(params, "value_prefix/hidden", width, width, "relu"),
      dense(params, "value_prefix/output", width, outputWidth),
    );
  }

  /** Empty memory for a batch (caller disposes). */
  zeroMemory(batch: number): LstmState {
    return this.lstm.zeroState(batch);
  }

  /**
   * One step: the new hidden state s^k [B, ...] and the memory after step k − 1 to the raw
   * prefix output [B, width] and the memory after step k. Call inside tf.tidy.
   */
  step(state: tf.Tensor, memory: LstmState): { prefix: tf.Tensor2D; memory: LstmState } {
    const input = tf.reshape(state, [state.shape[0]!, this.stateSize]) as tf.Tensor2D;
    const next = this.lstm.step(input, memory);
    return { prefix: this.#output.apply(tf.relu(next.h)) as tf.Tensor2D, memory: next };
  }

  /**
   * The training unroll's prefixes: the states s¹..s^K to K raw outputs, the memory cleared after
   * every `horizon` steps as in the search. Call inside tf.tidy (or a gradient function).
   */
  unroll(states: readonly tf.Tensor[]): tf.Tensor2D[] {
    if (states.length === 0) return [];
    let memory = this.zeroMemory(states[0].shape[0]!);
    const prefixes: tf.Tensor2D[] = [];
    states.forEach((state, index) => {
      const out = this.step(state, memory);
      prefixes.push(out.prefix);
      memory = (index + 1) % this.horizon === 0 ? this.zeroMemory(state.shape[0]!) : out.memory;
    });
    return prefixes;
  }
}

/**
 * Which steps of an unroll a prefix target sums over: step k (1..K) sums the rewards of steps
 * from `prefixStart(k)` to k, since the memory was last cleared.
 */
export function prefixStart(step: number, horizon: number): number {
  return Math.floor((step - 1) / horizon) * horizon + 1;
}
