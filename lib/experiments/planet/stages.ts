/**
 * The stages both PlaNet experiments share (Hafner et al. 2019, Section 5 and Table 1), each saved
 * under the run's data folder as it ends with a hash of the config fields it depends on, so a rerun
 * resumes from finished stages and refuses stage files written for another config:
 *   1. PlaNet (Algorithm 1) per seed, its learning curve against environment steps;
 *   2. the model-free baseline (SAC) on the same environment for the same environment steps;
 *   3. CEM on the true simulator (the paper's "CEM + true simulator" row);
 *   4. planning from the same start states with the early and the final model, and CEM against
 *      random shooting at the same number of model evaluations;
 *   5. (pixels) an RSSM on rendered frames: open-loop predictions decoded back to frames, and the
 *      cost of planning in latent space against decoding every imagined step.
 * Independent stages run in the stage pool's workers, each importing its task's module.
 */
import { tf } from "../../tensor/mod.ts";
import { Rng } from "../../rng.ts";
import { UserError } from "../../errors.ts";
import { configHash } from "../../hash.ts";
import { readJsonIfExists, REPO_ROOT, writeFileAtomic, writeJsonAtomic } from "../../io.ts";
import type { Env } from "../../envs/types.ts";
import type { ClassicControlEnv } from "../../envs/classic_env.ts";
import { trainSac } from "../../agents/sac.ts";
import { SAC_LAPTOP_CONFIG } from "../../agents/sac.ts";
import {
  makeRssm,
  type PlanetCheckpointMetadata,
  type PlanetConfig,
  planetFiles,
  planetObservation,
  runEpisode,
  trainPlanet,
} from "../../agents/planet.ts";
import { SequenceReplay } from "../../agents/sequence_replay.ts";
import { RssmTrainer } from "../../models/rssm.ts";
import { loadCheckpoint } from "../../tensor/checkpoint.ts";
import {
  ActionRepeatEnv,
  continuousActionSpec,
  PixelFloatEnv,
  repeatAction,
  scaleAction,
  TimeLimitEnv,
} from "../../envs/wrappers.ts";
import { TrueDynamicsModel } from "../../planners/true_dynamics.ts";
import { CemPlanner } from "../../planners/cem.ts";
import { encodePng, type Frame, frameFrom, hstack, upscale } from "../../viz/image.ts";
import type { Progress } from "../types.ts";
import {
  type Curve,
  type PlanetExperimentConfig,
  type PlanetMetrics,
  type PlanetTask,
} from "./config.ts";

/** Runs `compute` unless `dataDir/name.json` holds its result for the same inputs. */
export async function stage<T>(
  dataDir: string,
  name: string,
  inputs: unknown,
  compute: () => Promise<T>,
): Promise<{ value: T; seconds: number; reused: boolean }> {
  const path = `${dataDir}/${name}.json`;
  const hash = configHash(inputs);
  let saved: { hash: string; seconds: number; value: T } | null;
  try {
    saved = await readJsonIfExists(path);
  } catch {
    throw new UserError(`stage file ${path} is corrupt; delete it to rerun that stage`);
  }
  if (saved) {
    if (typeof saved !== "object" || !("hash" in saved) || !("value" in saved)) {
      throw new UserError(`stage file ${path} is not a stage file; delete it to rerun that stage`);
    }
    if (saved.hash !== hash) {
      throw new UserError(
        `stage file ${path} was written for another config (hash ${saved.hash}, now ${hash}); ` +
          `delete it (or the folder) to rerun`,
      );
    }
    return { value: saved.value, seconds: saved.seconds, reused: true };
  }
  const started = performance.now();
  const value = await compute();
  const seconds = Math.round((performance.now() - started) / 10) / 100;
  await writeJsonAtomic(path, { hash, seconds, value });
  return { value, seconds, reused: false };
}

// ---------------------------------------------------------------------------------------------
// Run

function planetAgentConfig(config: PlanetExperimentConfig): PlanetConfig {
  const p = config.planet;
  return {
    ...p,
    // The early model: trained once, on the seed episodes only.
    snapshotEpisodes: [p.seedEpisodes],
  };
}

export function firstReaching(
  steps: number[],
  returns: number[],
  threshold: number,
): number | null {
  const index = returns.findIndex((value) => value >= threshold);
  return index < 0 ? null : steps[index];
}

/** Gives the event loop a turn so progress displays redraw and aborts are noticed. */
export const breathe = () => new Promise((resolve) => setTimeout(resolve, 0));

