import assert from "node:assert/strict";
import { EpisodeOrderError } from "../../../lib/envs/classic_env.ts";
import { Breakout, type BreakoutState } from "../../../lib/envs/minatar/breakout.ts";
import {
  MINATAR_DOWN,
  MINATAR_FIRE,
  MINATAR_LEFT,
  MINATAR_NOOP,
  MINATAR_RIGHT,
  MINATAR_UP,
} from "../../../lib/envs/minatar/shared.ts";
import type { Rng } from "../../../lib/rng.ts";
import { assertRandomPolicyMatchesReference, cellsOf } from "./_helpers.ts";
import { assertMatchesReference } from "./_reference.ts";

const PADDLE = 0, BALL = 1, TRAIL = 2, BRICK = 3, CHANNELS = 4;

/** A game without sticky actions, so each step applies the action given. */
function exactGame(seed = 0): { env: Breakout; state: BreakoutState } {
  const env = new Breakout({ stickyActionProbability: 0 });
  env.reset(seed);
  return { env, state: env.trueState() };
}

function placeBall(state: BreakoutState, x: number, y: number, dx: number, dy: number): void {
  state.ballX = x;
  state.ballY = y;
  state.ballDx = dx;
  state.ballDy = dy;
}

function brickCount(state: BreakoutState): number {
  return state.bricks.reduce((a, b) => a + b, 0);
}

class ReplayedBreakout extends Breakout {
  constructor(readonly numbers: Rng) {
    super();
  }
  protected override createRng(): Rng {
    return this.numbers;
  }
}

