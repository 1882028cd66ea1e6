/**
 * The stages of the Dreamer experiments (Hafner et al. 2020, Section 5; Hafner et al. 2021,
 * Section 4), each saved under the run's data folder with a hash of the config fields it depends
 * on, so a rerun resumes from finished stages (and the agents themselves resume episode by episode
 * from their own folders):
 *   swing-up: Dreamer, PlaNet and SAC per seed, and the cost of choosing an action and of an update;
 *   MinAtar:  DreamerV2 and DQN per game and seed, and the ablations per ablation game and seed.
 * Every stage is independent, so the stage pool runs them in workers, one per core.
 */
import { tf } from "../../tensor/mod.ts";
import { Rng } from "../../rng.ts";
import { CartPoleSwingupEnv } from "../../envs/cartpole_swingup.ts";
import type { MinAtarEnvId } from "../../envs/registry.ts";
import { ActionRepeatEnv, TimeLimitEnv } from "../../envs/wrappers.ts";
import {
  Asterix,
  Breakout,
  Freeway,
  type MinAtarEnv,
  type MinAtarOptions,
  Seaquest,
  SpaceInvaders,
} from "../../envs/minatar/mod.ts";
import {
  type DreamerEpisodeRecord,
  loadDreamer,
  makeDreamer,
  runDreamerEpisode,
  trainDreamer,
} from "../../agents/dreamer.ts";
import { makeRssm, type PlanetConfig, runEpisode, trainPlanet } from "../../agents/planet.ts";
import { SAC_LAPTOP_CONFIG, trainSac } from "../../agents/sac.ts";
import { trainDqn } from "../../agents/dqn.ts";
import { type CodeStatistics, codeStatistics } from "../../agents/dreamer_codes.ts";
import { imaginationFidelity } from "../../agents/dreamer_foresight.ts";
import { DreamerReplay } from "../../agents/dreamer_replay.ts";
import { CemPlanner } from "../../planners/cem.ts";
import type { RssmState } from "../../models/rssm.ts";
import { RssmTrainer } from "../../models/rssm.ts";
import { type Episode, SequenceReplay } from "../../agents/sequence_replay.ts";
import { breathe, stage } from "../planet/stages.ts";
import type { Progress } from "../types.ts";
import {
  dreamerAgentConfig,
  type DreamerAgentSettings,
  type DreamerMinatarConfig,
  type DreamerSwingupConfig,
} from "./config.ts";

// ---------------------------------------------------------------------------------------------
// Swing-up

export type SwingupStage =
  | { kind: "dreamer" | "planet" | "sac"; seed: number }
  | { kind: "timing" };

export interface SwingupStageArgs {
  config: DreamerSwingupConfig;
  dataDir: string;
  stage: SwingupStage;
}

/** A learning curve as stored in stage files: each episode's end and return. */
export interface EpisodeCurve {
  envSteps: number[];
  returns: number[];
}

export interface DreamerSwingupRun extends EpisodeCurve {
  /** Per episode: cumulative imagined transitions and decisions, and the cycle measurements. */
  records: Omit<DreamerEpisodeRecord, "modelLosses" | "behaviorLosses">[];
  test: number[];
  secondsPerUpdate: number;
}

export interface TimingResult {
  actorMs: number;
  cemMs: number;
  filterMs: number;
  dreamerUpdateSeconds: number;
  planetUpdateSeconds: number;
}

const swingupEnv = (config: DreamerSwingupConfig) =>
  new TimeLimitEnv(new CartPoleSwingupEnv(), config.episodeSteps);

/** The start state of test episode `episode` of seed `seed`, shared by Dreamer and PlaNet. */
export function testEnvSeed(seed: number, episode: number): number {
  return 3_000_000 + seed * 1000 + episode;
}

export function swingupDreamerConfig(config: DreamerSwingupConfig) {
  return dreamerAgentConfig(
    config.dreamer,
    config.actionRepeat,
    config.episodes * config.episodeSteps,
  );
}

/** PlaNet with Dreamer's RSSM (Gaussian latents, PlaNet's loss) and the same episodes. */
export function swingupPlanetConfig(config: DreamerSwingupConfig): PlanetConfig {
  const { latent: _l, klBalance: _b, klScale: _s, continuationScale: _c, ...model } =
    config.dreamer.model;
  return {
    ...config.planet,
    actionRepeat: config.actionRepeat,
    planningEpisodes: config.episodes - config.planet.seedEpisodes,
    model,
    snapshotEpisodes: [],
  };
}

