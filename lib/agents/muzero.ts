/**
 * The MuZero agent (Schrittwieser et al. 2020, "Mastering Atari, Go, chess and shogi by planning
 * with a learned model", Section 3, Appendix G "Training" and Appendix H "Reanalyze"). Training
 * alternates, iteration after iteration,
 *   1. self-play: the latest network plays whole games (both sides in board games) with the
 *      search at every move, Dirichlet noise at the root and moves drawn from the visit counts at
 *      a temperature that falls with the move number and with training progress (the paper: 1
 *      for the first 30 moves of a board game, then the most visited; 1, 0.5 and 0.25 over
 *      Atari's training); optionally each game opens with a few random moves (exploring starts,
 *      ours, for small runs that must meet the openings an outside opponent plays);
 *   2. Reanalyse: stored positions, oldest first, are searched again with the latest network, and
 *      their policy targets and search values (from which value targets bootstrap) are replaced;
 *   3. updates: batches drawn from the prioritised replay, unrolled K = 5 steps, the paper's loss
 *      (lib/agents/muzero_learner.ts).
 *
 * The paper runs actors and learner concurrently on thousands of TPUs; here they take turns on
 * one thread, which keeps every run reproducible from its seed. After each self-play phase the
 * replay is saved, and after each iteration the network, the optimiser, the replay and the
 * learning curve, so an interrupted run resumes without losing a game. Files written for another
 * config are refused with a `UserError` naming the file.
 *
 * A run may instead be bounded by environment steps (`training.environmentSteps`, the "limited
 * data" regime of Atari 100k): the last self-play phase cuts its episodes where the budget ends,
 * the temperature schedule follows the share of steps collected, and `updatesPerEnvironmentStep`
 * fixes the ratio of updates to data. EfficientZero's additions (lib/agents/efficientzero.ts) are
 * switched on by the config's `efficientZero` field; without it the agent is MuZero's.
 */
import { readRunProgress } from "./run_progress.ts";
import { z } from "zod";
import { Rng } from "../rng.ts";
import { InterruptedError, UserError } from "../errors.ts";
import { writeFileAtomic, writeJsonAtomic } from "../io.ts";
import { configHash } from "../hash.ts";
import { checkpointExists, loadCheckpoint, saveCheckpoint } from "../tensor/checkpoint.ts";
import type { MctsConfig } from "../planners/mcts.ts";
import { MuZeroNetwork } from "../models/muzero.ts";
import type { Progress } from "../progress.ts";
import { MuZeroLearner, type MuZeroLosses } from "./muzero_learner.ts";
import { MuZeroReplay } from "./muzero_replay.ts";
import { type MuZeroEnvironment, SearchPlayer, selfPlay } from "./muzero_play.ts";
import { reanalyse } from "./muzero_reanalyse.ts";
import { efficientZeroModelSettings, efficientZeroSchema } from "./efficientzero.ts";
import { refreshBootstrapValues } from "./efficientzero_correction.ts";

export { reanalyse } from "./muzero_reanalyse.ts";

const headSchema = z.union([
  z.object({ kind: z.literal("scalar") }).strict(),
  z.object({ kind: z.literal("support"), size: z.number().int().min(1).max(1000) }).strict(),
]);

const architectureSchema = z.union([
  z.object({
    kind: z.literal("mlp"),
    latentSize: z.number().int().min(1).max(4096),
    hiddenSize: z.number().int().min(1).max(4096),
    hiddenLayers: z.number().int().min(0).max(16),
  }).strict(),
  z.object({
    kind: z.literal("residual"),
    channels: z.number().int().min(1).max(512),
    blocks: z.number().int().min(0).max(40),
    headHidden: z.number().int().min(1).max(4096),
  }).strict(),
]);

