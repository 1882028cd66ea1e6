/**
 * Measuring Dreamer's "virtuous cycle" (Hafner et al. 2020, "Dream to Control", Algorithm 1: the
 * world model learns from the dataset, the actor learns in the model, and acting in the world grows
 * the dataset): how well the world model predicts, open loop, an episode it has never trained on,
 * against data it has.
 *
 * The model filters `context` steps of a window with their observations (posterior), then predicts
 * the next `horizon` steps from the recorded actions alone (the prior's mean, or for categorical
 * latents its most likely class), decoding each predicted state to an observation and a reward.
 * The errors are squared errors averaged over the predicted steps: per observation number, and of
 * the reward. A new episode from a changed policy visits states the model has not seen, so its
 * error should exceed the error on replayed data, and fall once the episode has been trained on.
 */
import { tf } from "../tensor/mod.ts";
import type { Rng } from "../rng.ts";
import type { Rssm, RssmState } from "../models/rssm.ts";
import type { Episode } from "./sequence_replay.ts";

export interface OpenLoopSettings {
  /** Steps filtered with observations before predicting. */
  context: number;
  /** Steps predicted from actions alone. */
  horizon: number;
  /** Windows per measurement (spread evenly over an episode, or drawn from the replay). */
  windows: number;
}

/** Mean squared open-loop errors over the predicted steps and windows. */
export interface OpenLoopError {
  observation: number;
  reward: number;
  /** Windows measured. */
  windows: number;
}

/** A window of an episode: its start step. */
interface Window {
  episode: Episode;
  start: number;
}

/**
 * Open-loop errors of `model` on windows of one episode, spread evenly over it; null if the
 * episode is shorter than one window.
 */
export function episodeOpenLoopError(
  model: Rssm,
  episode: Episode,
  settings: OpenLoopSettings,
): OpenLoopError | null {
  const span = settings.context + settings.horizon;
  if (episode.length < span) return null;
  const last = episode.length - span;
  const count = Math.min(settings.windows, last + 1);
  const windows: Window[] = [];
  for (let i = 0; i < count; i++) {
    windows.push({ episode, start: count === 1 ? 0 : Math.round((i * last) / (count - 1)) });
  }
  return windowErrors(model, windows, settings);
}

/**
 * Open-loop errors on `settings.windows` windows drawn uniformly from the episodes long enough;
 * null if none is.
 */
export function replayOpenLoopError(
  model: Rssm,
  episodes: readonly Episode[],
  settings: OpenLoopSettings,
  rng: Rng,
): OpenLoopError | null {
  const span = settings.context + settings.horizon;
  const long = episodes.filter((episode) => episode.length >= span);
  if (long.length === 0) return null;
  const starts = long.map((episode) => episode.length - span + 1);
  const total = starts.reduce((a, b) => a + b, 0);
  const windows: Window[] = [];
  for (let i = 0; i < settings.windows; i++) {
    let draw = rng.int(total);
    let index = 0;
    while (draw >= starts[index]) draw -= starts[index++];
    windows.push({ episode: long[index], start: draw });
  }
  return windowErrors(model, windows, settings);
}

function windowErrors(
  model: Rssm,
  windows: Window[],
  { context, horizon }: OpenLoopSettings,
): OpenLoopError {
  const span = context + horizon;
  const count = windows.length;
  const observationSize = model.observationSize;
  const actionSize = model.config.actionSize;
  const observations = new Float32Array(count * span * observationSize);
  const actions = new Float32Array(count * span * actionSize);
  const rewards = new Float32Array(count * span);
  windows.forEach(({ episode, start }, w) => {
    // Time-major, so step t of every window is one contiguous block.
    for (let t = 0; t < span; t++) {
      const step = start + t;
      const row = t * count + w;
      observations.set(
        episode.observations.subarray(step * observationSize, (step + 1) * observationSize),
        row * observationSize,
      );
      actions.set(
        episode.actions.subarray(step * actionSize, (step + 1) * actionSize),
        row * actionSize,
      );
      rewards[row] = episode.rewards[step];
    }
  });
  const [observationError, rewardError] = tf.tidy(() => {
    const observationSteps = tf.split(
      tf.tensor2d(observations, [span * count, observationSize]),
      span,
    ) as tf.Tensor2D[];
    const actionSteps = tf.split(
      tf.tensor2d(actions, [span * count, actionSize]),
      span,
    ) as tf.Tensor2D[];
    const rewardSteps = tf.split(tf.tensor1d(rewards), span) as tf.Tensor1D[];
    let state: RssmState = model.initialState(count);
    let observationSum: tf.Tensor = tf.scalar(0);
    let rewardSum: tf.Tensor = tf.scalar(0);
    for (let t = 0; t < span; t++) {
      const { deterministic, prior } = model.transition(state, actionSteps[t]);
      if (t < context) {
        const embedding = model.encode(observationSteps[t]);
        state = {
          deterministic,
          stochastic: model.pointEstimate(model.posterior(deterministic, embedding)),
        };
        continue;
      }
      state = { deterministic, stochastic: model.pointEstimate(prior) };
      const features = model.features(state);
      observationSum = tf.add(
        observationSum,
        tf.mean(tf.square(tf.sub(model.decode(features), observationSteps[t]))),
      );
      rewardSum = tf.add(
        rewardSum,
        tf.mean(tf.square(tf.sub(model.predictReward(features), rewardSteps[t]))),
      );
    }
    return [observationSum.dataSync()[0] / horizon, rewardSum.dataSync()[0] / horizon];
  });
  return { observation: observationError, reward: rewardError, windows: count };
}
