/**
 * The stages both PlaNet experiments share (Hafner et al. 2019, "Learning Latent Dynamics for
 * Planning from Pixels", Section 5 and Table 1):
 *   1. PlaNet (Algorithm 1) per seed, its learning curve against environment steps;
 *   2. the model-free baseline (SAC) on the same environment for the same environment steps;
 *   3. CEM on the true simulator (the paper's "CEM + true simulator" row);
 *   4. planning from the same start states with the early and the final model, and CEM against
 *      random shooting at the same number of model evaluations;
 *   5. (pixels) an RSSM on rendered frames: open-loop predictions decoded back to frames, and the
 *      cost of planning in latent space against decoding every imagined step.
 * Each stage is saved under `dataDir` as it ends, with a hash of the config fields it depends on,
 * so a rerun resumes from finished stages and refuses stage files written for another config.
 */
import { z } from "zod";
import * as Plot from "@observablehq/plot";
import { tf } from "../tensor/mod.ts";
import { backend, describeBackend } from "../tensor/mod.ts";
import { Rng } from "../rng.ts";
import { UserError } from "../errors.ts";
import { configHash } from "../hash.ts";
import { readJsonIfExists, REPO_ROOT, writeFileAtomic, writeJsonAtomic } from "../io.ts";
import type { Action, BoxSpec, Env, StepResult } from "../envs/types.ts";
import type { ClassicControlEnv } from "../envs/classic_env.ts";
import type { Renderable } from "../envs/render.ts";
import { trainSac } from "../agents/sac.ts";
import { SAC_LAPTOP_CONFIG } from "../agents/sac.ts";
import {
  continuousActionSpec,
  type EpisodeRecord,
  makeRssm,
  type PlanetCheckpointMetadata,
  type PlanetConfig,
  planetFiles,
  planetObservation,
  repeatAction,
  runEpisode,
  scaleAction,
  trainPlanet,
} from "../agents/planet.ts";
import { SequenceReplay } from "../agents/sequence_replay.ts";
import { RssmTrainer } from "../models/rssm.ts";
import { loadCheckpoint } from "../tensor/checkpoint.ts";
import type { ImaginationModel } from "../planners/types.ts";
import { CemPlanner } from "../planners/cem.ts";
import { barChart, lineChart } from "../viz/charts.ts";
import { saveFigure } from "../viz/plot.ts";
import { encodePng, type Frame, frameFrom, hstack, upscale } from "../viz/image.ts";
import { saveImage } from "../viz/image.ts";
import { formatMeanStd, mean, meanCurve, std, stdCurve } from "./stats.ts";
import type { Claim, Experiment, ExperimentResult, Progress, RunOptions } from "./types.ts";
import { runStageJobs } from "./stage_pool.ts";
import { availableCores } from "../evolution/parallel.ts";

// ---------------------------------------------------------------------------------------------
// Environment wrappers

/** Cuts episodes at `maxEpisodeSteps` (shorter episodes for the quick budget). */
export class TimeLimitEnv implements Env<Float32Array> {
  readonly id: string;
  readonly observationSpec: BoxSpec;
  readonly actionSpec: Env["actionSpec"];
  #steps = 0;

  constructor(readonly inner: Env<Float32Array>, readonly maxEpisodeSteps: number) {
    if (maxEpisodeSteps > inner.maxEpisodeSteps) {
      throw new RangeError(
        `${inner.id}: episodes last at most ${inner.maxEpisodeSteps} steps, asked ${maxEpisodeSteps}`,
      );
    }
    this.id = inner.id;
    this.observationSpec = inner.observationSpec;
    this.actionSpec = inner.actionSpec;
  }

  reset(seed?: number): Float32Array {
    this.#steps = 0;
    return this.inner.reset(seed);
  }

  step(action: Action): StepResult<Float32Array> {
    const result = this.inner.step(action);
    this.#steps++;
    if (this.#steps >= this.maxEpisodeSteps) result.truncated = true;
    return result;
  }
}

/** Repeats each action `repeat` times and sums the rewards: one step of this env is R steps. */
export class ActionRepeatEnv implements Env<Float32Array> {
  readonly id: string;
  readonly observationSpec: BoxSpec;
  readonly actionSpec: Env["actionSpec"];
  readonly maxEpisodeSteps: number;
  readonly #result: StepResult<Float32Array>;
  readonly #action: Float32Array;

  constructor(readonly inner: Env<Float32Array>, readonly repeat: number) {
    this.id = `${inner.id}/repeat${repeat}`;
    this.observationSpec = inner.observationSpec;
    this.actionSpec = inner.actionSpec;
    this.maxEpisodeSteps = Math.ceil(inner.maxEpisodeSteps / repeat);
    this.#action = new Float32Array(continuousActionSpec(inner).shape[0]);
    this.#result = {
      observation: new Float32Array(0),
      reward: 0,
      terminated: false,
      truncated: false,
    };
  }

  reset(seed?: number): Float32Array {
    return this.inner.reset(seed);
  }

