/**
 * The PlaNet agent (Hafner et al. 2019, "Learning Latent Dynamics for Planning from Pixels",
 * Algorithm 1 and Section 5, "Experiments"): there is no policy network. It
 *   1. collects S seed episodes with random actions,
 *   2. then alternates C model updates on chunks from the replay (the paper: C = 100, batch
 *      B = 50 chunks of L = 50 steps, Adam 1e-3, epsilon 1e-4, gradients clipped at norm 1000)
 *   3. with one episode collected by planning: at every decision the RSSM filters the latest
 *      observation into a latent state and CEM searches action sequences from it in latent
 *      space; the first action, plus Gaussian exploration noise (0.3), is repeated R times
 *      (action repeat: 8 for cartpole swing-up, 2 for most other tasks).
 *
 * Every episode ends with the replay, the model, the optimiser and the learning curve saved under
 * `dataDir`, so an interrupted run resumes after its last finished episode. Files written for
 * another config are refused with a `UserError` naming the file.
 */
import { readRunProgress } from "./run_progress.ts";
import { tf } from "../tensor/mod.ts";
import { Rng } from "../rng.ts";
import { InterruptedError, UserError } from "../errors.ts";
import { writeFileAtomic, writeJsonAtomic } from "../io.ts";
import { configHash } from "../hash.ts";
import { checkpointExists, loadCheckpoint, saveCheckpoint } from "../tensor/checkpoint.ts";
import { boxSize, type Env } from "../envs/types.ts";
import { continuousActionSpec, repeatAction, scaleAction } from "../envs/wrappers.ts";
import { CemPlanner } from "../planners/cem.ts";
import { randomShootingPlan } from "../planners/random_shooting.ts";
import type { PlanResult } from "../planners/types.ts";
import {
  type ObservationModel,
  Rssm,
  type RssmConfig,
  type RssmLosses,
  type RssmState,
  RssmTrainer,
} from "../models/rssm.ts";
import { type Episode, EpisodeRecorder, SequenceReplay } from "./sequence_replay.ts";
import type { Progress } from "../progress.ts";

export interface PlannerSettings {
  /** H (paper: 12). */
  planningHorizon: number;
  /** J (paper: 1000). */
  candidates: number;
  /** K (paper: 100). */
  elites: number;
  /** I (paper: 10). */
  iterations: number;
}

/** The RSSM's sizes and loss settings (`RssmConfig` less what the environment fixes). */
export type ModelSettings =
  & Omit<RssmConfig, "observation" | "actionSize" | "observationStd">
  & Required<Pick<RssmConfig, "observationStd">>;

export interface PlanetConfig {
  /** R: each chosen action is applied this many environment steps. */
  actionRepeat: number;
  /** S: episodes of uniform random actions before planning starts (paper: 5). */
  seedEpisodes: number;
  /** Episodes collected by planning after the seed episodes. */
  planningEpisodes: number;
  /** C: model updates after each episode (paper: 100). */
  updatesPerEpisode: number;
  /** B (paper: 50). */
  batchSize: number;
  /** L (paper: 50). */
  chunkLength: number;
  learningRate: number;
  adamEpsilon: number;
  gradClipNorm: number;
  /** Std of the Gaussian noise added to planned actions, in [-1, 1] units (paper: 0.3). */
  explorationNoise: number;
  planner: PlannerSettings;
  model: ModelSettings;
  /** After these episode counts the model's weights are kept as snapshots (for later planning). */
  snapshotEpisodes: number[];
  /**
   * Rendered frames of this size instead of state vectors, as the paper learns (64). The
   * environment must then produce frames (`PixelFloatEnv`); the RSSM gets the convolutional
   * encoder and decoder. Absent: the observations are vectors.
   */
  observationImageSize?: 32 | 64;
}

/** The RSSM's observation model for a config: pixels when it asks for them, else vectors. */
export function planetObservation(
  env: Env<Float32Array>,
  config: Pick<PlanetConfig, "observationImageSize">,
): ObservationModel {
  const size = config.observationImageSize;
  if (size === undefined) return { kind: "vector", size: boxSize(env.observationSpec) };
  if (boxSize(env.observationSpec) !== size * size * 3) {
    throw new UserError(
      `${env.id}: observations of ${boxSize(env.observationSpec)} numbers are not ` +
        `${size}x${size} RGB frames; wrap the environment in PixelFloatEnv`,
    );
  }
  return { kind: "pixels", imageSize: size };
}