export const muZeroConfigSchema = z.object({
  network: z.object({
    architecture: architectureSchema,
    value: headSchema,
    reward: headSchema,
  }).strict(),
  search: z.object({
    /** Simulations per move in self-play and Reanalyse (the paper: 800 board games, 50 Atari). */
    numSimulations: z.number().int().min(1).max(10_000),
    /** γ (board games 1, Atari 0.997). */
    discount: z.number().min(0).max(1),
    /** Dirichlet α at the root (about 10 / the typical number of legal moves). */
    dirichletAlpha: z.number().positive(),
    /** Share of the root prior replaced by noise (the paper: 0.25). */
    explorationFraction: z.number().min(0).max(1),
    /**
     * Known range of Q that the min-max normalisation starts from (the pseudocode: [-1, 1] for
     * board games, none for Atari); null lets the tree's own values set it.
     */
    valueBounds: z.object({ min: z.number(), max: z.number() }).strict().nullable(),
  }).strict(),
  selfPlay: z.object({
    /** Games (episodes) played per iteration. */
    gamesPerIteration: z.number().int().min(1).max(100_000),
    /** Games played at once, one search batch. */
    parallelGames: z.number().int().min(1).max(4096),
    /**
     * Visit-count temperature by training progress: the first entry whose `untilProgress`
     * (fraction of iterations done) exceeds the current progress applies.
     */
    temperatureSchedule: z.array(
      z.object({
        untilProgress: z.number().gt(0).max(1),
        temperature: z.number().min(0).max(10),
      }).strict(),
    ).min(1),
    /** From this move on the most visited action is played (null: never). */
    greedyFromMove: z.number().int().min(0).nullable(),
    /**
     * Every self-play game opens with a number of uniformly random moves drawn from 0 to this
     * (their positions are still searched for targets): "exploring starts" (Sutton & Barto 2018,
     * Section 5.3), ours rather than the paper's, so that a small run meets the positions an
     * opponent outside self-play may lead it into. 0 turns it off.
     */
    maxRandomOpeningMoves: z.number().int().min(0).max(1000),
  }).strict(),
  training: z.object({
    iterations: z.number().int().min(1).max(1_000_000),
    updatesPerIteration: z.number().int().min(0).max(1_000_000),
    /**
     * Environment steps after which the run stops (its last episodes cut there); `iterations`
     * then only bounds the run. Absent: the run lasts `iterations`.
     */
    environmentSteps: z.number().int().min(1).max(1_000_000_000).optional(),
    /**
     * Updates per environment step collected, replacing `updatesPerIteration` (the total after
     * each iteration is the rounded-down product). Absent: `updatesPerIteration`.
     */
    updatesPerEnvironmentStep: z.number().min(0).max(1000).optional(),
    batchSize: z.number().int().min(1).max(8192),
    /** K (the paper: 5). */
    unrollSteps: z.number().int().min(1).max(50),
    /** n of the value targets (board games: the whole game; Atari: 10). */
    tdSteps: z.number().int().min(1).max(100_000),
    learningRate: z.number().positive().max(10),
    /** lr · rate^(updates / steps), the pseudocode's decay (1: constant). */
    learningRateDecayRate: z.number().gt(0).max(1),
    learningRateDecaySteps: z.number().int().min(1),
    optimizer: z.enum(["adam", "momentum"]),
    weightDecay: z.number().min(0).max(1),
    valueLossWeight: z.number().min(0).max(10),
    gradClipNorm: z.number().min(0),
  }).strict(),
  replay: z.object({
    capacityGames: z.number().int().min(1).max(10_000_000),
    /** α (the paper: 1; 0 samples uniformly). */
    priorityExponent: z.number().min(0).max(2),
    /** β (the paper: 1). */
    importanceExponent: z.number().min(0).max(2),
    priorityFloor: z.number().positive(),
  }).strict(),
  reanalyse: z.object({
    /** Stored positions searched again per iteration (0: no Reanalyse). */
    positionsPerIteration: z.number().int().min(0).max(10_000_000),
    /** Positions searched at once. */
    batchSize: z.number().int().min(1).max(4096),
  }).strict(),
  /** EfficientZero's additions (Ye et al. 2021); absent: MuZero. */
  efficientZero: efficientZeroSchema.optional(),
}).strict();

