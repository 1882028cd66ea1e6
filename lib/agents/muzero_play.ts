/**
 * Playing with MuZero's search (Schrittwieser et al. 2020, "Mastering Atari, Go, chess and shogi
 * by planning with a learned model", Section 3 and Appendix B): one interface over the tasks it
 * plays (two-player board games and single-agent environments with discrete actions), batched
 * self-play that records what training needs, and matches against players outside the agent
 * (a perfect solver, alpha-beta, random play, a person).
 *
 * Many games run at once and every move of every game that is MuZero's to play goes into one
 * search call, so the network sees one batch per simulation. Only the root's legal actions are
 * searched (the paper masks the root alone); the chosen action is checked again before it is
 * played, so an illegal root action would be an error, never a move. A move from an outside
 * player that the rules forbid stops the match with a one-line error naming the player, the move
 * and the legal moves.
 */
import type { Rng } from "../rng.ts";
import type { Env } from "../envs/types.ts";
import { type BoardGame, IllegalMoveError, NO_WINNER, type Player } from "../envs/board_game.ts";
import {
  type MctsConfig,
  type MuZeroModel,
  MuZeroSearch,
  type SearchOptions,
  type SearchResult,
  selectByVisitCount,
} from "../planners/mcts.ts";
import type { ActionPlanes } from "../models/muzero.ts";
import type { GameRecord } from "./muzero_replay.ts";

/** One episode in progress. */
export interface Episode {
  /** Writes the observation of the player (or agent) to move, `observationSize` numbers. */
  observe(out: Float32Array, offset?: number): void;
  /** Writes 1 for each legal action, `numActions` entries; returns how many. */
  writeLegalMask(out: Uint8Array, offset?: number): number;
  /** Plays `action`; returns its reward, seen by the player who played it. */
  step(action: number): number;
  /** Ended by the task's rules. */
  readonly terminated: boolean;
  /** Cut by the time limit. */
  readonly truncated: boolean;
  /** Decisions made so far. */
  readonly moves: number;
}

/** A task MuZero plays: what it observes, how it acts, and fresh episodes. */
export interface MuZeroEnvironment {
  readonly id: string;
  /** [rows, columns, planes] for boards, [n] for state vectors. */
  readonly observationShape: readonly number[];
  readonly observationSize: number;
  readonly numActions: number;
  /** Two players alternate and the game is zero-sum (values flip sign at every ply). */
  readonly twoPlayer: boolean;
  /** The longest episode, in decisions. */
  readonly maxMoves: number;
  newEpisode(seed: number): Episode;
  /** Where each action acts on the board, for a residual network's dynamics (boards only). */
  actionPlanes?(): ActionPlanes;
}

/** A board game episode, which also exposes its position for outside players. */
export interface BoardEpisode<State> extends Episode {
  readonly state: State;
  readonly toPlay: Player;
}

/** A board game as MuZero plays it: observations are the mover's planes, the reward +1 for a win. */
export class BoardGameEnvironment<State> implements MuZeroEnvironment {
  readonly id: string;
  readonly observationShape: readonly number[];
  readonly observationSize: number;
  readonly numActions: number;
  readonly twoPlayer = true;
  readonly maxMoves: number;
  readonly #scratch: Float32Array;

  constructor(readonly game: BoardGame<State>) {
    this.id = game.id;
    this.observationShape = [game.rows, game.columns, 3];
    this.observationSize = game.rows * game.columns * 3;
    this.numActions = game.numActions;
    this.maxMoves = game.maxMoves;
    this.#scratch = new Float32Array(this.observationSize);
  }

  /**
   * A move as one plane over the board: a one on its cell when moves are cells (tic-tac-toe),
   * ones down its column when moves are columns (Connect Four); else one plane per move.
   */
  actionPlanes(): ActionPlanes {
    const { rows, columns, numActions } = this.game;
    const cells = rows * columns;
    if (numActions === cells || numActions === columns) {
      const values = new Array<number>(numActions * cells).fill(0);
      for (let action = 0; action < numActions; action++) {
        for (let cell = 0; cell < cells; cell++) {
          const hit = numActions === cells ? cell === action : cell % columns === action;
          values[action * cells + cell] = hit ? 1 : 0;
        }
      }
      return { planes: 1, values };
    }
    const values = new Array<number>(numActions * cells * numActions).fill(0);
    for (let action = 0; action < numActions; action++) {
      for (let cell = 0; cell < cells; cell++) {
        values[(action * cells + cell) * numActions + action] = 1;
      }
    }
    return { planes: numActions, values };
  }

