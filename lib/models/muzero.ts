/**
 * MuZero's learned model (Schrittwieser et al. 2020, "Mastering Atari, Go, chess and shogi by
 * planning with a learned model", Section 3 and Appendix F "Network Architecture"): three
 * functions of one set of parameters θ,
 *
 *   representation  s⁰ = h_θ(o)                 an observation to a hidden state,
 *   dynamics        rᵏ, sᵏ = g_θ(sᵏ⁻¹, aᵏ)      a hidden state and an action to the reward and
 *                                                the next hidden state,
 *   prediction      pᵏ, vᵏ = f_θ(sᵏ)            a hidden state to a policy and a value.
 *
 * Every hidden state is rescaled to [0, 1], per sample, by its own minimum and maximum, "the same
 * range as the action input" (Appendix G), which bounds the activations the dynamics function
 * feeds back into itself. Rewards and values come out as scalars or as supports of h-transformed
 * scalars (lib/models/muzero_support.ts).
 *
 * Two bodies: a multi-layer perceptron on flattened observations, and a small residual network
 * of 3x3 convolutions on [rows, columns, planes] boards, the paper's board-game design at a size
 * a laptop trains (the paper: 16 blocks of 256 channels). Actions enter the dynamics as one-hot
 * vectors (MLP) or as planes over the board (residual): the board game's own encoding when it has
 * one (a one where the stone goes, as the paper encodes Go moves), else a plane per action.
 *
 * `MuZeroNetwork` is the search's model (lib/planners/mcts.ts `MuZeroModel`): each inference is
 * one batched pass and one read-back for the whole batch of roots or leaves.
 *
 * EfficientZero's additions (Ye et al. 2021, lib/models/efficientzero.ts) are built on request,
 * after every MuZero parameter, so a network without them is initialised exactly as before. With
 * the value prefix the search's latent row carries the LSTM's memory and the prefix so far beside
 * the hidden state, and the reward the search sees is the difference of successive prefixes.
 */
import { tf } from "../tensor/mod.ts";
import type { Rng } from "../rng.ts";
import type { InferenceOutput, MuZeroModel } from "../planners/mcts.ts";
import { conv2d, dense, type Layer, ParameterSet, sequential } from "./nn.ts";
import { type HeadSpec, headToScalar, headWidth, supportColumn } from "./muzero_support.ts";
import {
  ConsistencyHeads,
  type EfficientZeroModelSettings,
  ValuePrefixHead,
} from "./efficientzero.ts";

/** A multi-layer perceptron body: every function has `hiddenLayers` ReLU layers of one width. */
export interface MlpArchitecture {
  kind: "mlp";
  /** Units of the hidden state s. */
  latentSize: number;
  hiddenSize: number;
  hiddenLayers: number;
}

/**
 * A residual body on boards: the hidden state keeps the board's rows and columns with `channels`
 * planes; representation and dynamics each have `blocks` residual blocks of two 3x3 convolutions.
 */
export interface ResidualArchitecture {
  kind: "residual";
  channels: number;
  blocks: number;
  /** Units of the dense layer in the value and reward heads. */
  headHidden: number;
}

export type MuZeroArchitecture = MlpArchitecture | ResidualArchitecture;

/**
 * How the residual body sees an action: `planes` planes over the board per action, flattened
 * [numActions * rows * columns * planes] (the paper's Go encodes a move as a plane with a one
 * where the stone goes). Without it each action is a one-hot plane of its own.
 */
export interface ActionPlanes {
  planes: number;
  values: readonly number[];
}

export interface MuZeroNetworkConfig {
  /** [rows, columns, planes] for the residual body; any shape for the MLP (it is flattened). */
  observationShape: readonly number[];
  numActions: number;
  architecture: MuZeroArchitecture;
  value: HeadSpec;
  reward: HeadSpec;
  /** Spatial action encoding for the residual body (see `ActionPlanes`). */
  actionPlanes?: ActionPlanes;
  /** EfficientZero's consistency heads and value-prefix LSTM (absent: MuZero's network). */
  efficientZero?: EfficientZeroModelSettings;
}

