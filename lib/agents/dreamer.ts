/**
 * The Dreamer agent (Hafner et al. 2020, "Dream to Control: Learning Behaviors by Latent
 * Imagination", Algorithm 1 and Section 5) and DreamerV2 (Hafner et al. 2021, "Mastering Atari
 * with Discrete World Models", Section 2 and Appendix C): a world model (PlaNet's RSSM, with
 * DreamerV2's categorical latents, KL balancing and discount predictor when the config asks) learns
 * from replayed experience; an actor and a critic learn from trajectories imagined by the model
 * (dreamer_behavior.ts); the actor acts in the environment and its episodes grow the replay.
 *
 * The loop: `seedEpisodes` episodes of uniform random actions, then `pretrainUpdates` updates;
 * then every `trainEvery` decisions of the actor, `updatesPerTrain` updates (the train ratio; Dreamer
 * v1 trains 100 updates per 1,000 environment steps, DreamerV2 one update every 5 or 16 decisions).
 * One update is one world-model step on B chunks of L steps (the papers: 50 x 50) and one actor and
 * critic step on trajectories imagined from each of those B x L posterior states. Each chosen
 * action is repeated `actionRepeat` times; continuous actions get Gaussian exploration noise
 * (Dreamer v1: 0.3), discrete ones are sampled from the policy. Runs stop after `environmentSteps`
 * environment steps, the last episode cut there.
 *
 * Every episode ends with the replay, every network and optimiser, the counters and the learning
 * curve saved under `dataDir` (the weights in a fresh folder named by the progress file, so a crash
 * mid-save leaves the previous set whole), and an interrupted run resumes after its last finished
 * episode with the same results. Files of another config are refused, naming the file. A NaN in the
 * world-model, actor or critic loss stops training with an error naming the term. Each episode also
 * counts the transitions imagined for the actor and critic against the real environment steps, and
 * (with `openLoop`) measures the world model's open-loop error on the new episode before it enters
 * the replay, on replayed data, and on the previous episode after one round of training on it.
 */
import { readRunProgress } from "./run_progress.ts";
import { tf } from "../tensor/mod.ts";
import { Rng } from "../rng.ts";
import { InterruptedError, UserError } from "../errors.ts";
import { readJsonIfExists, writeFileAtomic, writeJsonAtomic } from "../io.ts";
import { configHash } from "../hash.ts";
import { checkpointExists, loadCheckpoint, saveCheckpoint } from "../tensor/checkpoint.ts";
import { type Action, boxSize, type BoxSpec, type Env } from "../envs/types.ts";
import { scaleAction } from "../envs/wrappers.ts";
import { Rssm, type RssmState, RssmTrainer, type WorldModelLosses } from "../models/rssm.ts";
import type { ModelSettings } from "./planet.ts";
import { EpisodeRecorder } from "./sequence_replay.ts";
import { DreamerReplay } from "./dreamer_replay.ts";
import {
  type ActionKind,
  type BehaviorConfig,
  type BehaviorLosses,
  DreamerBehavior,
} from "./dreamer_behavior.ts";
import {
  episodeOpenLoopError,
  type OpenLoopError,
  type OpenLoopSettings,
  replayOpenLoopError,
} from "./dreamer_cycle.ts";
import type { Progress } from "../progress.ts";

export interface DreamerConfig {
  /** R: each chosen action is applied this many environment steps. */
  actionRepeat: number;
  /** Episodes of uniform random actions before learning (Dreamer v1: 5). */
  seedEpisodes: number;
  /** Environment steps of the whole run, seed episodes included. */
  environmentSteps: number;
  /** Decisions of the actor between training rounds. */
  trainEvery: number;
  /** Updates per training round. */
  updatesPerTrain: number;
  /** Updates once the seed episodes are in (DreamerV2 on control: 100). */
  pretrainUpdates: number;
  /** B chunks of L steps per update (papers: 50 x 50). */
  batchSize: number;
  chunkLength: number;
  /** The world model's Adam step size and epsilon (Dreamer v1: 6e-4; DreamerV2: 2e-4, 1e-5). */
  modelLearningRate: number;
  modelAdamEpsilon: number;
  /** Global norm the world model's gradients are clipped at (papers: 100). */
  modelGradClipNorm: number;
  /** Std of Gaussian noise on continuous actions while exploring, in [-1, 1] units (v1: 0.3). */
  explorationNoise: number;
  /** The RSSM: sizes, latent kind, KL balancing and scale, continuation head. */
  model: ModelSettings;
  behavior: BehaviorConfig;
  /** The virtuous-cycle measurement after each episode of the actor; null: none. */
  openLoop: OpenLoopSettings | null;
}