/** One finished episode of the learning curve. */
export interface EpisodeRecord {
  episode: number;
  kind: "random" | "planning";
  /** Environment steps (after action repeat) once this episode ended, summed over episodes. */
  envSteps: number;
  return: number;
  /** Mean losses of the updates after this episode (null before training starts). */
  losses: RssmLosses | null;
  seconds: number;
}

export interface PlanetRun {
  model: Rssm;
  replay: SequenceReplay;
  curve: EpisodeRecord[];
  /** Episodes resumed from disk rather than run now. */
  resumedEpisodes: number;
}

export interface PlanetRunOptions {
  seed: number;
  /** Where replay, model and curve are saved after each episode; none: nothing is saved. */
  dataDir?: string;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
  /** Label for progress messages. */
  label?: string;
}

export function makeRssm(
  env: Env<Float32Array>,
  settings: ModelSettings,
  seed: number,
  observation?: ObservationModel,
): Rssm {
  return new Rssm({
    observation: observation ?? { kind: "vector", size: boxSize(env.observationSpec) },
    actionSize: boxSize(continuousActionSpec(env)),
    ...settings,
  }, new Rng(seed));
}

/** How an episode chooses its actions. */
export type ActingMode =
  | { kind: "random" }
  | { kind: "cem"; settings: PlannerSettings; noise: number }
  | { kind: "random-shooting"; candidates: number; planningHorizon: number };

/**
 * Runs one episode: the model filters each observation into a latent state and the acting mode
 * picks the action. Returns the episode in the replay's layout and its real return.
 */
export function runEpisode(
  env: Env<Float32Array>,
  model: Rssm,
  mode: ActingMode,
  actionRepeat: number,
  envSeed: number,
  rng: Rng,
  onDecision?: (decision: number, total: number) => void,
): { episode: Episode; return: number; envSteps: number; planSeconds: number } {
  const spec = continuousActionSpec(env);
  const actionSize = boxSize(spec);
  const observationSize = boxSize(env.observationSpec);
  const recorder = new EpisodeRecorder(observationSize, actionSize);
  const envAction = new Float32Array(actionSize);
  const action = new Float32Array(actionSize);
  const decisions = Math.ceil(env.maxEpisodeSteps / actionRepeat);
  const planner = mode.kind === "cem"
    ? new CemPlanner<RssmState>({
      ...mode.settings,
      actionSize,
      actionLow: -1,
      actionHigh: 1,
    }, rng)
    : null;
  const observation = env.reset(envSeed);
  recorder.start(observation);
  let state: RssmState | null = null;
  const advance = (previousAction: Float32Array, obs: Float32Array) => {
    if (mode.kind === "random") return;
    const next = tf.tidy(() => {
      const start = state ?? model.initialState(1);
      const posterior = model.observeStep(
        start,
        tf.tensor2d(previousAction, [1, actionSize]),
        tf.tensor2d(obs, [1, observationSize]),
      );
      return [posterior.deterministic, posterior.stochastic];
    });
    if (state) tf.dispose([state.deterministic, state.stochastic]);
    state = { deterministic: next[0], stochastic: next[1] };
  };
  advance(new Float32Array(actionSize), observation);
  let total = 0;
  let envSteps = 0;
  let planSeconds = 0;
  try {
    for (let decision = 0; decision < decisions; decision++) {
      const planStart = performance.now();
      let plan: PlanResult | null = null;
      if (mode.kind === "random") {
        for (let i = 0; i < actionSize; i++) action[i] = rng.uniform(-1, 1);
      } else if (mode.kind === "cem") {
        plan = planner!.plan(model, state!);
        for (let i = 0; i < actionSize; i++) {
          action[i] = Math.min(1, Math.max(-1, plan.action[i] + mode.noise * rng.normal()));
        }
      } else {
        plan = randomShootingPlan(model, state!, {
          planningHorizon: mode.planningHorizon,
          actionSize,
          actionLow: -1,
          actionHigh: 1,
          candidates: mode.candidates,
          sampling: "normal",
        }, rng);
        action.set(plan.action);
      }
      planSeconds += (performance.now() - planStart) / 1000;
      const { reward, done, steps, observation: latest } = repeatAction(
        env,
        scaleAction(action, spec, envAction),
        actionRepeat,
      );
      total += reward;
      envSteps += steps;
      recorder.record(action, reward, latest);
      if (done) break;
      advance(action, latest);
      onDecision?.(decision + 1, decisions);
    }
  } finally {
    if (state) tf.dispose([(state as RssmState).deterministic, (state as RssmState).stochastic]);
  }
  return { episode: recorder.finish(), return: total, envSteps, planSeconds };
}

