/**
 * The tiny Dreamer config the agent tests share: networks of a few units and runs of a hundred
 * or so environment steps, small enough for a test yet with every part of Dreamer switched on.
 * A test that needs something else spreads it and overrides the fields it changes, so its
 * differences from this config stay in sight. Changing a value here moves every test built on it.
 */
import type { DreamerConfig } from "../../lib/agents/dreamer.ts";
import { TINY_RSSM } from "./_tiny_rssm.ts";

export const TINY_DREAMER: DreamerConfig = {
  actionRepeat: 2,
  seedEpisodes: 1,
  environmentSteps: 120,
  trainEvery: 5,
  updatesPerTrain: 1,
  pretrainUpdates: 2,
  batchSize: 3,
  chunkLength: 6,
  modelLearningRate: 1e-3,
  modelAdamEpsilon: 1e-5,
  modelGradClipNorm: 100,
  explorationNoise: 0.3,
  model: TINY_RSSM,
  behavior: {
    horizon: 5,
    discount: 0.99,
    lambda: 0.95,
    hiddenSize: 8,
    hiddenLayers: 1,
    actorLearningRate: 1e-3,
    criticLearningRate: 1e-3,
    adamEpsilon: 1e-5,
    gradClipNorm: 100,
    entropyScale: 1e-4,
    reinforceMix: 0,
    slowCriticUpdateEvery: 10,
    initialStd: 5,
    minStd: 1e-4,
    meanScale: 5,
  },
  openLoop: { context: 2, horizon: 3, windows: 3 },
};
