import assert from "node:assert/strict";
import {
  Freeway,
  FREEWAY_TIME_LIMIT,
  type FreewayState,
} from "../../../lib/envs/minatar/freeway.ts";
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

const CHICKEN = 0, CAR = 1, SPEED1 = 2, CHANNELS = 7;

/** A game without sticky actions whose cars are all far from the chicken's column. */
function quietGame(seed = 0): { env: Freeway; state: FreewayState } {
  const env = new Freeway({ stickyActionProbability: 0 });
  env.reset(seed);
  const state = env.trueState();
  // Slowest cars heading right from column 5: nine moves (54 steps) from column 4.
  state.carX.fill(5);
  state.carDirection.fill(1);
  state.carDelay.fill(5);
  state.carTimer.fill(5);
  return { env, state };
}

class ReplayedFreeway extends Freeway {
  constructor(readonly numbers: Rng) {
    super();
  }
  protected override createRng(): Rng {
    return this.numbers;
  }
}

Deno.test("MinAtar Freeway rules", async (t) => {
  await t.step("starts with the chicken at the bottom and a car in each lane", () => {
    const env = new Freeway();
    const observation = env.reset(3);
    assert.deepEqual(cellsOf(observation, CHICKEN, CHANNELS), ["9,4"]);
    assert.deepEqual(
      cellsOf(observation, CAR, CHANNELS),
      [1, 2, 3, 4, 5, 6, 7, 8].map((r) => `${r},0`),
    );
    const state = env.trueState();
    for (let lane = 0; lane < 8; lane++) {
      const delay = state.carDelay[lane];
      assert.ok(delay >= 1 && delay <= 5, `delay ${delay}`);
      // The trail marks the cell behind the car (wrapping), in the channel of its delay.
      const behind = state.carDirection[lane] > 0 ? 9 : 1;
      assert.ok(
        cellsOf(observation, SPEED1 + delay - 1, CHANNELS).includes(`${lane + 1},${behind}`),
      );
    }
  });

  await t.step("the chicken moves up or down at most once every 3 steps", () => {
    const { env, state } = quietGame();
    const rows = [1, 2, 3, 4, 5, 6, 7].map(() => (env.step(MINATAR_UP), state.chickenY));
    // It waits 3 steps at the start too.
    assert.deepEqual(rows, [9, 9, 9, 8, 8, 8, 7]);
    for (let i = 0; i < 2; i++) env.step(MINATAR_NOOP);
    env.step(MINATAR_DOWN);
    assert.equal(state.chickenY, 8);
    for (const action of [MINATAR_LEFT, MINATAR_RIGHT, MINATAR_FIRE, MINATAR_NOOP]) {
      for (let i = 0; i < 3; i++) env.step(action);
      assert.equal(state.chickenY, 8);
    }
  });

  await t.step("reaching the top scores +1 and puts the chicken back at the bottom", () => {
    const { env, state } = quietGame();
    state.chickenY = 1;
    state.moveCooldown = 0;
    const result = env.step(MINATAR_UP);
    assert.equal(result.reward, 1);
    assert.equal(state.chickenY, 9);
    assert.deepEqual(cellsOf(result.observation, CHICKEN, CHANNELS), ["9,4"]);
    // New speeds and directions for the cars; they stay where they were.
    assert.deepEqual(Array.from(state.carX), Array(8).fill(5));
    assert.ok(state.carDelay.some((delay) => delay !== 5), `${state.carDelay}`);
  });

  await t.step("a car hitting the chicken sends it back to the bottom", () => {
    const { env, state } = quietGame();
    // A car about to drive onto the chicken's cell.
    state.chickenY = 3;
    state.carX[2] = 3;
    state.carTimer[2] = 0;
    assert.equal(env.step(MINATAR_NOOP).reward, 0);
    assert.equal(state.chickenY, 9);
    assert.equal(state.carX[2], 4);
    // The chicken stepping into a standing car fares the same.
    state.chickenY = 4;
    state.moveCooldown = 0;
    state.carTimer[2] = 5;
    env.step(MINATAR_UP);
    assert.equal(state.chickenY, 9);
  });

  await t.step("a car with delay d moves one cell every d + 1 steps, wrapping around", () => {
    const { env, state } = quietGame();
    state.carX[0] = 8;
    state.carDelay[0] = 2;
    state.carTimer[0] = 2;
    const columns = Array.from({ length: 9 }, () => (env.step(MINATAR_NOOP), state.carX[0]));
    assert.deepEqual(columns, [8, 8, 9, 9, 9, 0, 0, 0, 1]);
  });

  await t.step("the episode ends after 2,501 steps", () => {
    const env = new Freeway();
    env.reset(4);
    for (let step = 1; step <= FREEWAY_TIME_LIMIT; step++) {
      assert.equal(env.step(MINATAR_NOOP).terminated, false);
    }
    const last = env.step(MINATAR_NOOP);
    assert.equal(last.terminated, true);
    assert.equal(last.truncated, false);
    assert.equal(env.elapsedSteps, 2501);
  });

  await t.step("always pressing up crosses the road many times, as in the reference", () => {
    const env = new Freeway();
    const scores = Array.from({ length: 30 }, (_, seed) => {
      env.reset(seed);
      let score = 0;
      for (;;) {
        const result = env.step(MINATAR_UP);
        score += result.reward;
        if (result.terminated) return score;
      }
    });
    // The reference code scores 17.2 ± 13.2 over 30 episodes; fast cars can pin the chicken down.
    const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
    assert.ok(mean > 10 && mean < 25, `mean ${mean} (${scores})`);
    assert.equal(env.difficultyLevel, 0);
  });
});

Deno.test("MinAtar Freeway against the reference implementation", async (t) => {
  await t.step("replaying the reference's random numbers gives its episodes step for step", () => {
    assertMatchesReference("freeway", (numbers) => new ReplayedFreeway(numbers));
  });

  await t.step("a random policy scores and lasts as long as in the reference", () => {
    assertRandomPolicyMatchesReference(new Freeway(), 200);
  });
});