/** Turns a sampled chunk batch into tensors and trains one step. */
function trainOnce(
  trainer: RssmTrainer,
  replay: SequenceReplay,
  config: PlanetConfig,
  rng: Rng,
): RssmLosses {
  const chunkLength = Math.min(
    config.chunkLength,
    Math.min(...replay.episodes.map((e) => e.length)),
  );
  const chunks = replay.sample(config.batchSize, chunkLength, rng);
  const stochasticSize = trainer.model.config.stochasticSize;
  const noise = new Float32Array(config.batchSize * chunkLength * stochasticSize);
  rng.fillNormal(noise);
  const tensors = {
    observations: tf.tensor3d(chunks.observations, [
      config.batchSize,
      chunkLength,
      replay.observationSize,
    ]),
    actions: tf.tensor3d(chunks.actions, [config.batchSize, chunkLength, replay.actionSize]),
    rewards: tf.tensor2d(chunks.rewards, [config.batchSize, chunkLength]),
  };
  const noiseTensor = tf.tensor3d(noise, [config.batchSize, chunkLength, stochasticSize]);
  try {
    return trainer.step(tensors, noiseTensor);
  } finally {
    tf.dispose([tensors.observations, tensors.actions, tensors.rewards, noiseTensor]);
  }
}

/** What a PlaNet model checkpoint holds besides the weights. */
export interface PlanetCheckpointMetadata {
  /** `configHash` of the run's config, seed and environment: files of another run are refused. */
  configHash: string;
  /** The trainer's update count when it was saved. */
  updates: number;
}

interface SavedProgress {
  configHash: string;
  seed: number;
  curve: EpisodeRecord[];
}

/**
 * Where a run's files live. `model` (weights and optimiser) and the snapshots (weights only) are
 * checkpoint directories of lib/tensor/checkpoint.ts.
 */
export function planetFiles(dataDir: string) {
  return {
    progress: `${dataDir}/progress.json`,
    replay: `${dataDir}/replay.bin`,
    model: `${dataDir}/model`,
    snapshot: (episodes: number) => `${dataDir}/model-after-${episodes}-episodes`,
  };
}

/**
 * Algorithm 1 of PlaNet on one environment and seed. Resumes from `dataDir` when a previous run
 * of the same config saved episodes there.
 */
