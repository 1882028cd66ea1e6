/**
 * A two-player board game seen from one side, with the opponent folded into the environment: the
 * setting of Vector Quantized Models for Planning's chess experiments (Ozair et al. 2021, Section
 * 5.1, "the opponent is considered part of the environment"). The agent moves; the opponent's
 * answer is the environment's random response, so one step is the agent's move then the
 * opponent's reply, and the game is a single-agent task with stochastic transitions.
 *
 * The opponent here mixes a fixed good move with uniformly random ones (the "an opponent
 * that mixes good and random moves"); with no random share it is deterministic. Its move
 * distribution is known exactly, so `OneSidedSolver` computes the best any agent can do against it
 * (expectimax), the line a perfect model and a perfect search would reach.
 *
 * Rewards are the agent's: +1 when it completes a line, -1 when the opponent does, 0 otherwise (a
 * draw included). Observations are two planes seen by the agent, [rows, columns, 2]: its stones
 * and the opponent's (the board game's third plane, who is to move, is constant here).
 */
import type { Rng } from "../rng.ts";
import { type BoardGame, NO_WINNER, type Player } from "./board_game.ts";
import { assertCanStep, type EpisodePhase } from "./classic_env.ts";
import { type BoxSpec, boxSpec, checkDiscreteAction, type Env, type StepResult } from "./types.ts";
import { IllegalMoveError } from "./board_game.ts";

/** Planes of a one-sided observation: the agent's stones, the opponent's. */
export const ONE_SIDED_PLANES = 2;

/** An opponent whose move distribution is known in every position. */
export interface Opponent<State> {
  readonly name: string;
  /** The legal moves it may play in `state` (the opponent to move) and their probabilities. */
  moveProbabilities(state: State): { move: number; probability: number }[];
}

/**
 * With probability `randomShare` a uniformly random legal move, otherwise `goodMove` (which must
 * be legal): an imperfect player whose mistakes are random.
 */
export function mixedOpponent<State>(
  game: BoardGame<State>,
  name: string,
  goodMove: (state: State) => number,
  randomShare: number,
): Opponent<State> {
  if (!(randomShare >= 0 && randomShare <= 1)) {
    throw new RangeError(`randomShare must be in [0, 1], got ${randomShare}`);
  }
  return {
    name,
    moveProbabilities(state) {
      const legal = game.legalMoves(state);
      const good = goodMove(state);
      if (!legal.includes(good)) {
        throw new IllegalMoveError(game.id, good, legal, `${name}'s good move is not legal`);
      }
      return legal.map((move) => ({
        move,
        probability: randomShare / legal.length + (move === good ? 1 - randomShare : 0),
      })).filter((entry) => entry.probability > 0);
    },
  };
}

/** One move drawn from the opponent's distribution. */
export function sampleOpponentMove<State>(opponent: Opponent<State>, state: State, rng: Rng) {
  const choices = opponent.moveProbabilities(state);
  let threshold = rng.next();
  for (const { move, probability } of choices) {
    threshold -= probability;
    if (threshold < 0) return move;
  }
  return choices[choices.length - 1].move;
}

/** What one agent step did: the agent's move, then (unless the game ended) the opponent's. */
export interface OneSidedStep<State> {
  /** The position after the agent's move: the afterstate. */
  afterstate: State;
  /** The position after the opponent's reply (the afterstate itself if the game ended). */
  next: State;
  /** +1 if the agent's move won. */
  moveReward: number;
  /** -1 if the opponent's reply won. */
  replyReward: number;
  /** The opponent's move, or -1 when it had none to make. */
  reply: number;
  terminated: boolean;
}

/** Plays the agent's `move` in `state` and the opponent's reply. */
export function oneSidedStep<State>(
  game: BoardGame<State>,
  opponent: Opponent<State>,
  state: State,
  move: number,
  rng: Rng,
): OneSidedStep<State> {
  const agent = game.toPlay(state);
  const afterstate = game.play(state, move);
  const moveReward = game.winner(afterstate) === agent ? 1 : 0;
  if (game.isTerminal(afterstate)) {
    return {
      afterstate,
      next: afterstate,
      moveReward,
      replyReward: 0,
      reply: -1,
      terminated: true,
    };
  }
  const reply = sampleOpponentMove(opponent, afterstate, rng);
  const next = game.play(afterstate, reply);
  const replyReward = game.winner(next) !== NO_WINNER ? -1 : 0;
  return { afterstate, next, moveReward, replyReward, reply, terminated: game.isTerminal(next) };
}

/** Writes the agent's view of `state` ([rows, columns, 2]: its stones, the opponent's). */
export function observeOneSided<State>(
  game: BoardGame<State>,
  state: State,
  agent: Player,
  out: Float32Array,
  scratch: Float32Array = new Float32Array(game.rows * game.columns * 3),
): Float32Array {
  game.observe(state, scratch);
  // The game's planes are the mover's; swap them when the opponent is to move.
  const agentMoves = game.toPlay(state) === agent;
  const cells = game.rows * game.columns;
  for (let cell = 0; cell < cells; cell++) {
    out[cell * 2] = scratch[cell * 3 + (agentMoves ? 0 : 1)];
    out[cell * 2 + 1] = scratch[cell * 3 + (agentMoves ? 1 : 0)];
  }
  return out;
}

