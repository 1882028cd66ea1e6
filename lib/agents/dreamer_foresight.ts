/**
 * How far a Dreamer world model sees ahead where its actor learns (Hafner et al. 2021, "Mastering
 * Atari with Discrete World Models", Section 2.2: the actor and critic learn only from trajectories
 * the prior imagines, so whatever the prior gets wrong, the actor is free to exploit).
 *
 * Measured on the last episodes of a run's replay that the task ended (the actor played them):
 *   - the probability of continuing that the model gives the real terminal step, once filtered
 *     (the posterior has seen the terminal frame) and once imagined by the prior, open loop along
 *     the real actions from the posterior H steps earlier (as far back as imagination reaches);
 *   - over those last H steps, the sum of the real rewards and of the rewards predicted open loop;
 *   - from each episode's first frame, the actor's imagined return over H steps (each predicted
 *     reward weighted by the predicted chance of still playing, undiscounted) and imagined length,
 *     against the real return and length of those episodes' first H steps.
 * A model that sees the end coming gives the terminal step a low probability both ways; one that
 * only reads it off the frame gives it a low one filtered and a high one imagined, and its imagined
 * episodes outlive the real ones.
 */
import { tf } from "../tensor/mod.ts";
import type { Rng } from "../rng.ts";
import type { Rssm, RssmState } from "../models/rssm.ts";
import type { DreamerBehavior } from "./dreamer_behavior.ts";
import type { DreamerReplay } from "./dreamer_replay.ts";

export interface ImaginationFidelity {
  /** Episodes measured (the last terminated ones, at least two steps long). */
  episodes: number;
  /** H, imagined steps. */
  horizon: number;
  /** Mean predicted probability of continuing at the real terminal step. */
  terminalContinuation: { filtered: number; imagined: number };
  /** Mean over episodes of the reward summed over their last H steps. */
  lastRewards: { real: number; imagined: number };
  /** The actor's return and episode length over H steps from the first frame. */
  policy: {
    imaginedReturn: number;
    realReturn: number;
    imaginedLength: number;
    realLength: number;
  };
}

function probabilityOfContinuing(model: Rssm, state: RssmState): number {
  const logits = model.predictContinuation(model.features(state));
  if (!logits) throw new Error("imaginationFidelity: the model has no continuation head");
  return tf.sigmoid(logits).dataSync()[0];
}

/**
 * The measurements above on up to `maxEpisodes` episodes, imagining `horizon` steps; null when
 * the replay holds no episode the task ended (every one was cut by the time limit).
 */
export function imaginationFidelity(
  model: Rssm,
  behavior: DreamerBehavior,
  replay: DreamerReplay,
  maxEpisodes: number,
  horizon: number,
  rng: Rng,
): ImaginationFidelity | null {
  const chosen: number[] = [];
  for (let i = replay.numEpisodes - 1; i >= 0 && chosen.length < maxEpisodes; i--) {
    if (replay.terminated[i] && replay.episodes[i].length >= 2) chosen.push(i);
  }
  if (chosen.length === 0) return null;
  const { observationSize } = model;
  const actionSize = model.config.actionSize;
  const noise = () =>
    tf.tensor2d(model.fillNoise(new Float32Array(model.noiseSize), rng), [1, model.noiseSize]);
  let filteredEnd = 0, imaginedEnd = 0, realLast = 0, imaginedLast = 0;
  let realReturn = 0, realLength = 0;
  const firstStates: RssmState[] = [];
  for (const index of chosen) {
    const episode = replay.episodes[index];
    const length = episode.length;
    const start = Math.max(0, length - 1 - horizon);
    tf.tidy(() => {
      const observation = (t: number) =>
        tf.tensor2d(episode.observations.subarray(t * observationSize, (t + 1) * observationSize), [
          1,
          observationSize,
        ]);
      const action = (t: number) =>
        tf.tensor2d(episode.actions.subarray(t * actionSize, (t + 1) * actionSize), [
          1,
          actionSize,
        ]);
      let state = model.observeStep(model.initialState(1), action(0), observation(0));
      firstStates.push({
        deterministic: tf.keep(state.deterministic),
        stochastic: tf.keep(state.stochastic),
      });
      let imagined: RssmState | null = start === 0 ? state : null;
      for (let t = 1; t < length; t++) {
        state = model.observeStep(state, action(t), observation(t));
        if (t === start) imagined = state;
        if (t > start && imagined) {
          imagined = model.imagineStep(imagined, action(t), noise());
          imaginedLast += model.predictReward(model.features(imagined)).dataSync()[0];
          realLast += episode.rewards[t];
        }
      }
      filteredEnd += probabilityOfContinuing(model, state);
      imaginedEnd += probabilityOfContinuing(model, imagined!);
    });
    for (let t = 1; t < Math.min(length, horizon + 1); t++) realReturn += episode.rewards[t];
    realLength += Math.min(length - 1, horizon);
  }
  // The actor imagines H steps from every first frame at once.
  const [imaginedReturn, imaginedLength] = tf.tidy(() => {
    let state: RssmState = {
      deterministic: tf.concat(firstStates.map((s) => s.deterministic), 0),
      stochastic: tf.concat(firstStates.map((s) => s.stochastic), 0),
    };
    const rows = chosen.length;
    const draws = behavior.drawNoise(model, rows, rng);
    let alive: tf.Tensor = tf.ones([rows]);
    let total: tf.Tensor = tf.zeros([rows]);
    let steps: tf.Tensor = tf.zeros([rows]);
    for (let t = 0; t < horizon; t++) {
      const { action } = behavior.policySample(model.features(state), draws.policy[t]);
      state = model.imagineStep(state, action, draws.latent[t]);
      const features = model.features(state);
      steps = tf.add(steps, alive);
      total = tf.add(total, tf.mul(alive, model.predictReward(features)));
      alive = tf.mul(alive, tf.sigmoid(model.predictContinuation(features)!));
    }
    return [tf.mean(total).dataSync()[0], tf.mean(steps).dataSync()[0]];
  });
  tf.dispose(firstStates.flatMap((s) => [s.deterministic, s.stochastic]));
  const n = chosen.length;
  return {
    episodes: n,
    horizon,
    terminalContinuation: { filtered: filteredEnd / n, imagined: imaginedEnd / n },
    lastRewards: { real: realLast / n, imagined: imaginedLast / n },
    policy: {
      imaginedReturn,
      realReturn: realReturn / n,
      imaginedLength,
      realLength: realLength / n,
    },
  };
}