export async function runSwingupStage(
  args: SwingupStageArgs,
  report: (p: Progress) => void,
  signal?: AbortSignal,
): Promise<{ value: unknown; seconds: number }> {
  const { config, dataDir, stage: which } = args;
  switch (which.kind) {
    case "dreamer": {
      const seed = which.seed;
      const agentConfig = swingupDreamerConfig(config);
      const inputs = { agentConfig, seed, steps: config.episodeSteps, tests: config.testEpisodes };
      return await stage(dataDir, `dreamer-seed-${seed}`, inputs, async () => {
        const run = await trainDreamer(() => swingupEnv(config), agentConfig, {
          seed,
          dataDir: `${dataDir}/dreamer-seed-${seed}`,
          onProgress: report,
          signal,
          label: `Dreamer seed ${seed}`,
        });
        try {
          const env = swingupEnv(config);
          const test: number[] = [];
          for (let episode = 0; episode < config.testEpisodes; episode++) {
            const envSeed = testEnvSeed(seed, episode);
            const result = await runDreamerEpisode(
              env,
              run,
              "test",
              agentConfig,
              envSeed,
              new Rng(envSeed),
            );
            test.push(result.return);
          }
          return dreamerRunSummary(run.curve, test);
        } finally {
          run.dispose();
        }
      });
    }
    case "planet": {
      const seed = which.seed;
      const planetConfig = swingupPlanetConfig(config);
      const inputs = { planetConfig, seed, steps: config.episodeSteps, tests: config.testEpisodes };
      return await stage(dataDir, `planet-seed-${seed}`, inputs, async () => {
        const run = await trainPlanet(() => swingupEnv(config), planetConfig, {
          seed,
          dataDir: `${dataDir}/planet-seed-${seed}`,
          onProgress: report,
          signal,
          label: `PlaNet seed ${seed}`,
        });
        const env = swingupEnv(config);
        const test: number[] = [];
        for (let episode = 0; episode < config.testEpisodes; episode++) {
          const envSeed = testEnvSeed(seed, episode);
          const result = runEpisode(
            env,
            run.model,
            { kind: "cem", settings: planetConfig.planner, noise: 0 },
            config.actionRepeat,
            envSeed,
            new Rng(envSeed),
          );
          test.push(result.return);
          await breathe();
        }
        run.model.dispose();
        return {
          envSteps: run.curve.map((e) => e.envSteps),
          returns: run.curve.map((e) => e.return),
          test,
        };
      });
    }
    case "sac": {
      const seed = which.seed;
      const totalEnvSteps = config.episodes * config.episodeSteps;
      const repeat = config.actionRepeat;
      const inputs = { sac: config.sac, steps: config.episodeSteps, repeat, totalEnvSteps, seed };
      return await stage(dataDir, `sac-seed-${seed}`, inputs, async () => {
        const env = new ActionRepeatEnv(swingupEnv(config), repeat);
        const decisions = Math.max(
          1,
          Math.round((totalEnvSteps * config.sac.stepsMultiplier) / repeat),
        );
        const result = await trainSac(env, {
          ...SAC_LAPTOP_CONFIG,
          hiddenSize: config.sac.hiddenSize,
          batchSize: config.sac.batchSize,
          randomSteps: config.sac.randomSteps,
          updateAfter: config.sac.updateAfter,
          replayCapacity: decisions,
        }, {
          environmentSteps: decisions,
          seed,
          evaluateEvery: decisions,
          evaluationEpisodes: 1,
          signal,
          onProgress: (p) =>
            report({ stage: `SAC seed ${seed}`, done: p.done, total: p.total, message: p.message }),
        });
        result.agent.dispose();
        return {
          envSteps: result.episodes.steps.map((s) => s * repeat),
          returns: result.episodes.returns,
        } satisfies EpisodeCurve;
      });
    }
    case "timing": {
      const inputs = {
        dreamer: config.dreamer,
        planet: config.planet,
        repeat: config.actionRepeat,
        decisions: config.timingDecisions,
      };
      return await stage(
        dataDir,
        "timing",
        inputs,
        () => Promise.resolve(measureSwingupTiming(config, report)),
      );
    }
  }
}