export type MuZeroConfig = z.infer<typeof muZeroConfigSchema>;

/** The search settings self-play uses for a config and a task. */
export function searchConfigOf(
  config: MuZeroConfig,
  environment: MuZeroEnvironment,
  numSimulations = config.search.numSimulations,
): MctsConfig {
  return {
    numSimulations,
    discount: config.search.discount,
    twoPlayer: environment.twoPlayer,
    dirichletAlpha: config.search.dirichletAlpha,
    explorationFraction: config.search.explorationFraction,
    valueBounds: config.search.valueBounds ?? undefined,
  };
}

/** The network a config builds for a task. */
export function makeMuZeroNetwork(
  config: MuZeroConfig,
  environment: MuZeroEnvironment,
  seed: number,
): MuZeroNetwork {
  return new MuZeroNetwork({
    observationShape: environment.observationShape,
    numActions: environment.numActions,
    ...config.network,
    actionPlanes: config.network.architecture.kind === "residual"
      ? environment.actionPlanes?.()
      : undefined,
    efficientZero: efficientZeroModelSettings(config.efficientZero),
  }, new Rng(seed * 7919 + 1));
}

/** The visit-count temperature at a move, `progress` being the share of iterations done. */
export function temperatureAt(
  selfPlay: MuZeroConfig["selfPlay"],
  progress: number,
  move: number,
): number {
  if (selfPlay.greedyFromMove !== null && move >= selfPlay.greedyFromMove) return 0;
  const entry = selfPlay.temperatureSchedule.find((e) => progress < e.untilProgress);
  return (entry ?? selfPlay.temperatureSchedule.at(-1)!).temperature;
}

/** One finished iteration of the learning curve. */
export interface IterationRecord {
  iteration: number;
  /** Games played so far, this iteration's included. */
  games: number;
  /** Decisions (environment steps) played so far. */
  envSteps: number;
  /** Mean return of this iteration's episodes for single-agent tasks, seen by the agent. */
  meanReturn: number;
  /** Share of this iteration's games the first player won, drew (board games). */
  firstPlayerWins: number;
  draws: number;
  /** Mean losses of this iteration's updates (null when none ran). */
  losses: MuZeroLosses | null;
  updates: number;
  /** Positions Reanalyse searched again this iteration. */
  reanalysed: number;
  seconds: number;
  /** What the caller's evaluation measured after this iteration, when it ran. */
  evaluation?: Record<string, number>;
}

export interface MuZeroRun {
  network: MuZeroNetwork;
  replay: MuZeroReplay;
  curve: IterationRecord[];
  /** Iterations read back from disk rather than run now. */
  resumedIterations: number;
}

export interface MuZeroRunOptions {
  seed: number;
  /** Where replay, network and curve are saved; none: nothing is saved. */
  dataDir?: string;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
  label?: string;
  /**
   * Measures the network after some iterations (every `evaluateEvery`, and after the last); the
   * numbers go into the curve and are saved with it.
   */
  evaluate?: (network: MuZeroNetwork, iteration: number) => Record<string, number>;
  evaluateEvery?: number;
}

/** What a run keeps on disk. */
export function muZeroFiles(dataDir: string) {
  return {
    progress: `${dataDir}/progress.json`,
    replay: `${dataDir}/replay.bin`,
    network: `${dataDir}/network`,
  };
}

interface SavedProgress {
  configHash: string;
  seed: number;
  curve: IterationRecord[];
  /** The iteration whose self-play games are already in the saved replay (-1: none). */
  selfPlayDone: number;
  /** The id of the game Reanalyse continues from. */
  reanalyseCursor: number;
}

export interface MuZeroCheckpointMetadata {
  configHash: string;
  updates: number;
  iteration: number;
}

/** The hash that ties a run's files to its config, seed and task. */
function runHash(config: MuZeroConfig, seed: number, environment: MuZeroEnvironment): string {
  return configHash({ config, seed, environment: environment.id });
}

