/**
 * Ha & Schmidhuber (2018), "World Models", section 5 (VizDoom Experiment: Learning Inside of a
 * Dream), on our TakeCover (lib/envs/take_cover.ts): random rollouts, V, and an M that also
 * predicts the end of the episode; C evolved only inside M's dream at each temperature tau, then
 * run in the real game (Table 2), against the random policy.
 */
import { z } from "zod";
import * as Plot from "@observablehq/plot";
import {
  TAKE_COVER_LEFT,
  TAKE_COVER_RIGHT,
  TAKE_COVER_STAY,
  TakeCover,
} from "../../envs/take_cover.ts";
import { Rng } from "../../rng.ts";
import { REPO_ROOT } from "../../io.ts";
import { throwIfInterrupted } from "../../errors.ts";
import {
  controllerParameterCount,
  type ControllerShape,
  takeCoverMove,
} from "../../agents/world_models_controller.ts";
import { MdnRnn } from "../../models/mdn_rnn.ts";
import { lineChart } from "../../viz/charts.ts";
import { saveFigure } from "../../viz/plot.ts";
import { encodeGif, type Frame, hstack, saveImage, upscale } from "../../viz/image.ts";
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
  visionSchema,
} from "./stages.ts";
import { type VisionLosses, visionParameterCount } from "./vision.ts";
import {
  copyMedia,
  type SeedContext,
  type StageOutput,
  worldModelsExperiment,
  worldModelsStageRunner,
  type WorldModelsTask,
} from "./task.ts";
import type { LoadedStage } from "./store.ts";
import { type DeathCalibration, measureDeaths } from "./death.ts";

export const takeCoverConfig = z.object({
  seeds: z.array(z.number().int().nonnegative()).min(1).max(10),
  rollouts: rolloutsSchema,
  vision: visionSchema,
  memory: memorySchema,
  /** Weight of the done = 1 terms in M's logistic loss (the paper's code: 10). */
  doneLossWeight: z.number().gt(0).max(1000),
  /** A dream ends when M's done probability passes this. */
  doneThreshold: z.number().gt(0).lt(1),
  /** CMA-ES inside the dream; episodeSteps caps a dream's length. */
  evolution: evolutionSchema,
  /** The temperatures of Table 2. */
  temperatures: z.array(z.number().gt(0).max(5)).min(1),
  /**
   * Whether M learned death (lib/experiments/world-models/death.ts): held-out random episodes for
   * its calibration, and dream episodes per temperature of a policy that stands still.
   */
  deathCheck: z.object({
    episodes: z.number().int().min(1).max(1000),
    dreamEpisodes: z.number().int().min(1).max(1000),
  }),
  evaluation: z.object({
    /** Episodes per temperature, in the dream and in the real game (the paper: 100). */
    episodes: z.number().int().min(1).max(1000),
    /** Steps at most per real episode (the game truncates at 2100). */
    episodeSteps: z.number().int().min(10).max(2100),
  }),
  animationFrames: z.number().int().min(2).max(2100),
});

export type TakeCoverConfig = z.infer<typeof takeCoverConfig>;

const TEMPERATURES = [0.1, 0.5, 1.0, 1.15, 1.3];