function dreamerRunSummary(curve: DreamerEpisodeRecord[], test: number[]): DreamerSwingupRun {
  const updates = curve.at(-1)?.updates ?? 0;
  const trainSeconds = curve.reduce((sum, e) => sum + e.trainSeconds, 0);
  return {
    envSteps: curve.map((e) => e.envSteps),
    returns: curve.map((e) => e.return),
    records: curve.map(({ modelLosses: _m, behaviorLosses: _b, ...rest }) => rest),
    test,
    secondsPerUpdate: updates > 0 ? trainSeconds / updates : Number.NaN,
  };
}

/**
 * The cost of choosing one action: filtering the observation into the latent state, then the
 * actor's forward pass (Dreamer) or a CEM plan (PlaNet), with fresh networks of the budget's sizes
 * (the cost does not depend on the weights); and the cost of one update of each agent.
 */
function measureSwingupTiming(
  config: DreamerSwingupConfig,
  report: (p: Progress) => void,
): TimingResult {
  const env = swingupEnv(config);
  const agentConfig = swingupDreamerConfig(config);
  const planetConfig = swingupPlanetConfig(config);
  const dreamer = makeDreamer(env, agentConfig, 0);
  const planetModel = makeRssm(env, planetConfig.model, 0);
  const rng = new Rng(1);
  // Observations of a random episode, filtered as an agent would.
  const observations: Float32Array[] = [];
  env.reset(11);
  for (let i = 0; i < config.timingDecisions + 2; i++) {
    const result = env.step([rng.uniform(-1, 1)]);
    observations.push(result.observation.slice());
    if (result.truncated) env.reset(12 + i);
  }
  const planner = new CemPlanner<RssmState>({
    ...planetConfig.planner,
    actionSize: 1,
    actionLow: -1,
    actionHigh: 1,
  }, rng);
  const time = (choose: (state: RssmState) => void, model = dreamer.model): number => {
    let state = model.initialState(1);
    const action = tf.zeros([1, 1]) as tf.Tensor2D;
    let total = 0;
    for (let i = -1; i < config.timingDecisions; i++) {
      const started = performance.now();
      const next = model.observeStep(
        state,
        action,
        tf.tensor2d(observations[i + 1], [1, observations[i + 1].length]),
      );
      tf.dispose([state.deterministic, state.stochastic]);
      state = next;
      choose(state);
      // The first decision warms caches up and is not counted.
      if (i >= 0) total += performance.now() - started;
    }
    tf.dispose([state.deterministic, state.stochastic, action]);
    return total / config.timingDecisions;
  };
  report({ stage: "timing", done: 0, total: 3, message: "filtering" });
  const filterMs = time(() => {});
  report({ stage: "timing", done: 1, total: 3, message: "actor" });
  const actorMs = time((state) =>
    tf.tidy(() => dreamer.behavior.act(dreamer.model.features(state), false, rng))
  );
  report({ stage: "timing", done: 2, total: 3, message: "CEM" });
  const cemMs = time((state) => planner.plan(planetModel, state), planetModel);

  // Update costs on random episodes.
  const replay = new SequenceReplay(5, 1);
  const dreamerReplay: Episode[] = [];
  for (let episode = 0; episode < 2; episode++) {
    const recorded = runEpisode(
      env,
      planetModel,
      { kind: "random" },
      config.actionRepeat,
      20 + episode,
      rng,
    );
    replay.addEpisode(recorded.episode);
    dreamerReplay.push(recorded.episode);
  }
  const planetTrainer = new RssmTrainer(planetModel, {
    learningRate: planetConfig.learningRate,
    adamEpsilon: planetConfig.adamEpsilon,
    gradClipNorm: planetConfig.gradClipNorm,
  });
  const planetUpdateSeconds = timeUpdates(() => {
    const length = Math.min(planetConfig.chunkLength, ...replay.episodes.map((e) => e.length));
    const chunks = replay.sample(planetConfig.batchSize, length, rng);
    const b = planetConfig.batchSize;
    const noise = planetModel.fillNoise(new Float32Array(b * length * planetModel.noiseSize), rng);
    tf.tidy(() => {
      planetTrainer.step({
        observations: tf.tensor3d(chunks.observations, [b, length, 5]),
        actions: tf.tensor3d(chunks.actions, [b, length, 1]),
        rewards: tf.tensor2d(chunks.rewards, [b, length]),
      }, tf.tensor3d(noise, [b, length, planetModel.noiseSize]));
    });
  });
  planetTrainer.dispose();
  const dreamerUpdateSeconds = measureDreamerUpdate(dreamer, agentConfig, dreamerReplay, rng);
  dreamer.model.dispose();
  dreamer.behavior.dispose();
  planetModel.dispose();
  return { actorMs, cemMs, filterMs, dreamerUpdateSeconds, planetUpdateSeconds };
}

