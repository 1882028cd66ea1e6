/**
 * The `es-vs-rl-sparse` experiment's configuration and metrics: which tasks, rewards, learners
 * and seeds; the environment steps every learner gets; the one policy network size they share;
 * and each learner's own settings.
 */
import { z } from "zod";
import { type RewardKind, REWARDS, type TaskName, TASKS } from "./tasks.ts";

export const METHODS = ["openai-es", "cma-es", "ppo", "sac"] as const;
export type Method = typeof METHODS[number];
/** The evolution strategies, set against the reinforcement learners. */
export const ES_METHODS: readonly Method[] = ["openai-es", "cma-es"];
export const RL_METHODS: readonly Method[] = ["ppo", "sac"];

const positive = z.number().int().positive();

export const esVsRlSchema = z.object({
  seeds: z.array(z.number().int().nonnegative()).min(1),
  tasks: z.array(z.enum(TASKS)).min(1),
  rewards: z.array(z.enum(REWARDS)).min(1),
  methods: z.array(z.enum(METHODS)).min(1),
  /** Decisions (calls to the task env's `step`) each learner may spend, per task and seed. */
  environmentSteps: positive,
  /** Physics steps per episode, at most the task's own limit. */
  episodeSteps: z.object({
    "mountain-car": positive.max(999),
    swingup: positive.max(1000),
    acrobot: positive.max(500),
  }).strict(),
  /** The policy network every learner uses: tanh (ES, PPO) or ReLU (SAC) hidden layers. */
  network: z.object({ hiddenSize: positive.max(1024), hiddenLayers: positive.max(4) }).strict(),
  openaiEs: z.object({
    populationSize: positive.refine((n) => n % 2 === 0, "must be even (mirrored pairs)"),
    episodesPerCandidate: positive,
    noiseStd: z.number().positive(),
    learningRate: z.number().positive(),
    weightDecay: z.number().nonnegative(),
  }).strict(),
  cmaEs: z.object({
    populationSize: positive.min(2),
    episodesPerCandidate: positive,
    initialSigma: z.number().positive(),
  }).strict(),
  ppo: z.object({
    rolloutSteps: positive,
    epochs: positive,
    minibatchSize: positive,
    learningRate: z.number().positive(),
    entropyCoefficient: z.number().nonnegative(),
  }).strict(),
  sac: z.object({
    batchSize: positive,
    randomSteps: z.number().int().nonnegative(),
    updateAfter: z.number().int().nonnegative(),
    learningRate: z.number().positive(),
  }).strict(),
  /** Episodes of the deterministic policy scored after training. */
  evaluationEpisodes: positive.max(1000),
}).strict();

export type EsVsRlConfig = z.infer<typeof esVsRlSchema>;

/** One learner on one task variant and seed. */
export interface RunResult {
  /** Mean goal score of the evaluation episodes, in [0, 1]. */
  score: number;
  /** Mean return of the evaluation episodes on the reward trained on. */
  evaluationReturn: number;
  /** Training progress: env steps and the return (ES: the population's mean fitness). */
  curve: { steps: number; return: number }[];
  environmentSteps: number;
  seconds: number;
}

export interface EsVsRlRow {
  task: TaskName;
  reward: RewardKind;
  method: Method;
  seed: number;
  result: RunResult;
}

export interface EsVsRlMetrics {
  environmentSteps: number;
  parameterCounts: Record<string, number>;
  runs: EsVsRlRow[];
}