export const takeCoverBudgets: Record<"quick" | "laptop" | "paper", TakeCoverConfig> = {
  quick: {
    seeds: [0],
    rollouts: { numEpisodes: 4, maxSteps: 60, framesForVision: 128 },
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
      batchSize: 4,
      chunkLength: 20,
      learningRate: 1e-3,
    },
    doneLossWeight: 10,
    doneThreshold: 0.5,
    evolution: {
      populationSize: 6,
      rolloutsPerCandidate: 2,
      generations: 2,
      initialSigma: 0.1,
      episodeSteps: 40,
    },
    temperatures: [0.1, 1.15],
    deathCheck: { episodes: 3, dreamEpisodes: 2 },
    evaluation: { episodes: 2, episodeSteps: 60 },
    animationFrames: 10,
  },
  laptop: {
    seeds: [0, 1, 2],
    rollouts: {
      numEpisodes: 800,
      maxSteps: 600,
      framesForVision: 10_000,
      actionHoldSteps: 20,
    },
    vision: {
      latentSize: 64,
      encoderChannels: [16, 32, 64, 128],
      decoderChannels: [256, 64, 32, 16],
      epochs: 4,
      batchSize: 64,
      learningRate: 1e-3,
      klTolerance: 0.5,
    },
    memory: {
      hiddenSize: 256,
      numMixtures: 5,
      epochs: 10,
      batchSize: 64,
      chunkLength: 50,
      learningRate: 1e-3,
    },
    doneLossWeight: 10,
    doneThreshold: 0.5,
    evolution: {
      populationSize: 16,
      rolloutsPerCandidate: 8,
      generations: 50,
      initialSigma: 0.1,
      episodeSteps: 1000,
      heldOutEvery: 10,
      heldOutEpisodes: 4,
    },
    temperatures: TEMPERATURES,
    deathCheck: { episodes: 64, dreamEpisodes: 32 },
    evaluation: { episodes: 16, episodeSteps: 2100 },
    animationFrames: 60,
  },
  paper: {
    seeds: [0],
    rollouts: { numEpisodes: 10_000, maxSteps: 2100, framesForVision: 1_000_000 },
    vision: {
      latentSize: 64,
      encoderChannels: [32, 64, 128, 256],
      decoderChannels: [1024, 128, 64, 32],
      epochs: 10,
      batchSize: 100,
      learningRate: 1e-4,
      klTolerance: 0.5,
    },
    memory: {
      hiddenSize: 512,
      numMixtures: 5,
      epochs: 20,
      batchSize: 100,
      chunkLength: 500,
      learningRate: 1e-3,
    },
    doneLossWeight: 10,
    doneThreshold: 0.5,
    evolution: {
      populationSize: 64,
      rolloutsPerCandidate: 16,
      generations: 1000,
      initialSigma: 0.1,
      episodeSteps: 2100,
    },
    temperatures: TEMPERATURES,
    deathCheck: { episodes: 100, dreamEpisodes: 100 },
    evaluation: { episodes: 100, episodeSteps: 2100 },
    animationFrames: 300,
  },
};

/** Table 2 of the paper (section 5), and its parameter counts. */
export const TAKE_COVER_PAPER = {
  table: [
    { tau: 0.1, dream: [2086, 140], real: [193, 58] },
    { tau: 0.5, dream: [2060, 277], real: [196, 50] },
    { tau: 1.0, dream: [1145, 690], real: [868, 511] },
    { tau: 1.15, dream: [918, 546], real: [1092, 556] },
    { tau: 1.3, dream: [732, 269], real: [753, 139] },
  ],
  random: [210, 108],
  solved: 750,
  parameters: { vision: 4_446_915, memory: 1_678_785, controller: 1_088 },
};

/** TakeCover as M sees it: one number, -1 left, 0 stay, 1 right. */
export const takeCoverTask: TaskAdapter = {
  name: "take-cover",
  make: () => new TakeCover(),
  actionSize: 1,
  // Every frame a new uniform action by default (the paper's random policy). Holding actions
  // for a while takes the agent across the room, to the walls a frame-by-frame random walk
  // almost never reaches.
  randomPolicy(rng: Rng, holdSteps = 1) {
    let current = 0;
    let hold = 0;
    return (out: Float32Array) => {
      if (hold-- <= 0) {
        current = rng.int(3) - 1;
        hold = holdSteps > 1 ? rng.int(holdSteps) : 0;
      }
      out[0] = current;
    };
  },
  envAction(action) {
    return action[0] < 0 ? TAKE_COVER_LEFT : action[0] > 0 ? TAKE_COVER_RIGHT : TAKE_COVER_STAY;
  },
  controllerAction(raw, out) {
    out[0] = takeCoverMove(raw[0]);
    return out;
  },
};

export interface TemperatureResult {
  tau: number;
  curve: GenerationRecord[];
  /** Steps survived in M's dream at this tau, one per episode. */
  dream: number[];
  /** Steps survived in the real game. */
  real: number[];
  /** The dream-trained mean's real steps as evolution went, seeds pooled. */
  heldOut: HeldOutRecord[];
  /** Dream steps of a policy that stands still, every seed's M, pooled. */
  standStillDream: number[];
  /** Fitness noise in the dream of each seed's evolved controller. */
  fitnessNoise: FitnessNoise[];
}

export interface TakeCoverMetrics {
  parameterCounts: {
    ours: { vision: number; memory: number; controller: number };
    paper: { vision: number; memory: number; controller: number };
  };
  visionCurve: VisionLosses[];
  memoryCurve: number[];
  randomPolicy: number[];
  temperatures: TemperatureResult[];
  /** M's predicted death probability against real deaths on held-out episodes, per seed. */
  deathCalibration: DeathCalibration[];
  /** Steps the stand-still policy survives in the real game, on the evaluation episodes. */
  standStillReal: number[];
  media: string[];
  /** Stages loaded from data/ rather than computed (their seconds are those of the first run). */
  resumedStages: string[];
}

