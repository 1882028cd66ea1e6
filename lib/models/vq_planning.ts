/**
 * A VQ model of the environment's response to an action, for planning (Ozair et al. 2021,
 * "Vector Quantized Models for Planning", Section 3 and Figure 3; with the afterstates of
 * Stochastic MuZero, Antonoglou et al. 2022, Section 4). Seven functions of one set of parameters,
 * all small multi-layer perceptrons:
 *
 *   representation  s = h(o)                    an observation to a state,
 *   afterstate      φ, r^a = g_a(s, a)          the agent's action applied, before the response,
 *   code prior      σ(c | φ)                    which response to expect: logits over K codes,
 *   encoder         z_e = E(o_t, a_t, o_t+1)    the response seen in hindsight, quantised to the
 *                                               nearest code e_c (lib/models/vq.ts),
 *   chance dynamics s', r^c = g_c(φ, e_c)       the response applied,
 *   prediction      v, p = f(s)                 value and policy,
 *   decoder         ô = d(s)                    the observation a state stands for.
 *
 * The encoder and decoder are the VQ-VAE over the response: the code must carry what the
 * afterstate cannot know (which move the opponent made) for the decoder to rebuild o_t+1. Only
 * training uses them; the search (lib/planners/chance_mcts.ts) asks the prior for codes instead.
 * The paper's chess model is a transformer over the board and its VQ-VAE sees the whole sequence
 * of observations; ours sees the pair of observations around one step, which is all a fully
 * observed board game needs.
 *
 * With one code the chance node has one outcome and the model is deterministic: MuZero's single
 * player model with the step split in two, of the same size and trained on the same losses. That
 * is the deterministic baseline the experiments compare against.
 *
 * States and afterstates are rescaled to [0, 1] per sample, as MuZero's hidden states are
 * (lib/models/muzero.ts); rewards and values are scalars bounded by tanh (board games, rewards in
 * [-1, 1]).
 */
import { tf } from "../tensor/mod.ts";
import type { Rng } from "../rng.ts";
import type { InferenceOutput } from "../planners/mcts.ts";
import type { AfterstateOutput, ChanceModel } from "../planners/chance_mcts.ts";
import { dense, type Layer, oneHotRows, ParameterSet, sequential } from "./nn.ts";
import { scaleHiddenState } from "./muzero.ts";
import { VectorQuantizer } from "./vq.ts";

export interface VqPlanningNetworkConfig {
  observationSize: number;
  numActions: number;
  /** Units of the state s and the afterstate φ. */
  latentSize: number;
  /** Units of the one hidden ReLU layer of each function. */
  hiddenSize: number;
  /** K, the codes of the response; 1 makes the model deterministic. */
  numCodes: number;
  /** D, the size of a code vector. */
  codeSize: number;
  /** β of the commitment loss (VQ-VAE: 0.25). */
  commitmentCost: number;
  /** γ of the codebook's moving averages (VQ-VAE: 0.99). */
  codebookDecay: number;
  /** Restart a code whose moving count falls below this (0: never). */
  restartBelow: number;
}

/** What one state predicts: value [B, 1], policy logits [B, A]. */
export interface StatePrediction {
  value: tf.Tensor2D;
  policyLogits: tf.Tensor2D;
}

/** Two dense layers: ReLU to `hidden`, linear to `output`. */
function twoLayers(
  params: ParameterSet,
  name: string,
  input: number,
  hidden: number,
  output: number,
): Layer {
  return sequential(
    dense(params, `${name}/hidden`, input, hidden, "relu"),
    dense(params, `${name}/output`, hidden, output),
  );
}

/** Reused output buffers of the search calls, per batch size. */
interface SearchBuffers {
  inference: InferenceOutput & { rewards: Float32Array };
  afterstate: AfterstateOutput;
}

