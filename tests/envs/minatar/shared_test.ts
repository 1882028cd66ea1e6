/**
 * What the five MinAtar games share: the environment contract (as tests/envs/contract_test.ts
 * states it for the classic tasks, with episodes rather than start states telling seeds apart,
 * since Asterix, Seaquest and Space Invaders always start the same way), the six actions, sticky
 * actions, the time limit, and the pictures.
 */
import assert from "node:assert/strict";
import { EpisodeOrderError } from "../../../lib/envs/classic_env.ts";
import { Asterix } from "../../../lib/envs/minatar/asterix.ts";
import { Breakout } from "../../../lib/envs/minatar/breakout.ts";
import { Freeway } from "../../../lib/envs/minatar/freeway.ts";
import * as minatar from "../../../lib/envs/minatar/mod.ts";
import { Seaquest } from "../../../lib/envs/minatar/seaquest.ts";
import {
  GRID_SIZE,
  MINATAR_ACTION_NAMES,
  MINATAR_NOOP,
  MINATAR_UP,
  type MinAtarEnv,
  minAtarPalette,
  renderMinAtarObservation,
} from "../../../lib/envs/minatar/shared.ts";
import { SpaceInvaders } from "../../../lib/envs/minatar/space_invaders.ts";
import { ENV_IDS, makeEnv, MINATAR_IDS, REWARD_THRESHOLDS } from "../../../lib/envs/registry.ts";
import { PixelObservationEnv } from "../../../lib/envs/pixels.ts";
import { InvalidActionError } from "../../../lib/envs/types.ts";
import { VectorEnv } from "../../../lib/envs/vector.ts";
import { frameFrom, upscale } from "../../../lib/viz/frame.ts";
import { Rng } from "../../../lib/rng.ts";

/**
 * Observations and rewards over `steps` steps under actions drawn from `actionSeed`: the episode
 * started by `reset(seed)` and, as each one ends, the next started by an unseeded `reset()` (the
 * generator's stream goes on). With `seed` null the episode under way goes on first.
 */
function rollout(
  env: MinAtarEnv,
  seed: number | null | undefined,
  actionSeed: number,
  steps = 200,
) {
  const actions = new Rng(actionSeed);
  const trace = seed === null ? [] : [Array.from(env.reset(seed))];
  for (let i = 0; i < steps; i++) {
    const { observation, reward, terminated, truncated } = env.step(actions.int(6));
    trace.push([...observation, reward]);
    if (terminated || truncated) trace.push(Array.from(env.reset()));
  }
  return trace;
}

/** Whether two traces are equal (without the cost of a diff when they are not). */
function equalTraces(a: number[][], b: number[][]): boolean {
  return a.length === b.length && a.every((row, i) => row.join() === b[i].join());
}