/** The virtuous-cycle measurement of one episode of the actor. */
export interface CycleRecord {
  /** The new episode, before it enters the replay. */
  fresh: OpenLoopError | null;
  /** Windows drawn from the replay the model has trained on. */
  replay: OpenLoopError | null;
  /** The previous episode, now after one round of training with it in the replay. */
  previousAfterTraining: OpenLoopError | null;
}

/** One finished episode of the learning curve. */
export interface DreamerEpisodeRecord {
  episode: number;
  kind: "random" | "actor";
  /** Environment steps (after action repeat) once this episode ended, summed over episodes. */
  envSteps: number;
  /** Decisions (actions chosen) once this episode ended, summed over episodes. */
  decisions: number;
  return: number;
  /** Environment steps of this episode. */
  length: number;
  /** Whether the task ended the episode (not a time limit or the step budget). */
  terminated: boolean;
  /** Updates once this episode ended, summed. */
  updates: number;
  /** Imagined transitions the actor and critic learned from, summed over the run. */
  imaginedTransitions: number;
  /** Mean losses of this episode's updates (null when none ran). */
  modelLosses: WorldModelLosses | null;
  behaviorLosses: BehaviorLosses | null;
  cycle: CycleRecord | null;
  /** Seconds spent choosing actions (filtering the observation and the actor's forward pass). */
  actSeconds: number;
  /** Seconds spent in this episode's updates. */
  trainSeconds: number;
  seconds: number;
}

export interface DreamerRun {
  model: Rssm;
  behavior: DreamerBehavior;
  replay: DreamerReplay;
  curve: DreamerEpisodeRecord[];
  /** Episodes resumed from disk rather than run now. */
  resumedEpisodes: number;
  /** Dispose the networks. */
  dispose(): void;
}

export interface DreamerRunOptions {
  seed: number;
  /** Where replay, networks and curve are saved after each episode; none: nothing is saved. */
  dataDir?: string;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
  /** Label for progress messages. */
  label?: string;
}

/** The actor's action space for an environment. */
export function actionKindOf(env: Env<Float32Array>): ActionKind {
  return env.actionSpec.kind === "box"
    ? { kind: "continuous", size: boxSize(env.actionSpec) }
    : { kind: "discrete", count: env.actionSpec.n };
}

/** The world model and the actor-critic of a config, initialised from `seed`. */
export function makeDreamer(
  env: Env<Float32Array>,
  config: Pick<DreamerConfig, "model" | "behavior">,
  seed: number,
): { model: Rssm; behavior: DreamerBehavior } {
  const actions = actionKindOf(env);
  const model = new Rssm({
    observation: { kind: "vector", size: boxSize(env.observationSpec) },
    actionSize: actions.kind === "continuous" ? actions.size : actions.count,
    ...config.model,
  }, new Rng(seed));
  const behavior = new DreamerBehavior(
    config.behavior,
    actions,
    model.featureSize,
    new Rng(seed + 7),
  );
  return { model, behavior };
}

/** How an episode chooses its actions. */
export type DreamerActing = "random" | "explore" | "test";

/**
 * Runs one episode (or its part within `maxEnvSteps`). The world model filters each observation
 * into a latent state and the actor picks the action; `afterDecision` runs after each decision,
 * the last one included (the training loop trains there). Returns the episode in the replay's
 * layout.
 */