function controllerShape(config: TakeCoverConfig): ControllerShape {
  return {
    latentSize: config.vision.latentSize,
    rnnSize: config.memory.hiddenSize,
    actionSize: 1,
    features: "zch",
    hiddenLayerSize: 0,
  };
}

/** The real episodes C is scored on, the random policy too: none was seen in training. */
function evaluationSeeds(config: TakeCoverConfig): number[] {
  return range(config.evaluation.episodes).map((i) => 800_000_000 + i);
}

/** Steps the uniformly random policy survives on the evaluation episodes. */
function randomPolicySteps(config: TakeCoverConfig, seed: number): number[] {
  const env = takeCoverTask.make();
  const rng = new Rng(seed * 13 + 7);
  return evaluationSeeds(config).map((episodeSeed) => {
    env.reset(episodeSeed);
    let steps = 0;
    while (steps < config.evaluation.episodeSteps) {
      const result = env.step(rng.int(3));
      steps++;
      if (result.terminated || result.truncated) break;
    }
    return steps;
  });
}

/** Steps a policy that never moves survives in the real game, on the evaluation episodes. */
function standStillSteps(config: TakeCoverConfig): number[] {
  const env = takeCoverTask.make();
  return evaluationSeeds(config).map((episodeSeed) => {
    env.reset(episodeSeed);
    let steps = 0;
    while (steps < config.evaluation.episodeSteps) {
      const result = env.step(TAKE_COVER_STAY);
      steps++;
      if (result.terminated || result.truncated) break;
    }
    return steps;
  });
}

/** C evolved only inside M's dream at temperature tau, then scored in the dream and for real. */
async function evolveInDream(
  context: SeedContext<TakeCoverConfig>,
  tau: number,
): Promise<StageOutput> {
  const { config, seed, world, report, signal } = context;
  const shape = controllerShape(config);
  const { populationSize, rolloutsPerCandidate, generations, heldOutEvery } = config.evolution;
  const dreamRng = new Rng(seed * 1009 + Math.round(tau * 100));
  const evolved = await evolveController({
    // The real game's verdict on the dream-trained mean as evolution goes.
    heldOut: heldOutEvery === undefined ? undefined : {
      every: heldOutEvery,
      evaluate: (mean) => realSteps(context, mean, config.evolution.heldOutEpisodes),
    },
    dimension: controllerParameterCount(shape),
    populationSize,
    initialSigma: config.evolution.initialSigma,
    generations,
    rng: new Rng(seed * 1013 + Math.round(tau * 100)),
    evaluate: (candidates) => {
      const thetas = candidates.flatMap((c) => Array(rolloutsPerCandidate).fill(c));
      const { returns } = rolloutInDream(
        world.model,
        takeCoverTask,
        shape,
        thetas,
        world.latents,
        dreamRng,
        {
          tau,
          maxSteps: config.evolution.episodeSteps,
          doneThreshold: config.doneThreshold,
        },
      );
      throwIfInterrupted(signal);
      return Promise.resolve(
        candidates.map((_, k) =>
          mean(returns.subarray(k * rolloutsPerCandidate, (k + 1) * rolloutsPerCandidate))
        ),
      );
    },
    onGeneration: (record) =>
      report({
        stage: `evolve C in the dream (tau ${tau})`,
        done: record.generation,
        total: generations,
        message: `mean ${record.mean.toFixed(0)}, best ${record.best.toFixed(0)} steps`,
      }),
  });
  const episodes = config.evaluation.episodes;
  const dream = Array.from(
    rolloutInDream(
      world.model,
      takeCoverTask,
      shape,
      range(episodes).map(() => evolved.theta),
      world.latents,
      new Rng(seed * 1019 + Math.round(tau * 100)),
      {
        tau,
        maxSteps: config.evaluation.episodeSteps,
        doneThreshold: config.doneThreshold,
      },
    ).returns,
  );
  const real = await realSteps(context, evolved.theta, undefined, tau);
  // The evolved C's single dream rollouts, for the noise of one candidate's fitness.
  const repeats = 8 * rolloutsPerCandidate;
  const noise = fitnessNoise(
    rolloutInDream(
      world.model,
      takeCoverTask,
      shape,
      range(repeats).map(() => evolved.theta),
      world.latents,
      new Rng(seed * 1021 + Math.round(tau * 100)),
      { tau, maxSteps: config.evolution.episodeSteps, doneThreshold: config.doneThreshold },
    ).returns,
    rolloutsPerCandidate,
    evolved.curve,
  );
  return {
    arrays: { theta: Float32Array.from(evolved.theta) },
    meta: { curve: evolved.curve, dream, real, heldOut: evolved.heldOut, fitnessNoise: noise },
  };
}

