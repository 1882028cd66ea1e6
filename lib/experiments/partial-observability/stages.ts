/**
 * The stages of `partial-observability`: per seed, PlaNet's RSSM and the memoryless model each
 * learn the cart-pole swing-up with its velocities hidden (PlaNet's loop and CEM for both), are
 * evaluated by planning without exploration noise, and are probed: a linear read-out from the
 * model's state to the hidden velocities, fitted on some episodes and scored on others.
 */
import { tf } from "../../tensor/mod.ts";
import { Rng } from "../../rng.ts";
import { CartPoleSwingupEnv } from "../../envs/cartpole_swingup.ts";
import { boxSize } from "../../envs/types.ts";
import {
  continuousActionSpec,
  ObservationSubsetEnv,
  repeatAction,
  scaleAction,
  TimeLimitEnv,
} from "../../envs/wrappers.ts";
import { runEpisode, trainPlanet } from "../../agents/planet.ts";
import { runMemorylessEpisode, trainMemorylessPlanner } from "../../agents/memoryless_planner.ts";
import type { Rssm, RssmState } from "../../models/rssm.ts";
import type { MemorylessModel } from "../../models/memoryless.ts";
import { chainGroups, type StageJob } from "../stage_pool.ts";
import { type StageArgs, stageFile } from "../muzero/stages.ts";
import type { Progress } from "../types.ts";
import { heldOutRSquared } from "./probe.ts";
import type { ModelResult, PartialObservabilityConfig } from "./config.ts";

export type PartialObservabilityStage = { kind: "rssm" | "memoryless"; seed: number };
type Args = StageArgs<PartialObservabilityConfig, PartialObservabilityStage>;

/** Cart position, cos and sin of the angle: the swing-up's observation without its velocities. */
export const POSITIONS_ONLY = [0, 1, 2] as const;
/** Where the hidden velocities sit in the full observation: cart, then pole. */
export const HIDDEN_VELOCITIES = [3, 4] as const;

/** The swing-up, its velocities hidden, cut at the config's episode length. */
export function hiddenVelocitySwingup(config: PartialObservabilityConfig): ObservationSubsetEnv {
  return new ObservationSubsetEnv(
    new TimeLimitEnv(new CartPoleSwingupEnv(), config.episodeSteps),
    POSITIONS_ONLY,
    "positions-only",
  );
}

/** A model reading observations step by step: its state as numbers after each observation. */
interface StateReader {
  width: number;
  reset(): void;
  read(previousAction: Float32Array, observation: Float32Array): Float32Array;
  dispose(): void;
}

function rssmReader(model: Rssm, observationSize: number, actionSize: number): StateReader {
  let state: RssmState | null = null;
  const clear = () => {
    if (state) tf.dispose([state.deterministic, state.stochastic]);
    state = null;
  };
  return {
    width: model.config.deterministicSize + model.config.stochasticSize,
    reset: clear,
    read(previousAction, observation) {
      const [deterministic, stochastic] = tf.tidy(() => {
        const posterior = model.observeStep(
          state ?? model.initialState(1),
          tf.tensor2d(previousAction, [1, actionSize]),
          tf.tensor2d(observation, [1, observationSize]),
        );
        return [posterior.deterministic, posterior.stochastic];
      });
      clear();
      state = { deterministic, stochastic };
      return tf.tidy(() => tf.concat([deterministic, stochastic], 1).dataSync() as Float32Array);
    },
    dispose: clear,
  };
}

function memorylessReader(model: MemorylessModel, observationSize: number): StateReader {
  return {
    width: model.config.stateSize,
    reset() {},
    read: (_action, observation) =>
      tf.tidy(() =>
        model.encode(tf.tensor2d(observation, [1, observationSize])).dataSync() as Float32Array
      ),
    dispose() {},
  };
}

/**
 * Episodes of random actions (seeded apart from training and evaluation), read by the model at
 * every decision; the held-out R² of a linear probe for each hidden velocity, fitted on the first
 * half of the episodes and scored on the second.
 */
