/**
 * The five MinAtar games (Young & Tian 2019, "MinAtar: An Atari-Inspired Testbed for Thorough and
 * Reproducible Reinforcement Learning Experiments", arXiv 1903.03176): Atari-like games on a 10x10
 * grid with one 0/1 observation channel per kind of object, six actions and sticky actions. See
 * shared.ts for what they share and each game's module for its rules.
 */
export * from "./shared.ts";
export { Asterix, ASTERIX_RULES } from "./asterix.ts";
export type { AsterixState } from "./asterix.ts";
export { Breakout } from "./breakout.ts";
export type { BreakoutState } from "./breakout.ts";
export {
  Freeway,
  FREEWAY_CHICKEN_X,
  FREEWAY_MOVE_COOLDOWN,
  FREEWAY_TIME_LIMIT,
} from "./freeway.ts";
export type { FreewayState } from "./freeway.ts";
export { Seaquest, SEAQUEST_RULES, SeaquestObjects } from "./seaquest.ts";
export type { SeaquestState } from "./seaquest.ts";
export { SPACE_INVADERS_RULES, SpaceInvaders } from "./space_invaders.ts";
export type { SpaceInvadersState } from "./space_invaders.ts";
