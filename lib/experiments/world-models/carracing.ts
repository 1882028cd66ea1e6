/**
 * Ha & Schmidhuber (2018), "World Models", section 3 (Car Racing Experiment) and section 6
 * (Discussion), on our CarRacing (lib/envs/car_racing.ts):
 *
 * 1. the four quoted steps: random rollouts, train V, train M, evolve C; then C seeing z only, z
 *    through a hidden layer, and [z, h], each evaluated on held-out tracks (Table 1);
 * 3. what V keeps and loses: reconstructions, and V's error on road pixels against the rest;
 * 4. one or more rounds of iterative training: collect with the evolved C, retrain M on old and
 *    new sequences, re-evolve C from where it was, and evaluate again.
 */
import { z } from "zod";
import * as Plot from "@observablehq/plot";
import { CarRacing } from "../../envs/car_racing.ts";
import { Rng } from "../../rng.ts";
import { tf } from "../../tensor/mod.ts";
import { REPO_ROOT } from "../../io.ts";
import { throwIfInterrupted, UserError } from "../../errors.ts";
import {
  carRacingAction,
  type ControllerFeatures,
  controllerParameterCount,
  type ControllerShape,
} from "../../agents/world_models_controller.ts";
import { MdnRnn } from "../../models/mdn_rnn.ts";
import { barChart, lineChart } from "../../viz/charts.ts";
import { saveFigure } from "../../viz/plot.ts";
import { encodeGif, encodePng, type Frame, hstack, upscale } from "../../viz/image.ts";
import { saveImage } from "../../viz/image.ts";
import { tableFigure } from "../../viz/table_figure.ts";
import { formatMeanStd, mean, range, std } from "../stats.ts";
import type { Claim, ExperimentResult } from "../types.ts";
import {
  evolutionSchema,
  evolveController,
  type FitnessNoise,
  fitnessNoise,
  FRAME_SIZE,
  framesFromBytes,
  type GenerationRecord,
  type HeldOutRecord,
  memorySchema,
  poolHeldOut,
  rolloutInDream,
  rolloutInReality,
  rolloutsSchema,
  type TaskAdapter,
  trainMemory,
  visionSchema,
} from "./stages.ts";
import { visionParameterCount } from "./vision.ts";
import {
  copyMedia,
  type SeedContext,
  worldModelsExperiment,
  worldModelsStageRunner,
  type WorldModelsTask,
} from "./task.ts";
import type { VisionLosses } from "./vision.ts";

const VARIANTS = ["z", "z-hidden", "zh"] as const;

export const carRacingConfig = z.object({
  /** One full pipeline per seed. */
  seeds: z.array(z.number().int().nonnegative()).min(1).max(10),
  rollouts: rolloutsSchema,
  vision: visionSchema,
  memory: memorySchema,
  evolution: evolutionSchema,
  /** Units of the hidden layer of the "z through a hidden layer" controller. */
  hiddenLayerSize: z.number().int().min(1).max(512),
  /** The controllers compared (Table 1). */
  variants: z.array(z.enum(VARIANTS)).min(1),
  evaluation: z.object({
    /** Episodes on held-out tracks per controller (the paper: 100). */
    episodes: z.number().int().min(1).max(1000),
    episodeSteps: z.number().int().min(10).max(1000),
  }),
  iterative: z.object({
    /** Rounds of collect with C / retrain M / re-evolve C (0 to skip). */
    rounds: z.number().int().min(0).max(10),
    /** Episodes collected with C per round. */
    episodes: z.number().int().min(1).max(10_000),
    memoryEpochs: z.number().int().min(1).max(1000),
    generations: z.number().int().min(1).max(10_000),
  }),
  /** Frames in the real-versus-dream animation. */
  animationFrames: z.number().int().min(2).max(1000),
});

export type CarRacingConfig = z.infer<typeof carRacingConfig>;

const PAPER_VISION = {
  latentSize: 32,
  encoderChannels: [32, 64, 128, 256],
  decoderChannels: [1024, 128, 64, 32],
  klTolerance: 0.5,
};

