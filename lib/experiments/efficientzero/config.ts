/**
 * The EfficientZero experiment's configuration (Ye et al. 2021, "Mastering Atari Games with
 * Limited Data", Section 5 and Appendix A.1): the zod schema, the agent variants of the paper's
 * ablation, the paper's numbers we put beside ours, and what the runs record.
 *
 * One agent config describes EfficientZero with its three additions; every variant is derived
 * from it by removing additions, so MuZero, EfficientZero and the ablations differ in nothing
 * else (network, search, replay, Reanalyse, updates per environment step).
 */
import { z } from "zod";
import { type MuZeroConfig, muZeroConfigSchema } from "../../agents/muzero.ts";
import { dqnConfigSchema } from "../../agents/dqn.ts";
import { MINATAR_IDS, type MinAtarEnvId } from "../../envs/registry.ts";
import { dreamerAgentSchema } from "../dreamer/config.ts";

/** The agents of the paper's comparison and ablation (Table 3), in the order we report them. */
export const EFFICIENT_ZERO_VARIANTS = [
  "muzero",
  "efficientzero",
  "no-consistency",
  "no-value-prefix",
  "no-off-policy-correction",
] as const;

export type EfficientZeroVariant = typeof EFFICIENT_ZERO_VARIANTS[number];

export const VARIANT_LABELS: Record<EfficientZeroVariant, string> = {
  "muzero": "MuZero",
  "efficientzero": "EfficientZero",
  "no-consistency": "EfficientZero w/o consistency",
  "no-value-prefix": "EfficientZero w/o value prefix",
  "no-off-policy-correction": "EfficientZero w/o off-policy correction",
};

const gameSchema = z.enum(MINATAR_IDS as [MinAtarEnvId, ...MinAtarEnvId[]]);
const count = (max: number) => z.number().int().min(1).max(max);

export const efficientZeroMinatarConfig = z.object({
  seeds: z.array(z.number().int().nonnegative()).min(1),
  games: z.array(gameSchema).min(1),
  /** Environment steps of every run, each agent's alike (Atari 100k: 100,000 agent steps). */
  environmentSteps: count(100_000_000),
  /** MinAtar sets no time limit but Freeway's clock; episodes are cut here. */
  maxEpisodeSteps: z.number().int().min(10).max(100_000),
  /** EfficientZero with all three additions; the other variants remove some. */
  agent: muZeroConfigSchema.refine(
    (agent) =>
      agent.efficientZero?.consistency && agent.efficientZero.valuePrefix &&
      agent.efficientZero.offPolicyCorrection,
    { message: "the agent must have every EfficientZero addition on", path: ["efficientZero"] },
  ),
  variants: z.array(z.enum(EFFICIENT_ZERO_VARIANTS)).min(1),
  /** The MinAtar paper's DQN, at the same environment steps. */
  dqn: dqnConfigSchema,
  /** DreamerV2 from the Dreamer experiment, at the same environment steps; null: not run. */
  dreamer: dreamerAgentSchema.nullable(),
  evaluation: z.object({
    /** Greedy episodes per run once training ends (no noise, the most visited action). */
    episodes: count(1000),
    /** Simulations per step of the MuZero variants' evaluation episodes. */
    simulations: count(10_000),
  }).strict(),
  /** Points of the binned learning curves. */
  curvePoints: z.number().int().min(2).max(1000),
}).strict();

export type EfficientZeroMinatarConfig = z.infer<typeof efficientZeroMinatarConfig>;

/** The agent of a variant: the config's EfficientZero less the additions the variant removes. */
export function variantAgent(
  config: EfficientZeroMinatarConfig,
  variant: EfficientZeroVariant,
): MuZeroConfig {
  const { efficientZero, ...muzero } = config.agent;
  const training = { ...muzero.training, environmentSteps: config.environmentSteps };
  if (variant === "muzero") return { ...muzero, training };
  const additions = efficientZero!;
  return {
    ...muzero,
    training,
    efficientZero: {
      consistency: variant === "no-consistency" ? null : additions.consistency,
      valuePrefix: variant === "no-value-prefix" ? null : additions.valuePrefix,
      offPolicyCorrection: variant === "no-off-policy-correction"
        ? null
        : additions.offPolicyCorrection,
    },
  };
}

/**
 * The paper's numbers. The headline is its abstract's; the ablation rows are Table 3's normalised
 * mean and median over the 26 Atari 100k games as transcribed (not yet re-checked against the
 * paper's PDF: check before quoting them elsewhere).
 */
export const EFFICIENT_ZERO_PUBLISHED = {
  headline: { meanHumanNormalised: 1.943, medianHumanNormalised: 1.09, games: 26, steps: 100_000 },
  ablation: {
    "efficientzero": { mean: 1.943, median: 1.09 },
    "no-consistency": { mean: 0.881, median: 0.34 },
    "no-value-prefix": { mean: 1.482, median: 0.552 },
    "no-off-policy-correction": { mean: 1.475, median: 0.836 },
  },
  /** The paper's MuZero at 100k steps (Table 1, its own implementation). */
  muzeroAt100k: { mean: 0.562, median: 0.227 },
} as const;

// ---------------------------------------------------------------------------------------------
// Metrics

/** One run's record, as its stage file keeps it. */
export interface EfficientZeroRun {
  /** Each finished training episode's end (environment steps) and return. */
  envSteps: number[];
  returns: number[];
  /** Greedy evaluation returns after training. */
  evaluation: number[];
  /** Training seconds per environment step (self-play, Reanalyse and updates together). */
  secondsPerStep?: number;
  updates?: number;
  /** Mean losses over the last iteration with updates. */
  finalLosses?: Record<string, number>;
}

export interface Curve {
  envSteps: number[];
  mean: number[];
  std: number[];
}

/** One agent on one game: the final scores per seed and the learning curve. */
export interface AgentScores {
  final: number[];
  curve: Curve;
}

export interface EfficientZeroGameMetrics {
  game: MinAtarEnvId;
  /** The MinAtar reference implementation's random-policy return. */
  randomReturn: number;
  variants: Partial<Record<EfficientZeroVariant, AgentScores>>;
  dqn: AgentScores;
  dreamer: AgentScores | null;
}

export interface EfficientZeroMinatarMetrics {
  environmentSteps: number;
  seeds: number[];
  variants: EfficientZeroVariant[];
  games: EfficientZeroGameMetrics[];
  /** Mean training seconds per environment step of each variant, over its runs. */
  secondsPerStep: Partial<Record<EfficientZeroVariant, number>>;
  published: typeof EFFICIENT_ZERO_PUBLISHED;
}
