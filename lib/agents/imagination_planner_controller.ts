/**
 * The controller and the memory of the Imagination-based Planner (Pascanu et al. 2017,
 * arXiv:1707.06170, Section 2): the controller proposes an action from the real state, the state
 * an imagination step starts from, and the plan context (the memory's state); the memory, an
 * LSTM, folds each imagination step into the plan context: the state imagined from, the action
 * tried, the imagined outcome and its reward. Both learn by backpropagation through the learned
 * model, so actions are sampled by reparameterisation: a = maxForce · tanh(μ + σ ε), ε ~ N(0, 1).
 */
import { tf } from "../tensor/mod.ts";
import { Rng } from "../rng.ts";
import { dense, type Layer, ParameterSet, sequential } from "../models/nn.ts";
import { Lstm, type LstmState } from "../models/lstm.ts";

export interface ControllerConfig {
  /** Width of the controller's two hidden layers. */
  hiddenSize: number;
  /** Size of the plan context, the LSTM's hidden state. */
  memorySize: number;
}

export class ControllerAndMemory {
  readonly params: ParameterSet;
  readonly memory: Lstm;
  readonly #controller: Layer;

  constructor(
    readonly stateSize: number,
    readonly maxForce: number,
    readonly config: ControllerConfig,
    seed: number,
  ) {
    this.params = new ParameterSet("ibp_controller", new Rng(seed));
    this.#controller = sequential(
      dense(
        this.params,
        "controller/hidden0",
        2 * stateSize + config.memorySize,
        config.hiddenSize,
        "relu",
      ),
      dense(this.params, "controller/hidden1", config.hiddenSize, config.hiddenSize, "relu"),
      dense(this.params, "controller/out", config.hiddenSize, 2),
    );
    // Input of one imagination step: source state, scaled action, imagined state, reward.
    this.memory = new Lstm(this.params, "memory", 2 * stateSize + 3, config.memorySize);
  }

  /**
   * An action [B, 2] in force units from the real state, the source state and the plan context;
   * `noise` [B, 2] of standard normals scaled by `noiseStd` (none: the mean action).
   */
  act(
    real: tf.Tensor2D,
    source: tf.Tensor2D,
    context: tf.Tensor2D,
    noise?: tf.Tensor2D,
    noiseStd = 0,
  ): tf.Tensor2D {
    return tf.tidy(() => {
      const mean = this.#controller.apply(tf.concat([real, source, context], 1));
      const raw = noise && noiseStd > 0 ? tf.add(mean, tf.mul(noise, noiseStd)) : mean;
      return tf.mul(tf.tanh(raw), this.maxForce) as tf.Tensor2D;
    });
  }

  /** The plan context after one imagination step. */
  remember(
    state: LstmState,
    source: tf.Tensor2D,
    action: tf.Tensor2D,
    imagined: tf.Tensor2D,
    reward: tf.Tensor1D,
  ): LstmState {
    const input = tf.concat(
      [source, tf.div(action, this.maxForce), imagined, tf.expandDims(reward, 1)],
      1,
    ) as tf.Tensor2D;
    return this.memory.step(input, state);
  }

  dispose(): void {
    this.params.dispose();
  }
}