export const carRacingBudgets: Record<"quick" | "laptop" | "paper", CarRacingConfig> = {
  quick: {
    seeds: [0],
    rollouts: { numEpisodes: 3, maxSteps: 60, framesForVision: 128 },
    vision: {
      latentSize: 8,
      encoderChannels: [4, 8, 8, 16],
      decoderChannels: [32, 8, 8, 4],
      epochs: 1,
      batchSize: 32,
      learningRate: 1e-3,
      klTolerance: 0.5,
    },
    memory: {
      hiddenSize: 16,
      numMixtures: 5,
      epochs: 2,
      batchSize: 3,
      chunkLength: 20,
      learningRate: 1e-3,
    },
    evolution: {
      populationSize: 6,
      rolloutsPerCandidate: 1,
      generations: 2,
      initialSigma: 0.1,
      episodeSteps: 30,
    },
    hiddenLayerSize: 8,
    variants: ["z", "z-hidden", "zh"],
    evaluation: { episodes: 2, episodeSteps: 40 },
    iterative: { rounds: 1, episodes: 2, memoryEpochs: 1, generations: 1 },
    animationFrames: 10,
  },
  laptop: {
    seeds: [0, 1, 2],
    rollouts: { numEpisodes: 200, maxSteps: 300, framesForVision: 10_000 },
    vision: {
      latentSize: 32,
      encoderChannels: [16, 32, 64, 128],
      decoderChannels: [256, 64, 32, 16],
      epochs: 3,
      batchSize: 64,
      learningRate: 1e-3,
      klTolerance: 0.5,
    },
    memory: {
      hiddenSize: 256,
      numMixtures: 5,
      epochs: 8,
      batchSize: 32,
      chunkLength: 50,
      learningRate: 1e-3,
    },
    evolution: {
      populationSize: 16,
      rolloutsPerCandidate: 4,
      generations: 20,
      initialSigma: 0.1,
      episodeSteps: 1000,
      heldOutEvery: 5,
      heldOutEpisodes: 4,
    },
    hiddenLayerSize: 40,
    variants: ["z", "z-hidden", "zh"],
    evaluation: { episodes: 16, episodeSteps: 1000 },
    iterative: { rounds: 1, episodes: 16, memoryEpochs: 3, generations: 20 },
    animationFrames: 60,
  },
  paper: {
    seeds: range(1),
    rollouts: { numEpisodes: 10_000, maxSteps: 1000, framesForVision: 1_000_000 },
    vision: { ...PAPER_VISION, epochs: 10, batchSize: 100, learningRate: 1e-4 },
    memory: {
      hiddenSize: 256,
      numMixtures: 5,
      epochs: 20,
      batchSize: 100,
      chunkLength: 1000,
      learningRate: 1e-3,
    },
    evolution: {
      populationSize: 64,
      rolloutsPerCandidate: 16,
      generations: 2000,
      initialSigma: 0.1,
      episodeSteps: 1000,
    },
    hiddenLayerSize: 40,
    variants: ["z", "z-hidden", "zh"],
    evaluation: { episodes: 100, episodeSteps: 1000 },
    iterative: { rounds: 1, episodes: 1000, memoryEpochs: 5, generations: 200 },
    animationFrames: 200,
  },
};

/** The paper's Table 1 and its parameter counts (section 3 and the appendix). */
export const CAR_RACING_PAPER = {
  scores: {
    "z": { mean: 632, std: 251 },
    "z-hidden": { mean: 788, std: 141 },
    "zh": { mean: 906, std: 21 },
  } as Record<ControllerFeatures, { mean: number; std: number }>,
  baselines: { dqn: { mean: 343, std: 18 }, a3c: { mean: 591, std: 45 } },
  solved: 900,
  parameters: { vision: 4_348_547, memory: 422_368, controller: 867 },
};

const VARIANT_NAMES: Record<string, string> = {
  "z": "V only: C sees z",
  "z-hidden": "V only, C with a hidden layer",
  "zh": "Full world model: C sees z and h",
};

/** How the pipeline sees CarRacing: M's action is the env's [steer, gas, brake]. */
export const carRacingTask: TaskAdapter = {
  name: "car-racing",
  make: () => new CarRacing(),
  actionSize: 3,
  // A random policy that holds each random action for a while, so the car gets somewhere and
  // the frames show more than the start (white noise only jitters in place).
  randomPolicy(rng: Rng, holdSteps = 20) {
    const current = new Float32Array(3);
    let hold = 0;
    return (out: Float32Array) => {
      if (hold-- <= 0) {
        current[0] = rng.uniform(-1, 1);
        current[1] = rng.uniform(0, 1);
        current[2] = rng.bernoulli(0.2) ? rng.uniform(0, 0.5) : 0;
        hold = 1 + rng.int(holdSteps);
      }
      out.set(current);
    };
  },
  envAction: (action) => action,
  controllerAction: carRacingAction,
};

export interface VariantResult {
  features: ControllerFeatures;
  parameters: number;
  curve: GenerationRecord[];
  /** Returns on held-out tracks, one per episode, all seeds pooled. */
  returns: number[];
  /** The CMA-ES mean's returns on held-out tracks as evolution went, seeds pooled. */
  heldOut: HeldOutRecord[];
  /** Fitness noise of each seed's evolved controller. */
  fitnessNoise: FitnessNoise[];
}

export interface CarRacingMetrics {
  parameterCounts: {
    ours: { vision: number; memory: number; controller: number };
    paper: { vision: number; memory: number; controller: number };
  };
  randomPolicy: { returns: number[] };
  visionCurve: VisionLosses[];
  memoryCurve: number[];
  variants: VariantResult[];
  /** Item 3: V's squared error per pixel channel (0..1 scale) on road pixels and the rest. */
  reconstruction: {
    frames: number;
    roadPixelFraction: number;
    roadError: number;
    otherError: number;
    /** Road pixels whose reconstruction is still road-grey. */
    roadRecovered: number;
  };
  /** Item 4: real score of C with z and h before and after each round. */
  iterative: {
    round: number;
    returns: number[];
    memoryCurve: number[];
    curve: GenerationRecord[];
  }[];
  /** Images written during the run (copied to res/ with the figures). */
  media: string[];
  /** Stages loaded from data/ rather than computed (their seconds are those of the first run). */
  resumedStages: string[];
}