  step(action: Action): StepResult<Float32Array> {
    const values = typeof action === "number" ? [action] : action;
    for (let i = 0; i < this.#action.length; i++) this.#action[i] = values[i];
    let reward = 0;
    let last: StepResult<Float32Array> | null = null;
    for (let i = 0; i < this.repeat; i++) {
      last = this.inner.step(this.#action);
      reward += last.reward;
      if (last.terminated || last.truncated) break;
    }
    const result = this.#result;
    result.observation = last!.observation;
    result.reward = reward;
    result.terminated = last!.terminated;
    result.truncated = last!.truncated;
    return result;
  }
}

/**
 * Rendered RGB frames as float observations in [-0.5, 0.5], the input scaling of PlaNet's
 * encoder. The state env is stepped; its picture is the observation.
 */
export class PixelFloatEnv implements Env<Float32Array> {
  readonly id: string;
  readonly observationSpec: BoxSpec;
  readonly actionSpec: Env["actionSpec"];
  readonly maxEpisodeSteps: number;
  readonly #image: Uint8Array;
  readonly #observation: Float32Array;
  readonly #result: StepResult<Float32Array>;

  constructor(readonly inner: Env<Float32Array> & Renderable, readonly size: number) {
    this.id = `${inner.id}/pixels${size}`;
    const count = size * size * 3;
    this.observationSpec = {
      kind: "box",
      shape: [size, size, 3],
      dtype: "float32",
      low: new Float32Array(count).fill(-0.5),
      high: new Float32Array(count).fill(0.5),
    };
    this.actionSpec = inner.actionSpec;
    this.maxEpisodeSteps = inner.maxEpisodeSteps;
    this.#image = new Uint8Array(count);
    this.#observation = new Float32Array(count);
    this.#result = {
      observation: this.#observation,
      reward: 0,
      terminated: false,
      truncated: false,
    };
  }

  #frame(): Float32Array {
    this.inner.render(this.#image, this.size);
    for (let i = 0; i < this.#image.length; i++) this.#observation[i] = this.#image[i] / 255 - 0.5;
    return this.#observation;
  }

  reset(seed?: number): Float32Array {
    this.inner.reset(seed);
    return this.#frame();
  }

  step(action: Action): StepResult<Float32Array> {
    const { reward, terminated, truncated } = this.inner.step(action);
    this.#frame();
    this.#result.reward = reward;
    this.#result.terminated = terminated;
    this.#result.truncated = truncated;
    return this.#result;
  }
}

/**
 * The true simulator behind the planners' interface, for the paper's "CEM + true simulator"
 * baseline: each candidate is replayed from the real physical state on a private copy of the
 * environment, with the same action repeat the agent uses.
 */
export class TrueDynamicsModel implements ImaginationModel<Float64Array> {
  readonly #action: Float32Array;
  readonly #spec: BoxSpec;

  constructor(readonly simulator: ClassicControlEnv, readonly actionRepeat: number) {
    this.#spec = continuousActionSpec(simulator);
    this.#action = new Float32Array(this.#spec.shape[0]);
  }

  imagine(startState: Float64Array, actionSequences: tf.Tensor3D): tf.Tensor1D {
    const [candidates, horizon, actionSize] = actionSequences.shape;
    const actions = actionSequences.dataSync() as Float32Array;
    const returns = new Float32Array(candidates);
    const normalized = new Float32Array(actionSize);
    for (let c = 0; c < candidates; c++) {
      this.simulator.reset(0);
      this.simulator.setState(startState);
      let total = 0;
      for (let h = 0; h < horizon; h++) {
        const offset = (c * horizon + h) * actionSize;
        for (let i = 0; i < actionSize; i++) normalized[i] = actions[offset + i];
        const { reward, done } = repeatAction(
          this.simulator,
          scaleAction(normalized, this.#spec, this.#action),
          this.actionRepeat,
        );
        total += reward;
        if (done) break;
      }
      returns[c] = total;
    }
    return tf.tensor1d(returns);
  }
}

// ---------------------------------------------------------------------------------------------
// Config

const plannerSchema = z.object({
  planningHorizon: z.number().int().min(1).max(100),
  candidates: z.number().int().min(2).max(10_000),
  elites: z.number().int().min(1).max(10_000),
  iterations: z.number().int().min(1).max(100),
}).refine((p) => p.elites <= p.candidates, {
  message: "elites must not exceed candidates",
  path: ["elites"],
});

const modelSchema = z.object({
  deterministicSize: z.number().int().min(1).max(1024),
  stochasticSize: z.number().int().min(1).max(256),
  hiddenSize: z.number().int().min(1).max(1024),
  embedSize: z.number().int().min(1).max(2048),
  convDepth: z.number().int().min(1).max(64),
  minStd: z.number().gt(0).max(1),
  freeNats: z.number().min(0).max(100),
  observationStd: z.number().gt(0).max(100),
});

export const planetExperimentConfig = z.object({
  seeds: z.array(z.number().int().nonnegative()).min(1),
  /** Environment steps per episode (the task's own limit, or fewer for the quick budget). */
  episodeSteps: z.number().int().min(10).max(100_000),
  /** The return both agents must reach; steps to reach it give the data-efficiency ratio. */
  returnThreshold: z.number(),
  planet: z.object({
    actionRepeat: z.number().int().min(1).max(100),
    seedEpisodes: z.number().int().min(1).max(1000),
    planningEpisodes: z.number().int().min(1).max(10_000),
    updatesPerEpisode: z.number().int().min(1).max(10_000),
    batchSize: z.number().int().min(1).max(1000),
    chunkLength: z.number().int().min(2).max(1000),
    learningRate: z.number().gt(0).max(1),
    adamEpsilon: z.number().gt(0).max(1),
    gradClipNorm: z.number().gt(0),
    explorationNoise: z.number().min(0).max(2),
    planner: plannerSchema,
    model: modelSchema,
    /** PlaNet learns from rendered frames of this size (the paper: 64); absent: states. */
    observationImageSize: z.union([z.literal(32), z.literal(64)]).optional(),
  }),
  sac: z.object({
    hiddenSize: z.number().int().min(1).max(1024),
    batchSize: z.number().int().min(1).max(4096),
    randomSteps: z.number().int().min(0),
    updateAfter: z.number().int().min(0),
    /** Episodes per evaluation of SAC's deterministic policy. */
    evaluationEpisodes: z.number().int().min(1).max(100),
    /**
     * SAC runs this many times PlaNet's environment steps (on the same environment, action
     * repeat included), so the steps it needs to reach the threshold can be measured beyond the
     * end of PlaNet's run; the curves are compared at equal steps.
     */
    stepsMultiplier: z.number().int().min(1).max(1000),
  }),
  /**
   * Episodes of CEM on the true simulator (0 to skip), from the start states of PlaNet's test
   * episodes: seed by seed, test episode 0 first.
   */
  trueSimulatorEpisodes: z.number().int().min(0).max(100),
  /** Evaluation episodes per seed for the early/late model and CEM/random shooting (0: skip). */
  evaluationEpisodes: z.number().int().min(0).max(100),
  /** The pixel model of claim 4 (null to skip). */
  pixels: z.object({
    imageSize: z.union([z.literal(32), z.literal(64)]),
    episodes: z.number().int().min(1).max(1000),
    updates: z.number().int().min(1).max(100_000),
    batchSize: z.number().int().min(1).max(100),
    chunkLength: z.number().int().min(2).max(100),
    model: modelSchema,
    /** Steps filtered with observations before the open-loop prediction starts. */
    context: z.number().int().min(1).max(100),
    /** Open-loop steps predicted from actions alone. */
    openLoopSteps: z.number().int().min(1).max(200),
    /** Candidates in the planning-cost comparison. */
    timingCandidates: z.number().int().min(1).max(10_000),
  }).nullable(),
});

export type PlanetExperimentConfig = z.infer<typeof planetExperimentConfig>;

// ---------------------------------------------------------------------------------------------
// Budget parts both tasks share (each task sets its action repeat, episode counts and the rest)

type AgentSettings = PlanetExperimentConfig["planet"];
type RssmSettings = AgentSettings["model"];
type SacSettings = PlanetExperimentConfig["sac"];

/** The paper's RSSM sizes: deterministic state 200, stochastic 30, hidden layers 200. */
export const PAPER_MODEL: RssmSettings = {
  deterministicSize: 200,
  stochasticSize: 30,
  hiddenSize: 200,
  embedSize: 200,
  convDepth: 32,
  minStd: 0.1,
  freeNats: 3,
  observationStd: 1,
};

/**
 * The laptop model: GRU 64 and 16 stochastic units, for a shared 2-core CPU. It learns from state
 * vectors, not the paper's pixels, and two settings change with that. A unit-variance Gaussian
 * over five numbers (the paper's observation model, sized for 12,288 pixels) prices an error of
 * 0.3 in the pole's cosine at 0.05 nats, less than the 3 free nats of KL the posterior may spend
 * anyway, so the model has little reason to learn the angle precisely: observationStd 0.1
 * weights the reconstruction 100 times more, and 1 free nat keeps the KL term in play. With the
 * paper's two settings and all else equal (same 3 seeds, 15 episodes), the last training
 * episodes returned 528 ± 145 and one seed never reached 400; with these, 708 ± 105.
 */
export const LAPTOP_MODEL: RssmSettings = {
  ...PAPER_MODEL,
  deterministicSize: 64,
  stochasticSize: 16,
  hiddenSize: 64,
  embedSize: 64,
  freeNats: 1,
  observationStd: 0.1,
};

/**
 * The laptop pixel model: 32x32 frames, channel multiplier 16 (paper: 32), and the state model's
 * observation std and free nats. The pole is a few pixels of each frame: with multiplier 8 and
 * 400 updates the model drew only the background; with 16 and 2000 updates it draws the pole.
 */
export const LAPTOP_PIXEL_MODEL: RssmSettings = { ...LAPTOP_MODEL, convDepth: 16 };

/** Adam at 1e-3 (epsilon 1e-4), gradients clipped at norm 1000, exploration noise 0.3. */
export const PAPER_LEARNING = {
  learningRate: 1e-3,
  adamEpsilon: 1e-4,
  gradClipNorm: 1000,
  explorationNoise: 0.3,
} satisfies Partial<AgentSettings>;

/** The paper's C = 100 updates of B = 50 chunks of L = 50 steps after each episode. */
export const PAPER_TRAINER = {
  updatesPerEpisode: 100,
  batchSize: 50,
  chunkLength: 50,
  ...PAPER_LEARNING,
} satisfies Partial<AgentSettings>;

/** The paper's CEM: H = 12, J = 1000 candidates, K = 100 elites, I = 10 iterations. */
export const PAPER_PLANNER: AgentSettings["planner"] = {
  planningHorizon: 12,
  candidates: 1000,
  elites: 100,
  iterations: 10,
};

/** The quick budget's PlaNet, tiny everywhere but the action repeat (the task's). */
export const QUICK_AGENT: Omit<AgentSettings, "actionRepeat"> = {
  seedEpisodes: 1,
  planningEpisodes: 1,
  updatesPerEpisode: 4,
  batchSize: 4,
  chunkLength: 10,
  ...PAPER_LEARNING,
  planner: { planningHorizon: 6, candidates: 40, elites: 4, iterations: 2 },
  model: {
    ...PAPER_MODEL,
    deterministicSize: 16,
    stochasticSize: 4,
    hiddenSize: 16,
    embedSize: 16,
  },
};

/** SAC at the quick budget. */
export const QUICK_SAC: SacSettings = {
  hiddenSize: 16,
  batchSize: 16,
  randomSteps: 10,
  updateAfter: 10,
  evaluationEpisodes: 1,
  stepsMultiplier: 2,
};

/** SAC at the laptop budget; the tasks' random warm-up lengths differ. */
export const LAPTOP_SAC: SacSettings = {
  hiddenSize: 64,
  batchSize: 64,
  randomSteps: 500,
  updateAfter: 250,
  evaluationEpisodes: 2,
  stepsMultiplier: 10,
};

/** SAC at the paper budget: 256 units, batch 256, run 100 times PlaNet's environment steps. */
export const PAPER_SAC: SacSettings = {
  hiddenSize: 256,
  batchSize: 256,
  randomSteps: 5000,
  updateAfter: 1000,
  evaluationEpisodes: 5,
  stepsMultiplier: 100,
};

/** What differs between the two tasks. */
export interface PlanetTask {
  name: string;
  paper: string;
  /** The state-vector environment with its full episode length. */
  makeEnv(): ClassicControlEnv & Renderable;
  /** Published numbers for this task (paper's Table 1), or null where the paper has none. */
  published: PublishedScores | null;
  /** Returns at which the steps-to-return ratio is also reported (besides the threshold). */
  thresholdSweep: number[];
  /**
   * URL of the module that defines this task and exports `runStage = planetStageRunner(task)`,
   * so that workers can run its stages.
   */
  stageModule: string;
}

export interface PublishedScores {
  planet: number;
  d4pg: number;
  a3c: number;
  cemTrueSimulator: number;
  planetEpisodes: number;
  modelFreeEpisodes: number;
}

// ---------------------------------------------------------------------------------------------
// Metrics

export interface Curve {
  envSteps: number[];
  mean: number[];
  std: number[];
}

/** Environment steps each seed first needed to reach a return, and SAC's over PlaNet's. */
export interface StepsToReturn {
  threshold: number;
  planet: (number | null)[];
  sac: (number | null)[];
  /** Mean SAC steps / mean PlaNet steps; null if a PlaNet seed never got there. */
  ratio: number | null;
  /** Some SAC seed never got there (its whole run counted): the ratio is a lower bound. */
  ratioIsLowerBound: boolean;
}

export interface PlanetMetrics {
  returnThreshold: number;
  episodeSteps: number;
  actionRepeat: number;
  planet: Curve & { perSeed: number[][] };
  /** SAC's training-episode returns (the same footing as PlaNet's exploration episodes). */
  sac: Curve & { perSeed: number[][] };
  /** SAC's deterministic-policy evaluations. */
  sacEvaluation: Curve;
  stepsToThreshold: Omit<StepsToReturn, "threshold">;
  /**
   * The same measurement at other returns, to show how much the ratio depends on the one
   * threshold the claim is judged at (which was fixed before any run).
   */
  thresholdSweep: StepsToReturn[];
  /** Last-episode returns at PlaNet's final step count (SAC: its last episode by then). */
  finalReturn: { planet: number[]; sac: number[] };
  /** SAC's last training-episode return after its whole (longer) run, and that run's steps. */
  sacLongRun: { envSteps: number; returns: number[] };
  trueSimulator: { returns: number[]; secondsPerEpisode: number } | null;
  checkpoints: {
    earlyEpisode: number;
    finalEpisode: number;
    early: number[];
    late: number[];
    randomShooting: number[];
    modelEvaluations: number;
  } | null;
  pixels: {
    imageSize: number;
    context: number;
    openLoopSteps: number;
    /** Where the open-loop strip was written by the run (copied to res/ with the figures). */
    stripPath: string;
    /** Mean squared error per pixel of the open-loop prediction, per predicted step. */
    openLoopError: number[];
    finalLosses: { reconstruction: number; reward: number; kl: number };
    latentMsPerPlan: number;
    framesMsPerPlan: number;
    timingCandidates: number;
    planningHorizon: number;
  } | null;
  published: PublishedScores | null;
}

// ---------------------------------------------------------------------------------------------
// Stage files

/** Runs `compute` unless `dataDir/name.json` holds its result for the same inputs. */
async function stage<T>(
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

function firstReaching(steps: number[], returns: number[], threshold: number): number | null {
  const index = returns.findIndex((value) => value >= threshold);
  return index < 0 ? null : steps[index];
}

/** Gives the event loop a turn so progress displays redraw and aborts are noticed. */
const breathe = () => new Promise((resolve) => setTimeout(resolve, 0));

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

type SacRun = { steps: number[]; returns: number[]; evaluation: Curve };
type CheckpointReturns = { early: number[]; late: number[]; randomShooting: number[] };

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

function stageLabel(stage: PlanetStage): string {
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

/** A PlaNet task with its budgets as a registered experiment (both share notebook 03). */
export function planetExperiment(
  task: PlanetTask,
  budgets: Experiment<PlanetExperimentConfig, PlanetMetrics>["budgets"],
  details: Pick<Experiment<PlanetExperimentConfig, PlanetMetrics>, "summary" | "expectedSeconds">,
): Experiment<PlanetExperimentConfig, PlanetMetrics> {
  return {
    name: task.name,
    paper: task.paper,
    notebook: "notebooks/03-planet.ipynb",
    configSchema: planetExperimentConfig,
    budgets,
    ...details,
    run: (config, options) => runPlanetExperiment(task, config, options),
    drawFigures: drawPlanetFigures,
  };
}

export async function runPlanetExperiment(
  task: PlanetTask,
  config: PlanetExperimentConfig,
  options: RunOptions = {},
): Promise<ExperimentResult<PlanetMetrics>> {
  const started = performance.now();
  const dataDir = options.dataDir ?? `${REPO_ROOT}/data/${task.name}`;
  const report = options.onProgress ?? ((_: Progress) => {});
  const stageSeconds: Record<string, number> = {};
  const addSeconds = (name: string, seconds: number) => {
    stageSeconds[name] = Math.round(((stageSeconds[name] ?? 0) + seconds) * 100) / 100;
  };
  const repeat = config.planet.actionRepeat;
  const run = async <T>(stage: PlanetStage, secondsKey: string): Promise<T> => {
    const { value, seconds } = await runPlanetStage(
      task,
      { config, dataDir, stage },
      report,
      options.signal,
    );
    addSeconds(secondsKey, seconds);
    await breathe();
    return value as T;
  };

  // The stages run in workers, one per core, writing their files; the sequential code below
  // then reads every finished stage back (and runs here whatever a single worker left to do).
  const workers = options.workers ?? availableCores();
  if (workers > 1) {
    for (const group of planetStages(config)) {
      await runStageJobs(
        group.map((stage) => ({
          label: stageLabel(stage),
          moduleUrl: task.stageModule,
          exportName: "runStage",
          args: { config, dataDir, stage } satisfies PlanetStageArgs,
        })),
        { workers, onProgress: report, signal: options.signal },
      );
    }
  }

  // 1. PlaNet per seed (resumes episode by episode from its own folder).
  const planetCurves: number[][] = [];
  let planetSteps: number[] = [];
  for (const seed of config.seeds) {
    const curve = await run<EpisodeRecord[]>({ kind: "planet", seed }, "planet");
    planetCurves.push(curve.map((e) => e.return));
    planetSteps = curve.map((e) => e.envSteps);
  }
  const totalEnvSteps = planetSteps.at(-1) ?? 0;

  // 2. SAC on the same environment (same episode length and action repeat), same env steps.
  const sacRuns: SacRun[] = [];
  for (const seed of config.seeds) sacRuns.push(await run<SacRun>({ kind: "sac", seed }, "sac"));

  // 3. CEM on the true simulator.
  const trueSimulator: PlanetMetrics["trueSimulator"] = config.trueSimulatorEpisodes > 0
    ? await run({ kind: "true-simulator" }, "true-simulator-cem")
    : null;

  // 4. Early against final model, and CEM against random shooting.
  let checkpoints: PlanetMetrics["checkpoints"] = null;
  if (config.evaluationEpisodes > 0) {
    const perSeed: CheckpointReturns[] = [];
    for (const seed of config.seeds) {
      perSeed.push(
        await run<CheckpointReturns>({ kind: "checkpoints", seed }, "checkpoint-planning"),
      );
    }
    checkpoints = {
      earlyEpisode: config.planet.seedEpisodes,
      finalEpisode: config.planet.seedEpisodes + config.planet.planningEpisodes,
      early: perSeed.flatMap((s) => s.early),
      late: perSeed.flatMap((s) => s.late),
      randomShooting: perSeed.flatMap((s) => s.randomShooting),
      modelEvaluations: config.planet.planner.candidates * config.planet.planner.iterations,
    };
  }

  // 5. Pixels: open-loop predictions and the cost of planning over frames.
  const pixels: PlanetMetrics["pixels"] = config.pixels
    ? await run({ kind: "pixels" }, "pixels")
    : null;

  const planetStd = stdCurve(planetCurves);
  const sacCurves = sacRuns.map((r) => r.returns);
  const sacSteps = sacRuns[0]?.steps ?? [];
  // A seed of SAC that never got there needed more than its whole run: a lower bound.
  const sacRunLength = sacSteps.at(-1) ?? totalEnvSteps;
  const reachAt = (threshold: number): StepsToReturn => {
    const planet = planetCurves.map((c) => firstReaching(planetSteps, c, threshold));
    const sac = sacRuns.map((r) => firstReaching(r.steps, r.returns, threshold));
    if (!planet.every((steps) => steps !== null)) {
      return { threshold, planet, sac, ratio: null, ratioIsLowerBound: false };
    }
    return {
      threshold,
      planet,
      sac,
      ratio: mean(sac.map((steps) => steps ?? sacRunLength)) / mean(planet as number[]),
      ratioIsLowerBound: sac.some((steps) => steps === null),
    };
  };
  const { threshold: _, ...atThreshold } = reachAt(config.returnThreshold);
  const sacEvaluationCurves = sacRuns.map((r) => r.evaluation.mean);
  const metrics: PlanetMetrics = {
    returnThreshold: config.returnThreshold,
    episodeSteps: config.episodeSteps,
    actionRepeat: repeat,
    planet: {
      envSteps: planetSteps,
      mean: meanCurve(planetCurves),
      std: planetStd,
      perSeed: planetCurves,
    },
    sac: {
      envSteps: sacSteps.slice(0, Math.min(...sacCurves.map((c) => c.length))),
      mean: meanCurve(sacCurves),
      std: stdCurve(sacCurves),
      perSeed: sacCurves,
    },
    sacEvaluation: {
      envSteps: sacRuns[0]?.evaluation.envSteps ?? [],
      mean: meanCurve(sacEvaluationCurves),
      std: stdCurve(sacEvaluationCurves),
    },
    stepsToThreshold: atThreshold,
    thresholdSweep: task.thresholdSweep.map(reachAt),
    finalReturn: {
      planet: planetCurves.map((c) => c.at(-1)!),
      sac: sacRuns.map((r) => {
        const index = r.steps.findLastIndex((steps) => steps <= totalEnvSteps);
        return index < 0 ? Number.NaN : r.returns[index];
      }),
    },
    sacLongRun: {
      envSteps: sacSteps.at(-1) ?? 0,
      returns: sacCurves.map((c) => c.at(-1) ?? Number.NaN),
    },
    trueSimulator,
    checkpoints,
    pixels,
    published: task.published,
  };
  return {
    experiment: task.name,
    paper: task.paper,
    budget: options.budget ?? "custom",
    command: "",
    seeds: config.seeds,
    backend: describeBackend(backend),
    wallSeconds: (performance.now() - started) / 1000,
    claims: planetClaims(metrics),
    metrics,
    stageSeconds,
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

// ---------------------------------------------------------------------------------------------
// Claims

const fmtSteps = (s: number | null) => (s === null ? "not reached" : s.toLocaleString("en-US"));
const fmtCount = (n: number) => n.toLocaleString("en-US");

export function planetClaims(metrics: PlanetMetrics): Claim[] {
  const claims: Claim[] = [];
  const pub = metrics.published;
  const { stepsToThreshold: reach, returnThreshold } = metrics;
  const planetSteps = reach.planet.map(fmtSteps).join(", ");
  const sacSteps = reach.sac.map(fmtSteps).join(", ");
  const ratioText = reach.ratio === null
    ? "no ratio: PlaNet did not reach the threshold in every seed"
    : `${reach.ratioIsLowerBound ? "at least " : ""}${reach.ratio.toFixed(1)}x`;
  claims.push({
    id: "data-efficiency",
    quote: "PlaNet solves a variety of image-based control tasks, competing with advanced " +
      "model-free agents in terms of final performance while being 5000% more data efficient " +
      "on average.",
    paper: pub
      ? `PlaNet ${pub.planet} after ${pub.planetEpisodes.toLocaleString("en-US")} episodes; ` +
        `D4PG ${pub.d4pg} and A3C ${pub.a3c} after ${
          pub.modelFreeEpisodes.toLocaleString("en-US")
        } episodes (Table 1)`
      : "not measured in the paper for this task; the claim is about the suite on average",
    ours: `env steps to a return of ${returnThreshold}: PlaNet ${planetSteps}; SAC ${sacSteps} ` +
      `(per seed; SAC ran ${fmtCount(metrics.sacLongRun.envSteps)} steps); SAC/PlaNet ` +
      ratioText,
    // At least ten times fewer environment steps, lower bounds counting when SAC never got there.
    holds: reach.ratio !== null && reach.ratio >= 10,
  });
  const final = metrics.finalReturn;
  // The paper scores test episodes, without exploration noise: the final model planning alone
  // (the checkpoint stage) when that ran, else the last training episode.
  const tested = metrics.checkpoints?.late ?? null;
  const planetFinal = tested ?? final.planet;
  claims.push({
    id: "final-return",
    quote: "competing with advanced model-free agents in terms of final performance",
    paper: pub
      ? `PlaNet ${pub.planet} after ${fmtCount(pub.planetEpisodes)} episodes, D4PG ${pub.d4pg} ` +
        `after ${fmtCount(pub.modelFreeEpisodes)} (Table 1)`
      : "not in the paper",
    ours: `PlaNet after ${metrics.planet.envSteps.length} episodes of ${metrics.episodeSteps} ` +
      "steps: " +
      (tested ? `${formatMeanStd(tested)} planning without exploration noise, ` : "") +
      `${formatMeanStd(final.planet)} in its last training episode; SAC ` +
      `${formatMeanStd(final.sac)} after the same steps and ` +
      `${formatMeanStd(metrics.sacLongRun.returns)} after ${fmtCount(metrics.sacLongRun.envSteps)}`,
    // Our laptop target: at least 600 of 1000 on the swing-up (the published 821 needs 1000
    // episodes); for tasks without a paper number, PlaNet must end above SAC at equal steps.
    holds: pub ? mean(planetFinal) >= 600 : mean(planetFinal) > mean(final.sac),
  });
  if (metrics.trueSimulator) {
    claims.push({
      id: "cem-true-simulator",
      quote: "CEM + true simulator ... 850 (Table 1)",
      paper: pub ? `${pub.cemTrueSimulator}` : "not in the paper",
      ours: `${formatMeanStd(metrics.trueSimulator.returns)} over ` +
        `${metrics.trueSimulator.returns.length} episode(s) with our planner settings` +
        (metrics.checkpoints
          ? `; PlaNet's final model ${formatMeanStd(metrics.checkpoints.late)} from the same ` +
            "start states"
          : ""),
      // The planner, given the true dynamics, should solve the task: within 15 % of the paper.
      // Without a paper number: the true dynamics must plan at least as well as PlaNet's final
      // model from the same start states (the test episodes), else the planner is the limit.
      holds: pub
        ? mean(metrics.trueSimulator.returns) >= 0.85 * pub.cemTrueSimulator
        : mean(metrics.trueSimulator.returns) >=
          mean(metrics.checkpoints?.late ?? [Math.max(...metrics.planet.mean)]),
    });
  }
  if (metrics.checkpoints) {
    const c = metrics.checkpoints;
    const gap = mean(c.late) - mean(c.early);
    claims.push({
      id: "better-model-better-actions",
      quote: "PlaNet works without a policy network -- it chooses actions purely by planning, so " +
        "it benefits from model improvements on the spot.",
      paper: "no number; the agent has no policy to retrain",
      ours: `same start states, no retraining: model after ${c.earlyEpisode} episodes ` +
        `${formatMeanStd(c.early)}, after ${c.finalEpisode} episodes ${formatMeanStd(c.late)}`,
      holds: gap > 0,
    });
    claims.push({
      id: "cem-beats-random-shooting",
      // The notes' reading of the planner; the paper's is CEM, which refits its search.
      quote: "as far as I understand it tries random sequences of actions in a monte carlo " +
        "setup and it takes the first action of the best sequence",
      paper: "the paper plans with CEM (Section 3), not with the best of random sequences",
      ours: `final model, ${c.modelEvaluations} model evaluations per action: CEM ` +
        `${formatMeanStd(c.late)}, random shooting ${formatMeanStd(c.randomShooting)}`,
      holds: mean(c.late) > mean(c.randomShooting),
    });
  }
  if (metrics.pixels) {
    const p = metrics.pixels;
    const speedup = p.framesMsPerPlan / p.latentMsPerPlan;
    claims.push({
      id: "latent-planning-is-cheaper",
      quote: "In contrast to previous methods that plan over images, we rely on a compact " +
        "sequence of hidden or latent states.",
      paper: "planning in latent space avoids generating images (Section 3)",
      ours: `${p.timingCandidates} candidates x ${p.planningHorizon} steps: ` +
        `${p.latentMsPerPlan.toFixed(1)} ms in latent space, ${p.framesMsPerPlan.toFixed(1)} ms ` +
        `decoding ${p.imageSize}x${p.imageSize} frames (${speedup.toFixed(1)}x)`,
      holds: speedup > 1,
    });
  }
  return claims;
}

// ---------------------------------------------------------------------------------------------
// Figures

export async function drawPlanetFigures(
  result: ExperimentResult<PlanetMetrics>,
  resDir: string,
): Promise<string[]> {
  const m = result.metrics;
  const name = result.experiment;
  const written: string[] = [];
  const marks = [
    Plot.ruleY([m.returnThreshold], { stroke: "#888", strokeDasharray: "4,4" }),
  ];
  if (m.published) {
    marks.push(Plot.ruleY([m.published.planet], { stroke: "#4269d0", strokeDasharray: "2,3" }));
  }
  if (m.trueSimulator) {
    marks.push(
      Plot.ruleY([mean(m.trueSimulator.returns)], { stroke: "#3ca951", strokeDasharray: "6,3" }),
    );
  }
  const curves = lineChart({
    title: `PlaNet against SAC on ${name.replace(/^planet-/, "")}`,
    subtitle: `Return per training episode, mean ± std over ${result.seeds.length} seed(s)`,
    caption: `Grey dashed: threshold ${m.returnThreshold}` +
      (m.published ? `; blue dotted: PlaNet's published ${m.published.planet}` : "") +
      (m.trueSimulator ? "; green dashed: CEM on the true simulator (ours)" : ""),
    series: [
      { name: "PlaNet", x: m.planet.envSteps, y: m.planet.mean, yStd: m.planet.std },
      { name: "SAC (model-free)", x: m.sac.envSteps, y: m.sac.mean, yStd: m.sac.std },
    ],
    xLabel: "Environment steps",
    yLabel: "Episode return",
    marks,
  });
  written.push(await saveFigure(curves, `${resDir}/${name}-learning-curves.svg`));
  if (m.checkpoints) {
    const c = m.checkpoints;
    const bars = barChart({
      title: "Planning with saved models from the same start states",
      subtitle: `${c.modelEvaluations} model evaluations per action; mean ± std over episodes`,
      bars: [
        {
          label: `CEM, model after ${c.earlyEpisode} episodes`,
          value: mean(c.early),
          std: std(c.early),
        },
        {
          label: `CEM, model after ${c.finalEpisode} episodes`,
          value: mean(c.late),
          std: std(c.late),
        },
        {
          label: `random shooting, model after ${c.finalEpisode} episodes`,
          value: mean(c.randomShooting),
          std: std(c.randomShooting),
        },
      ],
      yLabel: "Real episode return",
    });
    written.push(await saveFigure(bars, `${resDir}/${name}-planning.svg`));
  }
  if (m.pixels) {
    const p = m.pixels;
    try {
      const png = await Deno.readFile(`${REPO_ROOT}/${p.stripPath}`);
      written.push(await saveImage(png, `${resDir}/${name}-open-loop.png`));
    } catch {
      // The strip lives with the run's data; without it only the timing figure is drawn.
    }
    const timing = barChart({
      title: "Cost of one planning pass",
      subtitle: `${p.timingCandidates} candidates x ${p.planningHorizon} imagined steps`,
      bars: [
        { label: "latent states only (PlaNet)", value: p.latentMsPerPlan },
        { label: `decoding ${p.imageSize}x${p.imageSize} frames`, value: p.framesMsPerPlan },
      ],
      yLabel: "Milliseconds",
    });
    written.push(await saveFigure(timing, `${resDir}/${name}-planning-cost.svg`));
  }
  return written;
}

/** Table 1 of the paper (cartpole swing-up) with our numbers beside it, as markdown. */
export function table1Markdown(result: ExperimentResult<PlanetMetrics>): string {
  const m = result.metrics;
  const episodes = m.planet.envSteps.length;
  const steps = (m.planet.envSteps.at(-1) ?? 0).toLocaleString("en-US");
  const rows = [
    "| agent | experience | return | source |",
    "| --- | --- | --- | --- |",
  ];
  const pub = m.published;
  if (pub) {
    const many = pub.modelFreeEpisodes.toLocaleString("en-US");
    rows.push(
      `| PlaNet (pixels) | ${pub.planetEpisodes.toLocaleString("en-US")} episodes | ` +
        `${pub.planet} | paper, Table 1 |`,
      `| D4PG (pixels) | ${many} episodes | ${pub.d4pg} | paper, Table 1 |`,
      `| A3C (proprioceptive) | ${many} episodes | ${pub.a3c} | paper, Table 1 |`,
      `| CEM + true simulator | none (knows the dynamics) | ${pub.cemTrueSimulator} | ` +
        "paper, Table 1 |",
    );
  }
  rows.push(
    `| PlaNet (states, ours) | ${episodes} episodes, ${steps} env steps | ` +
      (m.checkpoints ? `test (no noise) ${formatMeanStd(m.checkpoints.late)}; ` : "") +
      `last training episode ${formatMeanStd(m.finalReturn.planet)}, best ${
        formatMeanStd(m.planet.perSeed.map((c) => Math.max(...c)))
      } | ${result.budget} budget |`,
    `| SAC (states, ours) | the same ${steps} env steps | last episode ` +
      `${formatMeanStd(m.finalReturn.sac)} | ${result.budget} budget |`,
  );
  if (m.trueSimulator) {
    rows.push(
      `| CEM + true simulator (ours) | none (knows the dynamics) | ` +
        `${formatMeanStd(m.trueSimulator.returns)} | ${result.budget} budget |`,
    );
  }
  return rows.join("\n");
}

/** The steps-to-return table at every return of the sweep, as Markdown. */
export function thresholdSweepMarkdown(metrics: PlanetMetrics): string {
  const rows = [
    "| return | PlaNet env steps (per seed) | SAC env steps (per seed) | SAC / PlaNet |",
    "| --- | --- | --- | --- |",
  ];
  for (const row of metrics.thresholdSweep) {
    const ratio = row.ratio === null
      ? "PlaNet did not get there"
      : `${row.ratioIsLowerBound ? "at least " : ""}${row.ratio.toFixed(1)}x`;
    const marker = row.threshold === metrics.returnThreshold ? " (the claim's)" : "";
    rows.push(
      `| ${row.threshold}${marker} | ${row.planet.map(fmtSteps).join(", ")} | ` +
        `${row.sac.map(fmtSteps).join(", ")} | ${ratio} |`,
    );
  }
  return rows.join("\n");
}
