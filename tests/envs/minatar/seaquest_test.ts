import assert from "node:assert/strict";
import { EpisodeOrderError } from "../../../lib/envs/classic_env.ts";
import {
  Seaquest,
  SEAQUEST_RULES,
  type SeaquestState,
} from "../../../lib/envs/minatar/seaquest.ts";
import {
  MINATAR_DOWN,
  MINATAR_FIRE,
  MINATAR_LEFT,
  MINATAR_NOOP,
  MINATAR_RIGHT,
  MINATAR_UP,
} from "../../../lib/envs/minatar/shared.ts";
import { Rng } from "../../../lib/rng.ts";
import { assertRandomPolicyMatchesReference, cellsOf, play } from "./_helpers.ts";
import { assertMatchesReference } from "./_reference.ts";

const SUB_FRONT = 0, SUB_BACK = 1, FRIENDLY_BULLET = 2, TRAIL = 3, ENEMY_BULLET = 4;
const ENEMY_FISH = 5, ENEMY_SUB = 6, OXYGEN_GAUGE = 7, DIVER_GAUGE = 8, DIVER = 9;
const CHANNELS = 10;

/** A game without sticky actions and, unless asked, without anything spawning. */
function exactGame(options: { difficultyRamping?: boolean; spawns?: boolean } = {}) {
  const env = new Seaquest({
    stickyActionProbability: 0,
    difficultyRamping: options.difficultyRamping,
  });
  env.reset(0);
  const state = env.trueState();
  if (!options.spawns) holdSpawns(state);
  return { env, state };
}

function holdSpawns(state: SeaquestState): void {
  state.enemySpawnTimer = 1_000_000;
  state.diverSpawnTimer = 1_000_000;
}

class ReplayedSeaquest extends Seaquest {
  constructor(readonly numbers: Rng) {
    super();
  }
  protected override createRng(): Rng {
    return this.numbers;
  }
}