export async function trainPlanet(
  makeEnv: () => Env<Float32Array>,
  config: PlanetConfig,
  options: PlanetRunOptions,
): Promise<PlanetRun> {
  const env = makeEnv();
  const { seed } = options;
  const hash = configHash({ config, seed, env: env.id });
  const model = makeRssm(env, config.model, seed, planetObservation(env, config));
  const trainer = new RssmTrainer(model, {
    learningRate: config.learningRate,
    adamEpsilon: config.adamEpsilon,
    gradClipNorm: config.gradClipNorm,
  });
  let replay = new SequenceReplay(
    boxSize(env.observationSpec),
    boxSize(continuousActionSpec(env)),
  );
  let curve: EpisodeRecord[] = [];
  const files = options.dataDir ? planetFiles(options.dataDir) : null;
  const report = options.onProgress ?? (() => {});
  const label = options.label ?? `PlaNet seed ${seed}`;
  const totalEpisodes = config.seedEpisodes + config.planningEpisodes;

  if (files) {
    const restored = await readRunProgress<SavedProgress, SequenceReplay>(
      files,
      hash,
      options.dataDir!,
      SequenceReplay.deserialize,
    );
    if (restored) {
      const { saved } = restored;
      replay = restored.replay;
      if (replay.numEpisodes < saved.curve.length) {
        throw new UserError(
          `replay file ${files.replay} holds ${replay.numEpisodes} episodes, ` +
            `${files.progress} expects ${saved.curve.length}`,
        );
      }
      // Episodes written after the last progress save belong to an unfinished update round.
      replay.episodes.length = saved.curve.length;
      if (saved.curve.length > 0) {
        // Runs saved before the model went into a checkpoint directory left a model.ckpt file.
        if (!(await checkpointExists(files.model))) {
          throw new UserError(
            `${files.progress} lists ${saved.curve.length} episodes but the model checkpoint ` +
              `${files.model} is missing; delete ${options.dataDir} to start this run afresh`,
          );
        }
        const manifest = await loadCheckpoint<PlanetCheckpointMetadata>(files.model, model.params, {
          optimizer: trainer.optimizer,
          expectedMetadata: { configHash: hash },
        });
        trainer.updates = manifest.userDefinedMetadata.updates;
      }
      curve = saved.curve;
    }
  }
  const resumedEpisodes = curve.length;

  for (let episode = curve.length; episode < totalEpisodes; episode++) {
    if (options.signal?.aborted) {
      throw new InterruptedError(`${label}: interrupted after ${episode} episodes (saved)`);
    }
    const started = performance.now();
    // Per-episode generators: a resumed run draws what the uninterrupted one would have.
    const rng = new Rng(seed * 1_000_003 + episode * 7919 + 17);
    const random = episode < config.seedEpisodes;
    const result = runEpisode(
      env,
      model,
      random
        ? { kind: "random" }
        : { kind: "cem", settings: config.planner, noise: config.explorationNoise },
      config.actionRepeat,
      seed * 10_007 + episode,
      rng,
      (decision, total) => {
        if (decision % 10 === 0) {
          report({
            stage: label,
            done: episode + decision / total,
            total: totalEpisodes,
            message: `episode ${episode + 1}: planning ${decision}/${total}`,
          });
        }
      },
    );
    replay.addEpisode(result.episode);
    let losses: RssmLosses | null = null;
    if (episode >= config.seedEpisodes - 1) {
      const sums = { reconstruction: 0, reward: 0, kl: 0, total: 0 };
      for (let update = 0; update < config.updatesPerEpisode; update++) {
        const step = trainOnce(trainer, replay, config, rng);
        for (const key of Object.keys(sums) as (keyof RssmLosses)[]) sums[key] += step[key];
        if (update % 10 === 9) {
          report({
            stage: label,
            done: episode + 1,
            total: totalEpisodes,
            message: `episode ${episode + 1}: update ${update + 1}/${config.updatesPerEpisode}, ` +
              `loss ${step.total.toFixed(2)}`,
          });
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
      }
      const n = Math.max(1, config.updatesPerEpisode);
      losses = {
        reconstruction: sums.reconstruction / n,
        reward: sums.reward / n,
        kl: sums.kl / n,
        total: sums.total / n,
      };
    }
    const envSteps = (curve.at(-1)?.envSteps ?? 0) + result.envSteps;
    curve.push({
      episode: episode + 1,
      kind: random ? "random" : "planning",
      envSteps,
      return: result.return,
      losses,
      seconds: (performance.now() - started) / 1000,
    });
    report({
      stage: label,
      done: episode + 1,
      total: totalEpisodes,
      message: `episode ${episode + 1} return ${result.return.toFixed(1)}`,
    });
    if (files) {
      // Model first, then replay, then the progress file that says both are complete.
      const metadata: PlanetCheckpointMetadata = { configHash: hash, updates: trainer.updates };
      await saveCheckpoint(files.model, model.params, { optimizer: trainer.optimizer, metadata });
      if (config.snapshotEpisodes.includes(episode + 1)) {
        await saveCheckpoint(files.snapshot(episode + 1), model.params, { metadata });
      }
      await writeFileAtomic(files.replay, replay.serialize());
      await writeJsonAtomic(files.progress, { configHash: hash, seed, curve });
    }
  }
  trainer.dispose();
  return { model, replay, curve, resumedEpisodes };
}
