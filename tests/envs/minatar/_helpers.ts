/** Shared checks for the MinAtar tests: reading grids, and the random policy's statistics. */

import assert from "node:assert/strict";
import {
  GRID_SIZE,
  MINATAR_REFERENCE_RANDOM_POLICY,
  type MinAtarEnv,
} from "../../../lib/envs/minatar/shared.ts";
import { Rng } from "../../../lib/rng.ts";

/** The cells ("row,column") where `channel` of an observation is on, in row-major order. */
export function cellsOf(observation: Float32Array, channel: number, channels: number): string[] {
  const cells: string[] = [];
  for (let cell = 0; cell < GRID_SIZE * GRID_SIZE; cell++) {
    if (observation[cell * channels + channel] === 1) {
      cells.push(`${Math.floor(cell / GRID_SIZE)},${cell % GRID_SIZE}`);
    }
  }
  return cells;
}

/** Steps `env` with each action in turn, returning the rewards. */
export function play(env: MinAtarEnv, actions: readonly number[]): number[] {
  return actions.map((action) => env.step(action).reward);
}

function meanStd(values: readonly number[]): [number, number] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return [mean, Math.sqrt(variance)];
}

/**
 * Plays `episodes` seeded episodes under a uniformly random policy and asserts that the mean
 * return and mean length lie within four standard errors of the reference implementation's
 * (MINATAR_REFERENCE_RANDOM_POLICY, measured over 5,000 episodes, Freeway 1,000).
 */
export function assertRandomPolicyMatchesReference(env: MinAtarEnv, episodes: number): void {
  const reference =
    MINATAR_REFERENCE_RANDOM_POLICY[env.id as keyof typeof MINATAR_REFERENCE_RANDOM_POLICY];
  const referenceEpisodes = env.id === "MinAtar/Freeway-v0" ? 1000 : 5000;
  const policy = new Rng(4242);
  const returns: number[] = [];
  const lengths: number[] = [];
  for (let episode = 0; episode < episodes; episode++) {
    env.reset(10_000 + episode);
    let total = 0;
    for (;;) {
      const result = env.step(policy.int(6));
      total += result.reward;
      if (result.terminated || result.truncated) break;
    }
    returns.push(total);
    lengths.push(env.elapsedSteps);
  }
  const checks = [
    ["return", meanStd(returns), reference.returnMean, reference.returnStd],
    ["length", meanStd(lengths), reference.lengthMean, reference.lengthStd],
  ] as const;
  for (const [what, [mean, std], referenceMean, referenceStd] of checks) {
    const standardError = Math.sqrt(std ** 2 / episodes + referenceStd ** 2 / referenceEpisodes);
    // The reference's figures are rounded to the last digit shown.
    const tolerance = 4 * standardError + 0.05;
    assert.ok(
      Math.abs(mean - referenceMean) <= tolerance,
      `${env.id} random-policy ${what}: ours ${mean.toFixed(3)} ± ${std.toFixed(3)} over ` +
        `${episodes} episodes, the reference's ${referenceMean} ± ${referenceStd}`,
    );
  }
}