Deno.test("MinAtar Seaquest rules", async (t) => {
  await t.step("starts at the surface facing left with full oxygen and no divers", () => {
    const env = new Seaquest();
    const observation = env.reset(0);
    assert.deepEqual(cellsOf(observation, SUB_FRONT, CHANNELS), ["0,5"]);
    assert.deepEqual(cellsOf(observation, SUB_BACK, CHANNELS), ["0,6"]);
    assert.equal(cellsOf(observation, OXYGEN_GAUGE, CHANNELS).length, 10);
    assert.deepEqual(cellsOf(observation, DIVER_GAUGE, CHANNELS), []);
    for (const channel of [FRIENDLY_BULLET, TRAIL, ENEMY_BULLET, ENEMY_FISH, ENEMY_SUB, DIVER]) {
      assert.deepEqual(cellsOf(observation, channel, CHANNELS), []);
    }
  });

  await t.step("the submarine moves within rows 0 to 8 and turns to face its way", () => {
    const { env, state } = exactGame();
    play(env, [MINATAR_UP, MINATAR_RIGHT]);
    assert.deepEqual([state.subX, state.subY, state.facingRight], [6, 0, true]);
    const observation = env.step(MINATAR_NOOP).observation;
    assert.deepEqual(cellsOf(observation, SUB_BACK, CHANNELS), ["0,5"]);
    play(env, Array(12).fill(MINATAR_DOWN));
    assert.equal(state.subY, 8);
    play(env, Array(12).fill(MINATAR_LEFT));
    assert.deepEqual([state.subX, state.facingRight], [0, false]);
  });

  await t.step("staying at the surface costs no oxygen and is safe", () => {
    const env = new Seaquest();
    env.reset(1);
    for (let step = 0; step < 2000; step++) {
      assert.equal(env.step(MINATAR_UP).terminated, false);
    }
    assert.equal(env.trueState().oxygen, SEAQUEST_RULES.maxOxygen);
  });

  await t.step("oxygen falls a unit a step under water and the episode ends when it is out", () => {
    const { env, state } = exactGame();
    let observation = env.step(MINATAR_DOWN).observation;
    assert.equal(state.oxygen, 199);
    assert.equal(cellsOf(observation, OXYGEN_GAUGE, CHANNELS).length, 9);
    for (let step = 2; step <= 200; step++) {
      const result = env.step(MINATAR_NOOP);
      assert.equal(result.terminated, false, `step ${step}`);
      observation = result.observation;
    }
    assert.equal(state.oxygen, 0);
    assert.deepEqual(cellsOf(observation, OXYGEN_GAUGE, CHANNELS), []);
    assert.equal(env.step(MINATAR_NOOP).terminated, true);
  });

  await t.step("coming up with no diver ends the episode", () => {
    const { env } = exactGame();
    assert.equal(env.step(MINATAR_DOWN).terminated, false);
    assert.equal(env.step(MINATAR_UP).terminated, true);
    assert.throws(() => env.step(MINATAR_NOOP), EpisodeOrderError);
  });

  await t.step("touching a diver takes it on board, up to six", () => {
    const { env, state } = exactGame();
    env.step(MINATAR_DOWN);
    state.divers.add(4, 1, 1, 0); // drifts onto the submarine this step
    let observation = env.step(MINATAR_NOOP).observation;
    assert.equal(state.diverCount, 1);
    assert.equal(state.divers.count, 0);
    assert.deepEqual(cellsOf(observation, DIVER_GAUGE, CHANNELS), ["9,8"]);
    state.diverCount = 6;
    state.divers.add(5, 1, 1, 3);
    observation = env.step(MINATAR_NOOP).observation;
    assert.equal(state.diverCount, 6);
    assert.deepEqual(cellsOf(observation, DIVER, CHANNELS), ["1,5"]);
    assert.deepEqual(cellsOf(observation, TRAIL, CHANNELS), ["1,4"]);
    assert.equal(cellsOf(observation, DIVER_GAUGE, CHANNELS).length, 6);
  });

  await t.step("coming up with 1 to 5 divers costs one, refills oxygen and ramps", () => {
    const { env, state } = exactGame();
    play(env, [MINATAR_DOWN, MINATAR_DOWN]);
    state.diverCount = 3;
    env.step(MINATAR_UP);
    const result = env.step(MINATAR_UP);
    assert.equal(result.terminated, false);
    assert.equal(result.reward, 0);
    assert.equal(state.diverCount, 2);
    assert.equal(state.oxygen, SEAQUEST_RULES.maxOxygen);
    assert.deepEqual([state.enemySpawnInterval, state.moveInterval, env.difficultyLevel], [
      19,
      5,
      1,
    ]);
    // Only the first step back at the surface counts.
    assert.equal(env.step(MINATAR_NOOP).terminated, false);
    assert.equal(state.diverCount, 2);
  });

  await t.step("each surfacing speeds the enemies up, down to a spawn every step", () => {
    const { env, state } = exactGame();
    const levels: number[][] = [];
    for (let surfacing = 0; surfacing < 25; surfacing++) {
      state.diverCount = 3;
      play(env, [MINATAR_DOWN, MINATAR_UP]);
      levels.push([state.enemySpawnInterval, state.moveInterval]);
    }
    assert.deepEqual(levels.slice(0, 6), [[19, 5], [18, 4], [17, 4], [16, 3], [15, 3], [14, 2]]);
    assert.deepEqual(levels[18], [1, 2]);
    assert.deepEqual(levels[24], [1, 2]);
    assert.equal(env.difficultyLevel, 19);

    const steady = exactGame({ difficultyRamping: false });
    steady.state.diverCount = 3;
    play(steady.env, [MINATAR_DOWN, MINATAR_UP]);
    assert.deepEqual([steady.state.enemySpawnInterval, steady.state.moveInterval], [20, 5]);
  });

  await t.step("coming up with six divers scores a point per tenth of oxygen left", () => {
    const { env, state } = exactGame();
    play(env, [MINATAR_DOWN, MINATAR_DOWN]);
    state.diverCount = 6;
    state.oxygen = 157;
    env.step(MINATAR_UP);
    const result = env.step(MINATAR_UP);
    // 156 oxygen left on arrival: 7 tenths.
    assert.equal(result.reward, 7);
    assert.equal(state.oxygen, SEAQUEST_RULES.maxOxygen);
    // As in the reference, the divers are cleared and then one more is taken: the count is -1,
    // so the next surfacing without a diver goes on.
    assert.equal(state.diverCount, -1);
    assert.deepEqual(cellsOf(result.observation, DIVER_GAUGE, CHANNELS), []);
    play(env, [MINATAR_DOWN]);
    assert.equal(env.step(MINATAR_UP).terminated, false);
    assert.equal(state.diverCount, -2);
  });

  await t.step("a torpedo flies from the front and destroys the enemy it meets (+1)", () => {
    const { env, state } = exactGame();
    play(env, [MINATAR_DOWN, MINATAR_DOWN, MINATAR_DOWN, MINATAR_RIGHT]);
    state.fish.add(9, 3, -1, 100);
    state.enemySubs.add(0, 3, 1, 100, 100);
    assert.deepEqual(play(env, [MINATAR_FIRE, MINATAR_NOOP, MINATAR_NOOP]), [0, 0, 1]);
    assert.equal(state.fish.count, 0);
    assert.equal(state.torpedoes.count, 0);
    // Reloading takes 5 steps; then a torpedo to the left meets the sub.
    play(env, [MINATAR_LEFT, MINATAR_NOOP]);
    const rewards = play(env, [MINATAR_FIRE, MINATAR_NOOP, MINATAR_NOOP, MINATAR_NOOP, 0]);
    assert.deepEqual(rewards, [0, 0, 0, 0, 1]);
    assert.equal(state.enemySubs.count, 0);
  });

  await t.step("an enemy or an enemy bullet touching the submarine ends the episode", () => {
    let { env, state } = exactGame();
    play(env, [MINATAR_DOWN, MINATAR_DOWN, MINATAR_DOWN]);
    state.fish.add(6, 3, -1, 0);
    assert.equal(env.step(MINATAR_NOOP).terminated, true);

    ({ env, state } = exactGame());
    play(env, [MINATAR_DOWN, MINATAR_DOWN, MINATAR_DOWN]);
    state.enemyBullets.add(7, 3, -1);
    assert.equal(env.step(MINATAR_NOOP).terminated, false);
    assert.equal(env.step(MINATAR_NOOP).terminated, true);
  });

  await t.step("enemy subs fire along their row every 11 steps", () => {
    const { env, state } = exactGame();
    state.enemySubs.add(2, 4, 1, 100, 0);
    let observation = env.step(MINATAR_NOOP).observation;
    assert.deepEqual(cellsOf(observation, ENEMY_BULLET, CHANNELS), ["4,3"]);
    assert.deepEqual(cellsOf(observation, ENEMY_SUB, CHANNELS), ["4,2"]);
    for (let step = 2; step <= 12; step++) observation = env.step(MINATAR_NOOP).observation;
    assert.deepEqual(cellsOf(observation, ENEMY_BULLET, CHANNELS), ["4,3"]);
  });

  await t.step("enemies spawn from the edges, never against the flow of their row", () => {
    const env = new Seaquest({ maxEpisodeSteps: 30_000 });
    env.reset(3);
    const state = env.trueState();
    const policy = new Rng(9);
    let fish = 0, subs = 0, fromLeft = 0;
    for (let step = 0; step < 20_000; step++) {
      // Kept alive in mid-water (rows 2 to 8: a step up stays below the surface), a spawn due.
      state.subX = 5;
      state.subY = 2 + policy.int(7);
      state.oxygen = SEAQUEST_RULES.maxOxygen;
      for (const pool of [state.fish, state.enemySubs, state.enemyBullets, state.torpedoes]) {
        pool.clear();
      }
      state.enemySpawnTimer = 0;
      env.step(policy.int(6));
      assert.equal(env.elapsedSteps, step + 1);
      for (const pool of [state.fish, state.enemySubs]) {
        for (let i = 0; i < pool.count; i++) {
          assert.equal(pool.x[i], pool.direction[i] > 0 ? 0 : 9);
          if (pool.direction[i] > 0) fromLeft++;
        }
      }
      fish += state.fish.count;
      subs += state.enemySubs.count;
    }
    assert.equal(fish + subs, 20_000);
    assert.ok(Math.abs(subs / 20_000 - 1 / 3) < 0.02, `subs ${subs} fish ${fish}`);
    assert.ok(Math.abs(fromLeft / 20_000 - 1 / 2) < 0.02, `from the left ${fromLeft}`);

    // In play, every row's enemies head the same way.
    const game = new Seaquest({ stickyActionProbability: 0 });
    game.reset(4);
    const inPlay = game.trueState();
    for (let step = 0; step < 3000; step++) {
      inPlay.subY = 0;
      inPlay.diverCount = 1;
      game.step(MINATAR_NOOP);
      const heading = new Map<number, number>();
      for (const pool of [inPlay.fish, inPlay.enemySubs]) {
        for (let i = 0; i < pool.count; i++) {
          const seen = heading.get(pool.y[i]) ?? pool.direction[i];
          assert.equal(pool.direction[i], seen, `row ${pool.y[i]} at step ${step}`);
          heading.set(pool.y[i], seen);
          assert.ok(pool.y[i] >= 1 && pool.y[i] <= 8);
        }
      }
    }
  });
});

Deno.test("MinAtar Seaquest against the reference implementation", async (t) => {
  await t.step("replaying the reference's random numbers gives its episodes step for step", () => {
    assertMatchesReference("seaquest", (numbers) => new ReplayedSeaquest(numbers));
  });

  await t.step("a random policy scores and lasts as long as in the reference", () => {
    assertRandomPolicyMatchesReference(new Seaquest(), 1000);
  });
});
