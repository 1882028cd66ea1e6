import assert from "node:assert/strict";
import { EpisodeOrderError } from "../../lib/envs/classic_env.ts";
import {
  scriptedTakeCoverAction,
  TAKE_COVER_LEFT,
  TAKE_COVER_RIGHT,
  TAKE_COVER_RULES as R,
  TAKE_COVER_SIZE,
  TAKE_COVER_STAY,
  TakeCover,
} from "../../lib/envs/take_cover.ts";
import { InvalidActionError } from "../../lib/envs/types.ts";
import { VectorEnv } from "../../lib/envs/vector.ts";
import { Rng } from "../../lib/rng.ts";

/** Frames survived by one episode under `policy`, and whether it ended by a hit. */
function survive(env: TakeCover, seed: number, policy: () => number) {
  env.reset(seed);
  let total = 0;
  for (;;) {
    const result = env.step(policy());
    total += result.reward;
    if (result.terminated || result.truncated) {
      return { frames: env.elapsedSteps, total, hit: result.terminated };
    }
  }
}

/** Pixels with a fireball's core or rim colour. */
function fireballPixels(image: Uint8Array): number {
  let count = 0;
  for (let i = 0; i < image.length; i += 3) {
    const core = image[i + 1] === 240 && image[i + 2] === 140;
    const rim = image[i + 1] === 140 && image[i + 2] === 20;
    if (image[i] === 255 && (core || rim)) count++;
  }
  return count;
}

Deno.test("TakeCover rules", async (t) => {
  const env = new TakeCover();

  await t.step("+1 for every frame survived", () => {
    const { frames, total } = survive(env, 3, () => TAKE_COVER_STAY);
    assert.equal(total, frames);
  });

  await t.step("a fireball aimed at a still agent hits it when it has flown the distance", () => {
    env.reset(4);
    const state = env.trueState();
    let thrownAt = -1;
    let flight = 0;
    for (;;) {
      const result = env.step(TAKE_COVER_STAY);
      if (thrownAt < 0 && state.fireballCount > 0) {
        thrownAt = env.elapsedSteps;
        // Aimed at the agent: it must cover the distance to the agent, less the two radii.
        const distance = Math.hypot(state.fireballX[0] - state.agentX, state.fireballZ[0]);
        flight = Math.ceil((distance - R.agentRadius - R.fireballRadius) / R.fireballSpeed);
      }
      if (result.terminated) break;
      assert.equal(result.truncated, false);
    }
    // The fireball is launched, then moves from the next frame on.
    assert.equal(env.elapsedSteps, thrownAt + flight);
    assert.throws(() => env.step(TAKE_COVER_STAY), EpisodeOrderError);
  });

  await t.step("moving sideways dodges a fireball aimed at where the agent was", () => {
    env.reset(4);
    const state = env.trueState();
    while (state.fireballCount === 0) env.step(TAKE_COVER_STAY);
    // Run left for 15 frames (4.5 units), then wait until the fireball has passed.
    for (let i = 0; i < 15; i++) env.step(TAKE_COVER_LEFT);
    for (let i = 0; i < 40; i++) assert.equal(env.step(TAKE_COVER_STAY).terminated, false);
  });

  await t.step("the agent moves agentSpeed per frame and stops at the walls", () => {
    env.reset(5);
    const state = env.trueState();
    env.step(TAKE_COVER_RIGHT);
    assert.ok(Math.abs(state.agentX - R.agentSpeed) < 1e-12);
    for (let i = 0; i < 100; i++) env.step(TAKE_COVER_RIGHT);
    assert.equal(state.agentX, R.roomHalfWidth - R.agentRadius);
  });

  await t.step("more monsters arrive the longer the agent survives", () => {
    env.reset(6);
    const state = env.trueState();
    assert.equal(state.monsterCount, R.initialMonsters);
    for (let frame = 1; frame <= 1000; frame++) {
      const result = env.step(scriptedTakeCoverAction(env));
      const expected = Math.min(
        R.maxMonsters,
        R.initialMonsters + Math.floor(frame / R.spawnInterval),
      );
      assert.equal(state.monsterCount, expected);
      if (result.terminated) break;
    }
  });

  await t.step("truncation at 2100 frames", () => {
    const result = survive(env, 7, () => scriptedTakeCoverAction(env));
    assert.equal(result.frames, 2100);
    assert.equal(result.hit, false);
    assert.equal(result.total, 2100);
  });

  await t.step("actions other than 0, 1, 2 are errors", () => {
    env.reset(0);
    for (const action of [-1, 3, 1.5, Number.NaN, [1]]) {
      assert.throws(() => env.step(action), InvalidActionError);
    }
    assert.equal(env.elapsedSteps, 0);
  });
});