/** One stage of a PlaNet experiment: each can run alone, in any order, in a worker. */
export type PlanetStage =
  | { kind: "planet" | "sac" | "checkpoints"; seed: number }
  | { kind: "true-simulator" }
  | { kind: "pixels" };

export interface PlanetStageArgs {
  config: PlanetExperimentConfig;
  dataDir: string;
  stage: PlanetStage;
}

export type SacRun = { steps: number[]; returns: number[]; evaluation: Curve };
export type CheckpointReturns = { early: number[]; late: number[]; randomShooting: number[] };

/**
 * PlaNet's environment steps in a run: both tasks have no terminal states, so every episode
 * lasts `episodeSteps`. SAC gets this many times `stepsMultiplier`.
 */
export function planetEnvSteps(config: PlanetExperimentConfig): number {
  return (config.planet.seedEpisodes + config.planet.planningEpisodes) * config.episodeSteps;
}

/**
 * Runs one stage, or reads it back when its files are already on disk. The stages read nothing
 * from each other except that `checkpoints` needs the finished `planet` run of its seed.
 */
export async function runPlanetStage(
  task: PlanetTask,
  args: PlanetStageArgs,
  report: (p: Progress) => void,
  signal?: AbortSignal,
): Promise<{ value: unknown; seconds: number }> {
  const { config, dataDir, stage: which } = args;
  const imageSize = config.planet.observationImageSize;
  // PlaNet sees frames when the config asks for them; SAC and the true simulator always states.
  const makeAgentEnv = () =>
    new TimeLimitEnv(
      imageSize ? new PixelFloatEnv(task.makeEnv(), imageSize) : task.makeEnv(),
      config.episodeSteps,
    );
  const makeEnv = () => new TimeLimitEnv(task.makeEnv(), config.episodeSteps);
  const agentConfig = planetAgentConfig(config);
  const repeat = config.planet.actionRepeat;
  switch (which.kind) {
    case "planet": {
      const run = await trainPlanet(makeAgentEnv, agentConfig, {
        seed: which.seed,
        dataDir: `${dataDir}/planet-seed-${which.seed}`,
        onProgress: report,
        signal,
        label: `PlaNet seed ${which.seed}`,
      });
      run.model.dispose();
      return {
        value: run.curve,
        seconds: run.curve.reduce((sum, episode) => sum + episode.seconds, 0),
      };
    }
    case "sac": {
      const seed = which.seed;
      const totalEnvSteps = planetEnvSteps(config);
      const sacInputs = {
        sac: config.sac,
        episodeSteps: config.episodeSteps,
        repeat,
        totalEnvSteps,
      };
      return await stage(dataDir, `sac-seed-${seed}`, { sacInputs, seed }, async () => {
        const env = new ActionRepeatEnv(makeEnv(), repeat);
        const evaluationEnv = new ActionRepeatEnv(makeEnv(), repeat);
        const decisions = Math.max(
          1,
          Math.round((totalEnvSteps * config.sac.stepsMultiplier) / repeat),
        );
        const result = await trainSac(env, {
          ...SAC_LAPTOP_CONFIG,
          hiddenSize: config.sac.hiddenSize,
          batchSize: config.sac.batchSize,
          randomSteps: config.sac.randomSteps,
          updateAfter: config.sac.updateAfter,
          replayCapacity: Math.max(decisions, 1),
        }, {
          environmentSteps: decisions,
          seed,
          // As many evaluations as PlaNet has episodes.
          evaluateEvery: env.maxEpisodeSteps * config.sac.stepsMultiplier,
          evaluationEpisodes: config.sac.evaluationEpisodes,
          evaluationEnv,
          signal,
          onProgress: (p) =>
            report({ stage: `SAC seed ${seed}`, done: p.done, total: p.total, message: p.message }),
        });
        result.agent.dispose();
        return {
          steps: result.episodes.steps.map((s) => s * repeat),
          returns: result.episodes.returns,
          evaluation: {
            envSteps: result.evaluation.steps.map((s) => s * repeat),
            mean: result.evaluation.meanReturn,
            std: result.evaluation.stdReturn,
          },
        } satisfies SacRun;
      });
    }
    case "true-simulator": {
      // CEM on the true simulator, with the agent's planner settings and action repeat.
      const inputs = {
        planner: config.planet.planner,
        repeat,
        episodeSteps: config.episodeSteps,
        episodes: config.trueSimulatorEpisodes,
        seeds: config.seeds,
      };
      return await stage(
        dataDir,
        "true-simulator-cem",
        inputs,
        () => Promise.resolve(runTrueSimulatorCem(task, config, report)),
      );
    }
    case "checkpoints": {
      // Early against final model, and CEM against random shooting, from the same start states.
      const seed = which.seed;
      const inputs = {
        agentConfig,
        episodes: config.evaluationEpisodes,
        seed,
        steps: config.episodeSteps,
      };
      return await stage(
        dataDir,
        `checkpoint-planning-seed-${seed}`,
        inputs,
        () =>
          evaluateCheckpoints(
            makeAgentEnv,
            agentConfig,
            config,
            seed,
            `${dataDir}/planet-seed-${seed}`,
            report,
          ),
      );
    }
    case "pixels": {
      const pixelConfig = config.pixels;
      if (!pixelConfig) throw new UserError("this config has no pixel model (pixels: null)");
      const inputs = {
        pixelConfig,
        planet: config.planet,
        steps: config.episodeSteps,
        seed: config.seeds[0],
      };
      return await stage(
        dataDir,
        "pixels",
        inputs,
        () => runPixelStage(task, config, pixelConfig, dataDir, report),
      );
    }
  }
}

