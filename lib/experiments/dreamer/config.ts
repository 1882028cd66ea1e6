/**
 * The Dreamer experiments' configuration (Hafner et al. 2020, "Dream to Control", Section 5 and
 * Appendix A; Hafner et al. 2021, "Mastering Atari with Discrete World Models", Appendix C and the
 * reference implementation's settings): the config schemas, the budget parts they share, the
 * papers' numbers we compare with, and the metrics the runs record.
 */
import { z } from "zod";
import { MINATAR_IDS, type MinAtarEnvId } from "../../envs/registry.ts";
import { dqnConfigSchema } from "../../agents/dqn.ts";
import type { DreamerConfig } from "../../agents/dreamer.ts";
import type { ModelSettings } from "../../agents/planet.ts";

const latentSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("gaussian") }).strict(),
  z.object({
    kind: z.literal("categorical"),
    variables: z.number().int().min(1).max(256),
    classes: z.number().int().min(2).max(256),
  }).strict(),
]);

export const modelSchema = z.object({
  deterministicSize: z.number().int().min(1).max(2048),
  stochasticSize: z.number().int().min(1).max(4096),
  hiddenSize: z.number().int().min(1).max(2048),
  embedSize: z.number().int().min(1).max(2048),
  convDepth: z.number().int().min(1).max(64),
  minStd: z.number().gt(0).max(1),
  freeNats: z.number().min(0).max(100),
  observationStd: z.number().gt(0).max(100),
  latent: latentSchema.optional(),
  klBalance: z.number().min(0).max(1).optional(),
  klScale: z.number().gt(0).max(100).optional(),
  continuationScale: z.number().gt(0).max(100).optional(),
}).strict().refine(
  (m) =>
    m.latent?.kind !== "categorical" || m.latent.variables * m.latent.classes === m.stochasticSize,
  {
    message: "stochasticSize must equal variables x classes for categorical latents",
    path: ["stochasticSize"],
  },
);

const behaviorSchema = z.object({
  horizon: z.number().int().min(1).max(100),
  discount: z.number().gt(0).max(1),
  lambda: z.number().min(0).max(1),
  hiddenSize: z.number().int().min(1).max(2048),
  hiddenLayers: z.number().int().min(0).max(8),
  actorLearningRate: z.number().gt(0).max(1),
  criticLearningRate: z.number().gt(0).max(1),
  adamEpsilon: z.number().gt(0).max(1),
  gradClipNorm: z.number().gt(0),
  entropyScale: z.number().min(0).max(10),
  reinforceMix: z.number().min(0).max(1),
  slowCriticUpdateEvery: z.number().int().min(1),
  initialStd: z.number().gt(0).max(100),
  minStd: z.number().gt(0).max(10),
  meanScale: z.number().gt(0).max(100),
}).strict();

/** Dreamer's settings less what the experiment fixes (action repeat, environment steps). */
export const dreamerAgentSchema = z.object({
  seedEpisodes: z.number().int().min(1).max(1000),
  trainEvery: z.number().int().min(1).max(100_000),
  updatesPerTrain: z.number().int().min(1).max(10_000),
  pretrainUpdates: z.number().int().min(0).max(100_000),
  batchSize: z.number().int().min(1).max(1000),
  chunkLength: z.number().int().min(2).max(1000),
  modelLearningRate: z.number().gt(0).max(1),
  modelAdamEpsilon: z.number().gt(0).max(1),
  modelGradClipNorm: z.number().gt(0),
  explorationNoise: z.number().min(0).max(2),
  model: modelSchema,
  behavior: behaviorSchema,
  openLoop: z.object({
    context: z.number().int().min(1).max(1000),
    horizon: z.number().int().min(1).max(1000),
    windows: z.number().int().min(1).max(1000),
  }).strict().nullable(),
}).strict();

export type DreamerAgentSettings = z.infer<typeof dreamerAgentSchema>;

/** The agent's config for a run of `environmentSteps` steps with action repeat `actionRepeat`. */
export function dreamerAgentConfig(
  settings: DreamerAgentSettings,
  actionRepeat: number,
  environmentSteps: number,
): DreamerConfig {
  return { ...settings, model: settings.model as ModelSettings, actionRepeat, environmentSteps };
}

