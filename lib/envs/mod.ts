/**
 * The environments of the library behind one Gymnasium-style interface: the classic control tasks,
 * the gridworld mazes of Sutton & Barto, a batched form for planners and evolution, and pixel
 * views for pixel-based agents.
 */

export * from "./types.ts";
export { ClassicControlEnv, EpisodeOrderError } from "./classic_env.ts";
export type { ClassicEnvConfig } from "./classic_env.ts";
export { CARTPOLE_CONSTANTS, CartPoleEnv } from "./cartpole.ts";
export { angleNormalize, PENDULUM_CONSTANTS, PendulumEnv } from "./pendulum.ts";
export { MOUNTAIN_CAR_CONSTANTS, MountainCarEnv } from "./mountain_car.ts";
export {
  MOUNTAIN_CAR_CONTINUOUS_CONSTANTS,
  MountainCarContinuousEnv,
} from "./mountain_car_continuous.ts";
export { ACROBOT_CONSTANTS, acrobotDerivatives, AcrobotEnv } from "./acrobot.ts";
export {
  capsuleInertia,
  CARTPOLE_SWINGUP_CONSTANTS,
  CartPoleSwingupEnv,
  cartpoleSwingupReward,
} from "./cartpole_swingup.ts";
export {
  BLOCKING_MAZE_AFTER,
  BLOCKING_MAZE_BEFORE,
  DYNA_MAZE,
  GridMaze,
  MAZE_ACTIONS,
} from "./grid_maze.ts";
export type { MazeLayout } from "./grid_maze.ts";
export { tolerance } from "./tolerance.ts";
export type { ToleranceOptions, ToleranceSigmoid } from "./tolerance.ts";
export { fillCapsule, fillRect, fillRows, imageBuffer, isRenderable } from "./render.ts";
export type { Renderable, Rgb } from "./render.ts";
export { PixelObservationEnv } from "./pixels.ts";
export { VectorEnv } from "./vector.ts";
export type { VectorEnvOptions } from "./vector.ts";
export { ENV_IDS, isEnvId, makeEnv, REWARD_THRESHOLDS } from "./registry.ts";
export type { EnvId } from "./registry.ts";
