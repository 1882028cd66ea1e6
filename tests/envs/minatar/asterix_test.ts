import assert from "node:assert/strict";
import { Asterix, ASTERIX_RULES, type AsterixState } from "../../../lib/envs/minatar/asterix.ts";
import {
  MINATAR_DOWN,
  MINATAR_FIRE,
  MINATAR_LEFT,
  MINATAR_NOOP,
  MINATAR_RIGHT,
  MINATAR_UP,
} from "../../../lib/envs/minatar/shared.ts";
import { Rng } from "../../../lib/rng.ts";
import { assertRandomPolicyMatchesReference, cellsOf } from "./_helpers.ts";
import { assertMatchesReference } from "./_reference.ts";

const PLAYER = 0, ENEMY = 1, TRAIL = 2, GOLD = 3, CHANNELS = 4;

/** A game without sticky actions, so each step applies the action given. */
function exactGame(options: { difficultyRamping?: boolean } = {}) {
  const env = new Asterix({ stickyActionProbability: 0, ...options });
  env.reset(0);
  return { env, state: env.trueState() };
}

/** Puts an enemy or gold in the lane of `row`, at column `x`, heading `direction` (+1 right). */
function place(state: AsterixState, row: number, x: number, direction: number, gold: boolean) {
  const lane = row - 1;
  state.laneOccupied[lane] = 1;
  state.laneX[lane] = x;
  state.laneDirection[lane] = direction;
  state.laneGold[lane] = gold ? 1 : 0;
}

class ReplayedAsterix extends Asterix {
  constructor(readonly numbers: Rng) {
    super();
  }
  protected override createRng(): Rng {
    return this.numbers;
  }
}