const plannerSchema = z.object({
  planningHorizon: z.number().int().min(1).max(100),
  candidates: z.number().int().min(2).max(10_000),
  elites: z.number().int().min(1).max(10_000),
  iterations: z.number().int().min(1).max(100),
}).strict().refine((p) => p.elites <= p.candidates, {
  message: "elites must not exceed candidates",
  path: ["elites"],
});

export const dreamerSwingupConfig = z.object({
  seeds: z.array(z.number().int().nonnegative()).min(1),
  /** Environment steps per episode (the task's 1000, fewer for the quick budget). */
  episodeSteps: z.number().int().min(10).max(100_000),
  /** R, shared by Dreamer and PlaNet (PlaNet's 8 for the swing-up; the Dreamer paper used 2). */
  actionRepeat: z.number().int().min(1).max(100),
  /** Episodes of Dreamer and of PlaNet, seed episodes included: the same environment steps. */
  episodes: z.number().int().min(2).max(100_000),
  /** The return whose first crossing measures data efficiency (fixed before any run). */
  returnThreshold: z.number(),
  dreamer: dreamerAgentSchema,
  /** PlaNet with the same RSSM (`dreamer.model`) and action repeat. */
  planet: z.object({
    seedEpisodes: z.number().int().min(1).max(1000),
    updatesPerEpisode: z.number().int().min(1).max(10_000),
    batchSize: z.number().int().min(1).max(1000),
    chunkLength: z.number().int().min(2).max(1000),
    learningRate: z.number().gt(0).max(1),
    adamEpsilon: z.number().gt(0).max(1),
    gradClipNorm: z.number().gt(0),
    explorationNoise: z.number().min(0).max(2),
    planner: plannerSchema,
  }).strict(),
  sac: z.object({
    hiddenSize: z.number().int().min(1).max(1024),
    batchSize: z.number().int().min(1).max(4096),
    randomSteps: z.number().int().min(0),
    updateAfter: z.number().int().min(0),
    /** SAC runs this many times Dreamer's environment steps; curves compare at equal steps. */
    stepsMultiplier: z.number().int().min(1).max(1000),
  }).strict(),
  /** Test episodes per seed without exploration noise, the same start states for both agents. */
  testEpisodes: z.number().int().min(1).max(100),
  /** Decisions timed for the action-selection cost of actor and planner. */
  timingDecisions: z.number().int().min(1).max(10_000),
}).strict();

export type DreamerSwingupConfig = z.infer<typeof dreamerSwingupConfig>;

const gameSchema = z.enum(MINATAR_IDS as [MinAtarEnvId, ...MinAtarEnvId[]]);

export const dreamerMinatarConfig = z.object({
  seeds: z.array(z.number().int().nonnegative()).min(1),
  games: z.array(gameSchema).min(1),
  /** Environment steps of every run, DreamerV2's and DQN's alike. */
  environmentSteps: z.number().int().min(10).max(100_000_000),
  /** MinAtar has no time limit but Freeway's clock; episodes are cut here. */
  maxEpisodeSteps: z.number().int().min(10).max(100_000),
  dreamer: dreamerAgentSchema,
  /** The ablations (Gaussian latents; no KL balancing) on these games; null: none. */
  ablations: z.object({
    games: z.array(gameSchema).min(1),
    /** Dimensions of the Gaussian latent that replaces the categorical one. */
    gaussianStochasticSize: z.number().int().min(1).max(1024),
  }).strict().nullable(),
  dqn: dqnConfigSchema,
  /** Greedy evaluation episodes per run once training ends (each capped at the time limit). */
  evaluationEpisodes: z.number().int().min(1).max(1000),
  /** Points of the binned learning curves. */
  curvePoints: z.number().int().min(2).max(1000),
}).strict();

export type DreamerMinatarConfig = z.infer<typeof dreamerMinatarConfig>;

// ---------------------------------------------------------------------------------------------
// Budget parts

type Behavior = DreamerAgentSettings["behavior"];

