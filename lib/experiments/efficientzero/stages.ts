/**
 * The stages of the EfficientZero experiment (Ye et al. 2021, Section 5.3 and Table 3): one per
 * agent, game and seed, all independent. The MuZero variants train with the MuZero agent loop at
 * an exact environment-step budget and are then evaluated greedily; DQN and DreamerV2 are the
 * Dreamer experiment's own MinAtar stages (lib/experiments/dreamer/stages.ts), run at the same
 * steps. Each stage keeps its result in `dataDir/<name>.json` with a hash of its inputs (the
 * MuZero experiments' `stageFile`), so a rerun reads it back.
 */
import { Rng } from "../../rng.ts";
import { searchConfigOf, trainMuZero } from "../../agents/muzero.ts";
import { DiscreteEnvEnvironment, SearchPlayer, selfPlay } from "../../agents/muzero_play.ts";
import type { MuZeroNetwork } from "../../models/muzero.ts";
import type { MuZeroConfig } from "../../agents/muzero.ts";
import type { MinAtarEnvId } from "../../envs/registry.ts";
import type { Progress } from "../types.ts";
import { type StageArgs, stageFile } from "../muzero/stages.ts";
import { minatarEnv, type MinatarRun, runMinatarStage } from "../dreamer/stages.ts";
import type { DreamerMinatarConfig } from "../dreamer/config.ts";
import {
  type EfficientZeroMinatarConfig,
  type EfficientZeroRun,
  type EfficientZeroVariant,
  variantAgent,
} from "./config.ts";

export type EfficientZeroStage =
  | { kind: "agent"; variant: EfficientZeroVariant; game: MinAtarEnvId; seed: number }
  | { kind: "dqn" | "dreamer"; game: MinAtarEnvId; seed: number };

export type EfficientZeroStageArgs = StageArgs<EfficientZeroMinatarConfig, EfficientZeroStage>;

export const shortName = (game: string) =>
  game.replace("MinAtar/", "").replace("-v0", "").toLowerCase();

export function stageLabel(stage: EfficientZeroStage): string {
  const who = stage.kind === "agent" ? stage.variant : stage.kind;
  return `${who} ${shortName(stage.game)} seed ${stage.seed}`;
}

/** Every stage, the costliest first (EfficientZero's variants, then DreamerV2, then DQN). */
export function efficientZeroStages(config: EfficientZeroMinatarConfig): EfficientZeroStage[] {
  const stages: EfficientZeroStage[] = [];
  for (const variant of config.variants) {
    for (const game of config.games) {
      for (const seed of config.seeds) stages.push({ kind: "agent", variant, game, seed });
    }
  }
  for (const kind of config.dreamer ? ["dreamer", "dqn"] as const : ["dqn"] as const) {
    for (const game of config.games) {
      for (const seed of config.seeds) stages.push({ kind, game, seed });
    }
  }
  return stages;
}

/** The Dreamer experiment's MinAtar config for our baselines: same games, steps and limits. */
export function dreamerBaselineConfig(config: EfficientZeroMinatarConfig): DreamerMinatarConfig {
  return {
    seeds: config.seeds,
    games: config.games,
    environmentSteps: config.environmentSteps,
    maxEpisodeSteps: config.maxEpisodeSteps,
    // The stage never reads it when DreamerV2 is not run; the schema wants an agent.
    dreamer: config.dreamer!,
    ablations: null,
    dqn: config.dqn,
    evaluationEpisodes: config.evaluation.episodes,
    curvePoints: config.curvePoints,
  };
}

/** A MinAtar game as MuZero's search plays it: every action legal, episodes cut at the limit. */
export function minatarEnvironment(
  game: MinAtarEnvId,
  config: EfficientZeroMinatarConfig,
): DiscreteEnvEnvironment {
  const dreamerShaped = { maxEpisodeSteps: config.maxEpisodeSteps } as DreamerMinatarConfig;
  return new DiscreteEnvEnvironment(() => minatarEnv(game, dreamerShaped));
}

/** The environment seeds of a run's greedy evaluation episodes (the Dreamer stages' rule). */
const evaluationSeed = (seed: number, episode: number) => 5_000_000 + seed * 1000 + episode;

/** Returns of greedy episodes with the search (no noise, the most visited action). */
export function evaluateAgent(
  network: MuZeroNetwork,
  agent: MuZeroConfig,
  environment: DiscreteEnvEnvironment,
  simulations: number,
  episodes: number,
  seed: number,
): number[] {
  const player = new SearchPlayer(network, searchConfigOf(agent, environment, simulations));
  const records = selfPlay(environment, player, {
    episodes,
    parallel: episodes,
    seedOf: (episode) => evaluationSeed(seed, episode),
    temperature: () => 0,
    addNoise: false,
    rng: new Rng(evaluationSeed(seed, 0)),
  });
  return records.map((record) => record.rewards.reduce((a, b) => a + b, 0));
}

export async function runEfficientZeroStage(
  args: EfficientZeroStageArgs,
  report: (progress: Progress) => void,
  signal?: AbortSignal,
): Promise<{ value: EfficientZeroRun; seconds: number }> {
  const { config, dataDir, stage } = args;
  if (stage.kind !== "agent") {
    const { value, seconds } = await runMinatarStage(
      {
        config: dreamerBaselineConfig(config),
        dataDir,
        stage: stage.kind === "dqn"
          ? { kind: "dqn", game: stage.game, seed: stage.seed }
          : { kind: "dreamer", game: stage.game, seed: stage.seed, variant: "categorical" },
      },
      report,
      signal,
    );
    const run = value as MinatarRun;
    return {
      value: { envSteps: run.envSteps, returns: run.returns, evaluation: run.evaluation },
      seconds,
    };
  }
  const { variant, game, seed } = stage;
  const agent = variantAgent(config, variant);
  const name = `${variant}-${shortName(game)}-seed-${seed}`;
  const inputs = {
    agent,
    game,
    seed,
    maxEpisodeSteps: config.maxEpisodeSteps,
    evaluation: config.evaluation,
  };
  return await stageFile(dataDir, name, inputs, async () => {
    const environment = minatarEnvironment(game, config);
    const run = await trainMuZero(environment, agent, {
      seed,
      dataDir: `${dataDir}/${name}`,
      onProgress: report,
      signal,
      label: `${variant} ${shortName(game)} seed ${seed}`,
    });
    try {
      const evaluation = evaluateAgent(
        run.network,
        agent,
        environment,
        config.evaluation.simulations,
        config.evaluation.episodes,
        seed,
      );
      // Each finished training episode's return at the step it ended; the episodes the budget
      // cut are left out, as DQN's and DreamerV2's unfinished last episodes are.
      const curve = { envSteps: [] as number[], returns: [] as number[] };
      // Games a full buffer dropped still count for the steps.
      let steps = run.replay.stepsAdded - run.replay.numPositions;
      for (const { record } of run.replay.games()) {
        steps += record.length;
        if (!record.terminated && record.length < config.maxEpisodeSteps) continue;
        curve.envSteps.push(steps);
        curve.returns.push(record.rewards.reduce((a, b) => a + b, 0));
      }
      const last = run.curve.at(-1)!;
      const withLosses = run.curve.filter((r) => r.losses).at(-1);
      return {
        ...curve,
        evaluation,
        secondsPerStep: run.curve.reduce((sum, r) => sum + r.seconds, 0) / last.envSteps,
        updates: last.updates,
        finalLosses: withLosses?.losses as unknown as Record<string, number> | undefined,
      } satisfies EfficientZeroRun;
    } finally {
      run.network.dispose();
    }
  });
}
