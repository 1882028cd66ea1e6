/**
 * The `partial-observability` experiment's configuration and metrics: PlaNet's agent settings
 * (lib/experiments/planet/config.ts) for both models, the memoryless model's sizes, and the
 * evaluation and probe sizes.
 */
import { z } from "zod";
import { planetExperimentConfig } from "../planet/config.ts";

const count = (max: number) => z.number().int().min(1).max(max);

export const partialObservabilitySchema = z.object({
  seeds: z.array(z.number().int().nonnegative()).min(1),
  /** Environment steps per episode (the swing-up's own 1,000, or fewer for the quick budget). */
  episodeSteps: z.number().int().min(10).max(100_000),
  /** PlaNet's loop and planner, used by both models; `model` is the RSSM's. */
  planet: planetExperimentConfig.shape.planet,
  memoryless: z.object({
    stateSize: count(1024),
    hiddenSize: count(4096),
  }).strict(),
  evaluation: z.object({
    /** Episodes planned without exploration noise after training, per model and seed. */
    episodes: count(1000),
    /** Episodes of random actions to fit (first half) and score (second half) the probes. */
    probeEpisodes: z.number().int().min(2).max(10_000),
  }).strict(),
}).strict();

export type PartialObservabilityConfig = z.infer<typeof partialObservabilitySchema>;

/** One model of one seed. */
export interface ModelResult {
  curve: { episode: number; envSteps: number; return: number }[];
  /** Returns of the evaluation episodes. */
  returns: number[];
  /** Held-out R² of a linear probe from the model's state to each hidden velocity. */
  probe: { cart: number; pole: number };
  seconds: number;
}

export interface PartialObservabilityMetrics {
  episodeSteps: number;
  seeds: { seed: number; rssm: ModelResult; memoryless: ModelResult }[];
}