  newEpisode(_seed: number): BoardEpisode<State> {
    return this.episodeFrom(this.game.initialState());
  }

  /** An episode that continues from a given position. */
  episodeFrom(start: State): BoardEpisode<State> {
    const game = this.game;
    const scratch = this.#scratch;
    let state = start;
    return {
      get state() {
        return state;
      },
      get toPlay() {
        return game.toPlay(state);
      },
      get terminated() {
        return game.isTerminal(state);
      },
      truncated: false,
      get moves() {
        return game.moveCount(state);
      },
      observe(out, offset = 0) {
        game.observe(state, scratch);
        out.set(scratch, offset);
      },
      writeLegalMask(out, offset = 0) {
        return game.writeLegalMask(state, out, offset);
      },
      step(action) {
        const mover = game.toPlay(state);
        state = game.play(state, action);
        return game.winner(state) === mover ? 1 : 0;
      },
    };
  }
}

/** A single-agent environment with discrete actions (CartPole-v1, say); every action is legal. */
export class DiscreteEnvEnvironment implements MuZeroEnvironment {
  readonly id: string;
  readonly observationShape: readonly number[];
  readonly observationSize: number;
  readonly numActions: number;
  readonly twoPlayer = false;
  readonly maxMoves: number;

  constructor(readonly makeEnv: () => Env<Float32Array>) {
    const env = makeEnv();
    if (env.actionSpec.kind !== "discrete") {
      throw new RangeError(`MuZero here needs discrete actions; ${env.id} has a box`);
    }
    this.id = env.id;
    this.observationShape = [...env.observationSpec.shape];
    this.observationSize = env.observationSpec.shape.reduce((a, b) => a * b, 1);
    this.numActions = env.actionSpec.n;
    this.maxMoves = env.maxEpisodeSteps;
  }

  newEpisode(seed: number): Episode {
    const env = this.makeEnv();
    const numActions = this.numActions;
    let observation = env.reset(seed);
    let terminated = false;
    let truncated = false;
    let moves = 0;
    return {
      get terminated() {
        return terminated;
      },
      get truncated() {
        return truncated;
      },
      get moves() {
        return moves;
      },
      observe(out, offset = 0) {
        out.set(observation, offset);
      },
      writeLegalMask(out, offset = 0) {
        out.fill(1, offset, offset + numActions);
        return numActions;
      },
      step(action) {
        const result = env.step(action);
        observation = result.observation;
        terminated = result.terminated;
        truncated = result.truncated && !result.terminated;
        moves++;
        return result.reward;
      },
    };
  }
}

/** What the search returns when asked for moves: actions, and the statistics training keeps. */
export interface SearchedMoves {
  actions: Int32Array;
  result: SearchResult;
}

/**
 * Runs MuZero's search on a batch of positions: observations for a learned model, board states
 * for a model that knows the rules.
 */
export class SearchPlayer<Input = Float32Array> {
  readonly #search: MuZeroSearch<Input>;

  constructor(readonly model: MuZeroModel<Input>, readonly config: MctsConfig) {
    this.#search = new MuZeroSearch(model, config);
  }

  /**
   * Searches `batchSize` positions and returns the chosen actions; throws if one is not legal
   * (the search masks the root, so this would be a bug, not a move).
   */
  search(
    input: Input,
    legalMasks: Uint8Array,
    batchSize: number,
    options: SearchOptions,
  ): SearchedMoves {
    const result = this.#search.run(input, batchSize, { ...options, legalActions: legalMasks });
    const numActions = this.model.numActions;
    for (let row = 0; row < batchSize; row++) {
      const action = result.actions[row];
      if (legalMasks[row * numActions + action] !== 1) {
        throw new Error(`the search returned the illegal root action ${action} (a bug)`);
      }
    }
    return { actions: result.actions, result };
  }
}