/** Raw head outputs of one unrolled step, [B, width] each (scalar heads already bounded). */
export interface StepPrediction {
  value: tf.Tensor2D;
  /**
   * The reward of the action into this step; absent at step 0. With the value prefix, the raw
   * prefix output instead: the rewards summed since the LSTM's memory was last cleared.
   */
  reward: tf.Tensor2D | null;
  policyLogits: tf.Tensor2D;
  /** The hidden state s^k the predictions were made from. */
  state: tf.Tensor;
}

/** Floor of max - min in the hidden-state rescaling, so a constant state does not divide by 0. */
const MIN_LATENT_RANGE = 1e-5;

/** (s - min s) / (max s - min s) over each sample's units, whatever the shape. */
export function scaleHiddenState(state: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const batch = state.shape[0]!;
    const flat = tf.reshape(state, [batch, -1]);
    const low = tf.min(flat, 1, true);
    const range = tf.maximum(tf.sub(tf.max(flat, 1, true), low), MIN_LATENT_RANGE);
    return tf.reshape(tf.div(tf.sub(flat, low), range), state.shape);
  });
}

/**
 * Identity forward, gradient multiplied by `scale` backward: the paper's "scale the gradient at
 * the start of the dynamics function by 1/2" (Appendix G).
 */
export function scaleGradient(x: tf.Tensor, scale: number): tf.Tensor {
  const op = tf.customGrad((input, save) => {
    (save as tf.GradSaveFunc)([]);
    return {
      value: tf.clone(input as tf.Tensor),
      gradFunc: (dy) => tf.mul(dy as tf.Tensor, scale),
    };
  });
  return op(x);
}

function mlpStack(
  params: ParameterSet,
  name: string,
  inputSize: number,
  hiddenSize: number,
  layers: number,
): Layer {
  const stack: Layer[] = [];
  let width = inputSize;
  for (let i = 0; i < layers; i++) {
    stack.push(dense(params, `${name}/hidden${i}`, width, hiddenSize, "relu"));
    width = hiddenSize;
  }
  return sequential(...stack);
}

function residualBlock(params: ParameterSet, name: string, channels: number): Layer {
  const options = { kernelSize: 3, stride: 1, padding: "same" as const };
  const first = conv2d(params, `${name}/conv1`, channels, channels, {
    ...options,
    activation: "relu",
  });
  const second = conv2d(params, `${name}/conv2`, channels, channels, options);
  return { apply: (x) => tf.relu(tf.add(x, second.apply(first.apply(x)))) };
}

/** A head on a residual body: a 1x1 convolution to `planes`, flattened, then dense layers. */
function convHead(
  params: ParameterSet,
  name: string,
  channels: number,
  planes: number,
  cells: number,
  hidden: number | null,
  outputs: number,
): Layer {
  const squeeze = conv2d(params, `${name}/conv`, channels, planes, {
    kernelSize: 1,
    stride: 1,
    activation: "relu",
  });
  const layers: Layer[] = [];
  let width = planes * cells;
  if (hidden !== null) {
    layers.push(dense(params, `${name}/hidden`, width, hidden, "relu"));
    width = hidden;
  }
  layers.push(dense(params, `${name}/output`, width, outputs));
  const rest = sequential(...layers);
  return { apply: (x) => rest.apply(tf.reshape(squeeze.apply(x), [x.shape[0]!, -1])) };
}

/** Bounds a scalar head to [-1, 1]; a support head's logits pass unchanged. */
function finishHead(raw: tf.Tensor, head: HeadSpec): tf.Tensor2D {
  return (head.kind === "scalar" ? tf.tanh(raw) : raw) as tf.Tensor2D;
}

/** Reused output buffers for one batch size. */
interface OutputBuffers extends InferenceOutput {
  rewards: Float32Array;
}