function controllerShape(
  config: CarRacingConfig,
  features: ControllerFeatures,
): ControllerShape {
  return {
    latentSize: config.vision.latentSize,
    rnnSize: config.memory.hiddenSize,
    actionSize: 3,
    features,
    hiddenLayerSize: config.hiddenLayerSize,
  };
}

/** Road tiles are grey (equal channels near 102..107); kerbs and grass are not. */
function isRoad(frame: Uint8Array, pixel: number): boolean {
  const r = frame[pixel * 3], g = frame[pixel * 3 + 1], b = frame[pixel * 3 + 2];
  return Math.abs(r - g) <= 4 && Math.abs(g - b) <= 4 && r >= 90 && r <= 120;
}

/** Item 3: V's per-channel squared error on road pixels against the rest of the frame. */
export function reconstructionErrors(
  originals: Uint8Array,
  reconstructions: Uint8Array,
): CarRacingMetrics["reconstruction"] {
  const pixels = originals.length / 3;
  let roadSum = 0, roadCount = 0, otherSum = 0, otherCount = 0, recovered = 0;
  for (let p = 0; p < pixels; p++) {
    let error = 0;
    for (let ch = 0; ch < 3; ch++) {
      error += ((originals[p * 3 + ch] - reconstructions[p * 3 + ch]) / 255) ** 2;
    }
    if (isRoad(originals, p)) {
      roadSum += error / 3;
      roadCount++;
      if (isRoad(reconstructions, p)) recovered++;
    } else {
      otherSum += error / 3;
      otherCount++;
    }
  }
  return {
    frames: originals.length / FRAME_SIZE,
    roadPixelFraction: roadCount / pixels,
    roadError: roadCount ? roadSum / roadCount : Number.NaN,
    otherError: otherCount ? otherSum / otherCount : Number.NaN,
    roadRecovered: roadCount ? recovered / roadCount : Number.NaN,
  };
}

/** Stacks two equally wide frames vertically with a gap. */
function vstack(top: Frame, bottom: Frame, gap = 2): Frame {
  const width = Math.max(top.width, bottom.width);
  const data = new Uint8Array(width * (top.height + gap + bottom.height) * 3).fill(255);
  const put = (frame: Frame, rowOffset: number) => {
    for (let y = 0; y < frame.height; y++) {
      data.set(
        frame.data.subarray(y * frame.width * 3, (y + 1) * frame.width * 3),
        ((y + rowOffset) * width) * 3,
      );
    }
  };
  put(top, 0);
  put(bottom, top.height + gap);
  return { width, height: top.height + gap + bottom.height, channels: 3, data };
}

/** The environment seeds C is evaluated on: tracks no rollout or evolution ever drove. */
function evaluationSeeds(config: CarRacingConfig): number[] {
  return range(config.evaluation.episodes).map((i) => 900_000_000 + i);
}

/** Evolves C seeing `features` through `model` for `generations`, scored on real tracks. */
function evolveOnTracks(
  context: SeedContext<CarRacingConfig>,
  features: ControllerFeatures,
  model: MdnRnn,
  generations: number,
  label: string,
  initialMean?: Float64Array,
) {
  const { config, seed, world, report, signal } = context;
  const shape = controllerShape(config, features);
  const { populationSize, rolloutsPerCandidate, episodeSteps, heldOutEvery } = config.evolution;
  return evolveController({
    heldOut: heldOutEvery === undefined ? undefined : {
      every: heldOutEvery,
      evaluate: (mean) =>
        evaluateOnTracks(context, features, model, mean, config.evolution.heldOutEpisodes),
    },
    dimension: controllerParameterCount(shape),
    populationSize,
    initialSigma: config.evolution.initialSigma,
    generations,
    rng: new Rng(seed * 31 + label.length),
    initialMean,
    evaluate: async (candidates, generation) => {
      // Every candidate of a generation drives the same tracks (common random numbers).
      const thetas = candidates.flatMap((c) => Array(rolloutsPerCandidate).fill(c));
      const seeds = thetas.map((_, i) =>
        seed * 10_000_000 + generation * rolloutsPerCandidate + (i % rolloutsPerCandidate)
      );
      const { returns } = await rolloutInReality(
        carRacingTask,
        world.vision,
        model,
        shape,
        thetas,
        seeds,
        { maxSteps: episodeSteps },
      );
      throwIfInterrupted(signal);
      return candidates.map((_, k) =>
        mean(returns.subarray(k * rolloutsPerCandidate, (k + 1) * rolloutsPerCandidate))
      );
    },
    onGeneration: (record) =>
      report({
        stage: label,
        done: record.generation,
        total: generations,
        message: `mean ${record.mean.toFixed(0)}, best ${record.best.toFixed(0)}`,
      }),
  });
}