Deno.test("TakeCover observations", async (t) => {
  await t.step("a 64x64 RGB first-person frame in one reused buffer", () => {
    const env = new TakeCover();
    const first = env.reset(0);
    assert.deepEqual(env.observationSpec.shape, [64, 64, 3]);
    assert.equal(first.length, TAKE_COVER_SIZE * TAKE_COVER_SIZE * 3);
    const result = env.step(TAKE_COVER_STAY);
    assert.equal(result.observation, first);
    assert.equal(env.step(TAKE_COVER_LEFT), result);
    // Not blank: ceiling, wall and floor differ, and the top and bottom rows differ.
    const colours = new Set<number>();
    for (let i = 0; i < first.length; i += 3) {
      colours.add((first[i] << 16) | (first[i + 1] << 8) | first[i + 2]);
    }
    assert.ok(colours.size > 20, `${colours.size} colours`);
  });

  await t.step("fireballs are visible and grow as they approach", () => {
    const env = new TakeCover();
    env.reset(4);
    const state = env.trueState();
    while (state.fireballCount === 0) env.step(TAKE_COVER_STAY);
    const sizes: number[] = [];
    for (let i = 0; i < 30; i++) {
      sizes.push(fireballPixels(env.step(TAKE_COVER_STAY).observation));
    }
    assert.ok(sizes[0] >= 1, "a fireball far away is at least a pixel");
    for (let i = 5; i < 30; i += 5) assert.ok(sizes[i] >= sizes[i - 5], `sizes ${sizes}`);
    assert.ok(sizes[29] > 4 * sizes[0], `sizes ${sizes}`);
  });

  await t.step("the same seed gives the same episode, another seed another", () => {
    const trace = (seed: number) => {
      const env = new TakeCover();
      const rng = new Rng(1);
      const frames = [Array.from(env.reset(seed))];
      for (let i = 0; i < 60; i++) {
        const result = env.step(rng.int(3));
        frames.push([...result.observation, result.reward]);
        if (result.terminated) break;
      }
      return frames;
    };
    assert.deepEqual(trace(8), trace(8));
    assert.notDeepEqual(trace(9), trace(8));
  });

  await t.step("the batched form steps copies in lockstep with single environments", () => {
    const batch = new VectorEnv(() => new TakeCover(), 3, { autoReset: true });
    const singles = [0, 1, 2].map(() => new TakeCover());
    batch.reset(30);
    singles.forEach((env, i) => env.reset(30 + i));
    const actions = new Int32Array([0, 1, 2]);
    for (let step = 0; step < 40; step++) {
      batch.step(actions);
      singles.forEach((env, i) => {
        assert.deepEqual(batch.observationOf(i), env.step(actions[i]).observation);
      });
    }
  });
});

Deno.test("TakeCover calibration", async (t) => {
  const env = new TakeCover();

  await t.step("a uniformly random policy survives about the paper's 210 +- 108 frames", () => {
    const rng = new Rng(99);
    const frames: number[] = [];
    for (let episode = 0; episode < 100; episode++) {
      frames.push(survive(env, 1000 + episode, () => rng.int(3)).frames);
    }
    const mean = frames.reduce((a, b) => a + b, 0) / frames.length;
    const std = Math.sqrt(frames.reduce((a, b) => a + (b - mean) ** 2, 0) / frames.length);
    // 1,000 episodes give 216 +- 109 (bench/envs_pixels.ts); 100 stay within a few standard errors.
    assert.ok(mean > 175 && mean < 250, `mean ${mean}`);
    assert.ok(std > 70 && std < 150, `std ${std}`);
  });

  await t.step("the scripted dodger survives over 1000 frames on average", () => {
    const frames = [0, 1, 2, 3, 4].map((seed) =>
      survive(env, 500 + seed, () => scriptedTakeCoverAction(env)).frames
    );
    const mean = frames.reduce((a, b) => a + b, 0) / frames.length;
    assert.ok(mean > 1000, `dodger mean ${mean} (${frames})`);
  });
});
