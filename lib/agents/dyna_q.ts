/**
 * Tabular Dyna-Q and Dyna-Q+ (Sutton & Barto 2018, section 8.2 "Dyna: Integrated Planning,
 * Acting, and Learning", box "Tabular Dyna-Q", and section 8.3 for the Dyna-Q+ bonus).
 *
 * Each real step: act epsilon-greedily, do one Q-learning update, record the transition in a
 * deterministic model, then do `planningSteps` (the book's n) Q-learning updates on transitions
 * replayed from the model, each from a random previously observed state and an action previously
 * taken there. Dyna-Q+ adds kappa * sqrt(tau) to the reward of a modelled transition not tried for
 * tau real steps, and lets planning consider untried actions as leading back to the same state
 * with reward 0 (the book's footnote to Example 8.2).
 */
import type { Rng } from "../rng.ts";

export interface DynaQOptions {
  numStates: number;
  numActions: number;
  /** n: planning updates per real step; 0 is plain one-step Q-learning. */
  planningSteps: number;
  /** alpha: step size. */
  stepSize: number;
  /** epsilon of the epsilon-greedy behaviour policy. */
  epsilon: number;
  /** gamma: discount. */
  discount: number;
  /** kappa: Dyna-Q+ exploration bonus weight; 0 gives plain Dyna-Q. */
  explorationBonus?: number;
}

export class DynaQAgent {
  readonly q: Float64Array;
  readonly #options: Required<DynaQOptions>;
  readonly #actingRng: Rng;
  readonly #planningRng: Rng;
  // Deterministic model: next state and reward of each tried (state, action), -1 if untried.
  readonly #modelNext: Int32Array;
  readonly #modelReward: Float64Array;
  /** Real time step at which each (state, action) was last tried, for the Dyna-Q+ bonus. */
  readonly #lastTried: Float64Array;
  readonly #observedStates: number[] = [];
  readonly #actionsTried: number[][];
  #time = 0;

  /**
   * Acting and planning draw from separate generators so that planning does not change which
   * actions are taken before the first reward is seen.
   */
  constructor(options: DynaQOptions, rngs: { acting: Rng; planning: Rng }) {
    this.#options = { explorationBonus: 0, ...options };
    this.#actingRng = rngs.acting;
    this.#planningRng = rngs.planning;
    const size = options.numStates * options.numActions;
    this.q = new Float64Array(size);
    this.#modelNext = new Int32Array(size).fill(-1);
    this.#modelReward = new Float64Array(size);
    this.#lastTried = new Float64Array(size);
    this.#actionsTried = Array.from({ length: options.numStates }, () => []);
  }

  /** Greedy action with ties broken at random (ties matter: all values start at zero). */
  greedyAction(state: number): number {
    const { numActions } = this.#options;
    const base = state * numActions;
    let best = -Infinity;
    let bestCount = 0;
    let chosen = 0;
    for (let action = 0; action < numActions; action++) {
      const value = this.q[base + action];
      if (value > best) {
        best = value;
        bestCount = 1;
        chosen = action;
      } else if (value === best) {
        // Reservoir sampling over the tied actions.
        bestCount++;
        if (this.#actingRng.int(bestCount) === 0) chosen = action;
      }
    }
    return chosen;
  }

  act(state: number): number {
    if (this.#actingRng.next() < this.#options.epsilon) {
      return this.#actingRng.int(this.#options.numActions);
    }
    return this.greedyAction(state);
  }

  /** Learns from one real transition, then plans. */
  learn(state: number, action: number, reward: number, nextState: number, terminal: boolean): void {
    this.#time++;
    this.#update(state, action, reward, nextState, terminal);
    this.#remember(state, action, reward, terminal ? -2 : nextState);
    for (let i = 0; i < this.#options.planningSteps; i++) this.#planOnce();
  }

  #update(state: number, action: number, reward: number, nextState: number, terminal: boolean) {
    const { numActions, stepSize, discount } = this.#options;
    let target = reward;
    if (!terminal) {
      let best = -Infinity;
      for (let a = 0; a < numActions; a++) {
        best = Math.max(best, this.q[nextState * numActions + a]);
      }
      target += discount * best;
    }
    const index = state * numActions + action;
    this.q[index] += stepSize * (target - this.q[index]);
  }

  #remember(state: number, action: number, reward: number, nextState: number) {
    const index = state * this.#options.numActions + action;
    if (this.#modelNext[index] === -1) {
      if (this.#actionsTried[state].length === 0) this.#observedStates.push(state);
      this.#actionsTried[state].push(action);
    }
    // -2 marks a transition into the terminal state.
    this.#modelNext[index] = nextState;
    this.#modelReward[index] = reward;
    this.#lastTried[index] = this.#time;
  }

  #planOnce() {
    const { numActions, explorationBonus } = this.#options;
    const state = this.#planningRng.choice(this.#observedStates);
    // Dyna-Q+ may plan with any action; Dyna-Q only with actions tried in that state.
    const action = explorationBonus > 0
      ? this.#planningRng.int(numActions)
      : this.#planningRng.choice(this.#actionsTried[state]);
    const index = state * numActions + action;
    const tried = this.#modelNext[index] !== -1;
    const nextState = tried ? this.#modelNext[index] : state;
    let reward = tried ? this.#modelReward[index] : 0;
    if (explorationBonus > 0) {
      reward += explorationBonus * Math.sqrt(this.#time - this.#lastTried[index]);
    }
    this.#update(state, action, reward, Math.max(nextState, 0), nextState === -2);
  }
}