export class MuZeroNetwork implements MuZeroModel<Float32Array> {
  readonly config: MuZeroNetworkConfig;
  readonly params: ParameterSet;
  readonly numActions: number;
  /**
   * Numbers in one row of the search's latent table: the flattened hidden state, and with the
   * value prefix the LSTM's memory (h, c), the prefix so far and the depth since it was cleared.
   */
  readonly latentSize: number;
  /** Numbers in one flattened hidden state. */
  readonly stateSize: number;
  /** EfficientZero's consistency heads (null: none). */
  readonly consistency: ConsistencyHeads | null;
  /** EfficientZero's value-prefix LSTM (null: per-step rewards, as MuZero). */
  readonly valuePrefix: ValuePrefixHead | null;
  /** The hidden state's shape without the batch: [latentSize] or [rows, columns, channels]. */
  readonly latentShape: readonly number[];
  readonly observationSize: number;
  readonly #represent: Layer;
  readonly #dynamicsBody: Layer;
  readonly #dynamicsState: Layer;
  readonly #rewardHead: Layer;
  readonly #predictionBody: Layer;
  readonly #policyHead: Layer;
  readonly #valueHead: Layer;
  readonly #valueColumn: tf.Tensor2D | null;
  readonly #rewardColumn: tf.Tensor2D | null;
  /** Each action's planes, [numActions, rows, columns, planes] (residual only). */
  readonly #actionPlanes: tf.Tensor | null;
  #outputs = new Map<number, OutputBuffers>();