/** Seconds per call of `update`, after one warm-up call. */
function timeUpdates(update: () => void, repeats = 3): number {
  update();
  const started = performance.now();
  for (let i = 0; i < repeats; i++) update();
  return (performance.now() - started) / 1000 / repeats;
}

function measureDreamerUpdate(
  dreamer: ReturnType<typeof makeDreamer>,
  config: ReturnType<typeof swingupDreamerConfig>,
  episodes: Episode[],
  rng: Rng,
): number {
  const { model, behavior } = dreamer;
  const trainer = new RssmTrainer(model, {
    learningRate: config.modelLearningRate,
    adamEpsilon: config.modelAdamEpsilon,
    gradClipNorm: config.modelGradClipNorm,
  });
  const replay = new SequenceReplay(model.observationSize, model.config.actionSize);
  for (const episode of episodes) replay.addEpisode(episode);
  const { batchSize: b } = config;
  const length = Math.min(config.chunkLength, ...episodes.map((e) => e.length));
  const seconds = timeUpdates(() => {
    const chunks = replay.sample(b, length, rng);
    const noise = model.fillNoise(new Float32Array(b * length * model.noiseSize), rng);
    const batch = {
      observations: tf.tensor3d(chunks.observations, [b, length, model.observationSize]),
      actions: tf.tensor3d(chunks.actions, [b, length, model.config.actionSize]),
      rewards: tf.tensor2d(chunks.rewards, [b, length]),
      continues: tf.ones([b, length]) as tf.Tensor2D,
      mask: tf.ones([b, length]) as tf.Tensor2D,
    };
    const noiseTensor = tf.tensor3d(noise, [b, length, model.noiseSize]);
    const { states } = trainer.stepWithStates(batch, noiseTensor);
    const weights = tf.ones([b * length]) as tf.Tensor1D;
    behavior.train(model, states, weights, rng);
    tf.dispose([
      ...Object.values(batch),
      noiseTensor,
      weights,
      states.deterministic,
      states.stochastic,
    ]);
  });
  trainer.dispose();
  return seconds;
}

// ---------------------------------------------------------------------------------------------
// MinAtar

export type MinatarVariant = "categorical" | "gaussian" | "no-kl-balancing";

export type MinatarStage =
  | { kind: "dreamer"; game: MinAtarEnvId; seed: number; variant: MinatarVariant }
  | { kind: "dqn"; game: MinAtarEnvId; seed: number }
  /** After the categorical run of that game and seed: what its model foresees (foresight.ts). */
  | { kind: "foresight"; game: MinAtarEnvId; seed: number };

/** Episodes and imagined steps of the foresight measurement. */
const FORESIGHT_EPISODES = 20;

export interface MinatarStageArgs {
  config: DreamerMinatarConfig;
  dataDir: string;
  stage: MinatarStage;
}

export interface MinatarRun extends EpisodeCurve {
  /** Greedy evaluation returns after training. */
  evaluation: number[];
  /** Dreamer only. */
  imaginedTransitions?: number;
  secondsPerUpdate?: number;
  codes?: CodeStatistics;
}

const MINATAR_GAMES: Record<MinAtarEnvId, new (options: MinAtarOptions) => MinAtarEnv> = {
  "MinAtar/Asterix-v0": Asterix,
  "MinAtar/Breakout-v0": Breakout,
  "MinAtar/Freeway-v0": Freeway,
  "MinAtar/Seaquest-v0": Seaquest,
  "MinAtar/SpaceInvaders-v0": SpaceInvaders,
};

