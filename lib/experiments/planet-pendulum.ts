/**
 * PlaNet on a second task, Gymnasium's Pendulum-v1 swing-up (the agent of Hafner et al. 2019,
 * "Learning Latent Dynamics for Planning from Pixels", Algorithm 1, on a task the paper did not
 * run): data efficiency against SAC, planning with early and late models, CEM against random
 * shooting, and CEM on the true simulator. From state vectors, action repeat 2 as the paper uses
 * for most tasks; 200-step episodes, so 100 decisions each.
 */
import { PendulumEnv } from "../envs/pendulum.ts";
import {
  drawPlanetFigures,
  type PlanetExperimentConfig,
  planetExperimentConfig,
  type PlanetMetrics,
  type PlanetTask,
  runPlanetExperiment,
} from "./planet-shared.ts";
import type { Experiment } from "./types.ts";

const task: PlanetTask = {
  name: "planet-pendulum",
  paper: "Hafner et al. (2019), PlaNet, Algorithm 1, on Pendulum-v1 (not in the paper)",
  makeEnv: () => new PendulumEnv(),
  published: null,
};

const PAPER_MODEL = {
  deterministicSize: 200,
  stochasticSize: 30,
  hiddenSize: 200,
  embedSize: 200,
  convDepth: 32,
  minStd: 0.1,
  freeNats: 3,
};

/** A pendulum held up for most of an episode; a random policy scores about -1200. */
const THRESHOLD = -400;

export const pendulumBudgets: Record<"quick" | "laptop" | "paper", PlanetExperimentConfig> = {
  quick: {
    seeds: [0],
    episodeSteps: 60,
    returnThreshold: THRESHOLD,
    planet: {
      actionRepeat: 2,
      seedEpisodes: 1,
      planningEpisodes: 1,
      updatesPerEpisode: 4,
      batchSize: 4,
      chunkLength: 10,
      learningRate: 1e-3,
      adamEpsilon: 1e-4,
      gradClipNorm: 1000,
      explorationNoise: 0.3,
      planner: { planningHorizon: 6, candidates: 40, elites: 4, iterations: 2 },
      model: {
        ...PAPER_MODEL,
        deterministicSize: 16,
        stochasticSize: 4,
        hiddenSize: 16,
        embedSize: 16,
      },
    },
    sac: {
      hiddenSize: 16,
      batchSize: 16,
      randomSteps: 10,
      updateAfter: 10,
      evaluationEpisodes: 1,
      stepsMultiplier: 2,
    },
    trueSimulatorEpisodes: 1,
    evaluationEpisodes: 1,
    pixels: null,
  },
  laptop: {
    seeds: [0, 1],
    episodeSteps: 200,
    returnThreshold: THRESHOLD,
    planet: {
      actionRepeat: 2,
      seedEpisodes: 2,
      planningEpisodes: 10,
      updatesPerEpisode: 50,
      batchSize: 16,
      chunkLength: 30,
      learningRate: 1e-3,
      adamEpsilon: 1e-4,
      gradClipNorm: 1000,
      explorationNoise: 0.3,
      planner: { planningHorizon: 12, candidates: 200, elites: 20, iterations: 4 },
      model: {
        ...PAPER_MODEL,
        deterministicSize: 64,
        stochasticSize: 16,
        hiddenSize: 64,
        embedSize: 64,
      },
    },
    sac: {
      hiddenSize: 64,
      batchSize: 64,
      randomSteps: 200,
      updateAfter: 100,
      evaluationEpisodes: 2,
      stepsMultiplier: 10,
    },
    trueSimulatorEpisodes: 1,
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
      updatesPerEpisode: 100,
      batchSize: 50,
      chunkLength: 50,
      learningRate: 1e-3,
      adamEpsilon: 1e-4,
      gradClipNorm: 1000,
      explorationNoise: 0.3,
      planner: { planningHorizon: 12, candidates: 1000, elites: 100, iterations: 10 },
      model: PAPER_MODEL,
    },
    sac: {
      hiddenSize: 256,
      batchSize: 256,
      randomSteps: 5000,
      updateAfter: 1000,
      evaluationEpisodes: 5,
      stepsMultiplier: 100,
    },
    trueSimulatorEpisodes: 5,
    evaluationEpisodes: 5,
    pixels: null,
  },
};

export const planetPendulum: Experiment<PlanetExperimentConfig, PlanetMetrics> = {
  name: task.name,
  paper: task.paper,
  summary: "PlaNet (RSSM + CEM) against SAC on Pendulum-v1 from states; early vs late model; " +
    "CEM vs random shooting",
  notebook: "notebooks/03-planet.ipynb",
  configSchema: planetExperimentConfig,
  budgets: pendulumBudgets,
  expectedSeconds: { quick: 15, laptop: 1050, paper: 4 * 24 * 3600 },
  run: (config, options) => runPlanetExperiment(task, config, options),
  drawFigures: drawPlanetFigures,
};