export interface SelfPlayOptions {
  /** Episodes to play. */
  episodes: number;
  /** Episodes played at once (one search batch). */
  parallel: number;
  /** Seed of each episode's start (`newEpisode(seeds(i))`). */
  seedOf: (episode: number) => number;
  /** Visit-count temperature for a move number; 0 plays the most visited action. */
  temperature: (move: number) => number;
  /**
   * Each episode opens with a number of uniformly random legal moves drawn uniformly from 0 to
   * this (default 0), "exploring starts"; those positions are still searched and recorded, so
   * they become training targets too.
   */
  maxRandomOpeningMoves?: number;
  /**
   * Decisions this call may make in all (default: no limit): once they are made, the episodes
   * still running are cut there (recorded as cut, to bootstrap from their last observation) and
   * no new one starts, so a run spends exactly its environment steps. Episodes that had not moved
   * yet are left out.
   */
  stepBudget?: number;
  /** Root Dirichlet noise (self-play: true; evaluation: false). */
  addNoise: boolean;
  rng: Rng;
  /** Called after every batched move with the number of finished episodes. */
  onMove?: (finished: number) => void;
}

/** What one episode has recorded so far. */
class Recorder {
  observations: number[] = [];
  actions: number[] = [];
  rewards: number[] = [];
  rootValues: number[] = [];
  policies: number[] = [];
  legalMasks: number[] = [];
}

/**
 * Plays `episodes` episodes with the search choosing every move (both sides in two-player games)
 * and returns them as replay records, in episode order. Cut episodes get the network's value of
 * their last observation as bootstrap.
 */
export function selfPlay(
  environment: MuZeroEnvironment,
  player: SearchPlayer<Float32Array>,
  options: SelfPlayOptions,
): GameRecord[] {
  const { observationSize, numActions } = environment;
  const records: (GameRecord | null)[] = new Array(options.episodes).fill(null);
  const slots: { index: number; episode: Episode; recorder: Recorder; randomMoves: number }[] = [];
  let nextEpisode = 0;
  let finished = 0;
  let stepsLeft = options.stepBudget ?? Infinity;
  const observations = new Float32Array(options.parallel * observationSize);
  const masks = new Uint8Array(options.parallel * numActions);
  const refill = () => {
    while (
      slots.length < options.parallel && nextEpisode < options.episodes && stepsLeft > slots.length
    ) {
      const index = nextEpisode++;
      slots.push({
        index,
        episode: environment.newEpisode(options.seedOf(index)),
        recorder: new Recorder(),
        randomMoves: options.maxRandomOpeningMoves
          ? options.rng.int(options.maxRandomOpeningMoves + 1)
          : 0,
      });
    }
  };
  refill();
  while (slots.length > 0) {
    // The budget's last moves go to the first slots; the rest are cut before they move again.
    if (slots.length > stepsLeft) {
      for (const slot of slots.splice(stepsLeft)) {
        if (slot.recorder.actions.length > 0) {
          records[slot.index] = finishRecord(
            environment,
            player.model,
            slot.episode,
            slot.recorder,
          );
          finished++;
        }
      }
    }
    const batch = slots.length;
    for (let row = 0; row < batch; row++) {
      slots[row].episode.observe(observations, row * observationSize);
      slots[row].episode.writeLegalMask(masks, row * numActions);
    }
    // The search picks greedily; each episode's own temperature is applied below.
    const temperatures = slots.map((slot) => options.temperature(slot.episode.moves));
    const { result } = player.search(
      observations.subarray(0, batch * observationSize),
      masks.subarray(0, batch * numActions),
      batch,
      { rng: options.rng, addNoise: options.addNoise, temperature: 0 },
    );
    for (let row = 0; row < batch; row++) {
      const slot = slots[row];
      const temperature = temperatures[row];
      const action = slot.episode.moves < slot.randomMoves
        ? randomLegal(masks, row * numActions, numActions, options.rng)
        : temperature === 0
        ? result.actions[row]
        : selectByVisitCount(
          result.visitCounts,
          row * numActions,
          numActions,
          temperature,
          options.rng,
        );
      const r = slot.recorder;
      for (let i = 0; i < observationSize; i++) {
        r.observations.push(observations[row * observationSize + i]);
      }
      for (let a = 0; a < numActions; a++) {
        r.policies.push(result.searchPolicy[row * numActions + a]);
        r.legalMasks.push(masks[row * numActions + a]);
      }
      r.rootValues.push(result.rootValues[row]);
      r.actions.push(action);
      r.rewards.push(slot.episode.step(action));
    }
    stepsLeft -= batch;
    for (let row = slots.length - 1; row >= 0; row--) {
      const { episode, recorder, index } = slots[row];
      const over = episode.terminated || episode.truncated || episode.moves >= environment.maxMoves;
      if (!over && stepsLeft > 0) continue;
      records[index] = finishRecord(environment, player.model, episode, recorder);
      slots.splice(row, 1);
      finished++;
    }
    refill();
    options.onMove?.(finished);
  }
  return records.filter((record): record is GameRecord => record !== null);
}

