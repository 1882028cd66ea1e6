/**
 * Bench section "minatar": the five MinAtar games (Young & Tian 2019, arXiv 1903.03176) on one
 * core under a uniformly random policy with MinAtar's sticky actions (0.1): steps per second with
 * the observation written every step, and the random policy's return and episode length beside
 * those of the reference implementation, which show that our rules play out the same.
 *
 *   deno run -A bench/minatar.ts            1,000 episodes a game (Freeway 200), 10^6 timed steps
 *   deno run -A bench/minatar.ts --quick    200 episodes (Freeway 50), 2 x 10^5 timed steps
 */
import { Asterix } from "../lib/envs/minatar/asterix.ts";
import { Breakout } from "../lib/envs/minatar/breakout.ts";
import { Freeway } from "../lib/envs/minatar/freeway.ts";
import { Seaquest } from "../lib/envs/minatar/seaquest.ts";
import { MINATAR_REFERENCE_RANDOM_POLICY, type MinAtarEnv } from "../lib/envs/minatar/shared.ts";
import { SpaceInvaders } from "../lib/envs/minatar/space_invaders.ts";
import { Rng } from "../lib/rng.ts";

export interface MinAtarBenchRow {
  env: string;
  /** Steps per second, random policy, one core, observation written every step. */
  stepsPerSecond: number;
  /** Mean and standard deviation of the random policy's return, and mean episode length. */
  randomMean: number;
  randomStd: number;
  meanLength: number;
  /** The same three for the reference implementation (MINATAR_REFERENCE_RANDOM_POLICY). */
  referenceMean: number;
  referenceStd: number;
  referenceLength: number;
  episodes: number;
}

export interface MinAtarBenchOptions {
  /** Fewer episodes and timed steps (default false). */
  quick?: boolean;
  /** Prints the table (default true). */
  print?: boolean;
}

/** The five games, fresh, with MinAtar's defaults. */
export function minAtarGames(): MinAtarEnv[] {
  return [new Asterix(), new Breakout(), new Freeway(), new Seaquest(), new SpaceInvaders()];
}

/** Returns and lengths of `episodes` random-policy episodes seeded firstSeed, firstSeed + 1, ... */
export function randomEpisodes(
  env: MinAtarEnv,
  episodes: number,
  firstSeed = 0,
): { returns: number[]; lengths: number[] } {
  const policy = new Rng(firstSeed + 777);
  const returns: number[] = [];
  const lengths: number[] = [];
  for (let episode = 0; episode < episodes; episode++) {
    env.reset(firstSeed + episode);
    let total = 0;
    for (;;) {
      const result = env.step(policy.int(6));
      total += result.reward;
      if (result.terminated || result.truncated) break;
    }
    returns.push(total);
    lengths.push(env.elapsedSteps);
  }
  return { returns, lengths };
}

/** Steps per second over `steps` random-policy steps, starting new episodes as they end. */
export function stepsPerSecond(env: MinAtarEnv, steps: number): number {
  const policy = new Rng(5);
  const run = (count: number) => {
    env.reset(0);
    for (let i = 0; i < count; i++) {
      const result = env.step(policy.int(6));
      if (result.terminated || result.truncated) env.reset();
    }
  };
  run(Math.min(steps, 50_000)); // warm up the compiler
  const started = performance.now();
  run(steps);
  return steps / ((performance.now() - started) / 1000);
}

export function meanStd(values: readonly number[]): [number, number] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return [mean, Math.sqrt(variance)];
}

export function run(options: MinAtarBenchOptions = {}): Promise<MinAtarBenchRow[]> {
  const quick = options.quick ?? false;
  const rows: MinAtarBenchRow[] = [];
  for (const env of minAtarGames()) {
    // Freeway always lasts 2,501 steps, so fewer of its episodes give as many steps.
    const episodes = env.id === "MinAtar/Freeway-v0" ? (quick ? 50 : 200) : (quick ? 200 : 1000);
    const { returns, lengths } = randomEpisodes(env, episodes, 1000);
    const [randomMean, randomStd] = meanStd(returns);
    const reference =
      MINATAR_REFERENCE_RANDOM_POLICY[env.id as keyof typeof MINATAR_REFERENCE_RANDOM_POLICY];
    rows.push({
      env: env.id,
      stepsPerSecond: stepsPerSecond(env, quick ? 200_000 : 1_000_000),
      randomMean,
      randomStd,
      meanLength: meanStd(lengths)[0],
      referenceMean: reference.returnMean,
      referenceStd: reference.returnStd,
      referenceLength: reference.lengthMean,
      episodes,
    });
  }
  if (options.print ?? true) {
    console.log("minatar (10x10 grids, one core, random policy, sticky actions 0.1):");
    for (const row of rows) {
      console.log(
        `  ${row.env.padEnd(25)} ${row.stepsPerSecond.toFixed(0).padStart(8)} steps/s  ` +
          `return ${row.randomMean.toFixed(2)} ± ${row.randomStd.toFixed(2)} ` +
          `(reference ${row.referenceMean.toFixed(2)} ± ${row.referenceStd.toFixed(2)})  ` +
          `length ${row.meanLength.toFixed(1)} (reference ${row.referenceLength}) ` +
          `over ${row.episodes}`,
      );
    }
  }
  return Promise.resolve(rows);
}

/** The section the bench harness (bench/main.ts) runs. */
export const minAtarSection = { name: "minatar", run };

if (import.meta.main) await run({ quick: Deno.args.includes("--quick") });
