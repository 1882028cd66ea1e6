/**
 * What every registered environment promises through the shared interface: clear errors for calls
 * out of order and for invalid actions, observation and result objects reused across steps,
 * episodes fixed by their seed, and observations inside the observation spec.
 */

import assert from "node:assert/strict";
import { EpisodeOrderError } from "../../lib/envs/classic_env.ts";
import { CLASSIC_CONTROL_IDS, makeEnv } from "../../lib/envs/registry.ts";
import { type Action, type Env, InvalidActionError } from "../../lib/envs/types.ts";
import { Rng } from "../../lib/rng.ts";

/** A valid random action for `env`. */
function randomAction(env: Env, rng: Rng): Action {
  const spec = env.actionSpec;
  if (spec.kind === "discrete") return rng.int(spec.n);
  return Array.from(spec.low, (low, i) => rng.uniform(low, spec.high[i]));
}

/** The observations and rewards of a seeded episode under seeded random actions. */
function rollout(env: Env, seed: number, steps: number): number[][] {
  const actions = new Rng(seed + 1000);
  const trace = [Array.from(env.reset(seed))];
  for (let i = 0; i < steps; i++) {
    const { observation, reward, terminated, truncated } = env.step(randomAction(env, actions));
    trace.push([...observation, reward]);
    if (terminated || truncated) break;
  }
  return trace;
}

// The pixel tasks keep the same contract in their own tests (car_racing_test, take_cover_test), and
// so do the MinAtar games (minatar/shared_test), some of which always start from the same state.
for (const id of CLASSIC_CONTROL_IDS) {
  Deno.test(`${id} keeps the environment contract`, async (t) => {
    await t.step("step before reset is a clear error", () => {
      const env = makeEnv(id);
      const action = env.actionSpec.kind === "discrete" ? 0 : [0];
      assert.throws(() => env.step(action), (error: Error) => {
        assert.ok(error instanceof EpisodeOrderError);
        assert.match(error.message, new RegExp(`^${id}: step\\(\\) called before reset\\(\\)`));
        return true;
      });
    });

    await t.step("invalid actions throw InvalidActionError naming the valid ones", () => {
      const env = makeEnv(id);
      env.reset(0);
      const invalid: Action[] = env.actionSpec.kind === "discrete"
        ? [-1, env.actionSpec.n, 0.5, Number.NaN, [0]]
        : [Number.NaN, [Infinity], [0, 0], []];
      for (const action of invalid) {
        assert.throws(() => env.step(action), (error: Error) => {
          assert.ok(error instanceof InvalidActionError, `${String(action)} should be rejected`);
          assert.match(error.message, new RegExp(`^${id}: invalid action .*; valid actions are `));
          return true;
        });
      }
      // A rejected action leaves the episode where it was.
      assert.equal(env.elapsedSteps, 0);
    });

    await t.step("the observation buffer and the result object are reused", () => {
      const env = makeEnv(id);
      const first = env.reset(1);
      const rng = new Rng(2);
      const result = env.step(randomAction(env, rng));
      assert.equal(result.observation, first);
      const again = env.step(randomAction(env, rng));
      assert.equal(again, result);
      assert.equal(again.observation, first);
      assert.equal(env.reset(3), first);
    });

    await t.step("the same seed gives the same episode, another seed another", () => {
      const env = makeEnv(id);
      const a = rollout(env, 7, 60);
      const b = rollout(makeEnv(id), 7, 60);
      const c = rollout(env, 7, 60);
      assert.deepEqual(b, a);
      assert.deepEqual(c, a);
      assert.notDeepEqual(rollout(env, 8, 60)[0], a[0]);
    });

    await t.step("an unseeded reset continues the generator of the last seeded one", () => {
      const env = makeEnv(id);
      env.reset(5);
      const next = Array.from(env.reset());
      const other = makeEnv(id);
      other.reset(5);
      assert.deepEqual(Array.from(other.reset()), next);
      assert.notDeepEqual(Array.from(other.reset(5)), next);
    });

    await t.step("observations stay inside the observation spec", () => {
      const env = makeEnv(id);
      const { low, high } = env.observationSpec;
      const rng = new Rng(11);
      for (let episode = 0; episode < 3; episode++) {
        let observation = env.reset(episode);
        for (let i = 0; i <= env.maxEpisodeSteps; i++) {
          for (let j = 0; j < observation.length; j++) {
            assert.ok(
              observation[j] >= low[j] && observation[j] <= high[j],
              `observation[${j}] = ${observation[j]} outside [${low[j]}, ${high[j]}]`,
            );
          }
          const result = env.step(randomAction(env, rng));
          observation = result.observation;
          if (result.terminated || result.truncated) break;
        }
      }
    });

    await t.step("stepping after the episode ended is a clear error", () => {
      const env = makeEnv(id);
      env.reset(0);
      const rng = new Rng(0);
      let ended = false;
      for (let i = 0; i < env.maxEpisodeSteps && !ended; i++) {
        const { terminated, truncated } = env.step(randomAction(env, rng));
        ended = terminated || truncated;
      }
      assert.ok(ended, "an episode ends by the step limit at the latest");
      assert.throws(() => env.step(randomAction(env, rng)), EpisodeOrderError);
      env.reset(0);
      env.step(randomAction(env, rng));
    });
  });
}