/** A legal action drawn uniformly from mask[offset .. offset + numActions). */
function randomLegal(mask: Uint8Array, offset: number, numActions: number, rng: Rng): number {
  let count = 0;
  for (let a = 0; a < numActions; a++) count += mask[offset + a];
  let pick = rng.int(count);
  for (let a = 0; a < numActions; a++) {
    if (mask[offset + a] === 1 && pick-- === 0) return a;
  }
  throw new Error("no legal action to play");
}

function finishRecord(
  environment: MuZeroEnvironment,
  model: MuZeroModel<Float32Array>,
  episode: Episode,
  recorder: Recorder,
): GameRecord {
  const finalObservation = new Float32Array(environment.observationSize);
  episode.observe(finalObservation);
  const terminated = episode.terminated;
  // A cut episode bootstraps from the model's value of where it stopped.
  const finalValue = terminated ? 0 : model.initialInference(finalObservation, 1).values[0];
  return {
    length: recorder.actions.length,
    observations: Float32Array.from(recorder.observations),
    actions: Int32Array.from(recorder.actions),
    rewards: Float32Array.from(recorder.rewards),
    rootValues: Float32Array.from(recorder.rootValues),
    policies: Float32Array.from(recorder.policies),
    legalMasks: Uint8Array.from(recorder.legalMasks),
    terminated,
    finalObservation,
    finalValue,
  };
}

/** A player outside the agent: a solver, a heuristic, random play, a person. */
export interface BoardPlayer<State> {
  readonly name: string;
  chooseMove(state: State, rng: Rng): number;
}

/** The position after `player` plays `move`; an illegal move is a one-line `IllegalMoveError`. */
export function playOutsideMove<State>(
  game: BoardGame<State>,
  state: State,
  move: number,
  player: BoardPlayer<State>,
): State {
  try {
    return game.play(state, move);
  } catch (error) {
    if (error instanceof IllegalMoveError) error.message = `${player.name}: ${error.message}`;
    throw error;
  }
}

/** Uniformly random legal moves. */
export function randomPlayer<State>(game: BoardGame<State>): BoardPlayer<State> {
  return {
    name: "random player",
    chooseMove: (state, rng) => rng.choice(game.legalMoves(state)),
  };
}

/** Outcome counts of a series of games, from the agent's side. */
export interface MatchRecord {
  games: number;
  wins: number;
  draws: number;
  losses: number;
}

/** The agent's side of a match: a search and what it is given of each position. */
export interface MatchAgent<State, Input = unknown> {
  player: SearchPlayer<Input>;
  /** The search's input for these positions: their observations, or the states themselves. */
  input(states: readonly State[], observations: Float32Array): Input;
}

/** A search on observations: MuZero's learned model. */
export function learnedAgent<State>(
  player: SearchPlayer<Float32Array>,
): MatchAgent<State, Float32Array> {
  return { player, input: (_states, observations) => observations };
}

/** A search on board states: a model that knows the rules. */
export function rulesAgent<State>(
  player: SearchPlayer<readonly State[]>,
): MatchAgent<State, readonly State[]> {
  return { player, input: (states) => states };
}

/**
 * `count` starting positions for a match, each the end of a different opening of `plies` legal
 * moves from the empty board, in an order drawn from `rng` (a seeded match plays the same ones).
 * Every opening is used once before any repeats; an opening that ends the game is left out.
 *
 * A deterministic agent (temperature 0, no noise) against an opponent that rarely breaks ties
 * would otherwise play one game again and again, so that a match of many games measures only a
 * few; the openings make every game a different one, as opening books do in engine matches.
 * With an even number of plies the first player is to move in every start, so a match's
 * `agentFirst` keeps its meaning. The openings are enumerated: keep `plies` small (Connect Four
 * has 7 ** plies of them).
 */
