/** Every reproduced experiment, by name, in reading order. */
import { UserError } from "../errors.ts";
import { comparison } from "./comparison/experiment.ts";
import { dynaMaze } from "./dyna/maze.ts";
import { dreamerCartpoleSwingup } from "./dreamer/swingup.ts";
import { dreamerV2Minatar } from "./dreamer/minatar.ts";
import { esVsRlSparse } from "./es-vs-rl/experiment.ts";
import { efficientZeroMinatar } from "./efficientzero/minatar.ts";
import { muZeroCartPole } from "./muzero/cartpole.ts";
import { muZeroConnectFour } from "./muzero/connect4.ts";
import { muZeroPlanning } from "./muzero/planning.ts";
import { muZeroTicTacToe } from "./muzero/tictactoe.ts";
import { planetCartpoleSwingup } from "./planet/swingup.ts";
import { planetPendulum } from "./planet/pendulum.ts";
import type { Experiment } from "./types.ts";
import { vqPlanning } from "./vq-planning/experiment.ts";
import { partialObservability } from "./partial-observability/experiment.ts";
import { imaginationBasedPlanner } from "./imagination-based-planner/experiment.ts";
import { worldModelsCarRacing } from "./world-models/carracing.ts";
import { worldModelsTakeCover } from "./world-models/takecover.ts";

// deno-lint-ignore no-explicit-any
export const EXPERIMENTS: readonly Experiment<any, any>[] = [
  dynaMaze,
  worldModelsCarRacing,
  worldModelsTakeCover,
  planetCartpoleSwingup,
  planetPendulum,
  dreamerCartpoleSwingup,
  dreamerV2Minatar,
  muZeroTicTacToe,
  muZeroConnectFour,
  muZeroCartPole,
  muZeroPlanning,
  efficientZeroMinatar,
  vqPlanning,
  partialObservability,
  imaginationBasedPlanner,
  esVsRlSparse,
  comparison,
];

// deno-lint-ignore no-explicit-any
export function getExperiment(name: string): Experiment<any, any> {
  const found = EXPERIMENTS.find((experiment) => experiment.name === name);
  if (!found) {
    const names = EXPERIMENTS.map((experiment) => experiment.name).join(", ");
    throw new UserError(`unknown experiment '${name}'; valid experiments are ${names}`);
  }
  return found;
}
