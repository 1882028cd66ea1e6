/**
 * Environments by their Gymnasium-style ids, so experiment configs can name a task as a string.
 * `cartpole-swingup` follows dm_control's naming of the domain and task; the MinAtar games take
 * the reference implementation's Gymnasium ids for the full six-action set ("-v0").
 */

import { UserError } from "../errors.ts";
import { AcrobotEnv } from "./acrobot.ts";
import { CarRacing } from "./car_racing.ts";
import { CartPoleEnv } from "./cartpole.ts";
import { CartPoleSwingupEnv } from "./cartpole_swingup.ts";
import { Asterix } from "./minatar/asterix.ts";
import { Breakout } from "./minatar/breakout.ts";
import { Freeway } from "./minatar/freeway.ts";
import { Seaquest } from "./minatar/seaquest.ts";
import { SpaceInvaders } from "./minatar/space_invaders.ts";
import { MountainCarEnv } from "./mountain_car.ts";
import { MountainCarContinuousEnv } from "./mountain_car_continuous.ts";
import { PendulumEnv } from "./pendulum.ts";
import { TakeCover } from "./take_cover.ts";

/** The state-vector tasks; their observations are Float32Array. */
interface ClassicControlEnvsById {
  "CartPole-v1": CartPoleEnv;
  "Pendulum-v1": PendulumEnv;
  "MountainCar-v0": MountainCarEnv;
  "MountainCarContinuous-v0": MountainCarContinuousEnv;
  "Acrobot-v1": AcrobotEnv;
  "cartpole-swingup": CartPoleSwingupEnv;
}

/** The pixel tasks of World Models; their observations are 64x64x3 Uint8Array frames. */
interface PixelEnvsById {
  "CarRacing-v0": CarRacing;
  "TakeCover-v0": TakeCover;
}

/** The MinAtar games (Young & Tian 2019); their observations are 10x10xC Float32Array grids. */
interface MinAtarEnvsById {
  "MinAtar/Asterix-v0": Asterix;
  "MinAtar/Breakout-v0": Breakout;
  "MinAtar/Freeway-v0": Freeway;
  "MinAtar/Seaquest-v0": Seaquest;
  "MinAtar/SpaceInvaders-v0": SpaceInvaders;
}

interface EnvsById extends ClassicControlEnvsById, PixelEnvsById, MinAtarEnvsById {}

export type EnvId = keyof EnvsById;
export type ClassicControlEnvId = keyof ClassicControlEnvsById;
export type MinAtarEnvId = keyof MinAtarEnvsById;

const FACTORIES: { readonly [Id in EnvId]: () => EnvsById[Id] } = {
  "CartPole-v1": () => new CartPoleEnv(),
  "Pendulum-v1": () => new PendulumEnv(),
  "MountainCar-v0": () => new MountainCarEnv(),
  "MountainCarContinuous-v0": () => new MountainCarContinuousEnv(),
  "Acrobot-v1": () => new AcrobotEnv(),
  "cartpole-swingup": () => new CartPoleSwingupEnv(),
  "CarRacing-v0": () => new CarRacing(),
  "TakeCover-v0": () => new TakeCover(),
  "MinAtar/Asterix-v0": () => new Asterix(),
  "MinAtar/Breakout-v0": () => new Breakout(),
  "MinAtar/Freeway-v0": () => new Freeway(),
  "MinAtar/Seaquest-v0": () => new Seaquest(),
  "MinAtar/SpaceInvaders-v0": () => new SpaceInvaders(),
};

export const ENV_IDS: readonly EnvId[] = Object.keys(FACTORIES) as EnvId[];

export const CLASSIC_CONTROL_IDS: readonly ClassicControlEnvId[] = [
  "CartPole-v1",
  "Pendulum-v1",
  "MountainCar-v0",
  "MountainCarContinuous-v0",
  "Acrobot-v1",
  "cartpole-swingup",
];

export const MINATAR_IDS: readonly MinAtarEnvId[] = [
  "MinAtar/Asterix-v0",
  "MinAtar/Breakout-v0",
  "MinAtar/Freeway-v0",
  "MinAtar/Seaquest-v0",
  "MinAtar/SpaceInvaders-v0",
];

export function isClassicControlId(id: string): id is ClassicControlEnvId {
  return (CLASSIC_CONTROL_IDS as readonly string[]).includes(id);
}

/**
 * Average return at which Gymnasium's registration calls a task solved; dm_control sets none for
 * the swing-up.
 */
export const REWARD_THRESHOLDS: { readonly [Id in EnvId]: number | null } = {
  "CartPole-v1": 475,
  "Pendulum-v1": null,
  "MountainCar-v0": -110,
  "MountainCarContinuous-v0": 90,
  "Acrobot-v1": -100,
  "cartpole-swingup": null,
  // World Models (Ha & Schmidhuber 2018): "solved" as the paper uses the word.
  "CarRacing-v0": 900,
  "TakeCover-v0": 750,
  // MinAtar defines no solved score.
  "MinAtar/Asterix-v0": null,
  "MinAtar/Breakout-v0": null,
  "MinAtar/Freeway-v0": null,
  "MinAtar/Seaquest-v0": null,
  "MinAtar/SpaceInvaders-v0": null,
};

export function isEnvId(id: string): id is EnvId {
  return Object.hasOwn(FACTORIES, id);
}

/** A fresh environment for `id`; an unknown id is a `UserError` listing the valid ones. */
export function makeEnv<Id extends EnvId>(id: Id): EnvsById[Id];
export function makeEnv(id: string): EnvsById[EnvId];
export function makeEnv(id: string): EnvsById[EnvId] {
  if (!isEnvId(id)) {
    throw new UserError(`Unknown environment id "${id}"; valid ids are: ${ENV_IDS.join(", ")}`);
  }
  return FACTORIES[id]();
}