/** Steps C survives in the real game on the evaluation episodes (the first `episodes`). */
async function realSteps(
  context: SeedContext<TakeCoverConfig>,
  theta: Float64Array,
  episodes?: number,
  tau?: number,
): Promise<number[]> {
  const { config, world, report } = context;
  const seeds = evaluationSeeds(config).slice(0, episodes);
  const { returns } = await rolloutInReality(
    takeCoverTask,
    world.vision,
    world.model,
    controllerShape(config),
    seeds.map(() => theta),
    seeds,
    {
      maxSteps: config.evaluation.episodeSteps,
      onStep: (t) => {
        if (tau !== undefined && t % 50 === 0) {
          report({
            stage: `run C in the real game (tau ${tau})`,
            done: t,
            total: config.evaluation.episodeSteps,
          });
        }
      },
    },
  );
  return Array.from(returns);
}

/** The animation: C's best controller in the real game beside V's view and M's dream. */
async function realVersusDream(
  context: SeedContext<TakeCoverConfig>,
  controllers: Map<string, LoadedStage>,
): Promise<string[]> {
  const { config, seed, world, dataDir } = context;
  const shape = controllerShape(config);
  // The temperature whose controller did best in the real game (the first, on ties).
  let bestTau = config.temperatures[0];
  for (const tau of config.temperatures) {
    const real = controllers.get(String(tau))!.meta.real as number[];
    const best = controllers.get(String(bestTau))!.meta.real as number[];
    if (mean(real) > mean(best)) bestTau = tau;
  }
  const theta = Float64Array.from(controllers.get(String(bestTau))!.arrays.theta as Float32Array);
  const drive = await rolloutInReality(
    takeCoverTask,
    world.vision,
    world.model,
    shape,
    [theta],
    [evaluationSeeds(config)[0]],
    { maxSteps: config.animationFrames, recordFrames: config.animationFrames },
  );
  const real = new Uint8Array(drive.frames!.length * FRAME_SIZE);
  drive.frames!.forEach((f, i) => real.set(f, i * FRAME_SIZE));
  const count = drive.frames!.length;
  const encoded = world.vision.encode(real, count);
  const reconstructed = framesFromBytes(world.vision.decode(encoded.mu, count));
  const dream = rolloutInDream(
    world.model,
    takeCoverTask,
    shape,
    [theta],
    [{ ...world.latents[0], mu: encoded.mu, logVar: encoded.logVar }],
    new Rng(seed + 3),
    {
      tau: bestTau,
      maxSteps: config.animationFrames,
      doneThreshold: config.doneThreshold,
      recordLatents: config.animationFrames,
    },
  );
  const dreamFrames = framesFromBytes(
    world.vision.decode(
      Float32Array.from(dream.dreamLatents.flatMap((row) => [...row])),
      dream.dreamLatents.length,
    ),
  );
  const realFrames = framesFromBytes(real);
  // Both sequences run to the longer one; a finished one holds its last frame.
  const steps = Math.max(realFrames.length, dreamFrames.length);
  const at = (frames: Frame[], i: number) => frames[Math.min(i, frames.length - 1)];
  const animation = range(steps).map((i) =>
    upscale(hstack([at(realFrames, i), at(reconstructed, i), at(dreamFrames, i)]), 2)
  );
  const gifPath = `${dataDir}/media/world-models-takecover-real-vs-dream.gif`;
  await saveImage(encodeGif(animation, { delayMs: 80, maxColors: 64 }), gifPath);
  return [gifPath.replace(`${REPO_ROOT}/`, "")];
}

const memoryShapeOf = (config: TakeCoverConfig) => ({
  predictDone: true,
  episodeStartInput: true,
  doneLossWeight: config.doneLossWeight,
});