export async function runDreamerEpisode(
  env: Env<Float32Array>,
  agent: { model: Rssm; behavior: DreamerBehavior } | null,
  acting: DreamerActing,
  settings: Pick<DreamerConfig, "actionRepeat" | "explorationNoise">,
  envSeed: number,
  rng: Rng,
  maxEnvSteps = Number.POSITIVE_INFINITY,
  afterDecision?: () => Promise<void> | void,
): Promise<{
  episode: ReturnType<EpisodeRecorder["finish"]>;
  return: number;
  envSteps: number;
  decisions: number;
  terminated: boolean;
  actSeconds: number;
}> {
  if (acting !== "random" && !agent) throw new Error("runDreamerEpisode: acting needs an agent");
  const actions = actionKindOf(env);
  const actionSize = actions.kind === "continuous" ? actions.size : actions.count;
  const observationSize = boxSize(env.observationSpec);
  const recorder = new EpisodeRecorder(observationSize, actionSize);
  const vector = new Float32Array(actionSize);
  const scaled = new Float32Array(actions.kind === "continuous" ? actionSize : 0);
  let observation = env.reset(envSeed);
  recorder.start(observation);
  let state: RssmState | null = null;
  const filter = (previous: Float32Array, obs: Float32Array) => {
    if (!agent) return;
    const next = tf.tidy(() => {
      const posterior = agent.model.observeStep(
        state ?? agent.model.initialState(1),
        tf.tensor2d(previous, [1, actionSize]),
        tf.tensor2d(obs, [1, observationSize]),
      );
      return [posterior.deterministic, posterior.stochastic];
    });
    if (state) tf.dispose([state.deterministic, state.stochastic]);
    state = { deterministic: next[0], stochastic: next[1] };
  };
  let total = 0, envSteps = 0, decisions = 0, actSeconds = 0;
  let terminated = false;
  try {
    let started = performance.now();
    filter(vector, observation);
    while (envSteps < maxEnvSteps) {
      if (acting === "random") {
        vector.fill(0);
        if (actions.kind === "continuous") {
          for (let i = 0; i < actionSize; i++) vector[i] = rng.uniform(-1, 1);
        } else {
          vector[rng.int(actions.count)] = 1;
        }
      } else {
        const chosen = tf.tidy(() =>
          agent!.behavior.act(agent!.model.features(state!), acting === "explore", rng)
        );
        vector.set(chosen);
        if (actions.kind === "continuous" && acting === "explore") {
          for (let i = 0; i < actionSize; i++) {
            const noisy = vector[i] + settings.explorationNoise * rng.normal();
            vector[i] = Math.min(1, Math.max(-1, noisy));
          }
        }
      }
      actSeconds += (performance.now() - started) / 1000;
      const envAction: Action = actions.kind === "continuous"
        ? scaleAction(vector, env.actionSpec as BoxSpec, scaled)
        : vector.indexOf(1);
      let reward = 0, done = false;
      for (let i = 0; i < settings.actionRepeat && envSteps < maxEnvSteps; i++) {
        const result = env.step(envAction);
        reward += result.reward;
        envSteps++;
        observation = result.observation;
        if (result.terminated || result.truncated) {
          terminated = result.terminated;
          done = true;
          break;
        }
      }
      total += reward;
      decisions++;
      recorder.record(vector, reward, observation);
      await afterDecision?.();
      if (done || envSteps >= maxEnvSteps) break;
      started = performance.now();
      filter(vector, observation);
    }
  } finally {
    if (state) tf.dispose([(state as RssmState).deterministic, (state as RssmState).stochastic]);
  }
  return { episode: recorder.finish(), return: total, envSteps, decisions, terminated, actSeconds };
}

/** Where a run's files live: the progress file names the folder of the networks. */
export function dreamerFiles(dataDir: string) {
  return {
    progress: `${dataDir}/progress.json`,
    replay: `${dataDir}/replay.bin`,
    weights: (episodes: number) => `${dataDir}/weights-after-${episodes}-episodes`,
  };
}

/** The checkpoint folders inside a weights folder. */
function weightFolders(folder: string) {
  return {
    worldModel: `${folder}/world-model`,
    actor: `${folder}/actor`,
    critic: `${folder}/critic`,
    targetCritic: `${folder}/target-critic`,
  };
}

interface DreamerCounters {
  updates: number;
  behaviorUpdates: number;
  decisions: number;
  imaginedTransitions: number;
}

interface SavedProgress {
  configHash: string;
  seed: number;
  curve: DreamerEpisodeRecord[];
  counters: DreamerCounters;
  /** The folder (under dataDir) holding the networks of this progress. */
  weights: string;
}

/** What a Dreamer checkpoint holds besides the weights. */
export interface DreamerCheckpointMetadata {
  configHash: string;
  episodes: number;
}