/** A game with the experiment's time limit (MinAtar's sticky actions and ramping as published). */
export function minatarEnv(game: MinAtarEnvId, config: DreamerMinatarConfig): MinAtarEnv {
  return new MINATAR_GAMES[game]({ maxEpisodeSteps: config.maxEpisodeSteps });
}

/** The DreamerV2 settings of an ablation variant. */
export function minatarVariantSettings(
  config: DreamerMinatarConfig,
  variant: MinatarVariant,
): DreamerAgentSettings {
  const settings = config.dreamer;
  if (variant === "categorical") return settings;
  if (variant === "no-kl-balancing") {
    const { klBalance: _, ...model } = settings.model;
    return { ...settings, model };
  }
  const size = config.ablations?.gaussianStochasticSize ?? 32;
  return {
    ...settings,
    model: { ...settings.model, latent: { kind: "gaussian" }, stochasticSize: size },
  };
}

/** The environment seeds of a run's greedy evaluation episodes. */
const evaluationSeed = (seed: number, episode: number) => 5_000_000 + seed * 1000 + episode;

export async function runMinatarStage(
  args: MinatarStageArgs,
  report: (p: Progress) => void,
  signal?: AbortSignal,
): Promise<{ value: unknown; seconds: number }> {
  const { config, dataDir, stage: which } = args;
  const { game, seed } = which;
  const short = game.replace("MinAtar/", "").replace("-v0", "").toLowerCase();
  const common = {
    game,
    seed,
    steps: config.environmentSteps,
    maxEpisodeSteps: config.maxEpisodeSteps,
    evaluationEpisodes: config.evaluationEpisodes,
  };
  if (which.kind === "dqn") {
    return await stage(
      dataDir,
      `dqn-${short}-seed-${seed}`,
      { ...common, dqn: config.dqn },
      async () => {
        const result = await trainDqn(minatarEnv(game, config), config.dqn, {
          environmentSteps: config.environmentSteps,
          seed,
          evaluationEpisodes: config.evaluationEpisodes,
          onProgress: report,
          signal,
          label: `DQN ${short} seed ${seed}`,
        });
        result.agent.dispose();
        return {
          envSteps: result.episodes.steps,
          returns: result.episodes.returns,
          evaluation: result.evaluation,
        } satisfies MinatarRun;
      },
    );
  }
  if (which.kind === "foresight") {
    const agentConfig = dreamerAgentConfig(config.dreamer, 1, config.environmentSteps);
    const runDir = `${dataDir}/dreamer-categorical-${short}-seed-${seed}`;
    return await stage(
      dataDir,
      `foresight-${short}-seed-${seed}`,
      { ...common, agentConfig, episodes: FORESIGHT_EPISODES },
      async () => {
        const agent = await loadDreamer(minatarEnv(game, config), agentConfig, seed, runDir);
        try {
          const replay = DreamerReplay.deserialize(await Deno.readFile(`${runDir}/replay.bin`));
          return imaginationFidelity(
            agent.model,
            agent.behavior,
            replay,
            FORESIGHT_EPISODES,
            agentConfig.behavior.horizon,
            new Rng(seed + 313),
          );
        } finally {
          agent.model.dispose();
          agent.behavior.dispose();
        }
      },
    );
  }
  const settings = minatarVariantSettings(config, which.variant);
  const agentConfig = dreamerAgentConfig(settings, 1, config.environmentSteps);
  const name = `dreamer-${which.variant}-${short}-seed-${seed}`;
  return await stage(dataDir, name, { ...common, agentConfig }, async () => {
    const run = await trainDreamer(() => minatarEnv(game, config), agentConfig, {
      seed,
      dataDir: `${dataDir}/${name}`,
      onProgress: report,
      signal,
      label: `DreamerV2 (${which.variant}) ${short} seed ${seed}`,
    });
    try {
      const env = minatarEnv(game, config);
      const evaluation: number[] = [];
      for (let episode = 0; episode < config.evaluationEpisodes; episode++) {
        const envSeed = evaluationSeed(seed, episode);
        const result = await runDreamerEpisode(
          env,
          run,
          "test",
          agentConfig,
          envSeed,
          new Rng(envSeed),
        );
        evaluation.push(result.return);
        await breathe();
      }
      const curve = run.curve;
      const updates = curve.at(-1)?.updates ?? 0;
      const trainSeconds = curve.reduce((sum, e) => sum + e.trainSeconds, 0);
      return {
        envSteps: curve.map((e) => e.envSteps),
        returns: curve.map((e) => e.return),
        evaluation,
        imaginedTransitions: curve.at(-1)?.imaginedTransitions ?? 0,
        secondsPerUpdate: updates > 0 ? trainSeconds / updates : Number.NaN,
        codes: run.model.latent.kind === "categorical"
          ? codeStatistics(run.model, run.replay, 16, settings.chunkLength, new Rng(seed + 99))
          : undefined,
      } satisfies MinatarRun;
    } finally {
      run.dispose();
    }
  });
}

