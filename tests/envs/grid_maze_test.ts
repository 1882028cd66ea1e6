import assert from "node:assert/strict";
import {
  BLOCKING_MAZE_AFTER,
  BLOCKING_MAZE_BEFORE,
  DYNA_MAZE,
  GridMaze,
} from "../../lib/envs/grid_maze.ts";
import { InvalidActionError } from "../../lib/envs/types.ts";

const [UP, DOWN, RIGHT, LEFT] = [0, 1, 2, 3];

Deno.test("GridMaze", async (t) => {
  await t.step("the Dyna maze of Example 8.1: 6 x 9, 47 states, 14-step shortest path", () => {
    const maze = new GridMaze(DYNA_MAZE);
    assert.equal(maze.rows, 6);
    assert.equal(maze.columns, 9);
    let free = 0;
    for (let cell = 0; cell < maze.numStates; cell++) if (!maze.isWall(cell)) free++;
    assert.equal(free, 47);
    assert.equal(maze.shortestPathLength(), 14);
  });

  await t.step("moves are deterministic; walls and edges leave the agent in place", () => {
    const maze = new GridMaze(DYNA_MAZE);
    const observation = maze.reset();
    assert.deepEqual([...observation], [2, 0]); // S: third row, first column
    maze.step(LEFT); // off the grid
    assert.deepEqual([...observation], [2, 0]);
    maze.step(RIGHT);
    assert.deepEqual([...observation], [2, 1]);
    const { reward, terminated } = maze.step(RIGHT); // the wall at column 2
    assert.deepEqual([...observation], [2, 1]);
    assert.equal(reward, 0);
    assert.equal(terminated, false);
    maze.step(UP);
    maze.step(DOWN);
    assert.deepEqual([...observation], [2, 1]);
  });

  await t.step("reward +1 and termination only on entering the goal", () => {
    const maze = new GridMaze(DYNA_MAZE);
    maze.reset();
    // A shortest path: up twice, right to column 6, down to row 3, right twice, up three times.
    const path = [UP, UP, RIGHT, RIGHT, RIGHT, RIGHT, RIGHT, RIGHT, DOWN, DOWN, DOWN];
    path.push(RIGHT, RIGHT, UP, UP, UP);
    let total = 0;
    let last;
    for (const action of path) {
      last = maze.step(action);
      total += last.reward;
      if (last.terminated) break;
    }
    assert.equal(maze.state, maze.goalState);
    assert.equal(total, 1);
    assert.equal(last!.terminated, true);
  });

  await t.step("the blocking maze swaps its gap from right to left", () => {
    const maze = new GridMaze(BLOCKING_MAZE_BEFORE);
    assert.equal(maze.shortestPathLength(), 10);
    maze.changeLayout(BLOCKING_MAZE_AFTER);
    assert.equal(maze.shortestPathLength(), 16);
  });

  await t.step("bad actions and stepping before reset are clear errors", () => {
    const maze = new GridMaze();
    assert.throws(() => maze.step(0), /reset/);
    maze.reset();
    assert.throws(() => maze.step(4), InvalidActionError);
    assert.throws(() => maze.step(1.5), /valid actions are the integers 0..3/);
  });

  await t.step("observation buffer is reused", () => {
    const maze = new GridMaze();
    const first = maze.reset();
    assert.equal(maze.step(RIGHT).observation, first);
  });
});