export const takeCover: WorldModelsTask<TakeCoverConfig, TakeCoverMetrics> = {
  name: "world-models-takecover",
  paper: "Ha & Schmidhuber (2018), World Models, section 5 (VizDoom: learning inside a dream), " +
    "Table 2",
  summary: "V and an M that predicts death on TakeCover; C evolved only inside M's dream at " +
    "five temperatures, then run in the real game",
  notebook: "notebooks/02-world-models.ipynb",
  taxonomy: {
    model: "learned",
    modelPredicts: "a mixture density over the next latent z and whether the agent dies",
    representation: "latent state",
    planningStart: "start states of the task",
    planningBudget: "whole dreamed episodes: population x rollouts per candidate per generation",
    search: "evolution of a policy in the model",
    serves: "learning",
  },
  configSchema: takeCoverConfig,
  budgets: takeCoverBudgets,
  expectedSeconds: { quick: 10, laptop: 2120, paper: 30 * 24 * 3600 },
  adapter: takeCoverTask,
  moduleUrl: import.meta.url,
  memoryShape: memoryShapeOf,
  describeFields: (config) => ({
    deathCheck: config.deathCheck,
    doneThreshold: config.doneThreshold,
    temperatures: config.temperatures,
    evaluation: config.evaluation,
  }),
  async describeWorld({ config, seed, world }) {
    return {
      ...await measureDeaths(
        takeCoverTask,
        world.vision,
        world.model,
        controllerShape(config),
        world.latents,
        seed,
        {
          episodes: config.deathCheck.episodes,
          maxSteps: config.rollouts.maxSteps,
          actionHoldSteps: config.rollouts.actionHoldSteps,
          doneThreshold: config.doneThreshold,
          temperatures: config.temperatures,
          dreamEpisodes: config.deathCheck.dreamEpisodes,
          dreamSteps: config.evaluation.episodeSteps,
        },
      ),
    };
  },
  controllerIds: (config) => config.temperatures.map(String),
  controllerLabel: (id) => `evolve C in the dream (tau ${id})`,
  controllerFields: (config, id) => ({
    doneLossWeight: config.doneLossWeight,
    doneThreshold: config.doneThreshold,
    evolution: config.evolution,
    evaluation: config.evaluation,
    tau: Number(id),
  }),
  runController: (context, id) => evolveInDream(context, Number(id)),
  finish: {
    label: "figures",
    fields: (config) => ({
      temperatures: config.temperatures,
      doneThreshold: config.doneThreshold,
      evolution: config.evolution,
      evaluation: config.evaluation,
      animationFrames: config.animationFrames,
    }),
    async run(context, controllers) {
      return { arrays: {}, meta: { media: await realVersusDream(context, controllers) } };
    },
  },
  summarize(config, seeds, resumed) {
    const shape = controllerShape(config);
    const first = seeds[0];
    const temperatures: TemperatureResult[] = config.temperatures.map((tau) => {
      const outcomes = seeds.map((s) => s.controllers.get(String(tau))!.meta);
      return {
        tau,
        curve: outcomes[0].curve as GenerationRecord[],
        dream: outcomes.flatMap((o) => o.dream as number[]),
        real: outcomes.flatMap((o) => o.real as number[]),
        heldOut: poolHeldOut(outcomes.map((o) => o.heldOut as HeldOutRecord[])),
        fitnessNoise: outcomes.flatMap((o) =>
          o.fitnessNoise ? [o.fitnessNoise as FitnessNoise] : []
        ),
        standStillDream: seeds.flatMap((s) =>
          (s.world.description.standStill as { tau: number; dream: number[] }[] | undefined)
            ?.find((row) => row.tau === tau)?.dream ?? []
        ),
      };
    });
    return Promise.resolve({
      parameterCounts: {
        ours: {
          vision: visionParameterCount(config.vision),
          memory: MdnRnn.parameterCount({
            latentSize: config.vision.latentSize,
            actionSize: 1,
            hiddenSize: config.memory.hiddenSize,
            numMixtures: config.memory.numMixtures,
            predictDone: true,
            episodeStartInput: true,
          }),
          controller: controllerParameterCount(shape),
        },
        paper: TAKE_COVER_PAPER.parameters,
      },
      visionCurve: first.world.visionCurve,
      memoryCurve: first.world.memoryCurve,
      randomPolicy: seeds.flatMap((s) => randomPolicySteps(config, s.seed)),
      temperatures,
      deathCalibration: seeds.flatMap((s) => {
        const calibration = s.world.description.calibration as DeathCalibration | undefined;
        return calibration ? [calibration] : [];
      }),
      standStillReal: standStillSteps(config),
      media: (first.finish?.meta.media as string[]) ?? [],
      resumedStages: resumed,
    });
  },
  claims: (metrics) => takeCoverClaims(metrics),
  drawFigures,
};

/** The function the stage workers call (see WorldModelsTask.moduleUrl). */
export const runStage = worldModelsStageRunner(takeCover);

const DREAM_NOTE = 'It is possible to train the model inside the "dream" and transfer the ' +
  "policy to the environment. To be able to that it's necessary to carefully control the " +
  "temperature when sampling to avoid overfitting to the world model.";

