/**
 * The three tasks of `es-vs-rl-sparse`, each with a dense and a sparse reward, and the goal score
 * every learner is judged by whatever reward it trained on:
 *
 * - mountain car (MountainCarContinuous-v0): sparse is the task as published (+100 at the flag,
 *   a small control cost); dense adds potential-based shaping on the car's mechanical energy,
 *   so pumping the car higher pays at once. Goal score: 1 when the flag is reached.
 * - swing-up (dm_control cartpole): dense is `swingup`'s smooth reward; sparse is
 *   `swingup_sparse`'s, 1 only while the pole is within cos > 0.995 of upright and the cart
 *   within 0.25 m of the centre (Tassa et al. 2018, `suite/cartpole.py`). Goal score: the share
 *   of decisions spent upright and centred.
 * - Acrobot-v1: sparse is the task as published (-1 each step until the tip clears the bar);
 *   dense adds potential-based shaping on the tip's height. Goal score: 1 - steps / limit when
 *   the tip clears the bar, else 0.
 *
 * Mountain car and the swing-up repeat each decision 4 times (PlaNet's and Dreamer's practice on
 * the swing-up); their "environment steps" here are decisions, the same for every learner.
 */
import { MountainCarContinuousEnv } from "../../envs/mountain_car_continuous.ts";
import { CartPoleSwingupEnv } from "../../envs/cartpole_swingup.ts";
import { AcrobotEnv } from "../../envs/acrobot.ts";
import { ActionRepeatEnv, TimeLimitEnv } from "../../envs/wrappers.ts";
import {
  ObservedRewardEnv,
  PotentialShapingEnv,
  ScaledObservationEnv,
} from "../../envs/reward_variants.ts";
import type { Env } from "../../envs/types.ts";

export const TASKS = ["mountain-car", "swingup", "acrobot"] as const;
export type TaskName = typeof TASKS[number];
export const REWARDS = ["dense", "sparse"] as const;
export type RewardKind = typeof REWARDS[number];

/** Mountain car's energy g sin(3x) / 3 + v^2 / 2, scaled so a full swing is worth about 30. */
export function mountainCarEnergy(observation: ArrayLike<number>): number {
  const [position, velocity] = [observation[0], observation[1]];
  return 1e4 * (0.0025 * Math.sin(3 * position) / 3 + 0.5 * velocity * velocity);
}

/** Acrobot's tip height above the pivot, -cos t1 - cos(t1 + t2), from its observation. */
export function acrobotTipHeight(observation: ArrayLike<number>): number {
  const [c1, s1, c2, s2] = [observation[0], observation[1], observation[2], observation[3]];
  return -c1 - (c1 * c2 - s1 * s2);
}

/** dm_control's `swingup_sparse`: upright within cos > 0.995 and centred within 0.25 m. */
export function swingupUprightAndCentred(observation: ArrayLike<number>): boolean {
  return observation[1] > 0.995 && Math.abs(observation[0]) < 0.25;
}

export const ACTION_REPEAT: Record<TaskName, number> = {
  "mountain-car": 4,
  swingup: 4,
  acrobot: 1,
};

/** What an evaluation episode leaves behind for scoring. */
export interface EpisodeSummary {
  decisions: number;
  terminated: boolean;
  /** Decisions after which the state was in the task's goal region. */
  goalDecisions: number;
  maxDecisions: number;
}

/** The task's goal score of one episode, in [0, 1]. */
export function goalScore(task: TaskName, episode: EpisodeSummary): number {
  switch (task) {
    case "mountain-car":
      return episode.terminated ? 1 : 0;
    case "swingup":
      return episode.goalDecisions / Math.max(1, episode.maxDecisions);
    case "acrobot":
      return episode.terminated ? 1 - episode.decisions / episode.maxDecisions : 0;
  }
}

/** Whether an observation is in the goal region (only the swing-up's score counts these). */
export function inGoalRegion(task: TaskName, observation: Float32Array): boolean {
  return task === "swingup" && swingupUprightAndCentred(observation);
}

/** The task as the learners see it, episodes cut at `episodeSteps` physics steps. */
export function makeTaskEnv(task: TaskName, reward: RewardKind, episodeSteps: number): Env {
  if (task === "mountain-car") {
    const base = new TimeLimitEnv(new MountainCarContinuousEnv(), episodeSteps);
    const rewarded = reward === "sparse" ? base : new PotentialShapingEnv(
      base,
      mountainCarEnergy,
      1,
    );
    // Velocity spans +-0.07 and position [-1.2, 0.6]: brought to one scale for the networks.
    return new ScaledObservationEnv(new ActionRepeatEnv(rewarded, ACTION_REPEAT[task]), [1, 10]);
  }
  if (task === "swingup") {
    const base = new TimeLimitEnv(new CartPoleSwingupEnv(), episodeSteps);
    const rewarded = reward === "dense" ? base : new ObservedRewardEnv(
      base,
      (observation) => swingupUprightAndCentred(observation) ? 1 : 0,
    );
    return new ActionRepeatEnv(rewarded, ACTION_REPEAT[task]);
  }
  const base = new TimeLimitEnv(new AcrobotEnv(), episodeSteps);
  return reward === "sparse" ? base : new PotentialShapingEnv(base, acrobotTipHeight, 1);
}
