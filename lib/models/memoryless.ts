/**
 * A latent dynamics model without memory, the foil to PlaNet's recurrent state-space model
 * (Hafner et al. 2019, Section 3, "Recurrent state-space model": "the model needs to integrate
 * information over time" when the observation does not show the whole state). Its state is
 * computed from the current observation alone,
 *
 *   z_t = e(o_t),   z_t+1 = z_t + f(z_t, a_t),   r_t+1 = g(z_t+1),   ô_t = d(z_t),
 *
 * and trained like PlaNet's model on chunks of experience: from the first observation of a chunk
 * the dynamics are unrolled open loop along the actions taken, and every predicted state must
 * decode to the observation and reward that followed (Gaussian log-likelihoods with standard
 * deviation `observationStd` for observations and 1 for rewards, as PlaNet weights them). Where the
 * observation hides part of the state (velocities), e(o_t) cannot know it, and every prediction
 * from it averages over what it might be; a recurrent model can infer it from the history.
 *
 * It serves the shooting planners (lib/planners/types.ts `ImaginationModel`): `imagine` rolls
 * many action sequences from one state and sums the predicted rewards.
 */
import { adam, tf } from "../tensor/mod.ts";
import type { Rng } from "../rng.ts";
import type { ImaginationModel } from "../planners/types.ts";
import { dense, type Layer, ParameterSet, sequential } from "./nn.ts";

export interface MemorylessModelConfig {
  observationSize: number;
  actionSize: number;
  /** Units of z. */
  stateSize: number;
  hiddenSize: number;
  /** σ of the observation likelihood (PlaNet's state-vector models: 0.1). */
  observationStd: number;
  learningRate: number;
  gradClipNorm: number;
}

/** Mean losses of one update, per step. */
export interface MemorylessLosses {
  reconstruction: number;
  reward: number;
  total: number;
}

export class MemorylessModel implements ImaginationModel<tf.Tensor2D> {
  readonly config: Readonly<MemorylessModelConfig>;
  readonly params: ParameterSet;
  readonly optimizer: tf.Optimizer;
  readonly #encoder: Layer;
  readonly #dynamics: Layer;
  readonly #reward: Layer;
  readonly #decoder: Layer;

  constructor(config: MemorylessModelConfig, rng: Rng) {
    const { observationSize, actionSize, stateSize, hiddenSize } = config;
    this.config = { ...config };
    const params = this.params = new ParameterSet("memoryless", rng);
    this.#encoder = sequential(
      dense(params, "encoder/hidden", observationSize, hiddenSize, "relu"),
      dense(params, "encoder/state", hiddenSize, stateSize, "tanh"),
    );
    this.#dynamics = sequential(
      dense(params, "dynamics/hidden", stateSize + actionSize, hiddenSize, "relu"),
      dense(params, "dynamics/change", hiddenSize, stateSize),
    );
    this.#reward = sequential(
      dense(params, "reward/hidden", stateSize, hiddenSize, "relu"),
      dense(params, "reward/value", hiddenSize, 1),
    );
    this.#decoder = sequential(
      dense(params, "decoder/hidden", stateSize, hiddenSize, "relu"),
      dense(params, "decoder/observation", hiddenSize, observationSize),
    );
    this.optimizer = adam(config.learningRate);
  }

  /** z = e(o) for observations [B, O]. */
  encode(observations: tf.Tensor2D): tf.Tensor2D {
    return this.#encoder.apply(observations) as tf.Tensor2D;
  }

  /** z' = z + f(z, a). */
  step(states: tf.Tensor2D, actions: tf.Tensor2D): tf.Tensor2D {
    return tf.add(states, this.#dynamics.apply(tf.concat([states, actions], 1))) as tf.Tensor2D;
  }

  /** Predicted rewards [B] of arriving in states [B, S]. */
  reward(states: tf.Tensor2D): tf.Tensor1D {
    return this.#reward.apply(states).reshape([-1]) as tf.Tensor1D;
  }

  decode(states: tf.Tensor2D): tf.Tensor2D {
    return this.#decoder.apply(states) as tf.Tensor2D;
  }

  imagine(startState: tf.Tensor2D, actionSequences: tf.Tensor3D): tf.Tensor1D {
    const [candidates, horizon] = actionSequences.shape;
    let state = tf.tile(startState, [candidates, 1]) as tf.Tensor2D;
    const steps = tf.unstack(actionSequences, 1) as tf.Tensor2D[];
    let total = tf.zeros([candidates]) as tf.Tensor1D;
    for (let h = 0; h < horizon; h++) {
      state = this.step(state, steps[h]);
      total = tf.add(total, this.reward(state));
    }
    return total;
  }

  /**
   * One update on chunks in the sequence replay's layout (step t: o_t, a_t-1, r_t-1):
   * observations [B, L, O], actions [B, L, A], rewards [B, L].
   */
  trainStep(
    observations: tf.Tensor3D,
    actions: tf.Tensor3D,
    rewards: tf.Tensor2D,
  ): MemorylessLosses {
    const [, length] = observations.shape;
    const weight = 1 / (2 * this.config.observationStd ** 2);
    let parts: tf.Tensor[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const frames = tf.unstack(observations, 1) as tf.Tensor2D[];
      const moves = tf.unstack(actions, 1) as tf.Tensor2D[];
      const earned = tf.unstack(rewards, 1) as tf.Tensor1D[];
      let state = this.encode(frames[0]);
      const reconstruction: tf.Scalar[] = [];
      const reward: tf.Scalar[] = [];
      const observe = (k: number) =>
        reconstruction.push(
          tf.mean(tf.sum(tf.square(tf.sub(this.decode(state), frames[k])), 1)) as tf.Scalar,
        );
      observe(0);
      for (let k = 1; k < length; k++) {
        state = this.step(state, moves[k]);
        observe(k);
        reward.push(tf.mean(tf.square(tf.sub(this.reward(state), earned[k]))) as tf.Scalar);
      }
      const meanOf = (list: tf.Scalar[]) => tf.div(tf.addN(list), list.length) as tf.Scalar;
      const recon = meanOf(reconstruction);
      const rew = meanOf(reward);
      parts = [tf.keep(recon), tf.keep(rew)];
      return tf.add(tf.mul(recon, weight), tf.mul(rew, 0.5)) as tf.Scalar;
    }, this.params.list());
    const norm = tf.tidy(() =>
      tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))).dataSync()[0]
    );
    const clip = this.config.gradClipNorm;
    const scale = clip > 0 && norm > clip ? clip / norm : 1;
    tf.tidy(() => {
      this.optimizer.applyGradients(
        Object.fromEntries(
          Object.entries(grads).map(([name, g]) => [name, scale === 1 ? g : tf.mul(g, scale)]),
        ),
      );
    });
    const [reconstruction, reward] = parts.map((t) => t.dataSync()[0]);
    const losses = { reconstruction, reward, total: value.dataSync()[0] };
    tf.dispose([...parts, value, ...Object.values(grads)]);
    return losses;
  }

  dispose(): void {
    this.params.dispose();
    this.optimizer.dispose();
  }
}