/** Dreamer v1's actor and critic (Hafner et al. 2020, Appendix A; slow critic from v2). */
export const DREAMER_V1_BEHAVIOR: Behavior = {
  horizon: 15,
  discount: 0.99,
  lambda: 0.95,
  hiddenSize: 400,
  hiddenLayers: 3,
  actorLearningRate: 8e-5,
  criticLearningRate: 8e-5,
  adamEpsilon: 1e-5,
  gradClipNorm: 100,
  entropyScale: 1e-4,
  reinforceMix: 0,
  slowCriticUpdateEvery: 100,
  initialStd: 5,
  minStd: 1e-4,
  meanScale: 5,
};

/**
 * DreamerV2's actor and critic on Atari (the reference implementation's atari settings: REINFORCE
 * alone, entropy 1e-3, learning rates 4e-5 and 1e-4, 4 layers of 400); the issue's gamma 0.99
 * (the Atari settings use 0.999 for episodes of up to 27,000 steps).
 */
export const DREAMER_V2_BEHAVIOR: Behavior = {
  ...DREAMER_V1_BEHAVIOR,
  hiddenLayers: 4,
  actorLearningRate: 4e-5,
  criticLearningRate: 1e-4,
  entropyScale: 1e-3,
  reinforceMix: 1,
};

/** DreamerV2's world model on Atari: 32 x 32 categorical latents, KL balancing 0.8, beta 0.1. */
export const DREAMER_V2_MODEL: DreamerAgentSettings["model"] = {
  deterministicSize: 600,
  stochasticSize: 32 * 32,
  hiddenSize: 600,
  embedSize: 600,
  convDepth: 48,
  minStd: 0.1,
  freeNats: 0,
  observationStd: 1,
  latent: { kind: "categorical", variables: 32, classes: 32 },
  klBalance: 0.8,
  klScale: 0.1,
  continuationScale: 5,
};

// ---------------------------------------------------------------------------------------------
// The papers' numbers

/**
 * What the papers report for the swing-up. PlaNet, D4PG and A3C: PlaNet's Table 1 (the same
 * numbers are the baselines file of the DreamerV2 repository). Dreamer reports the swing-up only as
 * a learning curve (its appendix) and the 20-task average in Figure 6; the per-task numbers after
 * 100k and 500k steps below are those Laskin et al. (2020, CURL, Table 1) tabulated for Dreamer.
 */
export const SWINGUP_PUBLISHED = {
  planet: 821,
  planetSteps: 1_000_000,
  d4pg: 862,
  a3c: 558,
  modelFreeSteps: 100_000_000,
  dreamerAt100k: 326,
  dreamerAt500k: 762,
  /** Figure 6 of the Dreamer paper: the average over its 20 tasks. */
  suiteAverage: { dreamer: 823, dreamerSteps: 5_000_000, planet: 332, d4pg: 786 },
} as const;

/**
 * Dreamer v1's settings (Appendix A and its code): 100 updates of 50 x 50 start states, horizon 15,
 * per 1,000 environment steps, action repeat 2: the imagined transitions per real step the notes'
 * "10000 times more data" can be checked against.
 */
export const DREAMER_PAPER_IMAGINATION = {
  updatesPer1000Steps: 100,
  startStates: 50 * 50,
  horizon: 15,
  actionRepeat: 2,
  perEnvStep: (100 * 50 * 50 * 15) / 1000,
} as const;

/**
 * DreamerV2's ablations on Atari at 200M frames (Table 2 of the paper, clipped record-normalised
 * mean over 55 games), and its Section 4: categorical latents beat Gaussian ones on 42 of 55 games.
 */
export const MINATAR_PUBLISHED = {
  clippedRecordMean: { dreamerV2: 0.25, noDiscreteLatents: 0.19, noKlBalancing: 0.16 },
  categoricalWinsOutOf55: 42,
  /** Table 1, gamer-normalised median at 200M frames. */
  gamerMedian: { dreamerV2: 2.15, dqn: 0.65 },
} as const;

// ---------------------------------------------------------------------------------------------
// Metrics

export interface Curve {
  envSteps: number[];
  mean: number[];
  std: number[];
}