/** The network a run saved in `dataDir` (refused, naming the file, if another config wrote it). */
export async function loadMuZeroNetwork(
  environment: MuZeroEnvironment,
  config: MuZeroConfig,
  seed: number,
  dataDir: string,
): Promise<MuZeroNetwork> {
  const network = makeMuZeroNetwork(config, environment, seed);
  try {
    await loadCheckpoint<MuZeroCheckpointMetadata>(muZeroFiles(dataDir).network, network.params, {
      expectedMetadata: { configHash: runHash(config, seed, environment) },
    });
  } catch (error) {
    network.dispose();
    throw error;
  }
  return network;
}

/** Gives the event loop a turn so progress displays redraw and aborts are noticed. */
const breathe = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Trains MuZero on a task. Resumes from `dataDir` when a run of the same config and seed saved
 * iterations there.
 */
export async function trainMuZero(
  environment: MuZeroEnvironment,
  config: MuZeroConfig,
  options: MuZeroRunOptions,
): Promise<MuZeroRun> {
  const parsed = muZeroConfigSchema.safeParse(config);
  if (!parsed.success) {
    const problem = parsed.error.issues[0];
    throw new UserError(`MuZero config: ${problem.path.join(".")}: ${problem.message}`);
  }
  const { seed } = options;
  const hash = runHash(config, seed, environment);
  const network = makeMuZeroNetwork(config, environment, seed);
  const ez = config.efficientZero;
  const learner = new MuZeroLearner(network, {
    ...config.training,
    consistencyWeight: ez?.consistency?.weight,
  });
  const makeReplay = () =>
    new MuZeroReplay({
      observationSize: environment.observationSize,
      numActions: environment.numActions,
      capacityGames: config.replay.capacityGames,
      unrollSteps: config.training.unrollSteps,
      tdSteps: config.training.tdSteps,
      discount: config.search.discount,
      twoPlayer: environment.twoPlayer,
      priorityExponent: config.replay.priorityExponent,
      importanceExponent: config.replay.importanceExponent,
      priorityFloor: config.replay.priorityFloor,
      ...(ez?.consistency ? { targetObservations: true } : {}),
      ...(ez?.offPolicyCorrection
        ? {
          offPolicyCorrection: {
            ageStepsPerHorizonStep: ez.offPolicyCorrection.ageStepsPerHorizonStep,
          },
        }
        : {}),
    });
  let replay = makeReplay();
  let curve: IterationRecord[] = [];
  let selfPlayDone = -1;
  let reanalyseCursor = 0;
  const files = options.dataDir ? muZeroFiles(options.dataDir) : null;
  const report = options.onProgress ?? (() => {});
  const label = options.label ?? `MuZero seed ${seed}`;
  const { iterations, environmentSteps, updatesPerEnvironmentStep } = config.training;
  const stepsSoFar = () => curve.at(-1)?.envSteps ?? 0;

  if (files) {
    const restored = await readRunProgress<SavedProgress, MuZeroReplay>(
      files,
      hash,
      options.dataDir!,
      MuZeroReplay.deserialize,
    );
    if (restored) {
      const { saved } = restored;
      replay = restored.replay;
      if (saved.curve.length > 0) {
        if (!(await checkpointExists(files.network))) {
          throw new UserError(
            `${files.progress} lists ${saved.curve.length} iterations but the network ` +
              `checkpoint ${files.network} is missing; delete ${options.dataDir} to start afresh`,
          );
        }
        const manifest = await loadCheckpoint<MuZeroCheckpointMetadata>(
          files.network,
          network.params,
          { optimizer: learner.optimizer, expectedMetadata: { configHash: hash } },
        );
        learner.updates = manifest.userDefinedMetadata.updates;
      }
      curve = saved.curve;
      selfPlayDone = saved.selfPlayDone;
      reanalyseCursor = saved.reanalyseCursor;
    }
  }
  const resumedIterations = curve.length;
  const saveProgress = () =>
    files
      ? writeJsonAtomic(
        files.progress,
        {
          configHash: hash,
          seed,
          curve,
          selfPlayDone,
          reanalyseCursor,
        } satisfies SavedProgress,
      )
      : Promise.resolve();

  const selfPlayer = new SearchPlayer(network, searchConfigOf(config, environment));
  // EfficientZero's fresh bootstrap values come from a search without noise.
  const bootstrapPlayer = ez?.offPolicyCorrection
    ? new SearchPlayer(network, {
      ...searchConfigOf(config, environment, ez.offPolicyCorrection.bootstrapSimulations),
      explorationFraction: 0,
    })
    : null;
  const batch = replay.allocateBatch(config.training.batchSize);
  const budgetSpent = () => environmentSteps !== undefined && stepsSoFar() >= environmentSteps;
  // Progress counts iterations, or environment steps when they bound the run.
  const progressAt = (iterationsDone: number, steps = stepsSoFar()) =>
    environmentSteps !== undefined
      ? { done: steps, total: environmentSteps }
      : { done: iterationsDone, total: iterations };
  try {
    for (let iteration = curve.length; iteration < iterations && !budgetSpent(); iteration++) {
      if (options.signal?.aborted) {
        throw new InterruptedError(`${label}: interrupted after ${iteration} iterations (saved)`);
      }
      const started = performance.now();
      const progress = environmentSteps !== undefined
        ? stepsSoFar() / environmentSteps
        : iteration / iterations;
      // Per-iteration generators: a resumed run draws what the uninterrupted one would have.
      const playRng = new Rng(seed * 1_000_003 + iteration * 7919 + 11);
      const trainRng = new Rng(seed * 1_000_033 + iteration * 7927 + 13);
      const reanalyseRng = new Rng(seed * 1_000_037 + iteration * 7933 + 17);

      // 1. Self-play, unless the saved replay already holds this iteration's games.
      const gamesBefore = curve.at(-1)?.games ?? 0;
      let newGames = replay.games().filter((game) => game.id >= gamesBefore);
      if (selfPlayDone < iteration) {
        const records = selfPlay(environment, selfPlayer, {
          episodes: config.selfPlay.gamesPerIteration,
          parallel: config.selfPlay.parallelGames,
          seedOf: (episode) => seed * 100_003 + iteration * 1009 + episode,
          temperature: (move) => temperatureAt(config.selfPlay, progress, move),
          maxRandomOpeningMoves: config.selfPlay.maxRandomOpeningMoves,
          stepBudget: environmentSteps !== undefined ? environmentSteps - stepsSoFar() : undefined,
          addNoise: true,
          rng: playRng,
          onMove: (finished) =>
            report({
              stage: label,
              ...progressAt(iteration + 0.5 * finished / config.selfPlay.gamesPerIteration),
              message: `iteration ${iteration + 1}: self-play ${finished}/` +
                `${config.selfPlay.gamesPerIteration} games`,
            }),
        });
        newGames = records.map((record) => ({ id: replay.addGame(record), record }));
        selfPlayDone = iteration;
        if (files) {
          await writeFileAtomic(files.replay, replay.serialize());
          await saveProgress();
        }
        await breathe();
      }

      // 2. Reanalyse.
      const reanalysis = reanalyse(
        replay,
        new SearchPlayer(network, {
          ...searchConfigOf(config, environment),
          explorationFraction: 0,
        }),
        config.reanalyse,
        reanalyseCursor,
        reanalyseRng,
      );
      reanalyseCursor = reanalysis.cursor;

      // 3. Updates.
      const sums: MuZeroLosses = { value: 0, reward: 0, policy: 0, total: 0 };
      if (ez?.consistency) sums.consistency = 0;
      const stepsNow = stepsSoFar() + newGames.reduce((sum, g) => sum + g.record.length, 0);
      const updates = updatesPerEnvironmentStep !== undefined
        ? Math.max(0, Math.floor(stepsNow * updatesPerEnvironmentStep) - learner.updates)
        : config.training.updatesPerIteration;
      for (let update = 0; update < updates; update++) {
        replay.sample(trainRng, batch);
        if (bootstrapPlayer) {
          refreshBootstrapValues(
            replay,
            batch,
            bootstrapPlayer,
            config.reanalyse.batchSize,
            trainRng,
          );
        }
        const { losses, valueErrors } = learner.step(batch);
        replay.updatePriorities(batch.gameIds, batch.positions, valueErrors);
        for (const key of Object.keys(sums) as (keyof MuZeroLosses)[]) {
          sums[key] = sums[key]! + losses[key]!;
        }
        if (update % 25 === 24) {
          report({
            stage: label,
            ...progressAt(iteration + 0.5 + 0.5 * (update + 1) / updates, stepsNow),
            message: `iteration ${iteration + 1}: update ${update + 1}/${updates}, loss ` +
              losses.total.toFixed(3),
          });
          await breathe();
          if (options.signal?.aborted) {
            throw new InterruptedError(
              `${label}: interrupted during iteration ${iteration + 1} (its games are saved)`,
            );
          }
        }
      }

      const finished = newGames.map((g) => g.record);
      const record: IterationRecord = {
        iteration: iteration + 1,
        games: gamesBefore + finished.length,
        envSteps: stepsNow,
        meanReturn: environment.twoPlayer
          ? Number.NaN
          : finished.reduce((sum, g) => sum + g.rewards.reduce((a, b) => a + b, 0), 0) /
            finished.length,
        firstPlayerWins: environment.twoPlayer ? outcomeShare(finished, "first") : Number.NaN,
        draws: environment.twoPlayer ? outcomeShare(finished, "draw") : Number.NaN,
        losses: updates > 0
          ? Object.fromEntries(
            Object.entries(sums).map(([key, sum]) => [key, sum / updates]),
          ) as unknown as MuZeroLosses
          : null,
        updates: learner.updates,
        reanalysed: reanalysis.positions,
        seconds: (performance.now() - started) / 1000,
      };
      const last = iteration === iterations - 1 ||
        (environmentSteps !== undefined && record.envSteps >= environmentSteps);
      const every = options.evaluateEvery ?? 0;
      if (options.evaluate && (last || (every > 0 && (iteration + 1) % every === 0))) {
        record.evaluation = options.evaluate(network, iteration + 1);
      }
      curve.push(record);
      report({
        stage: label,
        ...progressAt(iteration + 1, record.envSteps),
        message: `iteration ${iteration + 1}: ` + (environment.twoPlayer
          ? `draws ${(100 * record.draws).toFixed(0)}% in self-play`
          : `return ${record.meanReturn.toFixed(1)}`) +
          (record.losses ? `, loss ${record.losses.total.toFixed(3)}` : ""),
      });
      if (files) {
        // Network first, then replay, then the progress file that says both are complete.
        const metadata: MuZeroCheckpointMetadata = {
          configHash: hash,
          updates: learner.updates,
          iteration: iteration + 1,
        };
        await saveCheckpoint(files.network, network.params, {
          optimizer: learner.optimizer,
          metadata,
        });
        await writeFileAtomic(files.replay, replay.serialize());
        await saveProgress();
      }
      await breathe();
    }
  } catch (error) {
    learner.dispose();
    network.dispose();
    throw error;
  }
  learner.dispose();
  return { network, replay, curve, resumedIterations };
}

/** Share of games the first player won ("first") or nobody won ("draw"). */
function outcomeShare(games: { rewards: Float32Array; length: number }[], which: "first" | "draw") {
  let count = 0;
  for (const game of games) {
    // The last move's reward is 1 when it won; the first player makes the even-numbered moves.
    const won = game.rewards[game.length - 1] === 1;
    const firstMovedLast = (game.length - 1) % 2 === 0;
    if (which === "draw" ? !won : won && firstMovedLast) count++;
  }
  return games.length > 0 ? count / games.length : Number.NaN;
}