for (const id of MINATAR_IDS) {
  Deno.test(`${id} keeps the environment contract`, async (t) => {
    await t.step("registered, with six actions and a 10x10xC 0/1 observation", () => {
      const env = makeEnv(id);
      assert.equal(env.id, id);
      assert.deepEqual(env.actionSpec, { kind: "discrete", n: 6 });
      const [height, width, channels] = env.observationSpec.shape;
      assert.deepEqual([height, width], [GRID_SIZE, GRID_SIZE]);
      assert.equal(channels, env.channels.length);
      assert.ok(env.observationSpec.low.every((v) => v === 0));
      assert.ok(env.observationSpec.high.every((v) => v === 1));
      assert.equal(REWARD_THRESHOLDS[id], null);
    });

    await t.step("step before reset is a clear error", () => {
      const env = makeEnv(id);
      assert.throws(() => env.step(0), (error: Error) => {
        assert.ok(error instanceof EpisodeOrderError);
        assert.ok(error.message.startsWith(`${id}: step() called before reset()`), error.message);
        return true;
      });
      assert.throws(() => env.trueState(), EpisodeOrderError);
      assert.throws(() => env.render(), EpisodeOrderError);
    });

    await t.step("invalid actions throw InvalidActionError naming the valid ones", () => {
      const env = makeEnv(id);
      env.reset(0);
      for (const action of [-1, 6, 0.5, Number.NaN, [0], new Float32Array([1])]) {
        assert.throws(() => env.step(action), (error: Error) => {
          assert.ok(error instanceof InvalidActionError, `${String(action)} should be rejected`);
          assert.ok(error.message.startsWith(`${id}: invalid action `), error.message);
          assert.ok(error.message.endsWith("valid actions are the integers 0..5"), error.message);
          return true;
        });
      }
      // A rejected action leaves the episode where it was, its generator included.
      assert.equal(env.elapsedSteps, 0);
      const untouched = makeEnv(id);
      untouched.reset(0);
      assert.ok(equalTraces(rollout(env, null, 3), rollout(untouched, null, 3)));
    });

    await t.step("the observation buffer and the result object are reused", () => {
      const env = makeEnv(id);
      const first = env.reset(1);
      const result = env.step(MINATAR_NOOP);
      assert.equal(result.observation, first);
      const again = env.step(MINATAR_UP);
      assert.equal(again, result);
      assert.equal(again.observation, first);
      assert.equal(env.reset(3), first);
    });

    await t.step("the same seed gives the same episodes, another seed others", () => {
      const a = rollout(makeEnv(id), 7, 70);
      assert.ok(equalTraces(rollout(makeEnv(id), 7, 70), a));
      const env = makeEnv(id);
      rollout(env, 2, 1, 30);
      assert.ok(equalTraces(rollout(env, 7, 70), a));
      // The same actions with another seed: the game's draws and the sticky actions differ.
      assert.ok(!equalTraces(rollout(env, 8, 70), a));
    });

    await t.step("an unseeded reset continues the generator of the last seeded one", () => {
      const env = makeEnv(id);
      rollout(env, 5, 1, 20);
      const next = rollout(env, undefined, 11);
      const other = makeEnv(id);
      rollout(other, 5, 1, 20);
      assert.ok(equalTraces(rollout(other, undefined, 11), next));
      assert.ok(!equalTraces(rollout(other, 5, 11), next));
      // The very first unseeded reset is seed 0.
      assert.ok(equalTraces(rollout(makeEnv(id), undefined, 4), rollout(makeEnv(id), 0, 4)));
    });

    await t.step(
      "observations are 0/1, episodes end, and stepping after the end is an error",
      () => {
        const env = makeEnv(id);
        const rng = new Rng(11);
        for (let episode = 0; episode < 3; episode++) {
          let observation = env.reset(episode);
          let ended = false;
          while (!ended) {
            assert.ok(observation.every((v) => v === 0 || v === 1));
            const result = env.step(rng.int(6));
            observation = result.observation;
            ended = result.terminated || result.truncated;
          }
          assert.ok(env.elapsedSteps <= env.maxEpisodeSteps);
          assert.throws(() => env.step(0), (error: Error) => {
            assert.ok(error instanceof EpisodeOrderError);
            assert.match(error.message, /called after the episode ended at step \d+/);
            return true;
          });
        }
      },
    );
  });
}