/**
 * The exact value of every position for an agent that plays best against a known opponent:
 * V(s) = max_a [r(s, a) + Σ_m p(m | s a) (r(s a, m) + V(s a m))], memoised by `key`.
 */
export class OneSidedSolver<State> {
  readonly #values = new Map<string | number, number>();

  constructor(
    readonly game: BoardGame<State>,
    readonly opponent: Opponent<State>,
    readonly key: (state: State) => string | number = (state) => game.format(state),
  ) {}

  /** The agent's expected return from `state`, the agent to move (0 for a finished game). */
  value(state: State): number {
    if (this.game.isTerminal(state)) return 0;
    const key = this.key(state);
    const known = this.#values.get(key);
    if (known !== undefined) return known;
    let best = -Infinity;
    for (const move of this.game.legalMoves(state)) {
      best = Math.max(best, this.actionValue(state, move));
    }
    this.#values.set(key, best);
    return best;
  }

  /** Q(s, a): the expected return of `move` then best play. */
  actionValue(state: State, move: number): number {
    const game = this.game;
    const agent = game.toPlay(state);
    const afterstate = game.play(state, move);
    if (game.winner(afterstate) === agent) return 1;
    if (game.isTerminal(afterstate)) return 0;
    let expected = 0;
    for (const { move: reply, probability } of this.opponent.moveProbabilities(afterstate)) {
      const next = game.play(afterstate, reply);
      const replyReward = game.winner(next) !== NO_WINNER ? -1 : 0;
      expected += probability * (replyReward + this.value(next));
    }
    return expected;
  }

  /** The best moves in `state` (those within 1e-9 of the best value). */
  bestMoves(state: State): number[] {
    const moves = this.game.legalMoves(state);
    const values = moves.map((move) => this.actionValue(state, move));
    const best = Math.max(...values);
    return moves.filter((_, i) => values[i] >= best - 1e-9);
  }
}

/**
 * The one-sided game as an `Env`: the agent plays `agent`'s side; if the opponent moves first its
 * opening move is part of `reset`. The reward of a step is the agent's move reward plus the
 * reply's.
 */
export class OneSidedGameEnv<State> implements Env<Float32Array> {
  readonly id: string;
  readonly observationSpec: BoxSpec;
  readonly actionSpec: { readonly kind: "discrete"; readonly n: number };
  readonly maxEpisodeSteps: number;
  /** 1 for each legal move of the agent; refreshed by `reset` and `step`. */
  readonly legalActionMask: Uint8Array;
  readonly #observation: Float32Array;
  readonly #scratch: Float32Array;
  readonly #result: StepResult<Float32Array>;
  #state: State;
  #rng: Rng | null = null;
  #phase: EpisodePhase = "before-reset";
  #steps = 0;

  constructor(
    readonly game: BoardGame<State>,
    readonly opponent: Opponent<State>,
    readonly makeRng: (seed: number) => Rng,
    readonly agent: Player = 0,
  ) {
    this.id = `${game.id}-against-${opponent.name.replace(/\s+/g, "-")}`;
    this.observationSpec = boxSpec([game.rows, game.columns, ONE_SIDED_PLANES], 0, 1);
    this.actionSpec = { kind: "discrete", n: game.numActions };
    this.maxEpisodeSteps = Math.ceil(game.maxMoves / 2);
    this.legalActionMask = new Uint8Array(game.numActions);
    this.#observation = new Float32Array(game.rows * game.columns * ONE_SIDED_PLANES);
    this.#scratch = new Float32Array(game.rows * game.columns * 3);
    this.#result = {
      observation: this.#observation,
      reward: 0,
      terminated: false,
      truncated: false,
    };
    this.#state = game.initialState();
  }

  get state(): State {
    return this.#state;
  }

  reset(seed = 0): Float32Array {
    this.#rng = this.makeRng(seed);
    let state = this.game.initialState();
    if (this.game.toPlay(state) !== this.agent) {
      state = this.game.play(state, sampleOpponentMove(this.opponent, state, this.#rng));
    }
    this.#state = state;
    this.#phase = "running";
    this.#steps = 0;
    this.#refresh();
    return this.#observation;
  }

  step(action: number): StepResult<Float32Array> {
    assertCanStep(this.id, this.#phase, this.#steps);
    const move = checkDiscreteAction(this.id, action, this.game.numActions);
    const step = oneSidedStep(this.game, this.opponent, this.#state, move, this.#rng!);
    this.#state = step.next;
    this.#steps++;
    if (step.terminated) this.#phase = "ended";
    this.#refresh();
    this.#result.reward = step.moveReward + step.replyReward;
    this.#result.terminated = step.terminated;
    return this.#result;
  }

  #refresh(): void {
    this.game.writeLegalMask(this.#state, this.legalActionMask);
    observeOneSided(this.game, this.#state, this.agent, this.#observation, this.#scratch);
  }
}