/** The swing-up experiment's measurements. */
export interface DreamerSwingupMetrics {
  returnThreshold: number;
  episodeSteps: number;
  actionRepeat: number;
  /** Return of every training episode against environment steps, per agent. */
  dreamer: Curve & { perSeed: number[][] };
  planet: Curve & { perSeed: number[][] };
  sac: Curve & { perSeed: number[][] };
  /** SAC's last episode return after its whole (longer) run, and that run's steps. */
  sacLongRun: { envSteps: number; returns: number[] };
  /** Noise-free test returns after training, per seed (mean of its test episodes). */
  test: { dreamer: number[]; planet: number[] };
  /** Environment steps each seed first needed to reach the threshold. */
  stepsToThreshold: {
    dreamer: (number | null)[];
    planet: (number | null)[];
    sac: (number | null)[];
    /** Mean SAC steps / mean Dreamer steps; null if a Dreamer seed never got there. */
    sacOverDreamer: number | null;
    /** Some SAC seed never got there (its whole run counted): a lower bound. */
    lowerBound: boolean;
  };
  /** Imagined transitions per real environment step, over training (mean over seeds). */
  imagination: {
    envSteps: number[];
    perEnvStep: number[];
    finalPerEnvStep: number;
    finalPerDecision: number;
    paperPerEnvStep: number;
  };
  /** Open-loop errors per episode of the actor, mean over seeds (see dreamer_cycle.ts). */
  cycle: {
    episodes: number[];
    fresh: number[];
    replay: number[];
    afterTraining: number[];
    freshReward: number[];
    replayReward: number[];
    afterTrainingReward: number[];
    context: number;
    horizon: number;
  } | null;
  /** Milliseconds to choose one action: filtering plus the actor, or plus a CEM plan. */
  timing: {
    actorMs: number;
    cemMs: number;
    filterMs: number;
    planner: { planningHorizon: number; candidates: number; iterations: number };
  };
  /** Seconds per update of Dreamer (model, actor and critic) and per PlaNet update. */
  secondsPerUpdate: { dreamer: number; planet: number };
  published: typeof SWINGUP_PUBLISHED;
}

/** One game's runs in the MinAtar experiment. */
export interface MinatarGameMetrics {
  game: MinAtarEnvId;
  /** Binned training-episode returns against environment steps. */
  dreamer: Curve & { final: number[] };
  dqn: Curve & { final: number[] };
  /** The reference code's random-policy return (lib/envs/minatar/shared.ts). */
  randomReturn: number;
}

export interface MinatarAblationMetrics {
  game: MinAtarEnvId;
  /** Final greedy returns per seed. */
  categorical: number[];
  gaussian: number[];
  noKlBalancing: number[];
  curves: { categorical: Curve; gaussian: Curve; noKlBalancing: Curve };
}

export interface DreamerMinatarMetrics {
  environmentSteps: number;
  games: MinatarGameMetrics[];
  ablations: MinatarAblationMetrics[];
  /** How close DreamerV2's codes are to a vector quantiser's: measured on replayed data. */
  codes: {
    /** Mean over variables of the posterior's largest class probability (a VQ code: 1). */
    maxProbability: number;
    /** Mean posterior entropy per variable, in nats (a VQ code: 0). */
    entropy: number;
    /** Classes per variable in use, as the perplexity of the batch's mean posterior. */
    classesUsed: number;
    classes: number;
  };
  /**
   * What the final categorical models foresee where their actors learn, per game, mean over
   * seeds (lib/agents/dreamer_foresight.ts): the probability of continuing given the real
   * terminal step filtered and imagined H steps ahead; the last H steps' rewards, real and
   * imagined along the real actions; the actor's imagined and real return and length over H
   * steps from the first frame.
   */
  foresight: {
    game: MinAtarEnvId;
    seeds: number;
    horizon: number;
    terminalFiltered: number;
    terminalImagined: number;
    lastRewardsReal: number;
    lastRewardsImagined: number;
    imaginedReturn: number;
    realReturn: number;
    imaginedLength: number;
    realLength: number;
  }[];
  imaginedPerEnvStep: number;
  secondsPerUpdate: number;
  published: typeof MINATAR_PUBLISHED;
}