/** The stages of a config: the independent ones first, then those that read PlaNet's runs. */
export function planetStages(config: PlanetExperimentConfig): PlanetStage[][] {
  const independent: PlanetStage[] = [
    ...config.seeds.map((seed) => ({ kind: "planet", seed }) as const),
    ...config.seeds.map((seed) => ({ kind: "sac", seed }) as const),
  ];
  if (config.pixels) independent.push({ kind: "pixels" });
  if (config.trueSimulatorEpisodes > 0) independent.push({ kind: "true-simulator" });
  const dependent: PlanetStage[] = config.evaluationEpisodes > 0
    ? config.seeds.map((seed) => ({ kind: "checkpoints", seed }) as const)
    : [];
  return [independent, dependent];
}

export function stageLabel(stage: PlanetStage): string {
  return "seed" in stage ? `${stage.kind} seed ${stage.seed}` : stage.kind;
}

/**
 * The stage function a task module exports as `runStage`, so that workers which import that
 * module (`PlanetTask.stageModule`) can run its stages.
 */
export function planetStageRunner(
  task: PlanetTask,
): (args: PlanetStageArgs, report: (progress: Progress) => void) => Promise<void> {
  return async (args, report) => {
    await runPlanetStage(task, args, report);
  };
}

/** The environment seed of test episode `episode` of PlaNet seed `seed`: its start state. */
function testEnvSeed(seed: number, episode: number): number {
  return 3_000_000 + seed * 1000 + episode;
}

function runTrueSimulatorCem(
  task: PlanetTask,
  config: PlanetExperimentConfig,
  report: (p: Progress) => void,
): { returns: number[]; secondsPerEpisode: number } {
  const env = new TimeLimitEnv(task.makeEnv(), config.episodeSteps);
  const inner = env.inner as ClassicControlEnv;
  const model = new TrueDynamicsModel(task.makeEnv(), config.planet.actionRepeat);
  const spec = continuousActionSpec(env);
  const action = new Float32Array(spec.shape[0]);
  const returns: number[] = [];
  const started = performance.now();
  const state = new Float64Array(inner.stateNames.length);
  for (let episode = 0; episode < config.trueSimulatorEpisodes; episode++) {
    const planner = new CemPlanner<Float64Array>({
      ...config.planet.planner,
      actionSize: spec.shape[0],
      actionLow: -1,
      actionHigh: 1,
    }, new Rng(5_000 + episode));
    // The start states PlaNet's test episodes use, seed by seed, so the two compare directly.
    env.reset(
      testEnvSeed(
        config.seeds[episode % config.seeds.length],
        Math.floor(episode / config.seeds.length),
      ),
    );
    const decisions = Math.ceil(config.episodeSteps / config.planet.actionRepeat);
    let total = 0;
    for (let decision = 0; decision < decisions; decision++) {
      const plan = planner.plan(model, inner.getState(state));
      const { reward, done } = repeatAction(
        env,
        scaleAction(plan.action, spec, action),
        config.planet.actionRepeat,
      );
      total += reward;
      if (decision % 10 === 0) {
        report({
          stage: "CEM on the true simulator",
          done: episode + decision / decisions,
          total: config.trueSimulatorEpisodes,
        });
      }
      if (done) break;
    }
    returns.push(total);
  }
  return {
    returns,
    secondsPerEpisode: (performance.now() - started) / 1000 / config.trueSimulatorEpisodes,
  };
}

