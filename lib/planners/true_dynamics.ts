/**
 * The true simulator behind the planners' interface (`ImaginationModel`), for PlaNet's "CEM + true
 * simulator" baseline (Hafner et al. 2019, Table 1): a planner that searches the real dynamics.
 */
import { tf } from "../tensor/mod.ts";
import type { BoxSpec } from "../envs/types.ts";
import type { ClassicControlEnv } from "../envs/classic_env.ts";
import { continuousActionSpec, repeatAction, scaleAction } from "../envs/wrappers.ts";
import type { ImaginationModel } from "./types.ts";

/**
 * The true simulator behind the planners' interface, for the paper's "CEM + true simulator"
 * baseline: each candidate is replayed from the real physical state on a private copy of the
 * environment, with the same action repeat the agent uses.
 */
export class TrueDynamicsModel implements ImaginationModel<Float64Array> {
  readonly #action: Float32Array;
  readonly #spec: BoxSpec;

  constructor(readonly simulator: ClassicControlEnv, readonly actionRepeat: number) {
    this.#spec = continuousActionSpec(simulator);
    this.#action = new Float32Array(this.#spec.shape[0]);
  }

  imagine(startState: Float64Array, actionSequences: tf.Tensor3D): tf.Tensor1D {
    const [candidates, horizon, actionSize] = actionSequences.shape;
    const actions = actionSequences.dataSync() as Float32Array;
    const returns = new Float32Array(candidates);
    const normalized = new Float32Array(actionSize);
    for (let c = 0; c < candidates; c++) {
      this.simulator.reset(0);
      this.simulator.setState(startState);
      let total = 0;
      for (let h = 0; h < horizon; h++) {
        const offset = (c * horizon + h) * actionSize;
        for (let i = 0; i < actionSize; i++) normalized[i] = actions[offset + i];
        const { reward, done } = repeatAction(
          this.simulator,
          scaleAction(normalized, this.#spec, this.#action),
          this.actionRepeat,
        );
        total += reward;
        if (done) break;
      }
      returns[c] = total;
    }
    return tf.tensor1d(returns);
  }
}