export class VqPlanningNetwork implements ChanceModel<Float32Array> {
  readonly config: Readonly<VqPlanningNetworkConfig>;
  readonly params: ParameterSet;
  readonly quantizer: VectorQuantizer;
  readonly numActions: number;
  readonly numCodes: number;
  readonly latentSize: number;
  readonly afterstateSize: number;
  readonly #represent: Layer;
  readonly #afterstate: Layer;
  readonly #prior: Layer;
  readonly #encoder: Layer;
  readonly #chance: Layer;
  readonly #prediction: Layer;
  readonly #decoder: Layer;
  readonly #buffers = new Map<number, SearchBuffers>();

  constructor(config: VqPlanningNetworkConfig, rng: Rng) {
    for (
      const field of [
        "observationSize",
        "numActions",
        "latentSize",
        "hiddenSize",
        "numCodes",
        "codeSize",
      ] as const
    ) {
      if (!Number.isInteger(config[field]) || config[field] < 1) {
        throw new RangeError(`${field} must be a positive integer, got ${config[field]}`);
      }
    }
    this.config = { ...config };
    const { observationSize, numActions, latentSize, hiddenSize, numCodes, codeSize } = config;
    this.numActions = numActions;
    this.numCodes = numCodes;
    this.latentSize = latentSize;
    this.afterstateSize = latentSize;
    const params = this.params = new ParameterSet("vq-planning", rng);
    this.#represent = twoLayers(params, "representation", observationSize, hiddenSize, latentSize);
    // The afterstate and its reward: latentSize + 1 outputs.
    this.#afterstate = twoLayers(
      params,
      "afterstate",
      latentSize + numActions,
      hiddenSize,
      latentSize + 1,
    );
    this.#prior = twoLayers(params, "prior", latentSize, hiddenSize, numCodes);
    this.#encoder = twoLayers(
      params,
      "encoder",
      2 * observationSize + numActions,
      hiddenSize,
      codeSize,
    );
    this.#chance = twoLayers(params, "chance", latentSize + codeSize, hiddenSize, latentSize + 1);
    // The value and the policy logits: 1 + numActions outputs.
    this.#prediction = twoLayers(params, "prediction", latentSize, hiddenSize, 1 + numActions);
    this.#decoder = twoLayers(params, "decoder", latentSize, hiddenSize, observationSize);
    this.quantizer = new VectorQuantizer(
      {
        numCodes,
        codeSize,
        commitmentCost: config.commitmentCost,
        decay: config.codebookDecay,
        restartBelow: config.restartBelow,
      },
      rng,
      "vq-planning",
    );
  }

  /** h: observations [B, O] to states [B, L] in [0, 1]. */
  represent(observations: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => scaleHiddenState(this.#represent.apply(observations)) as tf.Tensor2D);
  }

  /** g_a: states [B, L] and actions [B] (int32) to afterstates [B, L] and rewards [B, 1]. */
  afterstate(
    states: tf.Tensor2D,
    actions: tf.Tensor1D,
  ): { afterstate: tf.Tensor2D; reward: tf.Tensor2D } {
    return tf.tidy(() => {
      const input = tf.concat([states, oneHotRows(actions, this.numActions)], 1);
      const out = this.#afterstate.apply(input) as tf.Tensor2D;
      const L = this.latentSize;
      return {
        afterstate: scaleHiddenState(out.slice([0, 0], [-1, L])) as tf.Tensor2D,
        reward: tf.tanh(out.slice([0, L], [-1, 1])) as tf.Tensor2D,
      };
    });
  }

  /** σ: logits over codes [B, K] of afterstates [B, L]. */
  codeLogits(afterstates: tf.Tensor2D): tf.Tensor2D {
    return this.#prior.apply(afterstates) as tf.Tensor2D;
  }

  /** E: the response to encode, from o_t [B, O], a_t [B] and o_t+1 [B, O], to z_e [B, D]. */
  encode(observations: tf.Tensor2D, actions: tf.Tensor1D, next: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() =>
      this.#encoder.apply(
        tf.concat([observations, oneHotRows(actions, this.numActions), next], 1),
      ) as tf.Tensor2D
    );
  }

  /** g_c: afterstates [B, L] and code vectors [B, D] to next states [B, L] and rewards [B, 1]. */
  chance(
    afterstates: tf.Tensor2D,
    codeVectors: tf.Tensor2D,
  ): { state: tf.Tensor2D; reward: tf.Tensor2D } {
    return tf.tidy(() => {
      const out = this.#chance.apply(tf.concat([afterstates, codeVectors], 1)) as tf.Tensor2D;
      const L = this.latentSize;
      return {
        state: scaleHiddenState(out.slice([0, 0], [-1, L])) as tf.Tensor2D,
        reward: tf.tanh(out.slice([0, L], [-1, 1])) as tf.Tensor2D,
      };
    });
  }

  /** f: value [B, 1] in [-1, 1] and policy logits [B, A] of states [B, L]. */
  predict(states: tf.Tensor2D): StatePrediction {
    return tf.tidy(() => {
      const out = this.#prediction.apply(states) as tf.Tensor2D;
      return {
        value: tf.tanh(out.slice([0, 0], [-1, 1])) as tf.Tensor2D,
        policyLogits: out.slice([0, 1], [-1, this.numActions]) as tf.Tensor2D,
      };
    });
  }

  /** d: logits of the observation [B, O] a state stands for (0/1 planes). */
  decode(states: tf.Tensor2D): tf.Tensor2D {
    return this.#decoder.apply(states) as tf.Tensor2D;
  }

  // ---- The search's calls: one batched pass and one read-back each. ----

  initialInference(observations: Float32Array, batchSize: number): InferenceOutput {
    const buffers = this.#buffersFor(batchSize).inference;
    tf.tidy(() => {
      const states = this.represent(
        tf.tensor2d(observations, [batchSize, this.config.observationSize]),
      );
      this.#readState(states, this.predict(states), buffers);
    });
    return buffers;
  }

  afterstateInference(latents: Float32Array, actions: Int32Array): AfterstateOutput {
    const batch = actions.length;
    const buffers = this.#buffersFor(batch).afterstate;
    tf.tidy(() => {
      const { afterstate, reward } = this.afterstate(
        tf.tensor2d(latents, [batch, this.latentSize]),
        tf.tensor1d(actions, "int32"),
      );
      buffers.afterstates.set(afterstate.dataSync());
      buffers.rewards.set(reward.dataSync());
      buffers.codeLogits.set(this.codeLogits(afterstate).dataSync());
    });
    return buffers;
  }

  chanceInference(afterstates: Float32Array, codes: Int32Array): InferenceOutput {
    const batch = codes.length;
    const buffers = this.#buffersFor(batch).inference;
    tf.tidy(() => {
      const { state, reward } = this.chance(
        tf.tensor2d(afterstates, [batch, this.afterstateSize]),
        this.quantizer.lookup(tf.tensor1d(codes, "int32")),
      );
      buffers.rewards.set(reward.dataSync());
      this.#readState(state, this.predict(state), buffers);
    });
    return buffers;
  }

  #readState(states: tf.Tensor2D, prediction: StatePrediction, out: InferenceOutput): void {
    out.latents.set(states.dataSync());
    out.values.set(prediction.value.dataSync());
    out.policyLogits.set(prediction.policyLogits.dataSync());
  }

  #buffersFor(batch: number): SearchBuffers {
    let buffers = this.#buffers.get(batch);
    if (!buffers) {
      buffers = {
        inference: {
          latents: new Float32Array(batch * this.latentSize),
          rewards: new Float32Array(batch),
          values: new Float32Array(batch),
          policyLogits: new Float32Array(batch * this.numActions),
        },
        afterstate: {
          afterstates: new Float32Array(batch * this.afterstateSize),
          rewards: new Float32Array(batch),
          codeLogits: new Float32Array(batch * this.numCodes),
        },
      };
      this.#buffers.set(batch, buffers);
    }
    return buffers;
  }

  /** Trainable parameters (the codebook moves by moving averages, not by the optimiser). */
  trainableVariables(): tf.Variable[] {
    return this.params.list();
  }

  dispose(): void {
    this.params.dispose();
    this.quantizer.dispose();
  }
}
