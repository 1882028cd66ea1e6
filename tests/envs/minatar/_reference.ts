/**
 * Step-for-step parity with the reference implementation of MinAtar (github.com/kenjyoung/MinAtar,
 * commit 4241f24). reference_traces.json holds episodes played by the reference's own code, with
 * its default sticky actions: the actions chosen (one digit a step), every random number the game
 * drew, in order (sticky-action draws included; "n:v" is an integer v drawn from [0, n), the rest
 * are uniform floats, shortened where that keeps every comparison the rules make), and after reset
 * and after each step a digest of the observation, and each step's reward. Handing those numbers
 * back to our game in order must give the same rewards, observations and ending.
 */
import assert from "node:assert/strict";
import type { MinAtarEnv } from "../../../lib/envs/minatar/shared.ts";
import type { Rng } from "../../../lib/rng.ts";
import traces from "./reference_traces.json" with { type: "json" };

export type ReferenceGame = keyof typeof traces;

/** A stand-in for `Rng` that returns recorded numbers in order, checking their kind. */
class RecordedNumbers {
  readonly #tokens: string[];
  #position = 0;

  constructor(draws: string) {
    this.#tokens = draws.length === 0 ? [] : draws.split(" ");
  }

  get remaining(): number {
    return this.#tokens.length - this.#position;
  }

  next(): number {
    const token = this.#take("a float");
    if (token.includes(":")) {
      throw new Error(`draw ${this.#position}: the game drew a float, the reference ${token}`);
    }
    return Number(token);
  }

  int(n: number): number {
    const token = this.#take(`an integer below ${n}`);
    const [bound, value] = token.split(":").map(Number);
    if (bound !== n || value === undefined) {
      throw new Error(`draw ${this.#position}: the game drew int(${n}), the reference ${token}`);
    }
    return value;
  }

  #take(what: string): string {
    if (this.#position >= this.#tokens.length) {
      throw new Error(`the game drew ${what} after the reference's last number`);
    }
    return this.#tokens[this.#position++];
  }
}

/** The digest of an observation the traces record (the same sum on both sides). */
export function observationDigest(observation: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < observation.length; i++) {
    if (observation[i] !== 0) sum += (i * 2654435761) % 1000003;
  }
  return sum % 65521;
}

/**
 * Replays every recorded episode of `game`, asserting each step matches. `replaying` makes the
 * game with `createRng` overridden to return the numbers it is given.
 */
export function assertMatchesReference(
  game: ReferenceGame,
  replaying: (numbers: Rng) => MinAtarEnv,
): void {
  traces[game].forEach((episode, index) => {
    const numbers = new RecordedNumbers(episode.draws);
    const env = replaying(numbers as unknown as Rng);
    const where = (step: number) => `${game} episode ${index}, step ${step}`;
    assert.equal(observationDigest(env.reset(0)), episode.initialHash, `${where(0)}: observation`);
    const rewards = episode.rewards.split(" ").map(Number);
    const digests = episode.hashes.split(" ").map(Number);
    const steps = episode.actions.length;
    for (let t = 0; t < steps; t++) {
      const result = env.step(Number(episode.actions[t]));
      assert.equal(result.reward, rewards[t], `${where(t + 1)}: reward`);
      assert.equal(
        observationDigest(result.observation),
        digests[t],
        `${where(t + 1)}: observation`,
      );
      const ends = t === steps - 1 && episode.terminated;
      assert.equal(result.terminated, ends, `${where(t + 1)}: terminated`);
    }
    assert.equal(numbers.remaining, 0, `${game} episode ${index}: random numbers left unused`);
  });
}

/** How many recorded episodes and steps a game's traces hold. */
export function referenceTraceSize(game: ReferenceGame): { episodes: number; steps: number } {
  const episodes = traces[game];
  return {
    episodes: episodes.length,
    steps: episodes.reduce((sum, episode) => sum + episode.actions.length, 0),
  };
}
