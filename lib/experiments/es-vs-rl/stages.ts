/**
 * The stages of `es-vs-rl-sparse`: one learner on one task variant and seed, trained for the
 * configured environment steps and then scored by its deterministic policy. Every stage is
 * independent, so the stage pool runs them on all cores; each writes its result to a stage file
 * and a rerun reads it back.
 */
import type { Action, Env } from "../../envs/types.ts";
import { DiscreteFromBoxEnv } from "../../envs/reward_variants.ts";
import { evolvePolicy, mlpPolicy } from "../../agents/evolved_policy.ts";
import { PPO_PAPER_CONFIG, trainPpo } from "../../agents/ppo.ts";
import { SAC_LAPTOP_CONFIG, trainSac } from "../../agents/sac.ts";
import type { StageJob } from "../stage_pool.ts";
import { type StageArgs, stageFile } from "../muzero/stages.ts";
import type { Progress } from "../types.ts";
import type { EsVsRlConfig, Method, RunResult } from "./config.ts";
import {
  ACTION_REPEAT,
  type EpisodeSummary,
  goalScore,
  inGoalRegion,
  makeTaskEnv,
  type RewardKind,
  type TaskName,
} from "./tasks.ts";

export interface EsVsRlStage {
  task: TaskName;
  reward: RewardKind;
  method: Method;
  seed: number;
}
type Args = StageArgs<EsVsRlConfig, EsVsRlStage>;

/** Rough cost of a learner's environment step relative to an ES step, for the progress bar. */
export const STEP_COST: Record<Method, number> = {
  "openai-es": 1,
  "cma-es": 1,
  ppo: 3,
  sac: 40,
};

/** The task env a learner trains on: SAC drives discrete tasks through one continuous output. */
export function learnerEnv(config: EsVsRlConfig, stage: EsVsRlStage): Env {
  const env = makeTaskEnv(stage.task, stage.reward, config.episodeSteps[stage.task]);
  return stage.method === "sac" && env.actionSpec.kind === "discrete"
    ? new DiscreteFromBoxEnv(env)
    : env;
}

/** Scores a deterministic policy on seeded episodes: mean goal score and mean return. */
export function evaluatePolicy(
  env: Env,
  task: TaskName,
  act: (observation: Float32Array) => Action,
  episodes: number,
  seed: number,
  maxDecisions: number,
): { score: number; evaluationReturn: number } {
  let score = 0, total = 0;
  for (let episode = 0; episode < episodes; episode++) {
    let observation = env.reset(90_000 + seed * 1_000 + episode);
    const summary: EpisodeSummary = {
      decisions: 0,
      terminated: false,
      goalDecisions: 0,
      maxDecisions,
    };
    for (;;) {
      const result = env.step(act(observation));
      summary.decisions++;
      total += result.reward;
      observation = result.observation;
      if (inGoalRegion(task, observation)) summary.goalDecisions++;
      if (result.terminated || result.truncated) {
        summary.terminated = result.terminated;
        break;
      }
    }
    score += goalScore(task, summary);
  }
  return { score: score / episodes, evaluationReturn: total / episodes };
}