/** Repeats of a fitness evaluation of the evolved controller, for its noise. */
const NOISE_REPEATS = 8;

/** The evolved controller's single training rollouts on fresh tracks, against the population. */
async function measureFitnessNoise(
  context: SeedContext<CarRacingConfig>,
  features: ControllerFeatures,
  theta: Float64Array,
  curve: readonly GenerationRecord[],
): Promise<FitnessNoise> {
  const { config, seed, world } = context;
  const { rolloutsPerCandidate, episodeSteps } = config.evolution;
  const count = NOISE_REPEATS * rolloutsPerCandidate;
  const { returns } = await rolloutInReality(
    carRacingTask,
    world.vision,
    world.model,
    controllerShape(config, features),
    Array.from({ length: count }, () => theta),
    Array.from({ length: count }, (_, i) => seed * 10_000_000 + 9_000_000 + i),
    { maxSteps: episodeSteps },
  );
  return fitnessNoise(returns, rolloutsPerCandidate, curve);
}

/** C's returns on the held-out tracks (the first `tracks` of them when given). */
async function evaluateOnTracks(
  context: SeedContext<CarRacingConfig>,
  features: ControllerFeatures,
  model: MdnRnn,
  theta: Float64Array,
  tracks?: number,
): Promise<number[]> {
  const { config, world, report } = context;
  const seeds = evaluationSeeds(config).slice(0, tracks);
  const { returns } = await rolloutInReality(
    carRacingTask,
    world.vision,
    model,
    controllerShape(config, features),
    seeds.map(() => theta),
    seeds,
    {
      maxSteps: config.evaluation.episodeSteps,
      onStep: (t) => {
        if (t % 50 === 0) {
          report({
            stage: `evaluate C (${features})`,
            done: t,
            total: config.evaluation.episodeSteps,
          });
        }
      },
    },
  );
  return Array.from(returns);
}

/** Item 4: rounds of iterative training from C with z and h, each saved as it ends. */
async function iterativeTraining(
  context: SeedContext<CarRacingConfig>,
  theta0: Float64Array,
  returns0: number[],
): Promise<CarRacingMetrics["iterative"]> {
  const { config, seed, world, store, report, signal } = context;
  const iterative: CarRacingMetrics["iterative"] = [
    { round: 0, returns: returns0, memoryCurve: world.memoryCurve, curve: [] },
  ];
  const model = new MdnRnn(world.model.config, new Rng(seed));
  model.params.copyFrom(world.model.params);
  const latents = [...world.latents];
  let theta = theta0;
  const baseFields = {
    seed,
    rollouts: config.rollouts,
    vision: config.vision,
    memory: config.memory,
  };
  try {
    for (let round = 1; round <= config.iterative.rounds; round++) {
      const fields = {
        ...baseFields,
        evolution: config.evolution,
        iterative: config.iterative,
        evaluation: config.evaluation,
        round,
      };
      const stage = `iterative-round-${round}`;
      const loaded = await store.load(stage, fields);
      let outcome;
      if (loaded) {
        for (const [name, variable] of model.params.variables) {
          const values = loaded.arrays[`m/${name}`];
          if (!(values instanceof Float32Array) || values.length !== variable.size) {
            throw new UserError(`${store.dir}/${stage}.bin: M parameter ${name} is damaged`);
          }
          tf.tidy(() => variable.assign(tf.tensor(values, variable.shape)));
        }
        outcome = {
          theta: Float64Array.from(loaded.arrays.theta as Float32Array),
          returns: loaded.meta.returns as number[],
          memoryCurve: loaded.meta.memoryCurve as number[],
          curve: loaded.meta.curve as GenerationRecord[],
        };
      } else {
        // Collect with C, its parameters jittered per episode so the new data spreads out.
        const jitter = new Rng(seed * 101 + round);
        const collectors = range(config.iterative.episodes).map(() =>
          theta.map((v) => v + config.evolution.initialSigma * jitter.normal())
        );
        const collected = await rolloutInReality(
          carRacingTask,
          world.vision,
          model,
          controllerShape(config, "zh"),
          collectors,
          collectors.map((_, i) => seed * 1_000_000 + 500_000 + round * 10_000 + i),
          { maxSteps: config.rollouts.maxSteps, keepLatents: true },
        );
        latents.push(...collected.latents!);
        const roundMemoryCurve = await trainMemory(
          model,
          latents,
          { ...config.memory, epochs: config.iterative.memoryEpochs },
          new Rng(seed * 103 + round),
          report,
          `retrain M (round ${round})`,
          signal,
        );
        const evolved = await evolveOnTracks(
          context,
          "zh",
          model,
          config.iterative.generations,
          `re-evolve C (round ${round})`,
          theta,
        );
        const returns = await evaluateOnTracks(context, "zh", model, evolved.theta);
        const arrays: Record<string, Float32Array> = { theta: Float32Array.from(evolved.theta) };
        for (const [name, variable] of model.params.variables) {
          arrays[`m/${name}`] = variable.dataSync() as Float32Array;
        }
        const meta = { returns, memoryCurve: roundMemoryCurve, curve: evolved.curve };
        await store.save(stage, fields, arrays, meta);
        outcome = { theta: evolved.theta, ...meta };
      }
      theta = outcome.theta;
      iterative.push({
        round,
        returns: outcome.returns,
        memoryCurve: outcome.memoryCurve,
        curve: outcome.curve,
      });
    }
  } finally {
    model.dispose();
  }
  return iterative;
}