const paperRow = (tau: number) => TAKE_COVER_PAPER.table.find((r) => r.tau === tau);

/** Spearman's rank correlation of two equally long lists (average ranks for ties). */
export function spearman(a: readonly number[], b: readonly number[]): number {
  const ranks = (values: readonly number[]) => {
    const order = values.map((v, i) => [v, i] as const).sort((x, y) => x[0] - y[0]);
    const out = new Array<number>(values.length);
    for (let i = 0; i < order.length;) {
      let j = i;
      while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
      for (let k = i; k <= j; k++) out[order[k][1]] = (i + j) / 2;
      i = j + 1;
    }
    return out;
  };
  const ra = ranks(a), rb = ranks(b);
  const ma = mean(ra), mb = mean(rb);
  let num = 0, da = 0, db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i] - ma) * (rb[i] - mb);
    da += (ra[i] - ma) ** 2;
    db += (rb[i] - mb) ** 2;
  }
  return da && db ? num / Math.sqrt(da * db) : 0;
}

/** The claims of Table 2, each with the rule that decides it. */
export function takeCoverClaims(metrics: TakeCoverMetrics): Claim[] {
  const claims: Claim[] = [];
  const rows = metrics.temperatures.filter((r) => r.real.length > 0);
  if (rows.length === 0) return claims;
  const lowest = rows.reduce((a, b) => (b.tau < a.tau ? b : a));
  const best = rows.reduce((a, b) => (mean(b.real) > mean(a.real) ? b : a));
  const describe = (r: TemperatureResult) =>
    `tau ${r.tau}: dream ${formatMeanStd(r.dream, 0)}, real ${formatMeanStd(r.real, 0)}`;
  const paperText = (tau: number) => {
    const row = paperRow(tau);
    return row
      ? `tau ${tau}: dream ${row.dream[0]} ± ${row.dream[1]}, real ${row.real[0]} ± ${row.real[1]}`
      : `tau ${tau}: not in Table 2`;
  };
  if (rows.length >= 2) {
    // The best temperature beats the lowest for real by more than the standard error of the
    // difference: a tie in noise does not count as transferring better.
    const standardError = Math.sqrt(
      (std(best.real) ** 2 + std(lowest.real) ** 2) / Math.max(best.real.length, 1),
    );
    const bestTransfersBetter = mean(best.real) - mean(lowest.real) > standardError;
    claims.push({
      id: "low-temperature-dream-is-exploited",
      quote: DREAM_NOTE,
      paper: paperText(lowest.tau),
      ours: describe(lowest),
      // High in the dream, the real score well below the dream's and below the best tau's.
      holds: mean(lowest.dream) > 1.5 * mean(lowest.real) && bestTransfersBetter,
    });
    claims.push({
      id: "temperature-near-1.15-transfers-best",
      quote: DREAM_NOTE,
      paper: "the best real score at tau 1.15: 1092 ± 556",
      ours: `the best real score at tau ${best.tau}: ${
        formatMeanStd(best.real, 0)
      }; at tau ${lowest.tau}: ${formatMeanStd(lowest.real, 0)}`,
      holds: Math.abs(best.tau - 1.15) <= 0.15 + 1e-9 && bestTransfersBetter,
    });
  }
  const random = metrics.randomPolicy;
  claims.push({
    id: "dream-policy-beats-random",
    quote: DREAM_NOTE,
    paper: `best real ${1092} ± 556 against random ${TAKE_COVER_PAPER.random[0]} ± ${
      TAKE_COVER_PAPER.random[1]
    }; solved is ${TAKE_COVER_PAPER.solved} over 100 episodes`,
    ours: `best real ${formatMeanStd(best.real, 0)} (tau ${best.tau}) against random ${
      formatMeanStd(random, 0)
    }`,
    // A wide margin: at least one and a half times the random policy's mean, and more than its
    // spread above it.
    holds: mean(best.real) >= 1.5 * mean(random) && mean(best.real) - mean(random) > std(random),
  });
  if (rows.length >= 3) {
    const dreams = rows.map((r) => mean(r.dream));
    const rho = spearman(rows.map((r) => r.tau), dreams);
    const highest = rows.reduce((a, b) => (b.tau > a.tau ? b : a));
    const gap = Math.sqrt(
      (std(highest.dream) ** 2 + std(lowest.dream) ** 2) / Math.max(lowest.dream.length, 1),
    );
    const still = rows.map((r) => `tau ${r.tau}: ${mean(r.standStillDream ?? []).toFixed(0)}`);
    claims.push({
      id: "dream-scores-fall-with-temperature",
      quote: DREAM_NOTE,
      paper: `virtual scores fall as tau rises: ${
        TAKE_COVER_PAPER.table.map((r) => `${r.dream[0]} at tau ${r.tau}`).join(", ")
      } (Table 2)`,
      ours: `dream scores ${
        rows.map((r) => `${mean(r.dream).toFixed(0)} at tau ${r.tau}`).join(", ")
      } (Spearman ${rho.toFixed(2)}); a policy that stands still survives ${still.join(", ")} ` +
        `dream steps, ${formatMeanStd(metrics.standStillReal ?? [], 0)} real ones`,
      // Falling with tau in rank, and the hottest dream below the coldest by more than the SE.
      holds: rho <= -0.7 && mean(lowest.dream) - mean(highest.dream) > gap,
    });
  }
  const calibrations = (metrics.deathCalibration ?? []).filter((c) => c.deaths > 0);
  if (calibrations.length) {
    const atDeath = mean(calibrations.map((c) => c.meanAtDeath));
    const elsewhere = mean(calibrations.map((c) => c.meanElsewhere));
    const caught = mean(calibrations.map((c) => c.deathsCaught));
    claims.push({
      id: "m-predicts-death",
      quote: "the RNN model ... also predicts whether the agent dies in the next frame",
      paper: "M predicts the end of the episode, so a dream can end (no number)",
      ours:
        `on held-out real episodes, M's death probability averages ${
          atDeath.toFixed(3)
        } at the steps where the agent died against ${elsewhere.toFixed(4)} elsewhere; it passes ` +
        `the dream's threshold at ${
          (100 * caught).toFixed(0)
        }% of deaths (${calibrations.length} seed(s))`,
      // Discriminates deaths from other steps by an order of magnitude.
      holds: atDeath >= 10 * elsewhere,
    });
  }
  claims.push({
    id: "take-cover-solved",
    quote: DREAM_NOTE,
    paper: "solved (over 750 steps on average over 100 episodes) at tau 1.15 and 1.3",
    ours: `best real ${formatMeanStd(best.real, 0)} over ${best.real.length} episodes`,
    holds: mean(best.real) >= TAKE_COVER_PAPER.solved,
  });
  return claims;
}