async function trainAndScore(
  config: EsVsRlConfig,
  stage: EsVsRlStage,
  report: (progress: Progress) => void,
): Promise<Omit<RunResult, "seconds">> {
  const env = learnerEnv(config, stage);
  const maxDecisions = Math.ceil(config.episodeSteps[stage.task] / ACTION_REPEAT[stage.task]);
  const steps = config.environmentSteps;
  const { hiddenSize, hiddenLayers } = config.network;
  const score = (act: (observation: Float32Array) => Action) =>
    evaluatePolicy(env, stage.task, act, config.evaluationEpisodes, stage.seed, maxDecisions);

  if (stage.method === "openai-es" || stage.method === "cma-es") {
    const settings = stage.method === "openai-es"
      ? { method: stage.method, hiddenSize, hiddenLayers, ...config.openaiEs }
      : {
        method: stage.method,
        hiddenSize,
        hiddenLayers,
        populationSize: config.cmaEs.populationSize,
        episodesPerCandidate: config.cmaEs.episodesPerCandidate,
        noiseStd: config.cmaEs.initialSigma,
        learningRate: 0,
        weightDecay: 0,
      };
    const run = await evolvePolicy(env, settings, {
      environmentSteps: steps,
      seed: stage.seed,
      onProgress: report,
    });
    const { act } = mlpPolicy(env, hiddenSize, hiddenLayers);
    return {
      ...score((observation) => act(run.parameters, observation)),
      curve: run.curve.map((point) => ({ steps: point.steps, return: point.meanFitness })),
      environmentSteps: run.environmentSteps,
    };
  }
  if (stage.method === "ppo") {
    const run = await trainPpo(env, {
      ...PPO_PAPER_CONFIG,
      hiddenSize,
      hiddenLayers,
      ...config.ppo,
    }, { environmentSteps: steps, seed: stage.seed, onProgress: report });
    try {
      return {
        ...score((observation) => run.agent.act(observation, { deterministic: true }).action),
        curve: run.episodes.steps.map((at, i) => ({ steps: at, return: run.episodes.returns[i] })),
        environmentSteps: steps,
      };
    } finally {
      run.agent.dispose();
    }
  }
  const run = await trainSac(env, {
    ...SAC_LAPTOP_CONFIG,
    hiddenSize,
    hiddenLayers,
    ...config.sac,
    replayCapacity: steps,
  }, {
    environmentSteps: steps,
    seed: stage.seed,
    evaluateEvery: steps,
    evaluationEpisodes: 1,
    onProgress: report,
  });
  try {
    return {
      ...score((observation) => run.agent.act(observation, { deterministic: true })),
      curve: run.episodes.steps.map((at, i) => ({ steps: at, return: run.episodes.returns[i] })),
      environmentSteps: steps,
    };
  } finally {
    run.agent.dispose();
  }
}

/** Runs one stage, or reads it back when it already finished. */
export async function runEsVsRlStage(
  args: Args,
  report: (progress: Progress) => void,
): Promise<{ value: RunResult; seconds: number }> {
  const { config, dataDir, stage } = args;
  const settings = stage.method === "openai-es"
    ? config.openaiEs
    : stage.method === "cma-es"
    ? config.cmaEs
    : stage.method === "ppo"
    ? config.ppo
    : config.sac;
  const inputs = {
    stage,
    environmentSteps: config.environmentSteps,
    episodeSteps: config.episodeSteps[stage.task],
    network: config.network,
    settings,
    evaluationEpisodes: config.evaluationEpisodes,
  };
  const name = `${stage.task}-${stage.reward}-${stage.method}-seed-${stage.seed}`;
  return await stageFile(dataDir, name, inputs, async () => {
    const started = performance.now();
    const result = await trainAndScore(config, stage, report);
    return { ...result, seconds: (performance.now() - started) / 1000 };
  });
}

/** For the stage pool's workers. */
export async function runStage(args: Args, report: (progress: Progress) => void): Promise<void> {
  await runEsVsRlStage(args, report);
}

export function esVsRlStages(config: EsVsRlConfig): EsVsRlStage[] {
  return config.tasks.flatMap((task) =>
    config.rewards.flatMap((reward) =>
      config.methods.flatMap((method) =>
        config.seeds.map((seed) => ({ task, reward, method, seed }))
      )
    )
  );
}

export function esVsRlStageJobs(config: EsVsRlConfig, dataDir: string): StageJob[] {
  // The costliest first, so the last jobs to finish are short ones and no core idles long.
  return esVsRlStages(config)
    .sort((a, b) => STEP_COST[b.method] - STEP_COST[a.method])
    .map((stage) => ({
      label: `${stage.method} on ${stage.task} (${stage.reward}), seed ${stage.seed}`,
      moduleUrl: import.meta.url,
      exportName: "runStage",
      args: { config, dataDir, stage } satisfies Args,
      weight: STEP_COST[stage.method],
    }));
}

/**
 * Parameters in the hidden layers of the policy network on each task: the same for every
 * learner (the output layer differs only as each learner's action distribution needs).
 */
export function hiddenParameterCounts(config: EsVsRlConfig): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const task of config.tasks) {
    const env = makeTaskEnv(task, "dense", config.episodeSteps[task]);
    const { shape } = mlpPolicy(env, config.network.hiddenSize, config.network.hiddenLayers);
    let count = 0, width = shape.inputSize;
    for (let i = 0; i < shape.hiddenLayers; i++) {
      count += width * shape.hiddenSize + shape.hiddenSize;
      width = shape.hiddenSize;
    }
    counts[task] = count;
  }
  return counts;
}
