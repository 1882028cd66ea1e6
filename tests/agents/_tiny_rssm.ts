/**
 * The tiny recurrent state-space model (PlaNet's RSSM, also Dreamer's) that the agent tests
 * share: a few units per layer and a two-channel convolutional encoder, enough to exercise every
 * path in seconds. Tests override the fields they change (PlaNet's free nats, say) by spreading it.
 */
import type { ModelSettings } from "../../lib/agents/planet.ts";

export const TINY_RSSM: ModelSettings = {
  deterministicSize: 8,
  stochasticSize: 3,
  hiddenSize: 8,
  embedSize: 8,
  convDepth: 2,
  minStd: 0.1,
  freeNats: 1,
  observationStd: 1,
};
