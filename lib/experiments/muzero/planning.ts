/**
 * The study notes' guess, put to the test: PlaNet "could improve planning by adding a policy and a
 * value function. I believe that is what we are going to find in the next MuZero paper". On one
 * task (CartPole-v1) and one learned model (MuZero's, trained as in muzero-cartpole), PlaNet-style
 * planning (random shooting and the cross-entropy method over action sequences of horizon H,
 * scored by predicted rewards alone; Hafner et al. 2019, Section 3) plays against MuZero's search
 * with its policy and value (Schrittwieser et al. 2020, Appendix B), every planner given the same
 * number of model evaluations per action, across horizons and budgets, from the same start states.
 *
 * Stages, each resumable: the model, then one stage per budget (in the stage pool's workers).
 */
import type { StageJob } from "../stage_pool.ts";
import { Rng } from "../../rng.ts";
import { loadMuZeroNetwork, searchConfigOf, trainMuZero } from "../../agents/muzero.ts";
import { SearchPlayer } from "../../agents/muzero_play.ts";
import { planByShooting, type ShootingSettings } from "../../agents/muzero_shooting.ts";
import type { MuZeroNetwork } from "../../models/muzero.ts";
import { CartPoleEnv } from "../../envs/cartpole.ts";
import type { Experiment, ExperimentResult, Progress, RunOptions } from "../types.ts";
import {
  type PlanningCell,
  type PlanningConfig,
  planningConfigSchema,
  type PlanningMetrics,
} from "./config.ts";
import {
  muZeroResult,
  runStagesThenRead,
  type StageArgs,
  stageFile,
  stageGroupJobs,
} from "./stages.ts";
import { planningClaims } from "./claims.ts";
import { drawPlanningFigures } from "./figures.ts";
import { CARTPOLE_AGENT, cartPoleBudgets, cartPoleEnvironment } from "./cartpole.ts";
import { MUZERO_PLACE } from "./place.ts";

const NAME = "muzero-planning";
const PAPER = "The study notes' guess (PlaNet section), tested with MuZero's model " +
  "(Schrittwieser et al. 2020) against PlaNet-style planning (Hafner et al. 2019)";

export const planningBudgets: Record<"quick" | "laptop" | "paper", PlanningConfig> = {
  quick: {
    seed: 0,
    agent: cartPoleBudgets.quick.agent,
    horizons: [2, 4],
    budgets: [8, 16],
    cemIterations: 2,
    cemEliteShare: 0.25,
    episodes: 2,
    episodeSteps: 20,
  },
  laptop: {
    seed: 0,
    agent: CARTPOLE_AGENT,
    horizons: [5, 10, 20, 40],
    budgets: [25, 100, 400],
    cemIterations: 4,
    cemEliteShare: 0.2,
    episodes: 10,
    episodeSteps: 500,
  },
  paper: {
    seed: 0,
    agent: cartPoleBudgets.paper.agent,
    horizons: [5, 10, 20, 40, 80],
    budgets: [50, 200, 800, 3200],
    cemIterations: 10,
    cemEliteShare: 0.1,
    episodes: 100,
    episodeSteps: 500,
  },
};

type PlanningStage = { kind: "model" } | { kind: "budget"; budget: number };
type Args = StageArgs<PlanningConfig, PlanningStage>;

/** The value-free planners a budget affords: J = budget / (I · H) candidates, at least 2. */
function shootingSettings(config: PlanningConfig, budget: number) {
  const out: { planner: "random-shooting" | "cem"; settings: ShootingSettings }[] = [];
  for (const horizon of config.horizons) {
    const shooting = Math.floor(budget / horizon);
    if (shooting >= 2) {
      out.push({
        planner: "random-shooting",
        settings: { horizon, candidates: shooting, iterations: 1, elites: 1 },
      });
    }
    const cem = Math.floor(budget / (config.cemIterations * horizon));
    const elites = Math.max(1, Math.round(cem * config.cemEliteShare));
    if (cem >= 4) {
      out.push({
        planner: "cem",
        settings: { horizon, candidates: cem, iterations: config.cemIterations, elites },
      });
    }
  }
  return out;
}

/** The start seed of evaluation episode i, the same for every planner. */
const startSeed = (episode: number) => 9_000_000 + episode;

/**
 * Plays `episodes` CartPole-v1 episodes at once, each decision made by `choose` for every live
 * episode together; returns their returns.
 */
function playEpisodes(
  episodes: number,
  episodeSteps: number,
  choose: (observations: Float32Array, live: number) => Int32Array,
): number[] {
  const envs = Array.from({ length: episodes }, () => new CartPoleEnv());
  const observations = envs.map((env, i) => env.reset(startSeed(i)).slice());
  const returns = new Array<number>(episodes).fill(0);
  const alive = envs.map(() => true);
  const size = observations[0].length;
  for (let step = 0; step < episodeSteps; step++) {
    const live = alive.flatMap((a, i) => (a ? [i] : []));
    if (live.length === 0) break;
    const batch = new Float32Array(live.length * size);
    live.forEach((i, row) => batch.set(observations[i], row * size));
    const actions = choose(batch, live.length);
    live.forEach((i, row) => {
      const result = envs[i].step(actions[row]);
      returns[i] += result.reward;
      observations[i] = result.observation.slice();
      if (result.terminated || result.truncated) alive[i] = false;
    });
  }
  return returns;
}

