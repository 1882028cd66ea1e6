/**
 * The spaceship task of Pascanu, Li, Vinyals, Heess, Buesing, Racanière, Reichert, Weber,
 * Wierstra & Battaglia (2017), "Learning model-based planning from scratch" (arXiv:1707.06170),
 * Section 3, in its single-action form: a ship floats among planets that stay put and pull it
 * by gravity; the agent fires the ship's thrusters once, with a 2-D force, and the ship then
 * drifts for a fixed number of simulation steps. The loss is the ship's distance to the target
 * (the origin) at the end, plus a fuel cost on the force; the reward is minus the loss.
 *
 * Physics: Newtonian gravity between the ship and each planet, integrated by semi-implicit
 * (symplectic) Euler steps, so with no damping the energy stays nearly constant over a drift. The
 * force acts during the first step only, an impulse of F dt.
 *
 * Where the paper is vague or its text was not verified (see SPACESHIP_PAPER_READING), the
 * choices are ours: gravity is softened (Plummer, radius `softening`) so a close pass cannot blow
 * up; the ship starts at rest; the fuel cost charges the Euclidean norm of the force above a
 * free threshold; the force is clipped to a box of ±`maxForce` per component.
 */
import { Rng } from "../rng.ts";
import { assertCanStep, type EpisodePhase } from "./classic_env.ts";
import {
  type Action,
  type BoxSpec,
  boxSpec,
  type Env,
  readBoxAction,
  type StepResult,
} from "./types.ts";

export interface SpaceshipSettings {
  numPlanets: number;
  /** Planet masses are drawn uniformly from [low, high]. */
  planetMass: readonly [number, number];
  /** Planet distances from the target, uniform in [low, high], at a uniform angle. */
  planetDistance: readonly [number, number];
  shipMass: readonly [number, number];
  /** The ship's start distance from the target, uniform in [low, high], at a uniform angle. */
  shipDistance: readonly [number, number];
  /** Gravitational constant G in F = G M m r / |r|³. */
  gravity: number;
  /** Plummer softening radius ε: |r|² becomes |r|² + ε². */
  softening: number;
  /** Linear drag coefficient on the velocity (0: none). */
  damping: number;
  /** Euler step Δt. */
  timeStep: number;
  /** Simulation steps after the force, one episode. */
  driftSteps: number;
  /** Fuel cost = fuelPrice · max(0, |F| - fuelThreshold). */
  fuelPrice: number;
  fuelThreshold: number;
  /** Each force component is clipped to [-maxForce, maxForce]. */
  maxForce: number;
}

/**
 * What we could read of the paper's settings, not verified against the paper's text: these
 * numbers come from a third-party reimplementation that attributes them to the paper (Euler step
 * 0.05, fuel price 0.0002 above a threshold of 8, ship mass in [0.004, 0.36] at distance
 * [0.6, 1.0], planet mass in [0.08, 0.4] at distance [0.4, 1.0], 12 simulation steps per action)
 * and says that it guessed G and the damping itself. Three planets, G = 1, no damping, the
 * softening and the force box are our choices.
 */
export const SPACESHIP_PAPER_READING: SpaceshipSettings = {
  numPlanets: 3,
  planetMass: [0.08, 0.4],
  planetDistance: [0.4, 1.0],
  shipMass: [0.004, 0.36],
  shipDistance: [0.6, 1.0],
  gravity: 1,
  softening: 0.1,
  damping: 0,
  timeStep: 0.05,
  driftSteps: 12,
  fuelPrice: 0.0002,
  fuelThreshold: 8,
  maxForce: 16,
};

/**
 * The settings our laptop runs use: the paper's reading with the ship's mass kept in [0.12, 0.36].
 * Down to 0.004 the same force moves the ship 90 times further, and a small model trained for
 * minutes cannot learn that 1/m range; the planets, distances and costs are unchanged.
 */
export const SPACESHIP_DEFAULTS: SpaceshipSettings = {
  ...SPACESHIP_PAPER_READING,
  shipMass: [0.12, 0.36],
};

/** Where things sit in an observation: ship x, y, vx, vy, mass, then x, y, mass per planet. */
export const SHIP_STATE_SIZE = 5;
export const PLANET_STATE_SIZE = 3;

export function spaceshipObservationSize(settings: SpaceshipSettings): number {
  return SHIP_STATE_SIZE + PLANET_STATE_SIZE * settings.numPlanets;
}

/** A new layout drawn from `rng`: planets and the ship's start, ship at rest. */
export function sampleSpaceshipState(
  settings: SpaceshipSettings,
  rng: Rng,
  out: Float32Array = new Float32Array(spaceshipObservationSize(settings)),
): Float32Array {
  const polar = (range: readonly [number, number]) => {
    const radius = rng.uniform(range[0], range[1]);
    const angle = rng.uniform(0, 2 * Math.PI);
    return [radius * Math.cos(angle), radius * Math.sin(angle)];
  };
  const [x, y] = polar(settings.shipDistance);
  out[0] = x;
  out[1] = y;
  out[2] = 0;
  out[3] = 0;
  out[4] = rng.uniform(settings.shipMass[0], settings.shipMass[1]);
  for (let p = 0; p < settings.numPlanets; p++) {
    const [px, py] = polar(settings.planetDistance);
    const at = SHIP_STATE_SIZE + PLANET_STATE_SIZE * p;
    out[at] = px;
    out[at + 1] = py;
    out[at + 2] = rng.uniform(settings.planetMass[0], settings.planetMass[1]);
  }
  return out;
}