/** Loads the networks a finished (or interrupted) run saved in `dataDir`, for evaluation. */
export async function loadDreamer(
  env: Env<Float32Array>,
  config: DreamerConfig,
  seed: number,
  dataDir: string,
): Promise<{ model: Rssm; behavior: DreamerBehavior; curve: DreamerEpisodeRecord[] }> {
  const files = dreamerFiles(dataDir);
  const saved = await readJsonIfExists<SavedProgress>(files.progress);
  if (!saved) throw new UserError(`${files.progress} not found: run Dreamer first`);
  const agent = makeDreamer(env, config, seed);
  await loadWeights(`${dataDir}/${saved.weights}`, agent, { configHash: saved.configHash });
  return { ...agent, curve: saved.curve };
}

async function loadWeights(
  folder: string,
  agent: { model: Rssm; behavior: DreamerBehavior },
  expectedMetadata: Partial<DreamerCheckpointMetadata>,
  optimizers?: { model: tf.Optimizer },
): Promise<void> {
  const paths = weightFolders(folder);
  await loadCheckpoint(paths.worldModel, agent.model.params, {
    optimizer: optimizers?.model,
    expectedMetadata,
  });
  await loadCheckpoint(paths.actor, agent.behavior.actorParams, {
    optimizer: optimizers ? agent.behavior.actorOptimizer : undefined,
    expectedMetadata,
  });
  await loadCheckpoint(paths.critic, agent.behavior.criticParams, {
    optimizer: optimizers ? agent.behavior.criticOptimizer : undefined,
    expectedMetadata,
  });
  await loadCheckpoint(paths.targetCritic, agent.behavior.targetCriticParams, {
    expectedMetadata,
  });
}

const breathe = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Dreamer's Algorithm 1 on one environment and seed. Resumes from `dataDir` when a previous run of
 * the same config saved episodes there.
 */