function evaluateBudget(
  network: MuZeroNetwork,
  config: PlanningConfig,
  budget: number,
  report: (progress: Progress) => void,
): PlanningCell[] {
  const cells: PlanningCell[] = [];
  const planners = shootingSettings(config, budget);
  const total = planners.length + 1;
  // MuZero: `budget` simulations, each one model evaluation, no noise, the most visited action.
  const search = new SearchPlayer(
    network,
    searchConfigOf(config.agent, cartPoleEnvironment, budget),
  );
  const searchRng = new Rng(budget);
  cells.push({
    planner: "muzero",
    horizon: null,
    budget,
    returns: playEpisodes(config.episodes, config.episodeSteps, (observations, live) => {
      const masks = new Uint8Array(live * cartPoleEnvironment.numActions).fill(1);
      return search.search(observations, masks, live, {
        rng: searchRng,
        addNoise: false,
        temperature: 0,
      }).actions;
    }),
  });
  report({ stage: `budget ${budget}`, done: 1, total, message: "MuZero search" });
  planners.forEach(({ planner, settings }, i) => {
    const rng = new Rng(budget * 1000 + i);
    cells.push({
      planner,
      horizon: settings.horizon,
      budget,
      returns: playEpisodes(config.episodes, config.episodeSteps, (observations, live) => {
        const roots = network.initialInference(observations, live).latents.slice();
        return planByShooting(network, roots, live, settings, rng);
      }),
    });
    report({
      stage: `budget ${budget}`,
      done: i + 2,
      total,
      message: `${planner} H = ${settings.horizon}`,
    });
  });
  return cells;
}

export async function runPlanningStage(
  args: Args,
  report: (progress: Progress) => void,
  signal?: AbortSignal,
): Promise<{ value: unknown; seconds: number }> {
  const { config, dataDir, stage } = args;
  const runDir = `${dataDir}/muzero-seed-${config.seed}`;
  if (stage.kind === "model") {
    return await stageFile(
      dataDir,
      "model",
      { agent: config.agent, seed: config.seed },
      async () => {
        const run = await trainMuZero(cartPoleEnvironment, config.agent, {
          seed: config.seed,
          dataDir: runDir,
          onProgress: report,
          signal,
          label: "MuZero's model of CartPole",
        });
        run.network.dispose();
        const last = run.curve.at(-1)!;
        return {
          envSteps: last.envSteps,
          updates: last.updates,
          trainingSeconds: run.curve.reduce((sum, r) => sum + r.seconds, 0),
          finalSelfPlayReturn: last.meanReturn,
        } satisfies PlanningMetrics["model"];
      },
    );
  }
  const { budget } = stage;
  const inputs = {
    agent: config.agent,
    seed: config.seed,
    budget,
    horizons: config.horizons,
    cemIterations: config.cemIterations,
    cemEliteShare: config.cemEliteShare,
    episodes: config.episodes,
    episodeSteps: config.episodeSteps,
  };
  return await stageFile(dataDir, `budget-${budget}`, inputs, async () => {
    const network = await loadMuZeroNetwork(cartPoleEnvironment, config.agent, config.seed, runDir);
    try {
      return evaluateBudget(network, config, budget, report);
    } finally {
      network.dispose();
    }
  });
}

/** For the stage pool's workers. */
export async function runStage(args: Args, report: (progress: Progress) => void): Promise<void> {
  await runPlanningStage(args, report);
}

/** The experiment's stages for the stage pool, `--stage` and `--slurm`. */
function stageJobs(config: PlanningConfig, dataDir: string): StageJob[] {
  return stageGroupJobs<PlanningConfig, PlanningStage>(
    [[{ kind: "model" }], config.budgets.map((budget) => ({ kind: "budget", budget }))],
    import.meta.url,
    (stage) => (stage.kind === "model" ? "model" : `budget ${stage.budget}`),
    { config, dataDir },
  );
}

async function runPlanning(
  config: PlanningConfig,
  options: RunOptions = {},
): Promise<ExperimentResult<PlanningMetrics>> {
  const { read, stageSeconds, started } = await runStagesThenRead(
    NAME,
    config,
    options,
    stageJobs,
    runPlanningStage,
  );
  const run = <T>(stage: PlanningStage) => read<T>(stage, stage.kind);
  const model = await run<PlanningMetrics["model"]>({ kind: "model" });
  const cells: PlanningCell[] = [];
  for (const budget of config.budgets) {
    cells.push(...await run<PlanningCell[]>({ kind: "budget", budget }));
  }
  const metrics: PlanningMetrics = { model, cells, episodeSteps: config.episodeSteps };
  return muZeroResult({
    experiment: NAME,
    paper: PAPER,
    seeds: [config.seed],
    claims: planningClaims(metrics),
    metrics,
    stageSeconds,
    started,
    options,
  });
}

export const muZeroPlanning: Experiment<PlanningConfig, PlanningMetrics> = {
  name: NAME,
  paper: PAPER,
  summary: "The notes' guess: on one learned CartPole model, random shooting and CEM without a " +
    "value against MuZero's search with policy and value, at equal model evaluations per action",
  notebook: "notebooks/05-muzero.ipynb",
  taxonomy: {
    ...MUZERO_PLACE,
    planningBudget: "equal model evaluations per action for shooting, CEM and MCTS",
    search: "random shooting / CEM",
    serves: "acting",
  },
  configSchema: planningConfigSchema,
  budgets: planningBudgets,
  expectedSeconds: { quick: 10, laptop: 1500, paper: 7 * 24 * 3600 },
  run: runPlanning,
  stageJobs,
  drawFigures: drawPlanningFigures,
};
