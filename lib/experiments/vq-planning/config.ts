/**
 * The `vq-planning` experiment's configuration and metrics (Ozair et al. 2021, "Vector Quantized
 * Models for Planning", Section 5.1; and the study notes' line on DreamerV2's codes): a zod schema,
 * and what each stage records for the claims and figures.
 */
import { z } from "zod";
import { vqPlanningConfigSchema, type VqTrainingPoint } from "../../agents/vq_planning.ts";
import type { MatchRecord } from "../../agents/muzero_play.ts";

const seeds = z.array(z.number().int().nonnegative()).min(1);
const count = (max: number) => z.number().int().min(1).max(max);

export const MINATAR_FRAME_GAMES = [
  "MinAtar/Asterix-v0",
  "MinAtar/Breakout-v0",
  "MinAtar/Freeway-v0",
  "MinAtar/Seaquest-v0",
  "MinAtar/SpaceInvaders-v0",
] as const;

export const vqPlanningExperimentSchema = z.object({
  seeds,
  /**
   * Share of the stochastic opponent's moves that are uniformly random; the rest are the
   * tactical player's (lib/envs/tictactoe_tactics.ts). The deterministic opponent has none.
   */
  opponentRandomShare: z.number().gt(0).max(1),
  /**
   * Uniformly random moves (both sides) opening every game, in the data and in evaluation, so a
   * fixed opponent meets many lines and the data covers where the agent will play.
   */
  openingMoves: z.number().int().min(0).max(8),
  data: z.object({
    /** Games in each offline dataset (one per seed and opponent, shared by both models). */
    games: count(10_000_000),
    /** Share of the behaviour's moves that are random; the rest are the tactical player's. */
    behaviourRandomShare: z.number().min(0).max(1),
  }).strict(),
  /** The VQ model; the deterministic one is the same with one code. */
  agent: vqPlanningConfigSchema,
  evaluation: z.object({
    /** Games per model, seed and opponent. */
    games: count(10_000_000),
  }).strict(),
  frames: z.object({
    game: z.enum(MINATAR_FRAME_GAMES),
    /** Frames of random play to train on, and held out to measure on. */
    trainFrames: count(10_000_000),
    testFrames: count(1_000_000),
    updates: count(10_000_000),
    batchSize: count(65_536),
    hiddenSize: count(4096),
    /** Slots per frame and classes (codes) per slot (DreamerV2: 32 and 32). */
    variables: count(1024),
    classes: count(1024),
    codeSize: count(1024),
    /** DreamerV2's KL scale for Atari, 0.1, here against a uniform prior. */
    klScale: z.number().min(0),
    learningRate: z.number().positive(),
  }).strict(),
}).strict();

export type VqPlanningExperimentConfig = z.infer<typeof vqPlanningExperimentSchema>;

export const OPPONENTS = ["stochastic", "deterministic"] as const;
export type OpponentKind = typeof OPPONENTS[number];
export const MODELS = ["vq", "deterministic"] as const;
export type ModelKind = typeof MODELS[number];

/** One model of one seed against one opponent. */
export interface ModelRun {
  /** The agent searching at the configured simulations. */
  searched: MatchRecord;
  /** The same model with one simulation: its prior policy's first choice. */
  prior: MatchRecord;
  curve: VqTrainingPoint[];
  /** Codes the encoder gives the dataset's real steps: distinct ones and their perplexity. */
  codes: { distinct: number; perplexity: number };
  trainingSeconds: number;
}

export interface OpponentResult {
  opponent: OpponentKind;
  randomShare: number;
  /** Exact expectimax against this opponent, played the same way: the ceiling. */
  optimal: MatchRecord;
  /** The behaviour's good player alone (no model, no search). */
  tactical: MatchRecord;
  seeds: { seed: number; vq: ModelRun; deterministic: ModelRun }[];
}

/** One bottleneck's measurements on held-out frames. */
export interface FrameCodes {
  /** Sigmoid cross-entropy per frame, through the codes (nearest, or most likely class). */
  crossEntropy: number;
  /** Cells per frame whose reconstruction rounds to the wrong value. */
  wrongCells: number;
  /** exp(entropy) of the codes a slot takes over the frames, averaged over slots. */
  perplexity: number;
  /** Distinct codes used by any slot (of `classes` for the codebook, `classes` per slot else). */
  distinctCodes: number;
  /** The categorical posterior's largest class probability, mean over slots (1 for a VQ). */
  maxProbability: number;
  curve: { update: number; reconstruction: number; regulariser: number }[];
}

export interface FramesResult {
  game: string;
  classes: number;
  variables: number;
  /** Lit cells per frame on average, to read the errors against. */
  litCells: number;
  seeds: { seed: number; codebook: FrameCodes; categorical: FrameCodes }[];
}

export interface VqPlanningMetrics {
  simulations: number;
  numCodes: number;
  opponents: OpponentResult[];
  frames: FramesResult;
}