/**
 * Item 3 and the animation: a real drive by C (z, h) beside V's reconstruction and M's dream,
 * and V's errors on road pixels against the rest.
 */
async function driveAndDream(
  context: SeedContext<CarRacingConfig>,
  thetas: Map<string, Float64Array>,
): Promise<{ reconstruction: CarRacingMetrics["reconstruction"]; media: string[] }> {
  const { config, seed, world, dataDir } = context;
  const media: string[] = [];
  const features: ControllerFeatures = thetas.has("zh") ? "zh" : config.variants[0];
  const shape = controllerShape(config, features);
  const drive = await rolloutInReality(
    carRacingTask,
    world.vision,
    world.model,
    shape,
    [thetas.get(features)!],
    [evaluationSeeds(config)[0]],
    { maxSteps: config.animationFrames, recordFrames: config.animationFrames },
  );
  const real = new Uint8Array(drive.frames!.length * FRAME_SIZE);
  drive.frames!.forEach((f, i) => real.set(f, i * FRAME_SIZE));
  const encoded = world.vision.encode(real, drive.frames!.length);
  const decoded = world.vision.decode(encoded.mu, drive.frames!.length);
  // Held-out random frames and the drive's frames: both kinds of road views.
  const heldOut = world.heldOutFrames;
  const heldOutDecoded = world.vision.decode(
    world.vision.encode(heldOut, heldOut.length / FRAME_SIZE).mu,
    heldOut.length / FRAME_SIZE,
  );
  const originals = new Uint8Array(real.length + heldOut.length);
  originals.set(real);
  originals.set(heldOut, real.length);
  const reconstructions = new Uint8Array(originals.length);
  reconstructions.set(decoded);
  reconstructions.set(heldOutDecoded, real.length);
  const reconstruction = reconstructionErrors(originals, reconstructions);

  const dream = rolloutInDream(
    world.model,
    carRacingTask,
    controllerShape(config, "zh"),
    [thetas.get("zh") ?? new Float64Array(controllerParameterCount(shape))],
    [{ ...world.latents[0], mu: encoded.mu, logVar: encoded.logVar }],
    new Rng(seed + 5),
    {
      tau: 1,
      maxSteps: config.animationFrames,
      doneThreshold: 1,
      recordLatents: config.animationFrames,
    },
  );
  const dreamFrames = framesFromBytes(
    world.vision.decode(
      Float32Array.from(dream.dreamLatents.flatMap((zRow) => [...zRow])),
      dream.dreamLatents.length,
    ),
  );
  const realFrames = framesFromBytes(real);
  const reconstructed = framesFromBytes(decoded);
  const steps = Math.min(realFrames.length, dreamFrames.length);
  const animation = range(steps).map((i) =>
    upscale(hstack([realFrames[i], reconstructed[i], dreamFrames[i]]), 2)
  );
  const gifPath = `${dataDir}/media/world-models-carracing-real-vs-dream.gif`;
  await saveImage(encodeGif(animation, { delayMs: 80, maxColors: 64 }), gifPath);
  media.push(gifPath);
  const picks = range(8).map((i) => Math.floor((i * (originals.length / FRAME_SIZE - 1)) / 7));
  const originalRow = hstack(picks.map((i) => framesFromBytes(originals)[i]));
  const reconstructedRow = hstack(picks.map((i) => framesFromBytes(reconstructions)[i]));
  const pngPath = `${dataDir}/media/world-models-carracing-reconstructions.png`;
  await saveImage(encodePng(upscale(vstack(originalRow, reconstructedRow), 3)), pngPath);
  media.push(pngPath);
  return { reconstruction, media: media.map((path) => path.replace(`${REPO_ROOT}/`, "")) };
}

const NO_RECONSTRUCTION: CarRacingMetrics["reconstruction"] = {
  frames: 0,
  roadPixelFraction: Number.NaN,
  roadError: Number.NaN,
  otherError: Number.NaN,
  roadRecovered: Number.NaN,
};

const MEMORY_SHAPE = { predictDone: false, episodeStartInput: false, doneLossWeight: 1 };

