/**
 * The stages of `vq-planning` (Ozair et al. 2021, Section 5.1): each a resumable file under the
 * run's data folder (lib/experiments/muzero/stages.ts `stageFile`), all independent, so the stage
 * pool runs them on every core. A `games` stage builds its seed's offline dataset against one
 * opponent (the same games for both models: same seed, same opponent), trains one model on it and
 * plays it; `frames` trains one bottleneck on MinAtar frames; `reference` plays the exact
 * expectimax player and the tactical player against both opponents.
 */
import { Rng } from "../../rng.ts";
import { TIC_TAC_TOE, type TicTacToeState } from "../../envs/tictactoe.ts";
import { tacticalMove } from "../../envs/tictactoe_tactics.ts";
import { mixedOpponent, OneSidedSolver, type Opponent } from "../../envs/one_sided_game.ts";
import { collectGames, noisyPolicy, OneSidedDataset } from "../../agents/one_sided_data.ts";
import {
  playOneSided,
  positionMover,
  searchMover,
  trainVqPlanningModel,
  type VqPlanningConfig,
} from "../../agents/vq_planning.ts";
import type { MatchRecord } from "../../agents/muzero_play.ts";
import { codeUsage } from "../../models/vq.ts";
import { tf } from "../../tensor/mod.ts";
import type { VqPlanningNetwork } from "../../models/vq_planning.ts";
import { chainGroups, type StageJob } from "../stage_pool.ts";
import { type StageArgs, stageFile } from "../muzero/stages.ts";
import type { Progress } from "../types.ts";
import { frameSize, measureBottleneck, randomFrames } from "./frames.ts";
import type {
  FrameCodes,
  ModelKind,
  ModelRun,
  OpponentKind,
  VqPlanningExperimentConfig,
} from "./config.ts";

export type VqPlanningStage =
  | { kind: "games"; opponent: OpponentKind; model: ModelKind; seed: number }
  | { kind: "frames"; bottleneck: "codebook" | "categorical"; seed: number }
  | { kind: "reference" };

type Args = StageArgs<VqPlanningExperimentConfig, VqPlanningStage>;

/** The opponent of each setting: the tactical player with or without random moves. */
export function opponentOf(
  config: VqPlanningExperimentConfig,
  kind: OpponentKind,
): Opponent<TicTacToeState> {
  const share = kind === "stochastic" ? config.opponentRandomShare : 0;
  return mixedOpponent(TIC_TAC_TOE, `tactical player, ${share * 100}% random`, tacticalMove, share);
}

/** The offline games of a seed against an opponent; the same for both models. */
export function datasetOf(
  config: VqPlanningExperimentConfig,
  kind: OpponentKind,
  seed: number,
): OneSidedDataset {
  const rng = new Rng(seed * 1_000 + (kind === "stochastic" ? 1 : 2));
  const behaviour = noisyPolicy(TIC_TAC_TOE, tacticalMove, config.data.behaviourRandomShare);
  const records = collectGames(
    TIC_TAC_TOE,
    opponentOf(config, kind),
    behaviour,
    config.data.games,
    rng,
    config.openingMoves,
  );
  return new OneSidedDataset(records, 18, TIC_TAC_TOE.numActions, config.agent.training.discount);
}

/** The agent settings of a model kind: the deterministic model has one code. */
export function agentOf(config: VqPlanningExperimentConfig, model: ModelKind): VqPlanningConfig {
  if (model === "vq") return config.agent;
  return { ...config.agent, model: { ...config.agent.model, numCodes: 1 } };
}

/** Evaluation games of one agent: the same openings and opponent draws for every agent. */
function evaluate(
  config: VqPlanningExperimentConfig,
  kind: OpponentKind,
  mover: Parameters<typeof playOneSided<TicTacToeState>>[0]["mover"],
  seed: number,
): MatchRecord {
  return playOneSided({
    game: TIC_TAC_TOE,
    opponent: opponentOf(config, kind),
    mover,
    games: config.evaluation.games,
    openingMoves: config.openingMoves,
    rng: new Rng(50_000 + seed),
  });
}

/** Codes the trained encoder gives the dataset's real steps, in one batch. */
function datasetCodes(network: VqPlanningNetwork, dataset: OneSidedDataset) {
  const O = dataset.observationSize;
  const steps = dataset.records.reduce((sum, r) => sum + r.actions.length, 0);
  const before = new Float32Array(steps * O);
  const after = new Float32Array(steps * O);
  const actions = new Int32Array(steps);
  let row = 0;
  for (const record of dataset.records) {
    for (let t = 0; t < record.actions.length; t++, row++) {
      before.set(record.observations.subarray(t * O, (t + 1) * O), row * O);
      after.set(record.observations.subarray((t + 1) * O, (t + 2) * O), row * O);
      actions[row] = record.actions[t];
    }
  }
  const codes = tf.tidy(() =>
    network.quantizer.quantize(
      network.encode(
        tf.tensor2d(before, [steps, O]),
        tf.tensor1d(actions, "int32"),
        tf.tensor2d(after, [steps, O]),
      ),
    ).codes.dataSync()
  );
  return codeUsage(codes, network.numCodes);
}

