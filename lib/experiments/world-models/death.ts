/**
 * Does M know how the agent dies? (Ha & Schmidhuber 2018, section 5: the TakeCover M predicts
 * "whether or not the agent dies in the next frame", and a dream ends when it says so.) Two
 * measurements of a trained M:
 *
 * - calibration on held-out real episodes: M reads each episode's real z sequence (teacher
 *   forcing) and gives, at every step, the probability that the episode ends there; binned, the
 *   predicted probabilities against how often the episode really ended;
 * - the dream's difficulty against temperature: one fixed policy (standing still) in M's dream at
 *   each tau, against the same policy in the real game. Sampling at a higher tau is noisier, so a
 *   dream that has learned death should kill sooner as tau rises.
 */
import { Rng } from "../../rng.ts";
import { tf } from "../../tensor/mod.ts";
import type { LatentEpisode, MdnRnn } from "../../models/mdn_rnn.ts";
import {
  controllerParameterCount,
  type ControllerShape,
} from "../../agents/world_models_controller.ts";
import {
  collectRandomRollouts,
  encodeRollouts,
  rolloutInDream,
  type TaskAdapter,
} from "./stages.ts";
import type { Vision } from "./vision.ts";

/** One bin of the calibration curve. */
export interface CalibrationBin {
  low: number;
  high: number;
  /** Steps whose predicted probability fell in the bin. */
  steps: number;
  meanPredicted: number;
  /** Fraction of those steps at which the episode really ended. */
  observed: number;
}

export interface DeathCalibration {
  episodes: number;
  deaths: number;
  steps: number;
  bins: CalibrationBin[];
  /** Mean squared error of the predicted probabilities against the 0/1 outcomes. */
  brier: number;
  meanAtDeath: number;
  meanElsewhere: number;
  /** Deaths at which M's probability passed the dream's threshold (the dream would end). */
  deathsCaught: number;
  /** Other steps at which it passed the threshold (the dream would end too early). */
  falseAlarmRate: number;
}

export const CALIBRATION_EDGES = [0, 0.01, 0.03, 0.1, 0.3, 0.5, 1];

/** Probability that each step ends its episode, as M predicts it from the real z sequence. */
export function deathProbabilities(model: MdnRnn, episodes: readonly LatentEpisode[]): number[][] {
  const n = episodes.length;
  const { latentSize: L, actionSize: A } = model.config;
  const longest = Math.max(...episodes.map((e) => e.steps));
  const inputs = new Float32Array(n * model.inputSize);
  const done = new Float32Array(n);
  const unused = new Float32Array(n * L);
  const rng = new Rng(0);
  const probabilities = episodes.map(() => [] as number[]);
  let state = model.lstm.zeroState(n);
  for (let t = 0; t < longest; t++) {
    inputs.fill(0);
    for (let i = 0; i < n; i++) {
      const episode = episodes[i];
      if (t >= episode.steps) continue;
      const row = i * model.inputSize;
      inputs.set(episode.mu.subarray(t * L, (t + 1) * L), row);
      inputs.set(episode.actions.subarray(t * A, (t + 1) * A), row + L);
      if (model.config.episodeStartInput) inputs[row + L + A] = t === 0 ? 1 : 0;
    }
    const next = model.advance(inputs, state);
    tf.dispose([state.h, state.c]);
    state = next;
    // Only the done head is read; tau 0 keeps the draw deterministic.
    model.sample(state.h, 0, rng, unused, done);
    for (let i = 0; i < n; i++) if (t < episodes[i].steps) probabilities[i].push(done[i]);
  }
  tf.dispose([state.h, state.c]);
  return probabilities;
}

/** Bins predicted probabilities against outcomes (1 where the episode ended at that step). */
export function calibrate(
  probabilities: readonly number[][],
  ended: readonly boolean[],
  threshold: number,
): DeathCalibration {
  const bins = CALIBRATION_EDGES.slice(0, -1).map((low, i) => ({
    low,
    high: CALIBRATION_EDGES[i + 1],
    steps: 0,
    predicted: 0,
    deaths: 0,
  }));
  let steps = 0, deaths = 0, squaredError = 0, atDeath = 0, elsewhere = 0;
  let caught = 0, falseAlarms = 0;
  probabilities.forEach((episode, e) => {
    episode.forEach((p, t) => {
      const died = ended[e] && t === episode.length - 1 ? 1 : 0;
      const bin = bins.find((b) => p < b.high) ?? bins[bins.length - 1];
      bin.steps++;
      bin.predicted += p;
      bin.deaths += died;
      steps++;
      deaths += died;
      squaredError += (p - died) ** 2;
      if (died) {
        atDeath += p;
        if (p > threshold) caught++;
      } else {
        elsewhere += p;
        if (p > threshold) falseAlarms++;
      }
    });
  });
  return {
    episodes: probabilities.length,
    deaths,
    steps,
    bins: bins.map((b) => ({
      low: b.low,
      high: b.high,
      steps: b.steps,
      meanPredicted: b.steps ? b.predicted / b.steps : Number.NaN,
      observed: b.steps ? b.deaths / b.steps : Number.NaN,
    })),
    brier: steps ? squaredError / steps : Number.NaN,
    meanAtDeath: deaths ? atDeath / deaths : Number.NaN,
    meanElsewhere: steps > deaths ? elsewhere / (steps - deaths) : Number.NaN,
    deathsCaught: deaths ? caught / deaths : Number.NaN,
    falseAlarmRate: steps > deaths ? falseAlarms / (steps - deaths) : Number.NaN,
  };
}

export interface DeathOptions {
  /** Held-out random-policy episodes for the calibration. */
  episodes: number;
  maxSteps: number;
  actionHoldSteps?: number;
  doneThreshold: number;
  temperatures: readonly number[];
  /** Dream episodes per temperature for the fixed policy. */
  dreamEpisodes: number;
  dreamSteps: number;
}

/** Both measurements for a trained V and M. */
export async function measureDeaths(
  task: TaskAdapter,
  vision: Vision,
  model: MdnRnn,
  shape: ControllerShape,
  startLatents: readonly LatentEpisode[],
  seed: number,
  options: DeathOptions,
): Promise<{ calibration: DeathCalibration; standStill: { tau: number; dream: number[] }[] }> {
  const heldOut = await collectRandomRollouts(
    task,
    {
      numEpisodes: options.episodes,
      maxSteps: options.maxSteps,
      framesKept: 1,
      seedBase: 700_000_000 + seed * 10_000,
      actionHoldSteps: options.actionHoldSteps,
    },
    new Rng(seed * 7919 + 11),
    () => {},
  );
  const latents = await encodeRollouts(task, heldOut, vision, 64, () => {});
  const calibration = calibrate(
    deathProbabilities(model, latents),
    latents.map((e) => e.terminated),
    options.doneThreshold,
  );
  // A controller of zeros never moves: the same fixed policy at every temperature.
  const still = new Float64Array(controllerParameterCount(shape));
  const standStill = options.temperatures.map((tau) => ({
    tau,
    dream: Array.from(
      rolloutInDream(
        model,
        task,
        shape,
        Array.from({ length: options.dreamEpisodes }, () => still),
        startLatents,
        new Rng(seed * 7919 + 13 + Math.round(tau * 100)),
        { tau, maxSteps: options.dreamSteps, doneThreshold: options.doneThreshold },
      ).returns,
    ),
  }));
  return { calibration, standStill };
}