export const carRacing: WorldModelsTask<CarRacingConfig, CarRacingMetrics> = {
  name: "world-models-carracing",
  paper: "Ha & Schmidhuber (2018), World Models, section 3 (Car Racing), Table 1; section 6",
  summary: "Random rollouts, V, M and C evolved by CMA-ES on CarRacing; C with z, z through a " +
    "hidden layer, and z and h; V's reconstructions; a round of iterative training",
  notebook: "notebooks/02-world-models.ipynb",
  // The model gives C its features (z and h) but is never rolled out: no planning.
  taxonomy: {
    model: "learned",
    modelPredicts: "a mixture density over the next frame's latent z (VAE + MDN-RNN)",
    representation: "latent state",
    planningStart: "no planning",
    planningBudget: "none",
    search: "none",
    serves: "nothing",
  },
  configSchema: carRacingConfig,
  budgets: carRacingBudgets,
  expectedSeconds: { quick: 10, laptop: 2560, paper: 30 * 24 * 3600 },
  adapter: carRacingTask,
  moduleUrl: import.meta.url,
  memoryShape: () => MEMORY_SHAPE,
  controllerIds: (config) => [...config.variants],
  controllerLabel: (id) => `evolve C (${id})`,
  controllerFields: (config, id) => ({
    memory: id === "zh" ? config.memory : null,
    evolution: config.evolution,
    hiddenLayerSize: config.hiddenLayerSize,
    features: id,
    evaluation: config.evaluation,
  }),
  async runController(context, id) {
    const features = id as ControllerFeatures;
    const { theta, curve, heldOut } = await evolveOnTracks(
      context,
      features,
      context.world.model,
      context.config.evolution.generations,
      `evolve C (${features})`,
    );
    const returns = await evaluateOnTracks(context, features, context.world.model, theta);
    const noise = await measureFitnessNoise(context, features, theta, curve);
    return {
      arrays: { theta: Float32Array.from(theta) },
      meta: { curve, returns, heldOut, fitnessNoise: noise },
    };
  },
  finish: {
    label: "iterative training and figures",
    fields: (config) => ({
      variants: config.variants,
      evolution: config.evolution,
      hiddenLayerSize: config.hiddenLayerSize,
      evaluation: config.evaluation,
      iterative: config.iterative,
      animationFrames: config.animationFrames,
    }),
    async run(context, controllers) {
      const thetas = new Map(
        [...controllers].map(([id, loaded]) => [
          id,
          Float64Array.from(loaded.arrays.theta as Float32Array),
        ]),
      );
      const zh = controllers.get("zh");
      const iterative = zh && context.config.iterative.rounds > 0
        ? await iterativeTraining(context, thetas.get("zh")!, zh.meta.returns as number[])
        : [];
      const { reconstruction, media } = await driveAndDream(context, thetas);
      return { arrays: {}, meta: { iterative, reconstruction, media } };
    },
  },
  summarize(config, seeds, resumed) {
    const returnsOf = (id: string) =>
      seeds.flatMap((s) => (s.controllers.get(id)?.meta.returns as number[] | undefined) ?? []);
    const first = seeds[0];
    const variants: VariantResult[] = config.variants.map((features) => ({
      features,
      parameters: controllerParameterCount(controllerShape(config, features)),
      curve: (first.controllers.get(features)?.meta.curve as GenerationRecord[]) ?? [],
      returns: returnsOf(features),
      heldOut: poolHeldOut(
        seeds.map((s) => s.controllers.get(features)?.meta.heldOut as HeldOutRecord[]),
      ),
      fitnessNoise: seeds.flatMap((s) => {
        const noise = s.controllers.get(features)?.meta.fitnessNoise as FitnessNoise | undefined;
        return noise ? [noise] : [];
      }),
    }));
    const finish = first.finish?.meta ?? {};
    return Promise.resolve({
      parameterCounts: {
        ours: {
          vision: visionParameterCount(config.vision),
          memory: MdnRnn.parameterCount({
            latentSize: config.vision.latentSize,
            actionSize: 3,
            hiddenSize: config.memory.hiddenSize,
            numMixtures: config.memory.numMixtures,
            ...MEMORY_SHAPE,
          }),
          controller: controllerParameterCount(controllerShape(config, "zh")),
        },
        paper: CAR_RACING_PAPER.parameters,
      },
      randomPolicy: { returns: seeds.flatMap((s) => s.world.randomReturns) },
      visionCurve: first.world.visionCurve,
      memoryCurve: first.world.memoryCurve,
      variants,
      reconstruction: (finish.reconstruction as CarRacingMetrics["reconstruction"]) ??
        NO_RECONSTRUCTION,
      iterative: (finish.iterative as CarRacingMetrics["iterative"]) ?? [],
      media: (finish.media as string[]) ?? [],
      resumedStages: resumed,
    });
  },
  claims: (metrics, config) => carRacingClaims(metrics, config.evaluation.episodes),
  drawFigures,
};

/** The function the stage workers call (see WorldModelsTask.moduleUrl). */
export const runStage = worldModelsStageRunner(carRacing);