async function evaluateCheckpoints(
  makeEnv: () => Env<Float32Array>,
  agentConfig: PlanetConfig,
  config: PlanetExperimentConfig,
  seed: number,
  runDir: string,
  report: (p: Progress) => void,
): Promise<{ early: number[]; late: number[]; randomShooting: number[] }> {
  const env = makeEnv();
  const files = planetFiles(runDir);
  const expectedMetadata: Partial<PlanetCheckpointMetadata> = {
    configHash: configHash({ config: agentConfig, seed, env: env.id }),
  };
  const observation = planetObservation(env, agentConfig);
  const early = makeRssm(env, agentConfig.model, seed, observation);
  const late = makeRssm(env, agentConfig.model, seed, observation);
  await loadCheckpoint(files.snapshot(agentConfig.seedEpisodes), early.params, {
    expectedMetadata,
  });
  await loadCheckpoint(files.model, late.params, { expectedMetadata });
  const { planner } = agentConfig;
  const out = { early: [] as number[], late: [] as number[], randomShooting: [] as number[] };
  const total = 3 * config.evaluationEpisodes;
  let done = 0;
  for (let episode = 0; episode < config.evaluationEpisodes; episode++) {
    // The same start state (environment seed) for every planner and model.
    const envSeed = testEnvSeed(seed, episode);
    const runs: [keyof typeof out, typeof early, Parameters<typeof runEpisode>[2]][] = [
      ["early", early, { kind: "cem", settings: planner, noise: 0 }],
      ["late", late, { kind: "cem", settings: planner, noise: 0 }],
      ["randomShooting", late, {
        kind: "random-shooting",
        candidates: planner.candidates * planner.iterations,
        planningHorizon: planner.planningHorizon,
      }],
    ];
    for (const [key, model, mode] of runs) {
      const result = runEpisode(
        env,
        model,
        mode,
        agentConfig.actionRepeat,
        envSeed,
        new Rng(envSeed),
      );
      out[key].push(result.return);
      done++;
      report({
        stage: `planning with saved models, seed ${seed}`,
        done,
        total,
        message: `${key}: ${result.return.toFixed(1)}`,
      });
      await breathe();
    }
  }
  early.dispose();
  late.dispose();
  return out;
}

