/**
 * The manager of the Imagination-based Planner (Pascanu et al. 2017, arXiv:1707.06170, Section 2):
 * before each real action it decides, step by step, whether to act now or to imagine once more,
 * and from which state: the real one (node 0) or any state imagined so far. Its choice is a
 * discrete route, so it learns by REINFORCE (Williams 1992) on the task's reward less a cost per
 * imagination step, while the controller and memory learn by backpropagation.
 *
 * Logits: one for acting from [real state, plan context], one per node from
 * [node state, real state, plan context] by a shared scorer, so any number of nodes can be scored.
 */
import { tf } from "../tensor/mod.ts";
import { Rng } from "../rng.ts";
import { dense, type Layer, ParameterSet, sequential } from "../models/nn.ts";

export interface ManagerConfig {
  hiddenSize: number;
}

export class ImaginationManager {
  readonly params: ParameterSet;
  readonly #act: Layer;
  readonly #node: Layer;

  constructor(
    readonly stateSize: number,
    readonly memorySize: number,
    readonly config: ManagerConfig,
    seed: number,
  ) {
    this.params = new ParameterSet("ibp_manager", new Rng(seed));
    this.#act = sequential(
      dense(this.params, "act/hidden", stateSize + memorySize, config.hiddenSize, "relu"),
      dense(this.params, "act/out", config.hiddenSize, 1),
    );
    this.#node = sequential(
      dense(this.params, "node/hidden", 2 * stateSize + memorySize, config.hiddenSize, "relu"),
      dense(this.params, "node/out", config.hiddenSize, 1),
    );
  }

  /** Logits [B, 1 + N]: column 0 acts, column 1 + i imagines from node i (nodes [B, N, S]). */
  logits(real: tf.Tensor2D, context: tf.Tensor2D, nodes: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(() => {
      const [batch, count, size] = nodes.shape;
      const act = this.#act.apply(tf.concat([real, context], 1));
      const shared = tf.concat([real, context], 1);
      const tiled = tf.reshape(
        tf.tile(tf.expandDims(shared, 1), [1, count, 1]),
        [batch * count, shared.shape[1]!],
      );
      const scores = this.#node.apply(
        tf.concat([tf.reshape(nodes, [batch * count, size]), tiled], 1),
      ).reshape([batch, count]);
      return tf.concat([act, scores], 1) as tf.Tensor2D;
    });
  }

  dispose(): void {
    this.params.dispose();
  }
}

/**
 * One choice per row from logits [rows, cols] (row-major), sampled from the softmax or, when
 * `greedy`, the most likely.
 */
export function chooseRoutes(
  logits: Float32Array,
  rows: number,
  cols: number,
  rng: Rng,
  greedy: boolean,
): number[] {
  const choices: number[] = [];
  for (let r = 0; r < rows; r++) {
    const row = logits.subarray(r * cols, (r + 1) * cols);
    let best = 0;
    for (let c = 1; c < cols; c++) if (row[c] > row[best]) best = c;
    if (greedy) {
      choices.push(best);
      continue;
    }
    let total = 0;
    const weights = Array.from(row, (v) => Math.exp(v - row[best]));
    for (const w of weights) total += w;
    let u = rng.next() * total;
    let pick = cols - 1;
    for (let c = 0; c < cols; c++) {
      u -= weights[c];
      if (u < 0) {
        pick = c;
        break;
      }
    }
    choices.push(pick);
  }
  return choices;
}

/** log π(choice) [rows] and the entropy [rows] of the softmax of logits [rows, cols]. */
export function routeLogProb(
  logits: tf.Tensor2D,
  choices: readonly number[],
): { logProb: tf.Tensor1D; entropy: tf.Tensor1D } {
  return tf.tidy(() => {
    const logSoftmax = tf.logSoftmax(logits);
    const mask = tf.oneHot(tf.tensor1d([...choices], "int32"), logits.shape[1]);
    const logProb = tf.sum(tf.mul(logSoftmax, mask), 1) as tf.Tensor1D;
    const entropy = tf.neg(tf.sum(tf.mul(tf.exp(logSoftmax), logSoftmax), 1)) as tf.Tensor1D;
    return { logProb, entropy };
  });
}

/**
 * The REINFORCE loss whose gradient is -E[(R - b) ∇ log π]: minus the mean of the advantages
 * times the summed log-probabilities of each episode's choices, less an entropy bonus.
 */
export function reinforceLoss(
  logProbs: tf.Tensor1D,
  advantages: Float32Array,
  entropy?: tf.Tensor1D,
  entropyBonus = 0,
): tf.Scalar {
  return tf.tidy(() => {
    const policy = tf.neg(tf.mean(tf.mul(logProbs, tf.tensor1d(advantages))));
    if (!entropy || entropyBonus === 0) return policy as tf.Scalar;
    return tf.sub(policy, tf.mul(tf.mean(entropy), entropyBonus)) as tf.Scalar;
  });
}