const STEPS_QUOTE =
  "To summarize the Car Racing experiment, below are the steps taken: 1. Collect " +
  "10,000 rollouts from a random policy. 2. Train VAE (V) to encode each frame into a latent " +
  "vector z 3. Train MDN-RNN (M) to model P(z_t+1 | a_t, z_t, h_t) 4. Evolve Controller (C) to " +
  "maximize the expected cumulative reward of a rollout.";

/** The claims of section 3, section 6 and the study notes, each with the rule that decides it. */
export function carRacingClaims(metrics: CarRacingMetrics, episodes: number): Claim[] {
  const claims: Claim[] = [];
  const byFeatures = (f: ControllerFeatures) => metrics.variants.find((v) => v.features === f);
  const zOnly = byFeatures("z");
  const full = byFeatures("zh");
  const hidden = byFeatures("z-hidden");
  const paper = CAR_RACING_PAPER.scores;
  const describe = (v: VariantResult | undefined) =>
    v && v.returns.length ? formatMeanStd(v.returns, 0) : "not run";
  if (zOnly && full && zOnly.returns.length && full.returns.length) {
    claims.push({
      id: "z-and-h-beat-z-alone",
      quote: STEPS_QUOTE,
      paper: `z only ${paper.z.mean} ± ${paper.z.std}; z with a hidden layer ${
        paper["z-hidden"].mean
      } ± ${paper["z-hidden"].std}; z and h ${paper.zh.mean} ± ${paper.zh.std} (100 episodes)`,
      ours: `z only ${describe(zOnly)}; z with a hidden layer ${describe(hidden)}; z and h ${
        describe(full)
      } (${episodes} held-out tracks per seed)`,
      // Better on average by more than the standard error of the difference.
      holds: mean(full.returns) - mean(zOnly.returns) >
        Math.sqrt(
          (std(full.returns) ** 2 + std(zOnly.returns) ** 2) / Math.max(full.returns.length, 1),
        ),
    });
    claims.push({
      id: "z-and-h-smaller-spread",
      quote: STEPS_QUOTE,
      paper: `std ${paper.zh.std} with z and h against ${paper.z.std} with z only`,
      ours: `std ${std(full.returns).toFixed(0)} with z and h against ${
        std(zOnly.returns).toFixed(0)
      } with z only`,
      holds: std(full.returns) < std(zOnly.returns),
    });
  }
  if (full && full.returns.length) {
    claims.push({
      id: "car-racing-solved",
      quote: STEPS_QUOTE,
      paper: "906 ± 21, solved (900 is the bar); DQN 343 ± 18, A3C 591 ± 45",
      ours: `${describe(full)}; random policy ${formatMeanStd(metrics.randomPolicy.returns, 0)}`,
      holds: mean(full.returns) >= CAR_RACING_PAPER.solved,
    });
  }
  const r = metrics.reconstruction;
  if (r.frames > 0 && Number.isFinite(r.roadError)) {
    claims.push({
      id: "vae-misses-road-detail",
      quote: "our VAE reproduced unimportant detailed brick tile patterns on the side walls in " +
        "the Doom environment, but failed to reproduce task-relevant tiles on the road in the Car " +
        "Racing environment",
      paper: "road tiles are lost in V's reconstructions (shown in pictures, no number)",
      ours: `per-channel squared error ${r.roadError.toFixed(4)} on road pixels against ${
        r.otherError.toFixed(4)
      } elsewhere; ${(100 * r.roadRecovered).toFixed(0)}% of road pixels come back road-grey`,
      holds: r.roadError > r.otherError,
    });
  }
  if (metrics.iterative.length >= 2) {
    const before = metrics.iterative[0].returns;
    const after = metrics.iterative[metrics.iterative.length - 1].returns;
    claims.push({
      id: "iterative-training-improves",
      quote:
        "For more complicated tasks, an iterative training procedure is required. We need our " +
        "agent to be able to explore its world, and constantly collect new observations so that " +
        "its world model can be improved and refined over time.",
      paper: "proposed, not measured on Car Racing",
      ours: `C (z, h) ${formatMeanStd(before, 0)} before, ${formatMeanStd(after, 0)} after ${
        metrics.iterative.length - 1
      } round(s)`,
      // Better by more than the standard error of the difference (and more than noise-free ties).
      holds: mean(after) - mean(before) >
        Math.max(
          Math.sqrt((std(after) ** 2 + std(before) ** 2) / Math.max(after.length, 1)),
          1,
        ),
    });
  }
  return claims;
}

