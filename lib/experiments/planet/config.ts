/**
 * The PlaNet experiments' configuration (Hafner et al. 2019, "Learning Latent Dynamics for
 * Planning from Pixels", Section 5 and Appendix A): the config schema, the budget parts both tasks
 * share (the paper's model, learning and planner settings, and the smaller laptop ones), what a
 * task provides, and the metrics a run records.
 */
import { z } from "zod";
import type { ClassicControlEnv } from "../../envs/classic_env.ts";
import type { Renderable } from "../../envs/render.ts";

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
