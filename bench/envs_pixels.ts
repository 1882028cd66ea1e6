/**
 * Bench section "envs": the pixel environments of the World Models reproduction (Ha &
 * Schmidhuber 2018, sections 4 and 5) on one core: rendered 64x64 frames per second under a
 * uniformly random policy (stepping plus rendering, the cost a rollout pays), and the calibration
 * numbers the environments are tuned to: the random policy's score against the published one,
 * and the scripted controllers' scores that show each task is solvable.
 *
 *   deno run -A bench/envs_pixels.ts            20 CarRacing tracks, 1000 TakeCover episodes
 *   deno run -A bench/envs_pixels.ts --quick    5 tracks, 200 episodes
 */
import { CarRacing, scriptedCarRacingAction } from "../lib/envs/car_racing.ts";
import { scriptedTakeCoverAction, TakeCover } from "../lib/envs/take_cover.ts";
import type { Env } from "../lib/envs/types.ts";
import { Rng } from "../lib/rng.ts";

export interface EnvsBenchRow {
  env: string;
  /** Rendered frames per second, random policy, one core. */
  framesPerSecond: number;
  /** Mean and standard deviation of the random policy's episode score. */
  randomMean: number;
  randomStd: number;
  /** The published random score, as text. */
  randomPublished: string;
  /** Mean score of the scripted controller that sees the true state. */
  scriptedMean: number;
  episodes: number;
}

export interface EnvsBenchOptions {
  /** Fewer episodes (default false). */
  quick?: boolean;
  /** Prints the table (default true). */
  print?: boolean;
}

function meanStd(values: number[]): [number, number] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return [mean, Math.sqrt(variance)];
}

/** Plays `episodes` episodes with `act`; returns their scores and the frames per second. */
function play<O extends Uint8Array>(
  env: Env<O>,
  episodes: number,
  firstSeed: number,
  act: () => number | Float32Array,
): { scores: number[]; framesPerSecond: number } {
  const scores: number[] = [];
  let frames = 0;
  const started = performance.now();
  for (let episode = 0; episode < episodes; episode++) {
    env.reset(firstSeed + episode);
    let score = 0;
    for (;;) {
      const result = env.step(act());
      frames++;
      score += result.reward;
      if (result.terminated || result.truncated) break;
    }
    scores.push(score);
  }
  return { scores, framesPerSecond: frames / ((performance.now() - started) / 1000) };
}

export function run(options: EnvsBenchOptions = {}): Promise<EnvsBenchRow[]> {
  const quick = options.quick ?? false;
  const rows: EnvsBenchRow[] = [];

  const carRacing = new CarRacing();
  const carEpisodes = quick ? 5 : 20;
  const rng = new Rng(123);
  const action = new Float32Array(3);
  const randomCar = play(carRacing, carEpisodes, 0, () => {
    action[0] = rng.uniform(-1, 1);
    action[1] = rng.next();
    action[2] = rng.next();
    return action;
  });
  const scriptedCar = play(
    carRacing,
    carEpisodes,
    0,
    () => scriptedCarRacingAction(carRacing, action),
  );
  const [carMean, carStd] = meanStd(randomCar.scores);
  rows.push({
    env: carRacing.id,
    framesPerSecond: randomCar.framesPerSecond,
    randomMean: carMean,
    randomStd: carStd,
    randomPublished: "below 0 (Gym)",
    scriptedMean: meanStd(scriptedCar.scores)[0],
    episodes: carEpisodes,
  });

  const takeCover = new TakeCover();
  const coverEpisodes = quick ? 200 : 1000;
  const randomCover = play(takeCover, coverEpisodes, 1000, () => rng.int(3));
  const scriptedCover = play(
    takeCover,
    quick ? 5 : 20,
    5000,
    () => scriptedTakeCoverAction(takeCover),
  );
  const [coverMean, coverStd] = meanStd(randomCover.scores);
  rows.push({
    env: takeCover.id,
    framesPerSecond: randomCover.framesPerSecond,
    randomMean: coverMean,
    randomStd: coverStd,
    randomPublished: "210 ± 108 (paper)",
    scriptedMean: meanStd(scriptedCover.scores)[0],
    episodes: coverEpisodes,
  });

  if (options.print ?? true) {
    console.log("envs (64x64 RGB frames, one core, random policy):");
    for (const row of rows) {
      console.log(
        `  ${row.env.padEnd(14)} ${row.framesPerSecond.toFixed(0).padStart(7)} frames/s  ` +
          `random ${row.randomMean.toFixed(1)} ± ${row.randomStd.toFixed(1)} ` +
          `over ${row.episodes} (published ${row.randomPublished})  ` +
          `scripted ${row.scriptedMean.toFixed(1)}`,
      );
    }
  }
  return Promise.resolve(rows);
}

/** The section the bench harness (bench/main.ts) runs. */
export const envsSection = { name: "envs", run };

if (import.meta.main) await run({ quick: Deno.args.includes("--quick") });
