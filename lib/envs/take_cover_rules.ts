/**
 * The rules and pace of TakeCover (Ha & Schmidhuber 2018, "World Models", section "VizDoom
 * Experiment"), shared by the environment (lib/envs/take_cover.ts) and the scripted dodger. Room
 * units and frames; the values are calibrated so that a uniformly random policy survives about
 * 210 +- 108 frames, the paper's number for VizDoom's take_cover.
 */

/** Side of the square observation. */
export const TAKE_COVER_SIZE = 64;
/** Actions: stay, move left, move right. */
export const TAKE_COVER_STAY = 0;
export const TAKE_COVER_LEFT = 1;
export const TAKE_COVER_RIGHT = 2;

/** The room's geometry and the game's pace, in room units and frames. */
export const TAKE_COVER_RULES = {
  /** The room spans x in [-roomHalfWidth, roomHalfWidth]. */
  roomHalfWidth: 8,
  /** Monsters stand at z = roomDepth. */
  roomDepth: 10,
  agentRadius: 0.5,
  /** Distance moved per frame when moving. */
  agentSpeed: 0.3,
  fireballRadius: 0.45,
  /** Distance a fireball flies per frame. */
  fireballSpeed: 0.22,
  /** Monsters at the start, and most at once. */
  initialMonsters: 1,
  maxMonsters: 12,
  /** Frames between new monsters. */
  spawnInterval: 200,
  /** Each monster throws again after a uniform number of frames in this range. */
  minThrowInterval: 10,
  maxThrowInterval: 200,
  /** Largest number of fireballs in flight (older ones are long past the agent by then). */
  maxFireballs: 64,
} as const;