async function runPixelStage(
  task: PlanetTask,
  config: PlanetExperimentConfig,
  pixelConfig: NonNullable<PlanetExperimentConfig["pixels"]>,
  dataDir: string,
  report: (p: Progress) => void,
): Promise<NonNullable<PlanetMetrics["pixels"]>> {
  const seed = config.seeds[0];
  const size = pixelConfig.imageSize;
  const env = new TimeLimitEnv(new PixelFloatEnv(task.makeEnv(), size), config.episodeSteps);
  const repeat = config.planet.actionRepeat;
  const model = makeRssm(env, pixelConfig.model, seed, { kind: "pixels", imageSize: size });
  const trainer = new RssmTrainer(model, {
    learningRate: config.planet.learningRate,
    adamEpsilon: config.planet.adamEpsilon,
    gradClipNorm: config.planet.gradClipNorm,
  });
  const replay = new SequenceReplay(size * size * 3, continuousActionSpec(env).shape[0]);
  const rng = new Rng(seed + 77);
  // Random-action episodes: enough motion of cart and pole to learn the picture's dynamics.
  for (let episode = 0; episode <= pixelConfig.episodes; episode++) {
    const result = runEpisode(env, model, { kind: "random" }, repeat, 4_000_000 + episode, rng);
    replay.addEpisode(result.episode);
    report({ stage: "pixel model: data", done: episode + 1, total: pixelConfig.episodes + 1 });
  }
  // The last episode is held out for the open-loop figure.
  const heldOut = replay.episodes.pop()!;
  let last = { reconstruction: 0, reward: 0, kl: 0 };
  for (let update = 0; update < pixelConfig.updates; update++) {
    const length = Math.min(pixelConfig.chunkLength, ...replay.episodes.map((e) => e.length));
    const chunks = replay.sample(pixelConfig.batchSize, length, rng);
    const noise = new Float32Array(
      pixelConfig.batchSize * length * pixelConfig.model.stochasticSize,
    );
    rng.fillNormal(noise);
    const b = pixelConfig.batchSize;
    const tensors = {
      observations: tf.tensor3d(chunks.observations, [b, length, replay.observationSize]),
      actions: tf.tensor3d(chunks.actions, [b, length, replay.actionSize]),
      rewards: tf.tensor2d(chunks.rewards, [b, length]),
    };
    const noiseTensor = tf.tensor3d(noise, [b, length, pixelConfig.model.stochasticSize]);
    try {
      last = trainer.step(tensors, noiseTensor);
    } finally {
      tf.dispose([tensors.observations, tensors.actions, tensors.rewards, noiseTensor]);
    }
    if (update % 5 === 4) {
      report({
        stage: "pixel model: training",
        done: update + 1,
        total: pixelConfig.updates,
        message: `reconstruction ${last.reconstruction.toFixed(1)}`,
      });
      await breathe();
    }
  }

  // Open loop: filter `context` frames, then predict from actions alone.
  const steps = Math.min(heldOut.length, pixelConfig.context + pixelConfig.openLoopSteps);
  const observationSize = size * size * 3;
  const real = heldOut.observations.subarray(0, steps * observationSize);
  const predicted = tf.tidy(() =>
    model.openLoop(
      tf.tensor2d(real, [steps, observationSize]),
      tf.tensor2d(heldOut.actions.subarray(0, steps * replay.actionSize), [
        steps,
        replay.actionSize,
      ]),
      pixelConfig.context,
    ).dataSync() as Float32Array
  );
  const openLoopError: number[] = [];
  const toFrame = (values: Float32Array) =>
    upscale(frameFrom(values.map((v) => v + 0.5), [size, size, 3]), 64 / size);
  const realFrames: Frame[] = [];
  const predictedFrames: Frame[] = [];
  for (let t = 0; t < steps; t++) {
    const a = real.subarray(t * observationSize, (t + 1) * observationSize);
    const b = predicted.subarray(t * observationSize, (t + 1) * observationSize);
    if (t >= pixelConfig.context) {
      let sum = 0;
      for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2;
      openLoopError.push(sum / a.length);
    }
    realFrames.push(toFrame(a));
    predictedFrames.push(toFrame(b));
  }
  // Two rows: real frames above, the model's frames below (every other step to fit a page).
  const stride = Math.max(1, Math.ceil(steps / 16));
  const pick = (frames: Frame[]) => frames.filter((_, i) => i % stride === 0);
  const top = hstack(pick(realFrames));
  const bottom = hstack(pick(predictedFrames));
  const strip = stackRows([top, bottom]);
  const stripPath = `${dataDir}/open-loop.png`;
  await writeFileAtomic(stripPath, encodePng(strip));

  // Planning cost: the same rollouts in latent space, and decoding every imagined step.
  const { planningHorizon } = config.planet.planner;
  const candidates = pixelConfig.timingCandidates;
  const timeIt = (withFrames: boolean) => {
    const state = model.initialState(1);
    const actions = tf.randomUniform(
      [candidates, planningHorizon, replay.actionSize],
      -1,
      1,
      "float32",
      1,
    ) as tf.Tensor3D;
    const once = () =>
      tf.tidy(() => {
        const returns = withFrames
          ? model.imagineWithFrames(state, actions)
          : model.imagine(state, actions);
        returns.dataSync();
      });
    once(); // warm-up: kernel compilation and allocation
    const repeats = 3;
    const t0 = performance.now();
    for (let i = 0; i < repeats; i++) once();
    const ms = (performance.now() - t0) / repeats;
    tf.dispose([state.deterministic, state.stochastic, actions]);
    return ms;
  };
  const latentMsPerPlan = timeIt(false);
  const framesMsPerPlan = timeIt(true);
  trainer.dispose();
  model.dispose();
  return {
    imageSize: size,
    context: pixelConfig.context,
    openLoopSteps: steps - pixelConfig.context,
    stripPath: stripPath.replace(`${REPO_ROOT}/`, ""),
    openLoopError,
    finalLosses: { reconstruction: last.reconstruction, reward: last.reward, kl: last.kl },
    latentMsPerPlan,
    framesMsPerPlan,
    timingCandidates: candidates,
    planningHorizon,
  };
}

/** Frames stacked top to bottom with a white gap. */
function stackRows(rows: Frame[]): Frame {
  const width = Math.max(...rows.map((r) => r.width));
  const gap = 4;
  const height = rows.reduce((s, r) => s + r.height, 0) + gap * (rows.length - 1);
  const data = new Uint8Array(width * height * 3).fill(255);
  let top = 0;
  for (const row of rows) {
    for (let y = 0; y < row.height; y++) {
      data.set(
        row.data.subarray(y * row.width * 3, (y + 1) * row.width * 3),
        (top + y) * width * 3,
      );
    }
    top += row.height + gap;
  }
  return { width, height, channels: 3, data };
}