  constructor(config: MuZeroNetworkConfig, rng: Rng) {
    checkConfig(config);
    this.config = structuredClone(config);
    this.params = new ParameterSet("muzero", rng);
    this.numActions = config.numActions;
    this.observationSize = config.observationShape.reduce((a, b) => a * b, 1);
    const params = this.params;
    const actions = config.numActions;
    const valueWidth = headWidth(config.value);
    const rewardWidth = headWidth(config.reward);
    const arch = config.architecture;
    if (arch.kind === "mlp") {
      const { latentSize, hiddenSize, hiddenLayers } = arch;
      this.latentShape = [latentSize];
      this.stateSize = latentSize;
      const lastWidth = hiddenLayers > 0 ? hiddenSize : latentSize + actions;
      this.#represent = sequential(
        mlpStack(params, "representation", this.observationSize, hiddenSize, hiddenLayers),
        dense(
          params,
          "representation/state",
          hiddenLayers > 0 ? hiddenSize : this.observationSize,
          latentSize,
        ),
      );
      this.#dynamicsBody = mlpStack(
        params,
        "dynamics",
        latentSize + actions,
        hiddenSize,
        hiddenLayers,
      );
      this.#dynamicsState = dense(params, "dynamics/state", lastWidth, latentSize);
      this.#rewardHead = dense(params, "dynamics/reward", lastWidth, rewardWidth);
      const predictionWidth = hiddenLayers > 0 ? hiddenSize : latentSize;
      this.#predictionBody = mlpStack(params, "prediction", latentSize, hiddenSize, hiddenLayers);
      this.#policyHead = dense(params, "prediction/policy", predictionWidth, actions);
      this.#valueHead = dense(params, "prediction/value", predictionWidth, valueWidth);
      this.#actionPlanes = null;
    } else {
      const [rows, columns, planes] = config.observationShape;
      const { channels, blocks, headHidden } = arch;
      const cells = rows * columns;
      const encoding = config.actionPlanes ?? oneHotPlanes(actions, cells);
      const actionPlaneCount = encoding.planes;
      this.latentShape = [rows, columns, channels];
      this.stateSize = cells * channels;
      const convOptions = { kernelSize: 3, stride: 1, padding: "same" as const };
      const blockStack = (name: string) =>
        Array.from(
          { length: blocks },
          (_, i) => residualBlock(params, `${name}/block${i}`, channels),
        );
      this.#represent = sequential(
        conv2d(params, "representation/conv", planes, channels, {
          ...convOptions,
          activation: "relu",
        }),
        ...blockStack("representation"),
      );
      this.#dynamicsBody = sequential(
        conv2d(params, "dynamics/conv", channels + actionPlaneCount, channels, {
          ...convOptions,
          activation: "relu",
        }),
        ...blockStack("dynamics"),
      );
      this.#dynamicsState = { apply: (x) => x };
      this.#rewardHead = convHead(
        params,
        "dynamics/reward",
        channels,
        1,
        cells,
        headHidden,
        rewardWidth,
      );
      this.#predictionBody = { apply: (x) => x };
      this.#policyHead = convHead(params, "prediction/policy", channels, 2, cells, null, actions);
      this.#valueHead = convHead(
        params,
        "prediction/value",
        channels,
        1,
        cells,
        headHidden,
        valueWidth,
      );
      this.#actionPlanes = tf.tensor4d(encoding.values as number[], [
        actions,
        rows,
        columns,
        actionPlaneCount,
      ]);
    }
    this.#valueColumn = config.value.kind === "support" ? supportColumn(config.value.size) : null;
    this.#rewardColumn = config.reward.kind === "support"
      ? supportColumn(config.reward.size)
      : null;
    // Created last, so MuZero's own parameters draw the same initial values with or without.
    const extra = config.efficientZero;
    this.consistency = extra?.consistency
      ? new ConsistencyHeads(params, this.stateSize, extra.consistency)
      : null;
    this.valuePrefix = extra?.valuePrefix
      ? new ValuePrefixHead(params, this.stateSize, extra.valuePrefix, rewardWidth)
      : null;
    this.latentSize = this.stateSize +
      (this.valuePrefix ? 2 * this.valuePrefix.hiddenSize + 2 : 0);
  }

  /** h: observations [B, ...observationShape] (or [B, observationSize]) to hidden states. */
  represent(observations: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const batch = observations.shape[0]!;
      const input = this.config.architecture.kind === "mlp"
        ? tf.reshape(observations, [batch, this.observationSize])
        : tf.reshape(observations, [batch, ...this.config.observationShape]);
      return scaleHiddenState(this.#represent.apply(input));
    });
  }

  /** g: hidden states and int32 actions [B] to the next hidden states and the raw reward head. */
  dynamics(state: tf.Tensor, actions: tf.Tensor1D): { state: tf.Tensor; reward: tf.Tensor2D } {
    return tf.tidy(() => {
      const input = this.#actionPlanes
        ? tf.concat([state, tf.gather(this.#actionPlanes, actions)], 3)
        : tf.concat([state, tf.oneHot(actions, this.numActions).toFloat()], 1);
      const hidden = this.#dynamicsBody.apply(input);
      return {
        state: scaleHiddenState(this.#dynamicsState.apply(hidden)),
        reward: finishHead(this.#rewardHead.apply(hidden), this.config.reward),
      };
    });
  }

  /** f: hidden states to policy logits [B, A] and the raw value head. */
  predict(state: tf.Tensor): { policyLogits: tf.Tensor2D; value: tf.Tensor2D } {
    return tf.tidy(() => {
      const hidden = this.#predictionBody.apply(state);
      return {
        policyLogits: this.#policyHead.apply(hidden) as tf.Tensor2D,
        value: finishHead(this.#valueHead.apply(hidden), this.config.value),
      };
    });
  }

  /** Scalar values [B] from the raw value head. */
  valueScalar(raw: tf.Tensor2D): tf.Tensor1D {
    return headToScalar(raw, this.config.value, this.#valueColumn);
  }

  /** Scalar rewards [B] from the raw reward head. */
  rewardScalar(raw: tf.Tensor2D): tf.Tensor1D {
    return headToScalar(raw, this.config.reward, this.#rewardColumn);
  }

  /**
   * The training unroll (Appendix G): h on the observations, then K steps of g along `actions`
   * [B, K] (int32), with f at every step; the gradient into each step's dynamics is multiplied by
   * `dynamicsGradientScale` (the paper: 1/2; 1 gives the plain gradient). With the value prefix,
   * each step's `reward` is the LSTM's prefix output instead of the dynamics' reward head. Returns
   * K + 1 predictions, tensors the caller disposes (or builds inside a tidy).
   */
  unroll(
    observations: tf.Tensor,
    actions: tf.Tensor2D,
    dynamicsGradientScale = 0.5,
  ): StepPrediction[] {
    const steps = actions.shape[1];
    let state = this.represent(observations);
    const predictions: StepPrediction[] = [{ ...this.predict(state), reward: null, state }];
    const perStep = tf.unstack(actions, 1) as tf.Tensor1D[];
    for (let k = 0; k < steps; k++) {
      const next = this.dynamics(scaleGradient(state, dynamicsGradientScale), perStep[k]);
      state = next.state;
      predictions.push({ ...this.predict(state), reward: next.reward, state });
    }
    if (this.valuePrefix) {
      const prefixes = this.valuePrefix.unroll(predictions.slice(1).map((p) => p.state));
      prefixes.forEach((prefix, k) => predictions[k + 1].reward = prefix);
    }
    return predictions;
  }

  /** h then f on `batchSize` observations laid out row after row ([B * observationSize]). */
  initialInference(observations: Float32Array, batchSize: number): InferenceOutput {
    if (observations.length !== batchSize * this.observationSize) {
      throw new RangeError(
        `initialInference got ${observations.length} numbers for ${batchSize} observations of ` +
          `${this.observationSize}`,
      );
    }
    const packed = tf.tidy(() => {
      const state = this.represent(tf.tensor2d(observations, [batchSize, this.observationSize]));
      const { policyLogits, value } = this.predict(state);
      // A root's memory and prefix start empty.
      const row = this.valuePrefix
        ? tf.concat([
          tf.reshape(state, [batchSize, this.stateSize]),
          tf.zeros([batchSize, this.latentSize - this.stateSize]),
        ], 1)
        : state;
      return this.#pack(row, policyLogits, this.valueScalar(value), null);
    });
    return this.#unpack(packed, batchSize, false);
  }

  /** g then f on latent rows [B * latentSize] and actions [B]. */
  recurrentInference(parentLatents: Float32Array, actions: Int32Array): InferenceOutput {
    const batch = actions.length;
    if (parentLatents.length !== batch * this.latentSize) {
      throw new RangeError(
        `recurrentInference got ${parentLatents.length} numbers for ${batch} hidden states of ` +
          `${this.latentSize}`,
      );
    }
    const packed = tf.tidy(() => {
      const rows = tf.tensor2d(parentLatents, [batch, this.latentSize]);
      const stateRows = this.valuePrefix ? tf.slice(rows, [0, 0], [batch, this.stateSize]) : rows;
      const parents = tf.reshape(stateRows, [batch, ...this.latentShape]);
      const next = this.dynamics(parents, tf.tensor1d(actions, "int32"));
      const { policyLogits, value } = this.predict(next.state);
      if (this.valuePrefix) {
        const { row, reward } = this.#prefixStep(rows, next.state);
        return this.#pack(row, policyLogits, this.valueScalar(value), reward);
      }
      return this.#pack(
        next.state,
        policyLogits,
        this.valueScalar(value),
        this.rewardScalar(next.reward),
      );
    });
    return this.#unpack(packed, batch, true);
  }

  /**
   * The value prefix in the search: the child's prefix from the parent's memory, the reward as
   * the child's prefix minus the parent's (0 after a clear), and the child's row. At depth
   * `horizon` since the last clear the memory, the stored prefix and the depth go back to 0.
   */
  #prefixStep(parentRows: tf.Tensor2D, childState: tf.Tensor): {
    row: tf.Tensor2D;
    reward: tf.Tensor1D;
  } {
    const head = this.valuePrefix!;
    const batch = parentRows.shape[0];
    const size = head.hiddenSize;
    const [, h, c, parentPrefix, parentDepth] = tf.split(
      parentRows,
      [this.stateSize, size, size, 1, 1],
      1,
    ) as tf.Tensor2D[];
    const step = head.step(childState, { h, c });
    const prefix = tf.reshape(this.rewardScalar(step.prefix), [batch, 1]);
    const depth = tf.add(parentDepth, 1);
    // 1 keeps, 0 clears; compared with a half to be safe from rounding.
    const keep = tf.cast(tf.less(depth, head.horizon - 0.5), "float32");
    const row = tf.concat([
      tf.reshape(childState, [batch, this.stateSize]),
      tf.mul(step.memory.h, keep),
      tf.mul(step.memory.c, keep),
      tf.mul(prefix, keep),
      tf.mul(depth, keep),
    ], 1) as tf.Tensor2D;
    return { row, reward: tf.reshape(tf.sub(prefix, parentPrefix), [batch]) as tf.Tensor1D };
  }

  /** One [B, latentSize + A + 2] tensor, so an inference reads back once. */
  #pack(
    latentRows: tf.Tensor,
    policyLogits: tf.Tensor2D,
    values: tf.Tensor1D,
    rewards: tf.Tensor1D | null,
  ): tf.Tensor2D {
    const batch = latentRows.shape[0]!;
    return tf.concat([
      tf.reshape(latentRows, [batch, this.latentSize]),
      policyLogits,
      tf.reshape(values, [batch, 1]),
      tf.reshape(rewards ?? tf.zeros([batch]), [batch, 1]),
    ], 1) as tf.Tensor2D;
  }

  #unpack(packed: tf.Tensor2D, batch: number, withRewards: boolean): InferenceOutput {
    const data = packed.dataSync() as Float32Array;
    packed.dispose();
    const out = this.#output(batch);
    const latentSize = this.latentSize;
    const actions = this.numActions;
    const width = latentSize + actions + 2;
    for (let row = 0; row < batch; row++) {
      const base = row * width;
      out.latents.set(data.subarray(base, base + latentSize), row * latentSize);
      out.policyLogits.set(
        data.subarray(base + latentSize, base + latentSize + actions),
        row * actions,
      );
      out.values[row] = data[base + latentSize + actions];
      out.rewards[row] = withRewards ? data[base + latentSize + actions + 1] : 0;
    }
    return out;
  }

  #output(batch: number): OutputBuffers {
    let output = this.#outputs.get(batch);
    if (!output) {
      output = {
        latents: new Float32Array(batch * this.latentSize),
        rewards: new Float32Array(batch),
        values: new Float32Array(batch),
        policyLogits: new Float32Array(batch * this.numActions),
      };
      // Batch sizes vary as games end; keep a bounded number of them.
      if (this.#outputs.size > 64) this.#outputs.clear();
      this.#outputs.set(batch, output);
    }
    return output;
  }

  /** Copies every parameter from a network of the same config (e.g. a target network). */
  copyFrom(other: MuZeroNetwork): void {
    this.params.copyFrom(other.params);
  }

  dispose(): void {
    this.params.dispose();
    tf.dispose(
      [this.#valueColumn, this.#rewardColumn, this.#actionPlanes].filter((t) => t !== null),
    );
  }
}

/** Each action a plane of its own: action a is ones on plane a, zeros elsewhere. */
function oneHotPlanes(numActions: number, cells: number): ActionPlanes {
  const values = new Array<number>(numActions * cells * numActions).fill(0);
  for (let a = 0; a < numActions; a++) {
    for (let cell = 0; cell < cells; cell++) values[(a * cells + cell) * numActions + a] = 1;
  }
  return { planes: numActions, values };
}

function checkConfig(config: MuZeroNetworkConfig): void {
  const positive = (name: string, value: number) => {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`MuZeroNetwork: ${name} must be a positive integer, got ${value}`);
    }
  };
  positive("numActions", config.numActions);
  for (const [i, side] of config.observationShape.entries()) {
    positive(`observationShape[${i}]`, side);
  }
  const arch = config.architecture;
  if (arch.kind === "mlp") {
    positive("latentSize", arch.latentSize);
    positive("hiddenSize", arch.hiddenSize);
    if (!Number.isInteger(arch.hiddenLayers) || arch.hiddenLayers < 0) {
      throw new RangeError(`MuZeroNetwork: hiddenLayers must be >= 0, got ${arch.hiddenLayers}`);
    }
  } else {
    if (config.observationShape.length !== 3) {
      throw new RangeError(
        `MuZeroNetwork: the residual body needs [rows, columns, planes] observations, got ` +
          `[${config.observationShape.join(", ")}]`,
      );
    }
    positive("channels", arch.channels);
    positive("headHidden", arch.headHidden);
    if (!Number.isInteger(arch.blocks) || arch.blocks < 0) {
      throw new RangeError(`MuZeroNetwork: blocks must be >= 0, got ${arch.blocks}`);
    }
    const planes = config.actionPlanes;
    if (planes) {
      const [rows, columns] = config.observationShape;
      const expected = config.numActions * rows * columns * planes.planes;
      if (planes.values.length !== expected) {
        throw new RangeError(
          `MuZeroNetwork: actionPlanes has ${planes.values.length} values, expected ${expected}`,
        );
      }
    }
  }
  for (const [name, head] of [["value", config.value], ["reward", config.reward]] as const) {
    if (head.kind === "support") positive(`${name}.size`, head.size);
  }
}