/** Runs one stage, or reads it back when it already finished. */
export async function runVqPlanningStage(
  args: Args,
  report: (progress: Progress) => void,
): Promise<{ value: unknown; seconds: number }> {
  const { config, dataDir, stage } = args;
  switch (stage.kind) {
    case "games": {
      const { opponent, model, seed } = stage;
      const inputs = {
        opponentRandomShare: config.opponentRandomShare,
        openingMoves: config.openingMoves,
        data: config.data,
        agent: agentOf(config, model),
        evaluation: config.evaluation,
        opponent,
        seed,
      };
      return await stageFile(dataDir, `${model}-${opponent}-seed-${seed}`, inputs, () => {
        const dataset = datasetOf(config, opponent, seed);
        const agent = agentOf(config, model);
        const started = performance.now();
        const { network, curve } = trainVqPlanningModel(dataset, agent, {
          seed,
          onProgress: report,
          label: `${model} model vs ${opponent} opponent, seed ${seed}`,
        });
        const trainingSeconds = (performance.now() - started) / 1000;
        const play = (simulations: number) =>
          evaluate(
            config,
            opponent,
            searchMover(network, { ...agent.search, numSimulations: simulations }, new Rng(seed)),
            seed,
          );
        const run: ModelRun = {
          searched: play(agent.search.numSimulations),
          prior: play(1),
          curve,
          codes: datasetCodes(network, dataset),
          trainingSeconds,
        };
        network.dispose();
        return Promise.resolve(run);
      });
    }
    case "frames": {
      const { bottleneck, seed } = stage;
      const inputs = { frames: config.frames, bottleneck, seed };
      return await stageFile(dataDir, `frames-${bottleneck}-seed-${seed}`, inputs, () => {
        const { game, trainFrames, testFrames } = config.frames;
        // Held-out frames come from other episodes than the training ones.
        const train = randomFrames(game, trainFrames, 2 * seed + 1);
        const test = randomFrames(game, testFrames, 2 * seed + 2);
        return Promise.resolve<FrameCodes>(
          measureBottleneck(config.frames, bottleneck, train, test, seed, report),
        );
      });
    }
    case "reference": {
      const inputs = {
        opponentRandomShare: config.opponentRandomShare,
        openingMoves: config.openingMoves,
        evaluation: config.evaluation,
      };
      return await stageFile(dataDir, "reference", inputs, () => {
        const lines = Object.fromEntries(
          (["stochastic", "deterministic"] as const).map((kind) => {
            const solver = new OneSidedSolver(TIC_TAC_TOE, opponentOf(config, kind), (s) => s);
            return [kind, {
              optimal: evaluate(config, kind, positionMover((s) => solver.bestMoves(s)[0]), 0),
              tactical: evaluate(config, kind, positionMover(tacticalMove), 0),
            }];
          }),
        );
        report({ stage: "reference players", done: 1, total: 1 });
        return Promise.resolve(lines);
      });
    }
  }
}

/** For the stage pool's workers. */
export async function runStage(args: Args, report: (progress: Progress) => void): Promise<void> {
  await runVqPlanningStage(args, report);
}

/** Every stage of a config, in the order the experiment reads them back. */
export function vqPlanningStages(config: VqPlanningExperimentConfig): VqPlanningStage[] {
  const stages: VqPlanningStage[] = [{ kind: "reference" }];
  for (const seed of config.seeds) {
    for (const opponent of ["stochastic", "deterministic"] as const) {
      for (const model of ["vq", "deterministic"] as const) {
        stages.push({ kind: "games", opponent, model, seed });
      }
    }
    for (const bottleneck of ["codebook", "categorical"] as const) {
      stages.push({ kind: "frames", bottleneck, seed });
    }
  }
  return stages;
}

export function stageLabel(stage: VqPlanningStage): string {
  switch (stage.kind) {
    case "games":
      return `${stage.model} model vs ${stage.opponent} opponent, seed ${stage.seed}`;
    case "frames":
      return `${stage.bottleneck} frames, seed ${stage.seed}`;
    case "reference":
      return "reference players";
  }
}

/** The stages as one level of independent jobs. */
export function vqPlanningStageJobs(
  config: VqPlanningExperimentConfig,
  dataDir: string,
): StageJob[] {
  return chainGroups([
    vqPlanningStages(config).map((stage) => ({
      label: stageLabel(stage),
      moduleUrl: import.meta.url,
      exportName: "runStage",
      args: { config, dataDir, stage } satisfies Args,
      // Rough relative cost, for the progress's ETA: a game stage trains a model and plays
      // matches, about three times a frame stage; the reference players are quick.
      weight: stage.kind === "games" ? 3 : stage.kind === "frames" ? 1 : 0.2,
    })),
  ]);
}

/** Cells per MinAtar frame of the configured game (for the metrics). */
export function framesCells(config: VqPlanningExperimentConfig): number {
  return frameSize(config.frames.game);
}
