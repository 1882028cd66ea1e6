/**
 * The stages of `imagination-based-planner`: per seed, first the learned model (random-force
 * transitions, regression, held-out error), then, each after its seed's model, one planner per
 * imagination budget (a fixed number of steps) and one whose manager is free to choose when and
 * from where to imagine; each planner is scored on the same held-out layouts.
 */
import { tf } from "../../tensor/mod.ts";
import { Rng } from "../../rng.ts";
import { spaceshipObservationSize, type SpaceshipSettings } from "../../envs/spaceship.ts";
import {
  fitSpaceshipModel,
  SpaceshipModel,
  spaceshipModelError,
  spaceshipTransitions,
} from "../../models/spaceship_model.ts";
import {
  evaluatePlanner,
  ImaginationPlanner,
  type PlannerMode,
  trainImaginationPlanner,
} from "../../agents/imagination_planner.ts";
import { chainGroups, type StageJob } from "../stage_pool.ts";
import { type StageArgs, stageFile } from "../muzero/stages.ts";
import type { Progress } from "../types.ts";
import type {
  ImaginationPlannerExperimentConfig,
  ModelStageResult,
  PlannerScore,
} from "./config.ts";

export type ImaginationPlannerStage =
  | { kind: "model"; seed: number }
  | { kind: "budget"; seed: number; steps: number }
  | { kind: "manager"; seed: number };
type Args = StageArgs<ImaginationPlannerExperimentConfig, ImaginationPlannerStage>;

/** Held-out layouts: seeds far from every training draw. */
export function evaluationSeeds(config: ImaginationPlannerExperimentConfig): number[] {
  return Array.from({ length: config.evaluationEpisodes }, (_, i) => 5_000_000 + i);
}

export function stageName(stage: ImaginationPlannerStage): string {
  switch (stage.kind) {
    case "model":
      return `model-seed-${stage.seed}`;
    case "budget":
      return `budget-${stage.steps}-seed-${stage.seed}`;
    case "manager":
      return `manager-seed-${stage.seed}`;
  }
}

function buildModel(config: ImaginationPlannerExperimentConfig, seed: number): SpaceshipModel {
  return new SpaceshipModel(
    config.task as SpaceshipSettings,
    { hiddenSize: config.model.hiddenSize, hiddenLayers: config.model.hiddenLayers },
    10_000 + seed,
  );
}

async function modelStage(
  config: ImaginationPlannerExperimentConfig,
  dataDir: string,
  seed: number,
  report: (progress: Progress) => void,
): Promise<{ value: ModelStageResult; seconds: number }> {
  return await stageFile(dataDir, stageName({ kind: "model", seed }), {
    task: config.task,
    model: config.model,
    seed,
  }, () => {
    const started = performance.now();
    const settings = config.task as SpaceshipSettings;
    const model = buildModel(config, seed);
    const data = spaceshipTransitions(settings, config.model.transitions, new Rng(20_000 + seed));
    const heldOut = spaceshipTransitions(settings, 1000, new Rng(30_000 + seed));
    report({ stage: `model, seed ${seed}`, done: 0, total: 1 });
    const trainCurve = fitSpaceshipModel(model, data, {
      updates: config.model.updates,
      batchSize: config.model.batchSize,
      learningRate: config.model.learningRate,
      rng: new Rng(40_000 + seed),
    });
    const weights: Record<string, number[]> = {};
    for (const [name, variable] of model.params.variables) {
      weights[name] = Array.from(variable.dataSync());
    }
    const value: ModelStageResult = {
      weights,
      trainCurve,
      heldOutError: spaceshipModelError(model, heldOut),
      seconds: (performance.now() - started) / 1000,
    };
    model.dispose();
    report({ stage: `model, seed ${seed}`, done: 1, total: 1 });
    return Promise.resolve(value);
  });
}