export async function trainDreamer(
  makeEnv: () => Env<Float32Array>,
  config: DreamerConfig,
  options: DreamerRunOptions,
): Promise<DreamerRun> {
  const env = makeEnv();
  const { seed } = options;
  const hash = configHash({ config, seed, env: env.id });
  const agent = makeDreamer(env, config, seed);
  const { model, behavior } = agent;
  const trainer = new RssmTrainer(model, {
    learningRate: config.modelLearningRate,
    adamEpsilon: config.modelAdamEpsilon,
    gradClipNorm: config.modelGradClipNorm,
  });
  let replay = new DreamerReplay(model.observationSize, model.config.actionSize);
  let curve: DreamerEpisodeRecord[] = [];
  const counters: DreamerCounters = {
    updates: 0,
    behaviorUpdates: 0,
    decisions: 0,
    imaginedTransitions: 0,
  };
  const files = options.dataDir ? dreamerFiles(options.dataDir) : null;
  const report = options.onProgress ?? (() => {});
  const label = options.label ?? `Dreamer seed ${seed}`;
  const dispose = () => {
    trainer.dispose();
    model.dispose();
    behavior.dispose();
  };

  try {
    if (files) {
      const restored = await readRunProgress<SavedProgress, DreamerReplay>(
        files,
        hash,
        options.dataDir!,
        DreamerReplay.deserialize,
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
        // Episodes written after the last progress save belong to an unfinished episode's round.
        replay.truncate(saved.curve.length);
        const folder = `${options.dataDir}/${saved.weights}`;
        if (!(await checkpointExists(weightFolders(folder).worldModel))) {
          throw new UserError(
            `${files.progress} names the weights ${folder}, which are missing; delete ` +
              `${options.dataDir} to start this run afresh`,
          );
        }
        await loadWeights(folder, agent, {
          configHash: hash,
          episodes: saved.curve.length,
        }, { model: trainer.optimizer });
        Object.assign(counters, saved.counters);
        trainer.updates = counters.updates;
        behavior.updates = counters.behaviorUpdates;
        curve = saved.curve;
      }
    }
    const resumedEpisodes = curve.length;

    const train = (updates: number, rng: Rng, sums: LossSums) => {
      const started = performance.now();
      for (let i = 0; i < updates; i++) {
        trainOnce(trainer, behavior, replay, config, rng, sums, counters);
      }
      sums.seconds += (performance.now() - started) / 1000;
    };

    while ((curve.at(-1)?.envSteps ?? 0) < config.environmentSteps) {
      const episode = curve.length;
      if (options.signal?.aborted) {
        throw new InterruptedError(`${label}: interrupted after ${episode} episodes (saved)`);
      }
      const started = performance.now();
      // Per-episode generators: a resumed run draws what the uninterrupted one would have.
      const rng = new Rng(seed * 1_000_003 + episode * 7919 + 17);
      const random = episode < config.seedEpisodes;
      const stepsBefore = curve.at(-1)?.envSteps ?? 0;
      const sums = new LossSums();
      const decisionsBefore = counters.decisions;
      let decided = 0;
      const result = await runDreamerEpisode(
        env,
        random ? null : agent,
        random ? "random" : "explore",
        config,
        seed * 10_007 + episode,
        rng,
        config.environmentSteps - stepsBefore,
        async () => {
          decided++;
          if (random || (decisionsBefore + decided) % config.trainEvery !== 0) return;
          train(config.updatesPerTrain, rng, sums);
          report({
            stage: label,
            done: stepsBefore,
            total: config.environmentSteps,
            message: `episode ${episode + 1}: ${counters.updates} updates, model loss ` +
              `${sums.lastModelLoss.toFixed(2)}`,
          });
          await breathe();
          if (options.signal?.aborted) {
            throw new InterruptedError(`${label}: interrupted in episode ${episode + 1}`);
          }
        },
      );
      counters.decisions = decisionsBefore + result.decisions;

      let cycle: CycleRecord | null = null;
      if (!random && config.openLoop) {
        const cycleRng = new Rng(seed * 31 + episode);
        cycle = {
          fresh: episodeOpenLoopError(model, result.episode, config.openLoop),
          replay: replayOpenLoopError(model, replay.episodes, config.openLoop, cycleRng),
          previousAfterTraining: curve.at(-1)?.kind === "actor"
            ? episodeOpenLoopError(model, replay.episodes.at(-1)!, config.openLoop)
            : null,
        };
      }
      replay.addEpisode(result.episode, result.terminated);
      if (episode === config.seedEpisodes - 1 && config.pretrainUpdates > 0) {
        train(config.pretrainUpdates, rng, sums);
      }
      const record: DreamerEpisodeRecord = {
        episode: episode + 1,
        kind: random ? "random" : "actor",
        envSteps: stepsBefore + result.envSteps,
        decisions: counters.decisions,
        return: result.return,
        length: result.envSteps,
        terminated: result.terminated,
        updates: counters.updates,
        imaginedTransitions: counters.imaginedTransitions,
        modelLosses: sums.modelMeans(),
        behaviorLosses: sums.behaviorMeans(),
        cycle,
        actSeconds: result.actSeconds,
        trainSeconds: sums.seconds,
        seconds: (performance.now() - started) / 1000,
      };
      curve.push(record);
      report({
        stage: label,
        done: record.envSteps,
        total: config.environmentSteps,
        message: `episode ${episode + 1} return ${result.return.toFixed(1)}`,
      });
      if (files) {
        await save(
          files,
          options.dataDir!,
          { hash, seed, curve, counters },
          agent,
          trainer,
          replay,
        );
      }
      await breathe();
    }
    return { model, behavior, replay, curve, resumedEpisodes, dispose };
  } catch (error) {
    dispose();
    throw error;
  }
}

async function save(
  files: ReturnType<typeof dreamerFiles>,
  dataDir: string,
  { hash, seed, curve, counters }: {
    hash: string;
    seed: number;
    curve: DreamerEpisodeRecord[];
    counters: DreamerCounters;
  },
  agent: { model: Rssm; behavior: DreamerBehavior },
  trainer: RssmTrainer,
  replay: DreamerReplay,
): Promise<void> {
  const episodes = curve.length;
  const folder = files.weights(episodes);
  const paths = weightFolders(folder);
  const metadata: DreamerCheckpointMetadata = { configHash: hash, episodes };
  const { model, behavior } = agent;
  await saveCheckpoint(paths.worldModel, model.params, { optimizer: trainer.optimizer, metadata });
  await saveCheckpoint(paths.actor, behavior.actorParams, {
    optimizer: behavior.actorOptimizer,
    metadata,
  });
  await saveCheckpoint(paths.critic, behavior.criticParams, {
    optimizer: behavior.criticOptimizer,
    metadata,
  });
  await saveCheckpoint(paths.targetCritic, behavior.targetCriticParams, { metadata });
  // Replay, then the progress file that names the new weights; only then the old weights go.
  await writeFileAtomic(files.replay, replay.serialize());
  const progress: SavedProgress = {
    configHash: hash,
    seed,
    curve,
    counters: { ...counters, updates: trainer.updates, behaviorUpdates: behavior.updates },
    weights: folder.slice(dataDir.length + 1),
  };
  await writeJsonAtomic(files.progress, progress);
  for await (const entry of Deno.readDir(dataDir)) {
    const old = entry.isDirectory && entry.name.startsWith("weights-after-") &&
      entry.name !== progress.weights;
    if (old) await Deno.remove(`${dataDir}/${entry.name}`, { recursive: true });
  }
}