function probeVelocities(
  config: PartialObservabilityConfig,
  reader: StateReader,
  seed: number,
): { cart: number; pole: number } {
  const env = hiddenVelocitySwingup(config);
  const spec = continuousActionSpec(env);
  const actionSize = boxSize(spec);
  const rng = new Rng(70_000 + seed);
  const episodes = config.evaluation.probeEpisodes;
  const features: number[][] = [[], []];
  const velocities: number[][][] = [[[], []], [[], []]];
  const action = new Float32Array(actionSize);
  const envAction = new Float32Array(actionSize);
  for (let episode = 0; episode < episodes; episode++) {
    const half = episode < episodes / 2 ? 0 : 1;
    reader.reset();
    let observation = env.reset(80_000 + seed * 1_000 + episode);
    action.fill(0);
    for (let decision = 0;; decision++) {
      features[half].push(...reader.read(action, observation));
      HIDDEN_VELOCITIES.forEach((index, v) => velocities[half][v].push(env.fullObservation[index]));
      for (let i = 0; i < actionSize; i++) action[i] = rng.uniform(-1, 1);
      const step = repeatAction(
        env,
        scaleAction(action, spec, envAction),
        config.planet.actionRepeat,
      );
      if (step.done) break;
      observation = step.observation;
    }
  }
  reader.dispose();
  const [train, test] = features.map((rows) => Float64Array.from(rows));
  const score = (v: number) =>
    heldOutRSquared(train, velocities[0][v], test, velocities[1][v], reader.width);
  return { cart: score(0), pole: score(1) };
}

/** Runs one stage, or reads it back when it already finished. */
export async function runPartialObservabilityStage(
  args: Args,
  report: (progress: Progress) => void,
): Promise<{ value: unknown; seconds: number }> {
  const { config, dataDir, stage } = args;
  const { kind, seed } = stage;
  const inputs = {
    episodeSteps: config.episodeSteps,
    planet: config.planet,
    memoryless: kind === "memoryless" ? config.memoryless : null,
    evaluation: config.evaluation,
    seed,
  };
  return await stageFile(dataDir, `${kind}-seed-${seed}`, inputs, async () => {
    const makeEnv = () => hiddenVelocitySwingup(config);
    const env = makeEnv();
    const observationSize = boxSize(env.observationSpec);
    const actionSize = boxSize(continuousActionSpec(env));
    const settings = config.planet;
    const started = performance.now();
    const label = `${kind === "rssm" ? "RSSM" : "memoryless model"}, seed ${seed}`;
    const evaluate = (play: (episode: number, rng: Rng) => number) =>
      Array.from(
        { length: config.evaluation.episodes },
        (_, episode) => play(90_000 + seed * 1_000 + episode, new Rng(95_000 + episode)),
      );
    const planning = { kind: "cem" as const, settings: settings.planner, noise: 0 };
    let result: ModelResult;
    if (kind === "rssm") {
      const run = await trainPlanet(makeEnv, { ...settings, snapshotEpisodes: [] }, {
        seed,
        onProgress: report,
        label,
      });
      const returns = evaluate((envSeed, rng) =>
        runEpisode(env, run.model, planning, settings.actionRepeat, envSeed, rng).return
      );
      result = {
        curve: run.curve.map((e) => ({
          episode: e.episode,
          envSteps: e.envSteps,
          return: e.return,
        })),
        returns,
        probe: probeVelocities(config, rssmReader(run.model, observationSize, actionSize), seed),
        seconds: (performance.now() - started) / 1000,
      };
      run.model.dispose();
    } else {
      const { model, curve } = await trainMemorylessPlanner(makeEnv, {
        ...settings,
        model: { ...config.memoryless, observationStd: settings.model.observationStd },
      }, { seed, onProgress: report, label });
      const returns = evaluate((envSeed, rng) =>
        runMemorylessEpisode(env, model, planning, settings.actionRepeat, envSeed, rng).return
      );
      result = {
        curve: curve.map((e) => ({ episode: e.episode, envSteps: e.envSteps, return: e.return })),
        returns,
        probe: probeVelocities(config, memorylessReader(model, observationSize), seed),
        seconds: (performance.now() - started) / 1000,
      };
      model.dispose();
    }
    return result;
  });
}

/** For the stage pool's workers. */
export async function runStage(args: Args, report: (progress: Progress) => void): Promise<void> {
  await runPartialObservabilityStage(args, report);
}

export function partialObservabilityStages(
  config: PartialObservabilityConfig,
): PartialObservabilityStage[] {
  return config.seeds.flatMap((seed) => [
    { kind: "rssm" as const, seed },
    { kind: "memoryless" as const, seed },
  ]);
}

export function partialObservabilityStageJobs(
  config: PartialObservabilityConfig,
  dataDir: string,
): StageJob[] {
  return chainGroups([
    partialObservabilityStages(config).map((stage) => ({
      label: `${stage.kind} seed ${stage.seed}`,
      moduleUrl: import.meta.url,
      exportName: "runStage",
      args: { config, dataDir, stage } satisfies Args,
      // Rough relative cost, for the progress's ETA: an RSSM stage about three memoryless ones.
      weight: stage.kind === "rssm" ? 3 : 1,
    })),
  ]);
}