/** The seed's model, rebuilt from the weights its stage saved. */
function loadModel(
  config: ImaginationPlannerExperimentConfig,
  seed: number,
  saved: ModelStageResult,
): SpaceshipModel {
  const model = buildModel(config, seed);
  for (const [name, variable] of model.params.variables) {
    tf.tidy(() => variable.assign(tf.tensor(saved.weights[name], variable.shape)));
  }
  return model;
}

/** Runs one stage, or reads it back when it already finished. */
export async function runImaginationPlannerStage(
  args: Args,
  report: (progress: Progress) => void,
): Promise<{ value: unknown; seconds: number }> {
  const { config, dataDir, stage } = args;
  if (stage.kind === "model") return await modelStage(config, dataDir, stage.seed, report);
  const mode: PlannerMode = stage.kind === "budget"
    ? { kind: "fixed", strategy: config.budgetStrategy, steps: stage.steps }
    : { kind: "manager", ...config.manager };
  return await stageFile(dataDir, stageName(stage), {
    task: config.task,
    model: config.model,
    planner: config.planner,
    mode,
    evaluationEpisodes: config.evaluationEpisodes,
    seed: stage.seed,
  }, async () => {
    const { value: saved } = await modelStage(config, dataDir, stage.seed, report);
    const started = performance.now();
    const settings = config.task as SpaceshipSettings;
    const model = loadModel(config, stage.seed, saved);
    const planner = new ImaginationPlanner(
      settings,
      spaceshipObservationSize(settings),
      config.planner,
      mode,
      50_000 + stage.seed,
    );
    const label = stage.kind === "budget"
      ? `${stage.steps} imagination steps, seed ${stage.seed}`
      : `manager, seed ${stage.seed}`;
    const curve = trainImaginationPlanner(
      planner,
      model,
      new Rng(60_000 + stage.seed),
      report,
      label,
    );
    const evaluation = evaluatePlanner(planner, model, evaluationSeeds(config));
    const score: PlannerScore = {
      meanLoss: evaluation.losses.reduce((a, b) => a + b, 0) / evaluation.losses.length,
      meanSteps: evaluation.steps.reduce((a, b) => a + b, 0) / evaluation.steps.length,
      routes: evaluation.routes,
      curve,
      seconds: (performance.now() - started) / 1000,
    };
    planner.dispose();
    model.dispose();
    return score;
  });
}

/** For the stage pool's workers. */
export async function runStage(args: Args, report: (progress: Progress) => void): Promise<void> {
  await runImaginationPlannerStage(args, report);
}

/** Models first (one per seed), then every planner of every seed. */
export function imaginationPlannerStageGroups(
  config: ImaginationPlannerExperimentConfig,
): ImaginationPlannerStage[][] {
  return [
    config.seeds.map((seed) => ({ kind: "model" as const, seed })),
    config.seeds.flatMap((seed) => [
      ...config.imaginationSteps.map((steps) => ({ kind: "budget" as const, seed, steps })),
      { kind: "manager" as const, seed },
    ]),
  ];
}

function stageLabel(stage: ImaginationPlannerStage): string {
  switch (stage.kind) {
    case "model":
      return `model seed ${stage.seed}`;
    case "budget":
      return `${stage.steps} imagination steps seed ${stage.seed}`;
    case "manager":
      return `manager seed ${stage.seed}`;
  }
}

export function imaginationPlannerStageJobs(
  config: ImaginationPlannerExperimentConfig,
  dataDir: string,
): StageJob[] {
  return chainGroups(
    imaginationPlannerStageGroups(config).map((group) =>
      group.map((stage) => ({
        label: stageLabel(stage),
        moduleUrl: import.meta.url,
        exportName: "runStage",
        args: { config, dataDir, stage } satisfies Args,
        // Rough relative cost, for the progress's ETA: a planner's cost grows with its steps.
        weight: stage.kind === "model"
          ? 1
          : 1 + (stage.kind === "budget" ? stage.steps : config.manager.maxSteps),
      }))
    ),
  );
}