Deno.test("MinAtar Asterix rules", async (t) => {
  await t.step("starts with the player alone in the middle", () => {
    const env = new Asterix();
    const observation = env.reset(0);
    assert.deepEqual(cellsOf(observation, PLAYER, CHANNELS), ["5,5"]);
    for (const channel of [ENEMY, TRAIL, GOLD]) {
      assert.deepEqual(cellsOf(observation, channel, CHANNELS), []);
    }
  });

  await t.step("the player moves in four directions within rows 1 to 8", () => {
    const { env, state } = exactGame();
    const moves = (action: number, times: number) => {
      for (let i = 0; i < times; i++) {
        state.laneOccupied.fill(0); // nothing to run into
        env.step(action);
      }
      return [state.playerX, state.playerY];
    };
    assert.deepEqual(moves(MINATAR_UP, 6), [5, 1]);
    assert.deepEqual(moves(MINATAR_DOWN, 9), [5, 8]);
    assert.deepEqual(moves(MINATAR_LEFT, 7), [0, 8]);
    assert.deepEqual(moves(MINATAR_RIGHT, 11), [9, 8]);
    assert.deepEqual(moves(MINATAR_FIRE, 1), [9, 8]);
  });

  await t.step("gold scores +1 and disappears, whoever moves onto whom", () => {
    const { env, state } = exactGame();
    state.spawnTimer = 50;
    // Gold drifting onto the player.
    state.moveTimer = 0;
    place(state, 5, 6, -1, true);
    let result = env.step(MINATAR_NOOP);
    assert.equal(result.reward, 1);
    assert.equal(result.terminated, false);
    assert.equal(state.laneOccupied[4], 0);
    assert.deepEqual(cellsOf(result.observation, GOLD, CHANNELS), []);
    // The player stepping onto gold that is not moving this step.
    state.moveTimer = 3;
    place(state, 4, 5, 1, true);
    result = env.step(MINATAR_UP);
    assert.equal(result.reward, 1);
    assert.equal(state.laneOccupied[3], 0);
  });

  await t.step("touching an enemy ends the episode", () => {
    const { env, state } = exactGame();
    state.moveTimer = 0;
    place(state, 5, 4, 1, false);
    const result = env.step(MINATAR_NOOP);
    assert.equal(result.terminated, true);
    assert.equal(result.reward, 0);
    assert.deepEqual(cellsOf(result.observation, ENEMY, CHANNELS), ["5,5"]);
  });

  await t.step(
    "objects cross their row, show where they came from, and leave at the far side",
    () => {
      const { env, state } = exactGame();
      state.spawnTimer = 50;
      state.moveTimer = 0;
      place(state, 2, 8, 1, false);
      place(state, 7, 3, -1, true);
      const observation = env.step(MINATAR_NOOP).observation;
      assert.deepEqual(cellsOf(observation, ENEMY, CHANNELS), ["2,9"]);
      assert.deepEqual(cellsOf(observation, GOLD, CHANNELS), ["7,2"]);
      assert.deepEqual(cellsOf(observation, TRAIL, CHANNELS), ["2,8", "7,3"]);
      // Objects move every moveInterval (5) steps; the enemy then leaves the grid.
      for (let i = 0; i < 4; i++) env.step(MINATAR_NOOP);
      assert.equal(state.laneX[1], 9);
      env.step(MINATAR_NOOP);
      assert.equal(state.laneOccupied[1], 0);
      assert.equal(state.laneX[6], 1);
    },
  );

  await t.step("spawns: every 10 steps at first, from either edge, gold one time in three", () => {
    const env = new Asterix({
      stickyActionProbability: 0,
      difficultyRamping: false,
      maxEpisodeSteps: 20_000,
    });
    const state = (env.reset(7), env.trueState());
    assert.equal(env.trueState().spawnTimer, 10);
    for (let step = 1; step <= 10; step++) env.step(MINATAR_NOOP);
    assert.equal(state.laneOccupied.reduce((a, b) => a + b, 0), 0);
    let spawns = 0, gold = 0, fromLeft = 0;
    for (let step = 11; step < 20_000; step++) {
      const spawning = state.spawnTimer === 0;
      const before = Array.from(state.laneOccupied);
      state.playerY = 1; // out of harm's way: lane 1 is kept clear
      state.laneOccupied[0] = 0;
      env.step(MINATAR_NOOP);
      const fresh = before.flatMap((occupied, lane) =>
        occupied === 0 && lane > 0 && state.laneOccupied[lane] === 1 ? [lane] : []
      );
      assert.ok(fresh.length <= (spawning ? 1 : 0), `step ${step}: ${fresh.length} new objects`);
      if (fresh.length === 1) {
        const lane = fresh[0];
        spawns++;
        gold += state.laneGold[lane];
        if (state.laneDirection[lane] === 1) fromLeft++;
        // Entered at its edge, and may have moved one cell this step.
        const x = state.laneX[lane];
        assert.ok(state.laneDirection[lane] === 1 ? x <= 1 : x >= 8, `x ${x}`);
      }
    }
    assert.ok(spawns > 500, `${spawns} spawns`);
    assert.ok(Math.abs(gold / spawns - 1 / 3) < 0.05, `gold fraction ${gold / spawns}`);
    assert.ok(Math.abs(fromLeft / spawns - 1 / 2) < 0.05, `left fraction ${fromLeft / spawns}`);
  });

  await t.step("difficulty ramps every 102 steps: spawns then moves speed up to every step", () => {
    const { env, state } = exactGame();
    const intervals: Record<number, [number, number, number]> = {};
    for (let step = 1; step <= 1200; step++) {
      state.laneOccupied.fill(0); // keep the player alive
      env.step(MINATAR_NOOP);
      intervals[step] = [state.spawnInterval, state.moveInterval, env.difficultyLevel];
    }
    assert.deepEqual(intervals[101], [10, 5, 0]);
    assert.deepEqual(intervals[102], [9, 5, 1]);
    assert.deepEqual(intervals[204], [8, 4, 2]);
    assert.deepEqual(intervals[306], [7, 4, 3]);
    assert.deepEqual(intervals[816], [2, 1, 8]);
    assert.deepEqual(intervals[918], [1, 1, 9]);
    assert.deepEqual(intervals[1200], [1, 1, 9]);
  });

  await t.step("without ramping the timers stay as they start", () => {
    const { env, state } = exactGame({ difficultyRamping: false });
    for (let step = 1; step <= 500; step++) {
      state.laneOccupied.fill(0);
      env.step(MINATAR_NOOP);
    }
    assert.equal(state.spawnInterval, ASTERIX_RULES.initialSpawnInterval);
    assert.equal(state.moveInterval, ASTERIX_RULES.initialMoveInterval);
    assert.equal(env.difficultyLevel, 0);
  });
});

Deno.test("MinAtar Asterix against the reference implementation", async (t) => {
  await t.step("replaying the reference's random numbers gives its episodes step for step", () => {
    assertMatchesReference("asterix", (numbers) => new ReplayedAsterix(numbers));
  });

  await t.step("a random policy scores and lasts as long as in the reference", () => {
    assertRandomPolicyMatchesReference(new Asterix(), 1000);
  });
});