async function drawFigures(
  result: ExperimentResult<TakeCoverMetrics>,
  resDir: string,
): Promise<string[]> {
  const m = result.metrics;
  const written: string[] = [];
  const rows = m.temperatures.filter((r) => r.real.length > 0);
  const taus = rows.map((r) => r.tau);
  const paperRows = TAKE_COVER_PAPER.table.filter((r) => taus.includes(r.tau));
  written.push(
    await saveFigure(
      lineChart({
        title: "TakeCover: C evolved in M's dream, scored in the dream and for real",
        subtitle: "Mean ± std steps survived per temperature tau; dashed: random policy",
        series: [
          {
            name: "ours, dream",
            x: taus,
            y: rows.map((r) => mean(r.dream)),
            yStd: rows.map((r) => std(r.dream)),
          },
          {
            name: "ours, real",
            x: taus,
            y: rows.map((r) => mean(r.real)),
            yStd: rows.map((r) => std(r.real)),
          },
          {
            name: "paper, dream",
            x: paperRows.map((r) => r.tau),
            y: paperRows.map((r) => r.dream[0]),
          },
          {
            name: "paper, real",
            x: paperRows.map((r) => r.tau),
            y: paperRows.map((r) => r.real[0]),
          },
        ],
        xLabel: "Temperature tau",
        yLabel: "Steps survived",
        marks: [Plot.ruleY([mean(m.randomPolicy)], { strokeDasharray: "4,4", stroke: "#888" })],
      }),
      `${resDir}/world-models-takecover-temperature.svg`,
    ),
  );
  written.push(
    await saveFigure(
      tableFigure(
        rows.map((r) => {
          const paper = paperRow(r.tau);
          return {
            tau: r.tau,
            "dream (ours)": formatMeanStd(r.dream, 0),
            "real (ours)": formatMeanStd(r.real, 0),
            "dream (paper)": paper ? `${paper.dream[0]} ± ${paper.dream[1]}` : "-",
            "real (paper)": paper ? `${paper.real[0]} ± ${paper.real[1]}` : "-",
          };
        }),
        { title: `Table 2 beside ours (${result.budget} budget)` },
      ),
      `${resDir}/world-models-takecover-table.svg`,
    ),
  );
  const curves = rows.filter((r) => r.curve.length > 0);
  if (curves.length) {
    written.push(
      await saveFigure(
        lineChart({
          title: "CMA-ES inside the dream: fitness per generation",
          subtitle: "Population mean of dream steps survived, one curve per temperature",
          series: curves.map((r) => ({
            name: `tau ${r.tau}`,
            x: r.curve.map((g) => g.generation),
            y: r.curve.map((g) => g.mean),
          })),
          xLabel: "Generation",
          yLabel: "Dream steps survived",
        }),
        `${resDir}/world-models-takecover-fitness.svg`,
      ),
    );
  }
  const calibrated = (m.deathCalibration ?? []).filter((c) => c.steps > 0);
  if (calibrated.length) {
    const pooled = calibrated[0].bins.map((bin, i) => {
      const steps = calibrated.reduce((n, c) => n + c.bins[i].steps, 0);
      const weighted = (key: "meanPredicted" | "observed") =>
        steps
          ? calibrated.reduce((sum, c) => sum + (c.bins[i][key] || 0) * c.bins[i].steps, 0) /
            steps
          : Number.NaN;
      return {
        ...bin,
        steps,
        meanPredicted: weighted("meanPredicted"),
        observed: weighted("observed"),
      };
    }).filter((bin) => bin.steps > 0);
    written.push(
      await saveFigure(
        lineChart({
          title: "Does M know when the agent dies?",
          subtitle: "Held-out real episodes: predicted death probability per step, binned, " +
            "against how often the episode ended there; labels: steps per bin",
          caption: "Dashed: a perfectly calibrated M.",
          series: [{
            name: "M",
            x: pooled.map((b) => b.meanPredicted),
            y: pooled.map((b) => b.observed),
          }],
          xLabel: "Predicted probability of death at the step (log scale)",
          yLabel: "Observed frequency",
          xType: "log",
          marks: [
            Plot.line([[1e-4, 1e-4], [1, 1]], { strokeDasharray: "4,4", stroke: "#888" }),
            Plot.text(pooled, {
              x: "meanPredicted",
              y: "observed",
              text: (b: { steps: number }) => `${b.steps}`,
              dy: -10,
              fontSize: 9,
            }),
          ],
        }),
        `${resDir}/world-models-takecover-death-calibration.svg`,
      ),
    );
  }
  if (rows.some((r) => r.standStillDream?.length)) {
    written.push(
      await saveFigure(
        lineChart({
          title: "How hard is the dream? One fixed policy at every temperature",
          subtitle: "Steps a policy that stands still survives in M's dream per tau, mean ± std; " +
            "dashed: the same policy in the real game",
          series: [{
            name: "stand still, dream",
            x: taus,
            y: rows.map((r) => mean(r.standStillDream)),
            yStd: rows.map((r) => std(r.standStillDream)),
          }],
          xLabel: "Temperature tau",
          yLabel: "Steps survived",
          marks: [Plot.ruleY([mean(m.standStillReal)], { strokeDasharray: "4,4", stroke: "#888" })],
        }),
        `${resDir}/world-models-takecover-dream-difficulty.svg`,
      ),
    );
  }
  const tracked = rows.filter((r) => r.heldOut?.length);
  if (tracked.length) {
    written.push(
      await saveFigure(
        lineChart({
          title: "Dream-trained C in the real game as evolution goes",
          subtitle: "The CMA-ES mean's real steps survived every few generations, one curve per " +
            "temperature; dashed: solved (750)",
          series: tracked.map((r) => ({
            name: `tau ${r.tau}`,
            x: r.heldOut.map((h) => h.generation),
            y: r.heldOut.map((h) => mean(h.returns)),
          })),
          xLabel: "Generation",
          yLabel: "Real steps survived",
          marks: [Plot.ruleY([TAKE_COVER_PAPER.solved], { strokeDasharray: "4,4" })],
        }),
        `${resDir}/world-models-takecover-held-out.svg`,
      ),
    );
  }
  const paper = m.parameterCounts.paper;
  const ours = m.parameterCounts.ours;
  written.push(
    await saveFigure(
      tableFigure([
        { model: "V (ConvVAE)", paper: paper.vision, ours: ours.vision },
        { model: "M (MDN-RNN with done head)", paper: paper.memory, ours: ours.memory },
        { model: "C (linear on z, c, h)", paper: paper.controller, ours: ours.controller },
      ], { title: `Parameters, TakeCover (${result.budget} budget)` }),
      `${resDir}/world-models-takecover-parameters.svg`,
    ),
  );
  written.push(...await copyMedia(m.media, resDir));
  return written;
}

export const worldModelsTakeCover = worldModelsExperiment(takeCover);
