import assert from "node:assert/strict";
import { MINATAR_FIRE, MINATAR_LEFT, MINATAR_NOOP } from "../../../lib/envs/minatar/shared.ts";
import {
  SPACE_INVADERS_RULES,
  SpaceInvaders,
  type SpaceInvadersState,
} from "../../../lib/envs/minatar/space_invaders.ts";
import type { Rng } from "../../../lib/rng.ts";
import { assertRandomPolicyMatchesReference, cellsOf, play } from "./_helpers.ts";
import { assertMatchesReference } from "./_reference.ts";

const CANNON = 0, ALIEN = 1, ALIEN_LEFT = 2, ALIEN_RIGHT = 3, FRIENDLY_BULLET = 4;
const ENEMY_BULLET = 5, CHANNELS = 6;

/** A game without sticky actions, so each step applies the action given. */
function exactGame(options: { difficultyRamping?: boolean } = {}) {
  const env = new SpaceInvaders({ stickyActionProbability: 0, ...options });
  env.reset(0);
  return { env, state: env.trueState() };
}

/** Replaces the aliens by the given cells ("row,column"). */
function setAliens(state: SpaceInvadersState, cells: string[]): void {
  state.aliens.fill(0);
  for (const cell of cells) {
    const [row, column] = cell.split(",").map(Number);
    state.aliens[row * 10 + column] = 1;
  }
}

function alienCells(state: SpaceInvadersState): string[] {
  return state.aliens.reduce<string[]>(
    (cells, alien, i) => alien ? [...cells, `${Math.floor(i / 10)},${i % 10}`] : cells,
    [],
  );
}

class ReplayedSpaceInvaders extends SpaceInvaders {
  constructor(readonly numbers: Rng) {
    super();
  }
  protected override createRng(): Rng {
    return this.numbers;
  }
}