Deno.test("MinAtar Breakout rules", async (t) => {
  await t.step("starts with three rows of bricks and the ball in a corner of row 3", () => {
    const starts = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      const env = new Breakout();
      const observation = env.reset(seed);
      assert.deepEqual(cellsOf(observation, PADDLE, CHANNELS), ["9,4"]);
      assert.equal(cellsOf(observation, BRICK, CHANNELS).length, 30);
      for (const cell of cellsOf(observation, BRICK, CHANNELS)) {
        assert.ok(["1", "2", "3"].includes(cell.split(",")[0]), cell);
      }
      const ball = cellsOf(observation, BALL, CHANNELS);
      assert.deepEqual(cellsOf(observation, TRAIL, CHANNELS), ball);
      const state = env.trueState();
      // Heading down and away from its wall.
      assert.equal(state.ballDy, 1);
      assert.equal(state.ballDx, state.ballX === 0 ? 1 : -1);
      starts.add(ball[0]);
    }
    assert.deepEqual([...starts].sort(), ["3,0", "3,9"]);
  });

  await t.step("the paddle moves left and right and stops at the walls", () => {
    const { env, state } = exactGame();
    state.bricks.fill(0);
    // The ball is kept up at the ceiling, out of the way.
    const move = (action: number) => {
      placeBall(state, 5, 0, 1, -1);
      env.step(action);
      return state.paddleX;
    };
    for (const action of [MINATAR_UP, MINATAR_DOWN, MINATAR_FIRE, MINATAR_NOOP]) {
      assert.equal(move(action), 4);
    }
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => move(MINATAR_LEFT)), [3, 2, 1, 0, 0, 0]);
    assert.equal(move(MINATAR_RIGHT), 1);
    for (let i = 0; i < 12; i++) move(MINATAR_RIGHT);
    assert.equal(state.paddleX, 9);
  });

  await t.step("the ball bounces off the side walls and the ceiling", () => {
    const { env, state } = exactGame();
    placeBall(state, 0, 6, -1, 1);
    let observation = env.step(MINATAR_NOOP).observation;
    assert.deepEqual([state.ballX, state.ballY, state.ballDx, state.ballDy], [0, 7, 1, 1]);
    assert.deepEqual(cellsOf(observation, TRAIL, CHANNELS), ["6,0"]);

    state.bricks.fill(0);
    placeBall(state, 8, 0, 1, -1);
    observation = env.step(MINATAR_NOOP).observation;
    assert.deepEqual([state.ballX, state.ballY, state.ballDx, state.ballDy], [9, 0, 1, 1]);
    placeBall(state, 9, 0, 1, -1);
    env.step(MINATAR_NOOP);
    // Both walls at once: the ball stays in the corner and heads back out of it.
    assert.deepEqual([state.ballX, state.ballY, state.ballDx, state.ballDy], [9, 0, -1, 1]);
    assert.deepEqual(cellsOf(env.step(MINATAR_NOOP).observation, BALL, CHANNELS), ["1,8"]);
  });

  await t.step("a brick the ball runs into breaks (+1) and turns the ball back down", () => {
    const { env, state } = exactGame();
    placeBall(state, 5, 4, 1, -1);
    const result = env.step(MINATAR_NOOP);
    assert.equal(result.reward, 1);
    assert.equal(state.bricks[3 * 10 + 6], 0);
    assert.equal(brickCount(state), 29);
    // It moves sideways on its own row and now heads down.
    assert.deepEqual([state.ballX, state.ballY, state.ballDx, state.ballDy], [6, 4, 1, 1]);
    assert.ok(!cellsOf(result.observation, BRICK, CHANNELS).includes("3,6"));
  });

  await t.step("a brick met on the very next step is passed into, not broken", () => {
    const { env, state } = exactGame();
    placeBall(state, 5, 4, 1, -1);
    state.bricks[5 * 10 + 7] = 1; // right where the ball goes next
    assert.equal(env.step(MINATAR_NOOP).reward, 1);
    assert.equal(env.step(MINATAR_NOOP).reward, 0);
    assert.deepEqual([state.ballX, state.ballY, state.ballDy], [7, 5, 1]);
    assert.equal(state.bricks[5 * 10 + 7], 1);
    assert.equal(state.justBrokeBrick, true);
    env.step(MINATAR_NOOP);
    assert.equal(state.justBrokeBrick, false);
  });

  await t.step("the paddle under the ball's cell sends it back up the same way sideways", () => {
    const { env, state } = exactGame();
    placeBall(state, 4, 8, 1, 1);
    const result = env.step(MINATAR_NOOP);
    assert.equal(result.terminated, false);
    assert.deepEqual([state.ballX, state.ballY, state.ballDx, state.ballDy], [5, 8, 1, -1]);
  });

  await t.step(
    "the paddle under the cell the ball heads for sends it back where it came from",
    () => {
      const { env, state } = exactGame();
      placeBall(state, 3, 8, 1, 1);
      const result = env.step(MINATAR_NOOP);
      assert.equal(result.terminated, false);
      assert.deepEqual([state.ballX, state.ballY, state.ballDx, state.ballDy], [4, 8, -1, -1]);
    },
  );

  await t.step("missing the ball ends the episode", () => {
    const { env, state } = exactGame();
    placeBall(state, 7, 8, 1, 1);
    const result = env.step(MINATAR_NOOP);
    assert.equal(result.terminated, true);
    assert.equal(result.truncated, false);
    assert.deepEqual(cellsOf(result.observation, BALL, CHANNELS), ["9,8"]);
    assert.throws(() => env.step(MINATAR_NOOP), EpisodeOrderError);
  });

  await t.step("a cleared wall is rebuilt when the ball next comes down to the paddle", () => {
    const { env, state } = exactGame();
    state.bricks.fill(0);
    placeBall(state, 4, 7, 1, 1);
    env.step(MINATAR_NOOP);
    assert.equal(brickCount(state), 0, "not yet: the ball is still above the paddle row");
    placeBall(state, 4, 8, 1, 1);
    const result = env.step(MINATAR_NOOP);
    assert.equal(brickCount(state), 30);
    assert.equal(cellsOf(result.observation, BRICK, CHANNELS).length, 30);
  });

  await t.step("no difficulty ramp", () => {
    const env = new Breakout();
    env.reset(1);
    for (let i = 0; i < 5; i++) env.step(MINATAR_NOOP);
    assert.equal(env.difficultyLevel, 0);
    assert.deepEqual(env.minimalActionSet, [MINATAR_NOOP, MINATAR_LEFT, MINATAR_RIGHT]);
  });
});

Deno.test("MinAtar Breakout against the reference implementation", async (t) => {
  await t.step("replaying the reference's random numbers gives its episodes step for step", () => {
    assertMatchesReference("breakout", (numbers) => new ReplayedBreakout(numbers));
  });

  await t.step("a random policy scores and lasts as long as in the reference", () => {
    assertRandomPolicyMatchesReference(new Breakout(), 300);
  });
});
