/**
 * EfficientZero's three additions to MuZero as switches of the MuZero agent's config (Ye et al.
 * 2021, "Mastering Atari Games with Limited Data", Section 4 and Appendix A.1):
 *
 *   consistency          a SimSiam-style temporal consistency loss on the dynamics' hidden
 *                        states (Section 4.1; lib/models/efficientzero.ts, the learner);
 *   valuePrefix          an LSTM that predicts the sum of rewards so far, used in place of the
 *                        per-step reward in the search and trained on the real sums (Section 4.2);
 *   offPolicyCorrection  value targets whose horizon shrinks with the data's age and whose
 *                        bootstrap value is a fresh search of the latest model (Section 4.3;
 *                        lib/agents/efficientzero_targets.ts, efficientzero_correction.ts).
 *
 * Each is null when off. A config without the `efficientZero` field is MuZero's, unchanged.
 */
import { z } from "zod";
import type { EfficientZeroModelSettings } from "../models/efficientzero.ts";

const units = z.number().int().min(1).max(8192);

export const efficientZeroSchema = z.object({
  consistency: z.object({
    /** λ of the consistency term (the paper's Atari weight: 2). */
    weight: z.number().gt(0).max(100),
    projectionHidden: units,
    projectionSize: units,
    predictionHidden: units,
  }).strict().nullable(),
  valuePrefix: z.object({
    lstmHiddenSize: units,
    /** Steps after which the LSTM's memory is cleared (the paper: 5). */
    horizon: z.number().int().min(1).max(1000),
  }).strict().nullable(),
  offPolicyCorrection: z.object({
    /** A (see lib/agents/efficientzero_targets.ts): the reference's 0.3 of its training run. */
    ageStepsPerHorizonStep: z.number().int().min(1).max(100_000_000),
    /** Simulations of the fresh search that gives each bootstrap value. */
    bootstrapSimulations: z.number().int().min(1).max(10_000),
  }).strict().nullable(),
}).strict();

export type EfficientZeroSettings = z.infer<typeof efficientZeroSchema>;

/** Every addition off: the agent is MuZero (used by the tests and the ablations). */
export const EFFICIENT_ZERO_OFF: EfficientZeroSettings = {
  consistency: null,
  valuePrefix: null,
  offPolicyCorrection: null,
};

/** The network's part of the settings, or undefined when the network is MuZero's. */
export function efficientZeroModelSettings(
  settings: EfficientZeroSettings | undefined,
): EfficientZeroModelSettings | undefined {
  if (!settings || (!settings.consistency && !settings.valuePrefix)) return undefined;
  const { consistency } = settings;
  return {
    consistency: consistency
      ? {
        projectionHidden: consistency.projectionHidden,
        projectionSize: consistency.projectionSize,
        predictionHidden: consistency.predictionHidden,
      }
      : null,
    valuePrefix: settings.valuePrefix,
  };
}
