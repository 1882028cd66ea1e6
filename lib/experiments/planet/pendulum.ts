/**
 * PlaNet on a second task, Gymnasium's Pendulum-v1 swing-up (the agent of Hafner et al. 2019,
 * "Learning Latent Dynamics for Planning from Pixels", Algorithm 1, on a task the paper did not
 * run): data efficiency against SAC, planning with early and late models, CEM against random
 * shooting, and CEM on the true simulator. From state vectors, action repeat 2 as the paper uses
 * for most tasks; 200-step episodes, so 100 decisions each.
 */
import { PendulumEnv } from "../../envs/pendulum.ts";
import { planetExperiment } from "./experiment.ts";
import { planetStageRunner } from "./stages.ts";
import {
  LAPTOP_MODEL,
  LAPTOP_SAC,
  PAPER_LEARNING,
  PAPER_MODEL,
  PAPER_PLANNER,
  PAPER_SAC,
  PAPER_TRAINER,
  type PlanetExperimentConfig,
  type PlanetTask,
  QUICK_AGENT,
  QUICK_SAC,
} from "./config.ts";

const task: PlanetTask = {
  name: "planet-pendulum",
  paper: "Hafner et al. (2019), PlaNet, Algorithm 1, on Pendulum-v1 (not in the paper)",
  makeEnv: () => new PendulumEnv(),
  published: null,
  stageModule: import.meta.url,
  thresholdSweep: [-1000, -800, -600, -400, -300, -200],
};

/** A pendulum held up for most of an episode; a random policy scores about -1200. */
const THRESHOLD = -400;

export const pendulumBudgets: Record<"quick" | "laptop" | "paper", PlanetExperimentConfig> = {
  quick: {
    seeds: [0],
    episodeSteps: 60,
    returnThreshold: THRESHOLD,
    planet: { actionRepeat: 2, ...QUICK_AGENT },
    sac: QUICK_SAC,
    trueSimulatorEpisodes: 1,
    evaluationEpisodes: 1,
    pixels: null,
  },
  laptop: {
    seeds: [0, 1, 2],
    episodeSteps: 200,
    returnThreshold: THRESHOLD,
    planet: {
      actionRepeat: 2,
      seedEpisodes: 2,
      planningEpisodes: 10,
      updatesPerEpisode: 100,
      batchSize: 32,
      chunkLength: 30,
      ...PAPER_LEARNING,
      planner: { planningHorizon: 12, candidates: 200, elites: 20, iterations: 4 },
      model: LAPTOP_MODEL,
    },
    sac: { ...LAPTOP_SAC, randomSteps: 200, updateAfter: 100 },
    trueSimulatorEpisodes: 3,
    evaluationEpisodes: 1,
    pixels: null,
  },
  paper: {
    seeds: [0, 1, 2, 3, 4],
    episodeSteps: 200,
    returnThreshold: THRESHOLD,
    planet: {
      actionRepeat: 2,
      seedEpisodes: 5,
      planningEpisodes: 100,
      ...PAPER_TRAINER,
      planner: PAPER_PLANNER,
      model: PAPER_MODEL,
    },
    sac: PAPER_SAC,
    trueSimulatorEpisodes: 5,
    evaluationEpisodes: 5,
    pixels: null,
  },
};

export const planetPendulum = planetExperiment(task, pendulumBudgets, {
  summary: "PlaNet (RSSM + CEM) against SAC on Pendulum-v1 from states; early vs late model; " +
    "CEM vs random shooting",
  expectedSeconds: { quick: 15, laptop: 220, paper: 4 * 24 * 3600 },
});

/** One stage of this experiment, for the workers of `runStageJobs`. */
export const runStage = planetStageRunner(task);
