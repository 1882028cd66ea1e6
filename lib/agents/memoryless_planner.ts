/**
 * PlaNet's loop (Hafner et al. 2019, Algorithm 1) around a model without memory
 * (lib/models/memoryless.ts): random seed episodes, then episodes collected by CEM planning from
 * the state the model reads off the latest observation alone, with C updates on chunks of the
 * replay after each episode. Everything but the model is PlaNet's (lib/agents/planet.ts): the
 * replay, the action repeat, the exploration noise, the planner and its settings.
 */
import { tf } from "../tensor/mod.ts";
import { Rng } from "../rng.ts";
import { boxSize, type Env } from "../envs/types.ts";
import { continuousActionSpec, repeatAction, scaleAction } from "../envs/wrappers.ts";
import { CemPlanner } from "../planners/cem.ts";
import { type MemorylessLosses, MemorylessModel } from "../models/memoryless.ts";
import { type Episode, EpisodeRecorder, SequenceReplay } from "./sequence_replay.ts";
import type { PlannerSettings } from "./planet.ts";
import type { Progress } from "../progress.ts";

export interface MemorylessPlannerConfig {
  actionRepeat: number;
  seedEpisodes: number;
  planningEpisodes: number;
  updatesPerEpisode: number;
  batchSize: number;
  chunkLength: number;
  learningRate: number;
  gradClipNorm: number;
  explorationNoise: number;
  planner: PlannerSettings;
  model: { stateSize: number; hiddenSize: number; observationStd: number };
}

/** One finished episode of the learning curve. */
export interface MemorylessEpisodeRecord {
  episode: number;
  envSteps: number;
  return: number;
  losses: MemorylessLosses | null;
}

/** How an episode chooses its actions: random, or CEM with Gaussian noise on its first action. */
export type MemorylessActing = { kind: "random" } | {
  kind: "cem";
  settings: PlannerSettings;
  noise: number;
};

/** One episode; the model reads each observation afresh. */
export function runMemorylessEpisode(
  env: Env<Float32Array>,
  model: MemorylessModel,
  mode: MemorylessActing,
  actionRepeat: number,
  envSeed: number,
  rng: Rng,
): { episode: Episode; return: number; envSteps: number } {
  const spec = continuousActionSpec(env);
  const actionSize = boxSize(spec);
  const observationSize = boxSize(env.observationSpec);
  const recorder = new EpisodeRecorder(observationSize, actionSize);
  const envAction = new Float32Array(actionSize);
  const action = new Float32Array(actionSize);
  const planner = mode.kind === "cem"
    ? new CemPlanner<tf.Tensor2D>(
      { ...mode.settings, actionSize, actionLow: -1, actionHigh: 1 },
      rng,
    )
    : null;
  let observation = env.reset(envSeed);
  recorder.start(observation);
  let total = 0;
  let envSteps = 0;
  const decisions = Math.ceil(env.maxEpisodeSteps / actionRepeat);
  for (let decision = 0; decision < decisions; decision++) {
    if (mode.kind === "random") {
      for (let i = 0; i < actionSize; i++) action[i] = rng.uniform(-1, 1);
    } else {
      const state = tf.tidy(() => model.encode(tf.tensor2d(observation, [1, observationSize])));
      const plan = planner!.plan(model, state);
      state.dispose();
      for (let i = 0; i < actionSize; i++) {
        action[i] = Math.min(1, Math.max(-1, plan.action[i] + mode.noise * rng.normal()));
      }
    }
    const step = repeatAction(env, scaleAction(action, spec, envAction), actionRepeat);
    total += step.reward;
    envSteps += step.steps;
    recorder.record(action, step.reward, step.observation);
    observation = step.observation;
    if (step.done) break;
  }
  return { episode: recorder.finish(), return: total, envSteps };
}

/** Trains the memoryless model with PlaNet's loop; returns the model and its learning curve. */
export async function trainMemorylessPlanner(
  makeEnv: () => Env<Float32Array>,
  config: MemorylessPlannerConfig,
  options: { seed: number; onProgress?: (progress: Progress) => void; label?: string },
): Promise<{ model: MemorylessModel; curve: MemorylessEpisodeRecord[] }> {
  const env = makeEnv();
  const { seed } = options;
  const observationSize = boxSize(env.observationSpec);
  const actionSize = boxSize(continuousActionSpec(env));
  const model = new MemorylessModel({
    observationSize,
    actionSize,
    ...config.model,
    learningRate: config.learningRate,
    gradClipNorm: config.gradClipNorm,
  }, new Rng(seed));
  const replay = new SequenceReplay(observationSize, actionSize);
  const curve: MemorylessEpisodeRecord[] = [];
  const label = options.label ?? `memoryless seed ${seed}`;
  const totalEpisodes = config.seedEpisodes + config.planningEpisodes;
  for (let episode = 0; episode < totalEpisodes; episode++) {
    const rng = new Rng(seed * 1_000_003 + episode * 7919 + 17);
    const random = episode < config.seedEpisodes;
    const result = runMemorylessEpisode(
      env,
      model,
      random
        ? { kind: "random" }
        : { kind: "cem", settings: config.planner, noise: config.explorationNoise },
      config.actionRepeat,
      seed * 10_007 + episode,
      rng,
    );
    replay.addEpisode(result.episode);
    let losses: MemorylessLosses | null = null;
    if (episode >= config.seedEpisodes - 1) {
      const sums = { reconstruction: 0, reward: 0, total: 0 };
      const chunkLength = Math.min(
        config.chunkLength,
        Math.min(...replay.episodes.map((e) => e.length)),
      );
      for (let update = 0; update < config.updatesPerEpisode; update++) {
        const chunks = replay.sample(config.batchSize, chunkLength, rng);
        const step = tf.tidy(() => ({
          observations: tf.tensor3d(chunks.observations, [
            config.batchSize,
            chunkLength,
            observationSize,
          ]),
          actions: tf.tensor3d(chunks.actions, [config.batchSize, chunkLength, actionSize]),
          rewards: tf.tensor2d(chunks.rewards, [config.batchSize, chunkLength]),
        }));
        const updateLosses = model.trainStep(step.observations, step.actions, step.rewards);
        tf.dispose([step.observations, step.actions, step.rewards]);
        for (const key of Object.keys(sums) as (keyof MemorylessLosses)[]) {
          sums[key] += updateLosses[key] / config.updatesPerEpisode;
        }
      }
      losses = sums;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const envSteps = (curve.at(-1)?.envSteps ?? 0) + result.envSteps;
    curve.push({ episode: episode + 1, envSteps, return: result.return, losses });
    options.onProgress?.({
      stage: label,
      done: episode + 1,
      total: totalEpisodes,
      message: `episode ${episode + 1} return ${result.return.toFixed(1)}`,
    });
  }
  return { model, curve };
}