/** Running sums of the losses of one episode's updates. */
class LossSums {
  updates = 0;
  seconds = 0;
  lastModelLoss = Number.NaN;
  readonly #model = { reconstruction: 0, reward: 0, kl: 0, continuation: 0, total: 0 };
  readonly #behavior = { actor: 0, critic: 0, entropy: 0, imaginedReturn: 0 };
  #hasContinuation = false;

  add(model: WorldModelLosses, behavior: BehaviorLosses): void {
    this.updates++;
    this.lastModelLoss = model.total;
    for (const key of ["reconstruction", "reward", "kl", "total"] as const) {
      this.#model[key] += model[key];
    }
    if (model.continuation !== undefined) {
      this.#hasContinuation = true;
      this.#model.continuation += model.continuation;
    }
    for (const key of Object.keys(this.#behavior) as (keyof BehaviorLosses)[]) {
      this.#behavior[key] += behavior[key];
    }
  }

  modelMeans(): WorldModelLosses | null {
    if (this.updates === 0) return null;
    const n = this.updates, m = this.#model;
    const means: WorldModelLosses = {
      reconstruction: m.reconstruction / n,
      reward: m.reward / n,
      kl: m.kl / n,
      total: m.total / n,
    };
    if (this.#hasContinuation) means.continuation = m.continuation / n;
    return means;
  }

  behaviorMeans(): BehaviorLosses | null {
    if (this.updates === 0) return null;
    const n = this.updates, b = this.#behavior;
    return {
      actor: b.actor / n,
      critic: b.critic / n,
      entropy: b.entropy / n,
      imaginedReturn: b.imaginedReturn / n,
    };
  }
}

/**
 * One update: the world model on a sampled batch, then the actor and critic on trajectories
 * imagined from every real, non-terminal posterior state of that batch.
 */
function trainOnce(
  trainer: RssmTrainer,
  behavior: DreamerBehavior,
  replay: DreamerReplay,
  config: DreamerConfig,
  rng: Rng,
  sums: LossSums,
  counters: DreamerCounters,
): void {
  const model = trainer.model;
  const { batchSize, chunkLength } = config;
  const chunks = replay.sample(batchSize, chunkLength, rng);
  const noise = model.fillNoise(
    new Float32Array(batchSize * chunkLength * model.noiseSize),
    rng,
  );
  const shape: [number, number] = [batchSize, chunkLength];
  const batch = {
    observations: tf.tensor3d(chunks.observations, [...shape, replay.observationSize]),
    actions: tf.tensor3d(chunks.actions, [...shape, replay.actionSize]),
    rewards: tf.tensor2d(chunks.rewards, shape),
    continues: tf.tensor2d(chunks.continues, shape),
    mask: tf.tensor2d(chunks.mask, shape),
  };
  const noiseTensor = tf.tensor3d(noise, [...shape, model.noiseSize]);
  // Start weights, time-major as the states are: real steps that are not terminal.
  const startValues = new Float32Array(batchSize * chunkLength);
  let starts = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let t = 0; t < chunkLength; t++) {
      const i = b * chunkLength + t;
      const weight = chunks.mask[i] * chunks.continues[i];
      startValues[t * batchSize + b] = weight;
      starts += weight;
    }
  }
  const startWeights = tf.tensor1d(startValues);
  let states: RssmState | null = null;
  try {
    const step = trainer.stepWithStates(batch, noiseTensor);
    states = step.states;
    const behaviorLosses = behavior.train(model, states, startWeights, rng);
    sums.add(step.losses, behaviorLosses);
    counters.updates = trainer.updates;
    counters.behaviorUpdates = behavior.updates;
    counters.imaginedTransitions += starts * behavior.config.horizon;
  } finally {
    tf.dispose([...Object.values(batch), noiseTensor, startWeights]);
    if (states) tf.dispose([(states as RssmState).deterministic, (states as RssmState).stochastic]);
  }
}
