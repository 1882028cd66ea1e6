/**
 * The exact rules of a board game dressed as MuZero's model (Schrittwieser et al. 2020, Appendix B:
 * the search only needs h, g and f), so the search can be tested where the right answer is known.
 * With it, the search is AlphaZero-like planning with a perfect simulator and no learned
 * evaluation.
 *
 * The latent state is the board itself (`BoardGame.encode`), the reward comes from the rules (+1
 * to the player whose move wins), terminal states are reported as such, and the policy is uniform
 * over the legal moves (illegal ones get logit -Infinity, prior 0). The value is 0, or the mean
 * outcome of random playouts for the player to move. Interior nodes take every action, so an
 * illegal move can still reach the model (pUCT avoids it when Q is normalised, as its prior is 0):
 * it forfeits, with reward -1, and the game ends.
 */
import type { BoardGame } from "../envs/board_game.ts";
import type { Rng } from "../rng.ts";
import type { InferenceOutput, MuZeroModel } from "./mcts.ts";

export interface TrueRulesModelOptions {
  /** Random playouts averaged for each value; 0 (the default) makes every value 0. */
  rollouts?: number;
  /** Draws the playouts' moves; needed when `rollouts` > 0. */
  rng?: Rng;
}

/** Reused output buffers sized for one batch. */
interface OutputBuffers extends InferenceOutput {
  terminal: Uint8Array;
}

export class TrueRulesModel<State> implements MuZeroModel<readonly State[]> {
  readonly game: BoardGame<State>;
  readonly numActions: number;
  readonly latentSize: number;
  readonly rollouts: number;
  readonly #rng: Rng | null;
  readonly #mask: Uint8Array;
  /** Views of the output buffers by batch size, so a repeated size reuses its arrays. */
  #outputs = new Map<number, OutputBuffers>();
  #capacity = 0;

  constructor(game: BoardGame<State>, options: TrueRulesModelOptions = {}) {
    const rollouts = options.rollouts ?? 0;
    if (!Number.isInteger(rollouts) || rollouts < 0) {
      throw new RangeError(`rollouts must be a non-negative integer, got ${rollouts}`);
    }
    if (rollouts > 0 && !options.rng) throw new RangeError("random playouts need an rng");
    this.game = game;
    this.numActions = game.numActions;
    this.latentSize = game.encodedSize;
    this.rollouts = rollouts;
    this.#rng = options.rng ?? null;
    this.#mask = new Uint8Array(game.numActions);
  }

  /** The board states of the roots (`batchSize` of them). */
  initialInference(states: readonly State[], batchSize: number): InferenceOutput {
    if (states.length !== batchSize) {
      throw new RangeError(
        `initialInference got ${states.length} states for a batch of ${batchSize}`,
      );
    }
    const out = this.#output(batchSize);
    for (let row = 0; row < batchSize; row++) {
      const state = states[row];
      this.game.encode(state, out.latents, row * this.latentSize);
      out.rewards[row] = 0;
      out.terminal[row] = this.game.isTerminal(state) ? 1 : 0;
      out.values[row] = out.terminal[row] ? 0 : this.#value(state);
      this.#writeLogits(state, out.policyLogits, row);
    }
    return out;
  }

  recurrentInference(parentLatents: Float32Array, actions: Int32Array): InferenceOutput {
    const game = this.game;
    const latentSize = this.latentSize;
    const out = this.#output(actions.length);
    for (let row = 0; row < actions.length; row++) {
      const state = game.decode(parentLatents, row * latentSize);
      const move = actions[row];
      if (!game.isLegal(state, move)) {
        // Forfeit: the position stays as it was and the game is over.
        out.latents.set(
          parentLatents.subarray(row * latentSize, (row + 1) * latentSize),
          row * latentSize,
        );
        out.rewards[row] = game.isTerminal(state) ? 0 : -1;
        out.values[row] = 0;
        out.terminal[row] = 1;
        out.policyLogits.fill(0, row * this.numActions, (row + 1) * this.numActions);
        continue;
      }
      const mover = game.toPlay(state);
      const next = game.play(state, move);
      game.encode(next, out.latents, row * latentSize);
      out.rewards[row] = game.winner(next) === mover ? 1 : 0;
      const terminal = game.isTerminal(next);
      out.terminal[row] = terminal ? 1 : 0;
      out.values[row] = terminal ? 0 : this.#value(next);
      this.#writeLogits(next, out.policyLogits, row);
    }
    return out;
  }

  /** Mean outcome of `rollouts` uniformly random playouts, for the player to move in `state`. */
  #value(state: State): number {
    if (this.rollouts === 0) return 0;
    const game = this.game;
    const rng = this.#rng!;
    const mover = game.toPlay(state);
    let total = 0;
    for (let i = 0; i < this.rollouts; i++) {
      let position = state;
      while (!game.isTerminal(position)) {
        const count = game.writeLegalMask(position, this.#mask);
        let pick = rng.int(count);
        let move = 0;
        while (this.#mask[move] === 0 || pick-- > 0) move++;
        position = game.play(position, move);
      }
      const winner = game.winner(position);
      total += winner === mover ? 1 : winner === -1 ? 0 : -1;
    }
    return total / this.rollouts;
  }

  #writeLogits(state: State, logits: Float32Array, row: number): void {
    const base = row * this.numActions;
    this.game.writeLegalMask(state, this.#mask);
    for (let a = 0; a < this.numActions; a++) {
      logits[base + a] = this.#mask[a] === 1 ? 0 : -Infinity;
    }
  }

  #output(batch: number): OutputBuffers {
    let output = this.#outputs.get(batch);
    if (output) return output;
    if (batch > this.#capacity) {
      this.#capacity = batch;
      this.#outputs.clear();
      output = {
        latents: new Float32Array(batch * this.latentSize),
        rewards: new Float32Array(batch),
        values: new Float32Array(batch),
        policyLogits: new Float32Array(batch * this.numActions),
        terminal: new Uint8Array(batch),
      };
      this.#outputs.set(batch, output);
      return output;
    }
    const full = this.#outputs.get(this.#capacity)!;
    output = {
      latents: full.latents.subarray(0, batch * this.latentSize),
      rewards: full.rewards.subarray(0, batch),
      values: full.values.subarray(0, batch),
      policyLogits: full.policyLogits.subarray(0, batch * this.numActions),
      terminal: full.terminal.subarray(0, batch),
    };
    this.#outputs.set(batch, output);
    return output;
  }
}
