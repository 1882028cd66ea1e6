/**
 * The `imagination-based-planner` experiment's configuration and metrics: the spaceship task's
 * settings, the learned model's size and data, the planner's sizes and training, the imagination
 * budgets compared, and the manager's run free to choose.
 */
import { z } from "zod";
import { IMAGINATION_STRATEGIES } from "../../agents/imagination_planner_strategies.ts";

const count = (max: number) => z.number().int().min(1).max(max);
const range = z.tuple([z.number().positive(), z.number().positive()]);

export const imaginationPlannerSchema = z.object({
  seeds: z.array(z.number().int().nonnegative()).min(1),
  task: z.object({
    numPlanets: z.number().int().min(0).max(20),
    planetMass: range,
    planetDistance: range,
    shipMass: range,
    shipDistance: range,
    gravity: z.number().nonnegative(),
    softening: z.number().positive(),
    damping: z.number().nonnegative(),
    timeStep: z.number().positive(),
    driftSteps: count(10_000),
    fuelPrice: z.number().nonnegative(),
    fuelThreshold: z.number().nonnegative(),
    maxForce: z.number().positive(),
  }).strict(),
  model: z.object({
    transitions: count(10_000_000),
    hiddenSize: count(4096),
    hiddenLayers: count(8),
    updates: count(10_000_000),
    batchSize: count(65_536),
    learningRate: z.number().positive(),
  }).strict(),
  planner: z.object({
    controller: z.object({ hiddenSize: count(4096), memorySize: count(4096) }).strict(),
    manager: z.object({ hiddenSize: count(4096) }).strict(),
    actionNoise: z.number().nonnegative(),
    learningRate: z.number().positive(),
    managerLearningRate: z.number().positive(),
    entropyBonus: z.number().nonnegative(),
    gradClipNorm: z.number().positive(),
    batchSize: count(65_536),
    updates: count(10_000_000),
  }).strict(),
  /** Imagination steps before the real action, one planner per count (fixed, no manager). */
  imaginationSteps: z.array(z.number().int().min(0).max(100)).min(2),
  /** The strategy those fixed-count planners imagine with. */
  budgetStrategy: z.enum(IMAGINATION_STRATEGIES),
  /** The manager's run: at most `maxSteps` imagination steps, each costing `imaginationCost`. */
  manager: z.object({
    maxSteps: count(100),
    imaginationCost: z.number().nonnegative(),
  }).strict(),
  /** Held-out layouts each trained planner plays greedily. */
  evaluationEpisodes: count(1_000_000),
}).strict();

export type ImaginationPlannerExperimentConfig = z.infer<typeof imaginationPlannerSchema>;

export interface TrainingPoint {
  update: number;
  predictedLoss: number;
  steps: number;
}

/** One planner of one seed, scored on the held-out layouts. */
export interface PlannerScore {
  /** Mean real loss (distance to the target plus fuel) over the held-out layouts. */
  meanLoss: number;
  /** Mean imagination steps per decision. */
  meanSteps: number;
  /** The manager's imagination choices, where it had one, by the strategy they look like. */
  routes: { "1-step": number; "n-step": number; "tree": number };
  curve: TrainingPoint[];
  seconds: number;
}

export interface ModelStageResult {
  /** The model's weights by local parameter name, for the planner stages. */
  weights: Record<string, number[]>;
  trainCurve: number[];
  /** Squared error of the predicted ship state on held-out transitions. */
  heldOutError: number;
  seconds: number;
}

export interface ImaginationPlannerMetrics {
  imaginationSteps: number[];
  budgetStrategy: string;
  evaluationEpisodes: number;
  seeds: {
    seed: number;
    modelError: number;
    /** One entry per count of `imaginationSteps`, in order. */
    budgets: PlannerScore[];
    manager: PlannerScore;
  }[];
}