Deno.test("MinAtar Space Invaders rules", async (t) => {
  await t.step("starts with the cannon at the bottom under a 4x6 block marching left", () => {
    const env = new SpaceInvaders();
    const observation = env.reset(0);
    assert.deepEqual(cellsOf(observation, CANNON, CHANNELS), ["9,5"]);
    const block = cellsOf(observation, ALIEN, CHANNELS);
    assert.equal(block.length, 24);
    assert.deepEqual(block.slice(0, 6), ["0,2", "0,3", "0,4", "0,5", "0,6", "0,7"]);
    assert.equal(block.at(-1), "3,7");
    assert.deepEqual(cellsOf(observation, ALIEN_LEFT, CHANNELS), block);
    assert.deepEqual(cellsOf(observation, ALIEN_RIGHT, CHANNELS), []);
  });

  await t.step("the cannon moves left and right and fires at most once every 5 steps", () => {
    const { env, state } = exactGame();
    play(env, [MINATAR_LEFT, MINATAR_LEFT]);
    assert.equal(state.cannonX, 3);
    const result = env.step(MINATAR_FIRE);
    // The bullet starts on the cannon's row and flies one row in the step it is fired.
    assert.deepEqual(cellsOf(result.observation, FRIENDLY_BULLET, CHANNELS), ["8,3"]);
    // Firing takes the step; while reloading, fire does nothing.
    const shots: number[] = [];
    for (let step = 1; step <= 12; step++) {
      const before = state.friendlyBullets.reduce((a, b) => a + b, 0);
      env.step(MINATAR_FIRE);
      const row8 = state.friendlyBullets[8 * 10 + 3];
      if (row8 === 1) shots.push(step);
      assert.ok(state.friendlyBullets.reduce((a, b) => a + b, 0) <= before + 1);
    }
    assert.deepEqual(shots, [5, 10]);
    assert.equal(state.cannonX, 3);
  });

  await t.step("a bullet meeting an alien removes both (+1)", () => {
    const { env, state } = exactGame();
    // The cannon under column 5, whose lowest alien is on row 3.
    const rewards = play(env, [MINATAR_FIRE, 0, 0, 0, 0, 0]);
    assert.deepEqual(rewards, [0, 0, 0, 0, 0, 1]);
    assert.equal(state.aliens[3 * 10 + 5], 0);
    assert.equal(state.friendlyBullets.reduce((a, b) => a + b, 0), 0);
    assert.equal(alienCells(state).length, 23);
  });

  await t.step("the block marches sideways, and at an edge steps down and turns", () => {
    const { env, state } = exactGame();
    state.alienMoveTimer = 0;
    env.step(MINATAR_NOOP);
    assert.equal(alienCells(state)[0], "0,1");
    setAliens(state, ["2,0", "2,1", "3,4"]);
    state.alienMoveTimer = 0;
    const observation = env.step(MINATAR_NOOP).observation;
    assert.deepEqual(alienCells(state), ["3,0", "3,1", "4,4"]);
    assert.equal(state.alienDirection, 1);
    assert.deepEqual(cellsOf(observation, ALIEN_RIGHT, CHANNELS), ["3,0", "3,1", "4,4"]);
    assert.deepEqual(cellsOf(observation, ALIEN_LEFT, CHANNELS), []);
  });

  await t.step(
    "the block speeds up as it thins: it moves every min(aliens, interval) steps",
    () => {
      const { env, state } = exactGame();
      state.alienShotTimer = 1000;
      setAliens(state, ["1,3", "1,5", "2,4"]);
      state.alienMoveTimer = 0;
      const moved: number[] = [];
      for (let step = 1; step <= 10; step++) {
        const before = alienCells(state).join();
        env.step(MINATAR_NOOP);
        if (alienCells(state).join() !== before) moved.push(step);
      }
      assert.deepEqual(moved, [1, 4, 7, 10]);
      setAliens(state, ["1,5"]);
      state.alienDirection = -1;
      state.alienMoveTimer = 0;
      const columns = [1, 2, 3, 4].map(() => (env.step(MINATAR_NOOP), alienCells(state)[0]));
      assert.deepEqual(columns, ["1,4", "1,3", "1,2", "1,1"]);
    },
  );

  await t.step("every 10 steps the lowest alien nearest the cannon's column drops a bullet", () => {
    const { env, state } = exactGame();
    const bullets = (action: number) =>
      cellsOf(env.step(action).observation, ENEMY_BULLET, CHANNELS);
    for (let step = 1; step <= 10; step++) assert.deepEqual(bullets(MINATAR_NOOP), []);
    // Column 5's lowest alien is on row 3.
    assert.deepEqual(bullets(MINATAR_NOOP), ["3,5"]);
    assert.deepEqual(bullets(MINATAR_LEFT), ["4,5"]);
    bullets(MINATAR_LEFT);
    for (let step = 14; step <= 20; step++) bullets(MINATAR_NOOP);
    // The cannon now under column 3; the block has moved one column left since.
    assert.deepEqual(bullets(MINATAR_NOOP), ["3,3"]);
    // A tie between two columns goes to the left one.
    setAliens(state, ["0,1", "2,5"]);
    state.alienShotTimer = 0;
    state.alienMoveTimer = 1000;
    state.enemyBullets.fill(0);
    assert.deepEqual(bullets(MINATAR_NOOP), ["0,1"]);
  });

  await t.step("an alien bullet reaching the cannon ends the episode", () => {
    const { env, state } = exactGame();
    state.enemyBullets[8 * 10 + 5] = 1;
    const result = env.step(MINATAR_NOOP);
    assert.equal(result.terminated, true);
    assert.deepEqual(cellsOf(result.observation, ENEMY_BULLET, CHANNELS), ["9,5"]);
  });

  await t.step("aliens reaching the bottom row end the episode", () => {
    // Landing on the cannon.
    let { env, state } = exactGame();
    setAliens(state, ["8,5"]);
    state.alienDirection = 1;
    state.alienMoveTimer = 0;
    state.aliens[8 * 10 + 9] = 1; // at the right edge: the block steps down
    assert.equal(env.step(MINATAR_NOOP).terminated, true);
    // Having to step down with an alien already on the bottom row.
    ({ env, state } = exactGame());
    setAliens(state, ["9,0"]);
    state.alienMoveTimer = 0;
    assert.equal(env.step(MINATAR_NOOP).terminated, true);
    // On the bottom row but not yet stepping down: the game goes on.
    ({ env, state } = exactGame());
    setAliens(state, ["9,2"]);
    state.alienMoveTimer = 0;
    assert.equal(env.step(MINATAR_NOOP).terminated, false);
  });

  await t.step("a cleared wave is replaced by a faster one, down to an interval of 6", () => {
    const clearWave = (env: SpaceInvaders, state: SpaceInvadersState) => {
      setAliens(state, ["8,5"]);
      state.alienMoveTimer = 100;
      state.alienShotTimer = 100;
      state.shotCooldown = 0;
      return env.step(MINATAR_FIRE).reward;
    };
    const { env, state } = exactGame();
    assert.equal(clearWave(env, state), 1);
    assert.equal(alienCells(state).length, 24);
    assert.equal(state.moveInterval, 11);
    assert.equal(env.difficultyLevel, 1);
    for (let wave = 0; wave < 8; wave++) clearWave(env, state);
    assert.equal(state.moveInterval, SPACE_INVADERS_RULES.fastestMoveInterval);
    assert.equal(env.difficultyLevel, 6);

    const steady = exactGame({ difficultyRamping: false });
    assert.equal(clearWave(steady.env, steady.state), 1);
    assert.equal(steady.state.moveInterval, SPACE_INVADERS_RULES.initialMoveInterval);
    assert.equal(steady.env.difficultyLevel, 0);
  });
});

Deno.test("MinAtar Space Invaders against the reference implementation", async (t) => {
  await t.step("replaying the reference's random numbers gives its episodes step for step", () => {
    assertMatchesReference("space_invaders", (numbers) => new ReplayedSpaceInvaders(numbers));
  });

  await t.step("a random policy scores and lasts as long as in the reference", () => {
    assertRandomPolicyMatchesReference(new SpaceInvaders(), 1000);
  });
});