/** The fuel cost of a (clipped) force. */
export function fuelCost(forceX: number, forceY: number, settings: SpaceshipSettings): number {
  return settings.fuelPrice * Math.max(0, Math.hypot(forceX, forceY) - settings.fuelThreshold);
}

/**
 * Applies `force` for one step and drifts `driftSteps` steps in all, from `state` into `out`
 * (which may be `state`); calls `visit` with the ship's position after every step when given.
 */
export function simulateSpaceship(
  state: Float32Array,
  forceX: number,
  forceY: number,
  settings: SpaceshipSettings,
  out: Float32Array = new Float32Array(state.length),
  visit?: (x: number, y: number) => void,
): Float32Array {
  if (out !== state) out.set(state);
  let x = state[0], y = state[1], vx = state[2], vy = state[3];
  const mass = state[4];
  const dt = settings.timeStep;
  const soft2 = settings.softening ** 2;
  for (let step = 0; step < settings.driftSteps; step++) {
    // Acceleration of the ship: gravity of every planet, drag, and the thrust on the first step.
    let ax = 0, ay = 0;
    for (let p = 0; p < settings.numPlanets; p++) {
      const at = SHIP_STATE_SIZE + PLANET_STATE_SIZE * p;
      const dx = state[at] - x, dy = state[at + 1] - y;
      const r2 = dx * dx + dy * dy + soft2;
      const pull = settings.gravity * state[at + 2] / (r2 * Math.sqrt(r2));
      ax += pull * dx;
      ay += pull * dy;
    }
    ax -= settings.damping * vx / mass;
    ay -= settings.damping * vy / mass;
    if (step === 0) {
      ax += forceX / mass;
      ay += forceY / mass;
    }
    vx += dt * ax;
    vy += dt * ay;
    x += dt * vx;
    y += dt * vy;
    visit?.(x, y);
  }
  out[0] = x;
  out[1] = y;
  out[2] = vx;
  out[3] = vy;
  return out;
}

/** The loss of an outcome: the distance of the final state's ship to the target, plus fuel. */
export function spaceshipLoss(
  finalState: ArrayLike<number>,
  forceX: number,
  forceY: number,
  settings: SpaceshipSettings,
): number {
  return Math.hypot(finalState[0], finalState[1]) + fuelCost(forceX, forceY, settings);
}

/**
 * The task behind the shared interface: `reset(seed)` draws a layout, `step(force)` fires the
 * thrusters, lets the ship drift and ends the episode with reward minus the loss. The observation
 * after the step is the ship's final state.
 */
export class SpaceshipEnv implements Env<Float32Array> {
  readonly id = "Spaceship-v0";
  readonly observationSpec: BoxSpec;
  readonly actionSpec: BoxSpec;
  readonly maxEpisodeSteps = 1;
  readonly settings: SpaceshipSettings;
  readonly #observation: Float32Array;
  readonly #force = new Float32Array(2);
  readonly #result: StepResult<Float32Array>;
  #phase: EpisodePhase = "before-reset";

  constructor(settings: SpaceshipSettings = SPACESHIP_DEFAULTS) {
    if (!Number.isInteger(settings.numPlanets) || settings.numPlanets < 0) {
      throw new RangeError(
        `Spaceship-v0: numPlanets must be a non-negative integer, got ${settings.numPlanets}`,
      );
    }
    if (!(settings.shipMass[0] > 0)) {
      throw new RangeError(`Spaceship-v0: ship masses must be positive, got ${settings.shipMass}`);
    }
    this.settings = settings;
    const size = spaceshipObservationSize(settings);
    this.observationSpec = boxSpec([size], -Infinity, Infinity);
    this.actionSpec = boxSpec([2], -settings.maxForce, settings.maxForce);
    this.#observation = new Float32Array(size);
    this.#result = {
      observation: this.#observation,
      reward: 0,
      terminated: false,
      truncated: false,
    };
  }

  reset(seed?: number): Float32Array {
    sampleSpaceshipState(this.settings, new Rng(seed ?? 0), this.#observation);
    this.#phase = "running";
    return this.#observation;
  }

  /** Sets the layout directly (a copy of `state`), for tests and figures. */
  resetTo(state: ArrayLike<number>): Float32Array {
    if (state.length !== this.#observation.length) {
      throw new RangeError(
        `Spaceship-v0: a state has ${this.#observation.length} numbers, got ${state.length}`,
      );
    }
    this.#observation.set(state);
    this.#phase = "running";
    return this.#observation;
  }

  step(action: Action): StepResult<Float32Array> {
    assertCanStep(this.id, this.#phase, this.#phase === "ended" ? 1 : 0);
    const [fx, fy] = readBoxAction(this.id, action, this.actionSpec, this.#force);
    simulateSpaceship(this.#observation, fx, fy, this.settings, this.#observation);
    this.#result.reward = -spaceshipLoss(this.#observation, fx, fy, this.settings);
    this.#result.terminated = true;
    this.#phase = "ended";
    return this.#result;
  }
}