async function drawFigures(
  result: ExperimentResult<CarRacingMetrics>,
  resDir: string,
): Promise<string[]> {
  const m = result.metrics;
  const written: string[] = [];
  const curves = m.variants.filter((v) => v.curve.length > 0);
  if (curves.length) {
    const series = curves.flatMap((v) => [
      {
        name: `${VARIANT_NAMES[v.features]} (population mean)`,
        x: v.curve.map((g) => g.generation),
        y: v.curve.map((g) => g.mean),
      },
      {
        name: `${VARIANT_NAMES[v.features]} (best)`,
        x: v.curve.map((g) => g.generation),
        y: v.curve.map((g) => g.best),
      },
    ]);
    written.push(
      await saveFigure(
        lineChart({
          title: "CMA-ES on CarRacing: fitness per generation",
          subtitle: `Fitness = mean return of ${result.seeds.length > 1 ? "each" : "a"} ` +
            "candidate's rollouts (shortened episodes at this budget)",
          series,
          xLabel: "Generation",
          yLabel: "Return",
        }),
        `${resDir}/world-models-carracing-fitness.svg`,
      ),
    );
  }
  const tracked = m.variants.filter((v) => v.heldOut?.length);
  if (tracked.length) {
    written.push(
      await saveFigure(
        lineChart({
          title: "CarRacing: C's held-out score as evolution goes",
          subtitle: "The CMA-ES mean on held-out tracks every few generations, mean ± std over " +
            `${result.seeds.length} seed(s)' tracks; dashed: the paper's z and h score`,
          series: tracked.map((v) => ({
            name: VARIANT_NAMES[v.features],
            x: v.heldOut.map((r) => r.generation),
            y: v.heldOut.map((r) => mean(r.returns)),
            yStd: v.heldOut.map((r) => std(r.returns)),
          })),
          xLabel: "Generation",
          yLabel: "Held-out return",
          marks: [Plot.ruleY([CAR_RACING_PAPER.scores.zh.mean], { strokeDasharray: "4,4" })],
        }),
        `${resDir}/world-models-carracing-held-out.svg`,
      ),
    );
  }
  const noisy = m.variants.filter((v) => v.fitnessNoise?.length);
  if (noisy.length) {
    const rollouts = [1, 2, 4, 8, 16, 32];
    written.push(
      await saveFigure(
        lineChart({
          title: "CarRacing: how noisy is a candidate's fitness?",
          subtitle: "The evolved C's fitness noise with R rollouts per candidate (one rollout's " +
            "std / sqrt(R)), against the spread of the last generation's fitness (dashed, in " +
            "the same colour): where the noise reaches the spread, the ranking is mostly luck",
          series: noisy.map((v) => ({
            name: VARIANT_NAMES[v.features],
            x: rollouts,
            y: rollouts.map((r) => mean(v.fitnessNoise.map((n) => n.rolloutStd)) / Math.sqrt(r)),
          })),
          xLabel: "Rollouts per candidate (R)",
          yLabel: "Standard deviation of fitness",
          xType: "log",
          marks: [
            Plot.ruleY(
              noisy.map((v) => ({
                name: VARIANT_NAMES[v.features],
                spread: mean(v.fitnessNoise.map((n) => n.populationStd)),
              })),
              // Through the chart's colour scale, so each spread matches its variant's curve.
              { y: "spread", stroke: "name", strokeDasharray: "4,4" },
            ),
          ],
        }),
        `${resDir}/world-models-carracing-fitness-noise.svg`,
      ),
    );
  }
  const bars = [
    ...m.variants.filter((v) => v.returns.length).flatMap((v) => [
      {
        label: "ours",
        group: VARIANT_NAMES[v.features],
        value: mean(v.returns),
        std: std(v.returns),
      },
      {
        label: "paper",
        group: VARIANT_NAMES[v.features],
        value: CAR_RACING_PAPER.scores[v.features].mean,
        std: CAR_RACING_PAPER.scores[v.features].std,
      },
    ]),
  ];
  if (bars.length) {
    written.push(
      await saveFigure(
        barChart({
          title: "CarRacing scores on held-out tracks (Table 1)",
          subtitle: "Mean ± std over episodes; dashed: solved (900)",
          bars,
          yLabel: "Return",
          marks: [Plot.ruleY([CAR_RACING_PAPER.solved], { strokeDasharray: "4,4" })],
        }),
        `${resDir}/world-models-carracing-scores.svg`,
      ),
    );
  }
  const paper = m.parameterCounts.paper;
  const ours = m.parameterCounts.ours;
  written.push(
    await saveFigure(
      tableFigure([
        { model: "V (ConvVAE)", paper: paper.vision, ours: ours.vision },
        { model: "M (MDN-RNN)", paper: paper.memory, ours: ours.memory },
        { model: "C (linear, z and h)", paper: paper.controller, ours: ours.controller },
      ], { title: `Parameters, CarRacing (${result.budget} budget)` }),
      `${resDir}/world-models-carracing-parameters.svg`,
    ),
  );
  if (m.iterative.length >= 2) {
    written.push(
      await saveFigure(
        barChart({
          title: "Iterative training: C (z, h) on held-out tracks",
          subtitle: "Round 0: M from random rollouts; later rounds add C's own rollouts",
          bars: m.iterative.map((r) => ({
            label: `round ${r.round}`,
            value: mean(r.returns),
            std: std(r.returns),
          })),
          yLabel: "Return",
        }),
        `${resDir}/world-models-carracing-iterative.svg`,
      ),
    );
  }
  written.push(...await copyMedia(m.media, resDir));
  return written;
}

export const worldModelsCarRacing = worldModelsExperiment(carRacing);
