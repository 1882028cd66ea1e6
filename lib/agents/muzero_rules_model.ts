/**
 * The true rules of a board game with MuZero's learned prediction function: AlphaZero's setting
 * (Silver et al. 2018), the upper line MuZero is compared with in board games (Schrittwieser et
 * al. 2020, Section 4: "MuZero matched the superhuman performance of the AlphaZero algorithm that
 * was supplied with the game rules").
 *
 * The search's hidden state is the board itself: the rules give the next position, the reward
 * (+1 to the player whose move wins), terminal states and the legal moves, and the network's h
 * and f give the policy and the value of every position from its observation, as AlphaZero's
 * network does. Illegal moves get prior 0 at every node, since the rules are known; an illegal
 * move that still reaches the model forfeits (reward -1, game over), as in
 * lib/planners/rules_model.ts.
 */
import type { BoardGame } from "../envs/board_game.ts";
import type { InferenceOutput, MuZeroModel } from "../planners/mcts.ts";
import type { MuZeroNetwork } from "../models/muzero.ts";

interface OutputBuffers extends InferenceOutput {
  rewards: Float32Array;
  terminal: Uint8Array;
}

export class RulesWithPredictionModel<State> implements MuZeroModel<readonly State[]> {
  readonly numActions: number;
  readonly latentSize: number;
  readonly #observationSize: number;
  readonly #mask: Uint8Array;
  #observations = new Float32Array(0);
  #outputs = new Map<number, OutputBuffers>();

  constructor(readonly game: BoardGame<State>, readonly network: MuZeroNetwork) {
    if (network.numActions !== game.numActions) {
      throw new RangeError(
        `the network has ${network.numActions} actions, ${game.id} has ${game.numActions}`,
      );
    }
    this.numActions = game.numActions;
    this.latentSize = game.encodedSize;
    this.#observationSize = game.rows * game.columns * 3;
    if (network.observationSize !== this.#observationSize) {
      throw new RangeError(
        `the network observes ${network.observationSize} numbers, ${game.id} gives ` +
          `${this.#observationSize}`,
      );
    }
    this.#mask = new Uint8Array(game.numActions);
  }

  initialInference(states: readonly State[], batchSize: number): InferenceOutput {
    if (states.length !== batchSize) {
      throw new RangeError(
        `initialInference got ${states.length} states for a batch of ${batchSize}`,
      );
    }
    const out = this.#output(batchSize);
    states.forEach((state, row) => {
      this.game.encode(state, out.latents, row * this.latentSize);
      out.rewards[row] = 0;
      out.terminal[row] = this.game.isTerminal(state) ? 1 : 0;
    });
    this.#predict(states, out, batchSize);
    return out;
  }

  recurrentInference(parentLatents: Float32Array, actions: Int32Array): InferenceOutput {
    const game = this.game;
    const batch = actions.length;
    const out = this.#output(batch);
    const next: State[] = [];
    for (let row = 0; row < batch; row++) {
      const state = game.decode(parentLatents, row * this.latentSize);
      const move = actions[row];
      if (!game.isLegal(state, move)) {
        next.push(state);
        out.rewards[row] = game.isTerminal(state) ? 0 : -1;
        out.terminal[row] = 1;
        continue;
      }
      const mover = game.toPlay(state);
      const after = game.play(state, move);
      next.push(after);
      out.rewards[row] = game.winner(after) === mover ? 1 : 0;
      out.terminal[row] = game.isTerminal(after) ? 1 : 0;
    }
    next.forEach((state, row) => game.encode(state, out.latents, row * this.latentSize));
    this.#predict(next, out, batch);
    return out;
  }

  /** Values and legal-masked priors from the network, for every non-terminal row. */
  #predict(states: readonly State[], out: OutputBuffers, batch: number): void {
    const size = this.#observationSize;
    if (this.#observations.length < batch * size) {
      this.#observations = new Float32Array(batch * size);
    }
    const rows: number[] = [];
    const scratch = new Float32Array(size);
    for (let row = 0; row < batch; row++) {
      if (out.terminal[row] === 1) {
        out.values[row] = 0;
        out.policyLogits.fill(0, row * this.numActions, (row + 1) * this.numActions);
        continue;
      }
      this.game.observe(states[row], scratch);
      this.#observations.set(scratch, rows.length * size);
      rows.push(row);
    }
    if (rows.length === 0) return;
    const predicted = this.network.initialInference(
      this.#observations.subarray(0, rows.length * size),
      rows.length,
    );
    rows.forEach((row, i) => {
      out.values[row] = predicted.values[i];
      this.game.writeLegalMask(states[row], this.#mask);
      for (let a = 0; a < this.numActions; a++) {
        out.policyLogits[row * this.numActions + a] = this.#mask[a] === 1
          ? predicted.policyLogits[i * this.numActions + a]
          : -Infinity;
      }
    });
  }

  #output(batch: number): OutputBuffers {
    let output = this.#outputs.get(batch);
    if (!output) {
      output = {
        latents: new Float32Array(batch * this.latentSize),
        rewards: new Float32Array(batch),
        values: new Float32Array(batch),
        policyLogits: new Float32Array(batch * this.numActions),
        terminal: new Uint8Array(batch),
      };
      if (this.#outputs.size > 64) this.#outputs.clear();
      this.#outputs.set(batch, output);
    }
    return output;
  }
}