export function randomOpenings<State>(
  game: BoardGame<State>,
  count: number,
  plies: number,
  rng: Rng,
): State[] {
  if (!Number.isInteger(plies) || plies < 0) {
    throw new RangeError(`opening plies must be a non-negative integer, got ${plies}`);
  }
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`the number of openings must be a non-negative integer, got ${count}`);
  }
  let openings = [game.initialState()];
  for (let ply = 0; ply < plies; ply++) {
    const next: State[] = [];
    for (const state of openings) {
      for (const move of game.legalMoves(state)) {
        const after = game.play(state, move);
        if (!game.isTerminal(after)) next.push(after);
      }
    }
    openings = next;
    if (openings.length > 1_000_000) {
      throw new RangeError(`${plies} opening plies give too many openings to enumerate`);
    }
  }
  if (openings.length === 0) throw new RangeError(`no game of ${game.id} lasts ${plies} plies`);
  const starts: State[] = [];
  while (starts.length < count) {
    // A uniformly random order of the openings, then another if more are needed.
    const order = rng.shuffle(openings.slice());
    starts.push(...order.slice(0, count - starts.length));
  }
  return starts;
}

export interface MatchOptions<State, Input> {
  game: BoardGame<State>;
  agent: MatchAgent<State, Input>;
  opponent: BoardPlayer<State>;
  /** The agent moves first (true) or second. */
  agentFirst: boolean;
  games: number;
  rng: Rng;
  /** Games played at once (default: all). */
  parallel?: number;
  /** Positions to start from (default: the empty board); game i starts from starts[i % n]. */
  starts?: readonly State[];
}

/**
 * Plays `games` games between the agent (temperature 0, no noise) and an outside player, all at
 * once, and counts the agent's wins, draws and losses.
 */
export function playMatch<State, Input>(options: MatchOptions<State, Input>): MatchRecord {
  const { game, agent, opponent, rng } = options;
  const environment = new BoardGameEnvironment(game);
  const agentSide: Player = options.agentFirst ? 0 : 1;
  const parallel = options.parallel ?? options.games;
  const record: MatchRecord = { games: 0, wins: 0, draws: 0, losses: 0 };
  const observations = new Float32Array(parallel * environment.observationSize);
  const masks = new Uint8Array(parallel * game.numActions);
  let started = 0;
  const live: BoardEpisode<State>[] = [];
  const refill = () => {
    while (live.length < parallel && started < options.games) {
      const start = options.starts
        ? options.starts[started % options.starts.length]
        : game.initialState();
      started++;
      live.push(environment.episodeFrom(start));
    }
  };
  refill();
  while (live.length > 0) {
    // Outside players move first in each round, so that every live game is then the agent's.
    for (const episode of live) {
      if (game.isTerminal(episode.state) || episode.toPlay === agentSide) continue;
      const move = opponent.chooseMove(episode.state, rng);
      stepOutside(episode, game, move, opponent);
    }
    const waiting = live.filter((e) => !game.isTerminal(e.state) && e.toPlay === agentSide);
    if (waiting.length > 0) {
      waiting.forEach((episode, row) => {
        episode.observe(observations, row * environment.observationSize);
        episode.writeLegalMask(masks, row * game.numActions);
      });
      const { actions } = agent.player.search(
        agent.input(
          waiting.map((e) => e.state),
          observations.subarray(0, waiting.length * environment.observationSize),
        ),
        masks.subarray(0, waiting.length * game.numActions),
        waiting.length,
        { rng, addNoise: false, temperature: 0 },
      );
      waiting.forEach((episode, row) => episode.step(actions[row]));
    }
    for (let i = live.length - 1; i >= 0; i--) {
      const state = live[i].state;
      if (!game.isTerminal(state)) continue;
      const winner = game.winner(state);
      record.games++;
      if (winner === NO_WINNER) record.draws++;
      else if (winner === agentSide) record.wins++;
      else record.losses++;
      live.splice(i, 1);
    }
    refill();
  }
  return record;
}

function stepOutside<State>(
  episode: BoardEpisode<State>,
  game: BoardGame<State>,
  move: number,
  player: BoardPlayer<State>,
): void {
  if (!game.isLegal(episode.state, move)) playOutsideMove(game, episode.state, move, player);
  episode.step(move);
}