/** Every stage of a MinAtar config, the longest (DreamerV2) first so workers finish together. */
export function minatarStages(config: DreamerMinatarConfig): MinatarStage[] {
  const stages: MinatarStage[] = [];
  for (const game of config.games) {
    for (const seed of config.seeds) {
      stages.push({ kind: "dreamer", game, seed, variant: "categorical" });
    }
  }
  for (const game of config.ablations?.games ?? []) {
    for (const seed of config.seeds) {
      stages.push({ kind: "dreamer", game, seed, variant: "gaussian" });
      stages.push({ kind: "dreamer", game, seed, variant: "no-kl-balancing" });
    }
  }
  for (const game of config.games) {
    for (const seed of config.seeds) stages.push({ kind: "dqn", game, seed });
  }
  for (const game of config.games) {
    for (const seed of config.seeds) stages.push({ kind: "foresight", game, seed });
  }
  return stages;
}

export function swingupStages(config: DreamerSwingupConfig): SwingupStage[] {
  return [
    ...config.seeds.map((seed) => ({ kind: "dreamer", seed }) as const),
    ...config.seeds.map((seed) => ({ kind: "planet", seed }) as const),
    ...config.seeds.map((seed) => ({ kind: "sac", seed }) as const),
    { kind: "timing" },
  ];
}

/**
 * A swing-up stage's rough cost in seconds at the laptop model sizes (the costs measured for the
 * budget in swingup.ts: a Dreamer update 0.30 s, a PlaNet update 0.09 s and plan 40 ms, a SAC
 * step 1.7 ms), so the folded progress and its ETA follow time rather than the count of stages.
 */
export function swingupStageWeight(config: DreamerSwingupConfig, stage: SwingupStage): number {
  const decisions = Math.ceil(config.episodeSteps / config.actionRepeat);
  if (stage.kind === "timing") return config.timingDecisions * 0.05;
  if (stage.kind === "sac") {
    return config.episodes * decisions * config.sac.stepsMultiplier * 0.0017;
  }
  if (stage.kind === "planet") {
    const planned = config.episodes - config.planet.seedEpisodes;
    return planned * (config.planet.updatesPerEpisode * 0.09 + decisions * 0.04);
  }
  const { dreamer } = config;
  const updates = (config.episodes - dreamer.seedEpisodes) * decisions / dreamer.trainEvery *
      dreamer.updatesPerTrain + dreamer.pretrainUpdates;
  return updates * 0.3;
}

/**
 * A MinAtar stage's rough cost in seconds (minatar.ts's measured costs: a DreamerV2 update
 * 0.23 s, 0.09 s with Gaussian latents; a DQN step 2.8 ms), for the folded progress's ETA.
 */
export function minatarStageWeight(config: DreamerMinatarConfig, stage: MinatarStage): number {
  if (stage.kind === "dqn") return config.environmentSteps * 0.0028;
  if (stage.kind === "foresight") return 10;
  const updates = config.environmentSteps / config.dreamer.trainEvery *
    config.dreamer.updatesPerTrain;
  return updates * (stage.variant === "gaussian" ? 0.09 : 0.23);
}

export function stageLabel(stage: SwingupStage | MinatarStage): string {
  if (stage.kind === "timing") return "timing";
  const game = "game" in stage ? ` ${stage.game.replace("MinAtar/", "")}` : "";
  const variant = "variant" in stage ? ` (${stage.variant})` : "";
  return `${stage.kind}${variant}${game} seed ${stage.seed}`;
}
