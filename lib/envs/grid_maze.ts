/**
 * The gridworld mazes of Sutton & Barto (2018), "Reinforcement Learning: An Introduction",
 * chapter 8: the Dyna maze of Example 8.1 (Figure 8.2) and the blocking maze of Example 8.2
 * (Figure 8.4).
 *
 * Four deterministic moves (up, down, right, left); a move into a wall or off the grid leaves the
 * agent where it is. Reward is 0 on every step and +1 on reaching the goal, which ends the episode.
 * Episodes have no time limit in the book; `maxEpisodeSteps` is only a safety net.
 */
import { boxSpec, checkDiscreteAction, type Env, type StepResult } from "./types.ts";

/** A maze drawn as text: `#` wall, `S` start, `G` goal, `.` free. Rows top to bottom. */
export type MazeLayout = readonly string[];

/** Example 8.1: 6 x 9, start on the left of the third row, goal in the top-right corner. */
export const DYNA_MAZE: MazeLayout = [
  ".......#G",
  "..#....#.",
  "S.#....#.",
  "..#......",
  ".....#...",
  ".........",
];

/** Example 8.2 before the change: the wall's gap is on the right. */
export const BLOCKING_MAZE_BEFORE: MazeLayout = [
  "........G",
  ".........",
  ".........",
  "########.",
  ".........",
  "...S.....",
];

/** Example 8.2 after the change: the right path is blocked and a gap opens on the left. */
export const BLOCKING_MAZE_AFTER: MazeLayout = [
  "........G",
  ".........",
  ".........",
  ".########",
  ".........",
  "...S.....",
];

export const MAZE_ACTIONS = ["up", "down", "right", "left"] as const;
const ROW_DELTA = [-1, 1, 0, 0];
const COLUMN_DELTA = [0, 0, 1, -1];

interface ParsedMaze {
  rows: number;
  columns: number;
  walls: Uint8Array;
  start: number;
  goal: number;
}

function parseMaze(layout: MazeLayout): ParsedMaze {
  const rows = layout.length;
  const columns = layout[0]?.length ?? 0;
  if (rows === 0 || columns === 0) throw new Error("a maze needs at least one row and column");
  const walls = new Uint8Array(rows * columns);
  let start = -1;
  let goal = -1;
  layout.forEach((line, row) => {
    if (line.length !== columns) {
      throw new Error(`maze row ${row} has ${line.length} cells, not ${columns}`);
    }
    for (let column = 0; column < columns; column++) {
      const cell = row * columns + column;
      const symbol = line[column];
      if (symbol === "#") walls[cell] = 1;
      else if (symbol === "S") start = cell;
      else if (symbol === "G") goal = cell;
      else if (symbol !== ".") throw new Error(`unknown maze symbol '${symbol}' at row ${row}`);
    }
  });
  if (start < 0 || goal < 0) throw new Error("a maze needs one S (start) and one G (goal)");
  return { rows, columns, walls, start, goal };
}

/**
 * A gridworld maze. The observation is `[row, column]` of the agent; `state` is the cell index
 * `row * columns + column` that tabular agents use.
 */
export class GridMaze implements Env<Float32Array> {
  readonly id = "grid-maze";
  readonly actionSpec = { kind: "discrete", n: 4 } as const;
  readonly observationSpec;
  readonly maxEpisodeSteps: number;
  readonly rows: number;
  readonly columns: number;
  #maze: ParsedMaze;
  #cell = -1;
  readonly #observation = new Float32Array(2);
  readonly #result: StepResult<Float32Array>;

  constructor(layout: MazeLayout = DYNA_MAZE, maxEpisodeSteps = 1_000_000) {
    this.#maze = parseMaze(layout);
    this.rows = this.#maze.rows;
    this.columns = this.#maze.columns;
    this.maxEpisodeSteps = maxEpisodeSteps;
    this.observationSpec = boxSpec([2], 0, Math.max(this.rows, this.columns) - 1);
    this.#result = {
      observation: this.#observation,
      reward: 0,
      terminated: false,
      truncated: false,
    };
  }

  get numStates(): number {
    return this.rows * this.columns;
  }

  /** The agent's cell index. */
  get state(): number {
    return this.#cell;
  }

  get startState(): number {
    return this.#maze.start;
  }

  get goalState(): number {
    return this.#maze.goal;
  }

  isWall(cell: number): boolean {
    return this.#maze.walls[cell] === 1;
  }

  /**
   * Swaps in another layout of the same size, keeping the agent where it is (the blocking maze
   * changes under a running agent). Its start and goal must match.
   */
  changeLayout(layout: MazeLayout): void {
    const next = parseMaze(layout);
    if (next.rows !== this.rows || next.columns !== this.columns) {
      throw new Error(`changeLayout needs a ${this.rows}x${this.columns} maze`);
    }
    this.#maze = next;
  }

  reset(_seed?: number): Float32Array {
    this.#cell = this.#maze.start;
    return this.#observe();
  }

  /** The cell reached by taking `action` in `cell` (the maze's deterministic dynamics). */
  nextCell(cell: number, action: number): number {
    const row = Math.floor(cell / this.columns) + ROW_DELTA[action];
    const column = (cell % this.columns) + COLUMN_DELTA[action];
    if (row < 0 || row >= this.rows || column < 0 || column >= this.columns) return cell;
    const next = row * this.columns + column;
    return this.#maze.walls[next] ? cell : next;
  }

  step(action: number): StepResult<Float32Array> {
    const move = checkDiscreteAction(this.id, action, 4);
    if (this.#cell < 0) throw new Error(`${this.id}: call reset() before step()`);
    this.#cell = this.nextCell(this.#cell, move);
    const reachedGoal = this.#cell === this.#maze.goal;
    this.#result.reward = reachedGoal ? 1 : 0;
    this.#result.terminated = reachedGoal;
    this.#result.truncated = false;
    this.#observe();
    return this.#result;
  }

  /** Length of the shortest path from start to goal (breadth-first search). */
  shortestPathLength(): number {
    const distance = new Int32Array(this.numStates).fill(-1);
    const queue = [this.#maze.start];
    distance[this.#maze.start] = 0;
    for (let head = 0; head < queue.length; head++) {
      const cell = queue[head];
      if (cell === this.#maze.goal) return distance[cell];
      for (let action = 0; action < 4; action++) {
        const next = this.nextCell(cell, action);
        if (distance[next] < 0) {
          distance[next] = distance[cell] + 1;
          queue.push(next);
        }
      }
    }
    return Number.POSITIVE_INFINITY;
  }

  #observe(): Float32Array {
    this.#observation[0] = Math.floor(this.#cell / this.columns);
    this.#observation[1] = this.#cell % this.columns;
    return this.#observation;
  }
}