Deno.test("MinAtar shared parts", async (t) => {
  const games =
    () => [new Asterix(), new Breakout(), new Freeway(), new Seaquest(), new SpaceInvaders()];

  await t.step("MinAtar's channels, minimal action sets and registry ids", () => {
    assert.deepEqual(MINATAR_ACTION_NAMES, ["no-op", "left", "up", "right", "down", "fire"]);
    const summary = games().map((env) => [env.id, env.channels.length, env.minimalActionSet]);
    assert.deepEqual(summary, [
      ["MinAtar/Asterix-v0", 4, [0, 1, 2, 3, 4]],
      ["MinAtar/Breakout-v0", 4, [0, 1, 3]],
      ["MinAtar/Freeway-v0", 7, [0, 2, 4]],
      ["MinAtar/Seaquest-v0", 10, [0, 1, 2, 3, 4, 5]],
      ["MinAtar/SpaceInvaders-v0", 6, [0, 1, 3, 5]],
    ]);
    assert.deepEqual([...MINATAR_IDS], summary.map(([id]) => id));
    for (const id of MINATAR_IDS) assert.ok(ENV_IDS.includes(id), id);
    for (const name of ["Asterix", "Breakout", "Freeway", "Seaquest", "SpaceInvaders"]) {
      assert.ok(name in minatar, name);
    }
  });

  await t.step("with probability 0.1 a step repeats the previous action instead", () => {
    for (const env of games()) {
      const rng = new Rng(21);
      env.reset(0);
      let choices = 0, repeats = 0;
      for (let step = 0; step < 40_000; step++) {
        const previous = env.lastAppliedAction;
        const chosen = rng.int(6);
        const { terminated, truncated } = env.step(chosen);
        const applied = env.lastAppliedAction;
        assert.ok(applied === chosen || applied === previous);
        // Only a choice unlike the previous action shows whether it was replaced.
        if (chosen !== previous) {
          choices++;
          if (applied === previous) repeats++;
        }
        if (terminated || truncated) env.reset();
      }
      const frequency = repeats / choices;
      // About 33,000 such choices: the standard error is 0.0017.
      assert.ok(Math.abs(frequency - 0.1) < 0.007, `${env.id}: ${frequency}`);
    }
  });

  await t.step("every episode starts with no-op as the previous action", () => {
    const always = new SpaceInvaders({ stickyActionProbability: 1 });
    always.reset(0);
    for (let step = 0; step < 15; step++) always.step(5);
    // Always sticky from a no-op start: the cannon never fires.
    assert.equal(always.trueState().friendlyBullets.reduce((a, b) => a + b, 0), 0);
    assert.equal(always.lastAppliedAction, MINATAR_NOOP);
    const never = new SpaceInvaders({ stickyActionProbability: 0 });
    never.reset(0);
    for (let step = 0; step < 12; step++) {
      never.step(step % 6);
      assert.equal(never.lastAppliedAction, step % 6);
    }
    never.reset();
    assert.equal(never.lastAppliedAction, MINATAR_NOOP);
  });

  await t.step("episodes are truncated at 10,000 steps unless told otherwise", () => {
    // A submarine that never dives is never in danger.
    const env = new Seaquest({ stickyActionProbability: 0 });
    assert.equal(env.maxEpisodeSteps, 10_000);
    env.reset(0);
    for (let step = 1; step < 10_000; step++) {
      const result = env.step(MINATAR_NOOP);
      assert.ok(!result.terminated && !result.truncated, `step ${step}`);
    }
    const last = env.step(MINATAR_NOOP);
    assert.deepEqual([last.terminated, last.truncated], [false, true]);
    const short = new Seaquest({ maxEpisodeSteps: 25 });
    short.reset(0);
    let steps = 0;
    while (!short.step(MINATAR_NOOP).truncated) steps++;
    assert.equal(steps + 1, 25);
  });

  await t.step("bad options are rejected", () => {
    assert.throws(() => new Breakout({ stickyActionProbability: 1.5 }), RangeError);
    assert.throws(() => new Breakout({ stickyActionProbability: Number.NaN }), RangeError);
    assert.throws(() => new Freeway({ maxEpisodeSteps: 0 }), RangeError);
    assert.throws(() => new Freeway({ maxEpisodeSteps: 2.5 }), RangeError);
  });

  await t.step("pictures: one colour per channel, the highest channel on top, black behind", () => {
    const env = new Breakout();
    env.reset(0);
    const palette = minAtarPalette(4);
    const tiny = env.render(undefined, 10);
    const colour = (row: number, column: number) =>
      Array.from(tiny.subarray((row * 10 + column) * 3, (row * 10 + column) * 3 + 3));
    const paletteColour = (channel: number) =>
      Array.from(palette.subarray(channel * 3, channel * 3 + 3));
    assert.deepEqual(colour(9, 4), paletteColour(0)); // paddle
    assert.deepEqual(colour(1, 5), paletteColour(3)); // brick
    assert.deepEqual(colour(6, 5), [0, 0, 0]);
    // The ball starts inside the wall's bottom row: the brick channel, higher, shows.
    const ball = env.trueState().ballX;
    assert.deepEqual(colour(3, ball), paletteColour(3));
    // A bigger picture is the small one enlarged, as lib/viz/frame.ts enlarges frames.
    const big = env.render(undefined, 80);
    assert.deepEqual(big, upscale(frameFrom(tiny, [10, 10, 3]), 8).data);
    // A kept observation draws the same picture.
    const kept = env.step(MINATAR_NOOP).observation.slice();
    assert.deepEqual(renderMinAtarObservation(kept, 4, undefined, 80), env.render(undefined, 80));
    const out = new Uint8Array(64 * 64 * 3);
    assert.equal(env.render(out, 64), out);
    assert.throws(() => env.render(new Uint8Array(10), 64), RangeError);
    assert.throws(() => renderMinAtarObservation(kept, 5), RangeError);
    // Pixel-based agents can see the pictures through the pixel wrapper.
    const pixels = new PixelObservationEnv(new Breakout(), 40);
    const frame = pixels.reset(0);
    assert.deepEqual(
      frame.slice(),
      upscale(frameFrom(pixels.inner.render(undefined, 10), [10, 10, 3]), 4).data,
    );
  });

  await t.step(
    "the palette is cubehelix: distinct colours growing lighter channel by channel",
    () => {
      for (const channels of [4, 6, 7, 10]) {
        const palette = minAtarPalette(channels);
        const colours = new Set<string>();
        let lastLuminance = -1;
        for (let channel = 0; channel < channels; channel++) {
          const [r, g, b] = palette.subarray(channel * 3, channel * 3 + 3);
          colours.add(`${r},${g},${b}`);
          const luminance = 0.3 * r + 0.59 * g + 0.11 * b;
          assert.ok(luminance > lastLuminance, `${channels} channels: channel ${channel}`);
          lastLuminance = luminance;
        }
        assert.equal(colours.size, channels);
      }
    },
  );

  await t.step("the batched form steps copies in lockstep with single games", () => {
    const batch = new VectorEnv(() => new Seaquest(), 3, { autoReset: true });
    const singles = [0, 1, 2].map(() => new Seaquest());
    batch.reset(30);
    singles.forEach((env, i) => env.reset(30 + i));
    const actions = new Int32Array([4, 5, 3]);
    for (let step = 0; step < 40; step++) {
      batch.step(actions);
      singles.forEach((env, i) => {
        const result = env.step(actions[i]);
        assert.deepEqual(batch.observationOf(i), result.observation);
        if (result.terminated || result.truncated) env.reset();
      });
    }
  });
});
