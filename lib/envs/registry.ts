/**
 * Environments by their Gymnasium-style ids, so experiment configs can name a task as a string.
 * `cartpole-swingup` follows dm_control's naming of the domain and task.
 */

import { UserError } from "../errors.ts";
import { AcrobotEnv } from "./acrobot.ts";
import { CartPoleEnv } from "./cartpole.ts";
import { CartPoleSwingupEnv } from "./cartpole_swingup.ts";
import { MountainCarEnv } from "./mountain_car.ts";
import { MountainCarContinuousEnv } from "./mountain_car_continuous.ts";
import { PendulumEnv } from "./pendulum.ts";

interface EnvsById {
  "CartPole-v1": CartPoleEnv;
  "Pendulum-v1": PendulumEnv;
  "MountainCar-v0": MountainCarEnv;
  "MountainCarContinuous-v0": MountainCarContinuousEnv;
  "Acrobot-v1": AcrobotEnv;
  "cartpole-swingup": CartPoleSwingupEnv;
}

export type EnvId = keyof EnvsById;

const FACTORIES: { readonly [Id in EnvId]: () => EnvsById[Id] } = {
  "CartPole-v1": () => new CartPoleEnv(),
  "Pendulum-v1": () => new PendulumEnv(),
  "MountainCar-v0": () => new MountainCarEnv(),
  "MountainCarContinuous-v0": () => new MountainCarContinuousEnv(),
  "Acrobot-v1": () => new AcrobotEnv(),
  "cartpole-swingup": () => new CartPoleSwingupEnv(),
};

export const ENV_IDS: readonly EnvId[] = Object.keys(FACTORIES) as EnvId[];

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
