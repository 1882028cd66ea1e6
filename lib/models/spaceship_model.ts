/**
 * The learned model of the Imagination-based Planner (Pascanu et al. 2017, arXiv:1707.06170,
 * Section 2, "the model"): from a spaceship state and a force, the state after the drift, and the
 * loss that outcome carries. An MLP predicts the change of the ship's position and velocity;
 * the planets and the ship's mass are copied through, since nothing moves them. The loss is
 * computed from the predicted state the way the task computes it (distance to the target plus
 * fuel), so it is differentiable in the force: the planner's controller learns through it.
 *
 * Trained by regression on transitions under random forces (`spaceshipTransitions`), some from
 * rest and some from a ship already moving, since imagination chains start from imagined states.
 */
import { adam, tf } from "../tensor/mod.ts";
import { Rng } from "../rng.ts";
import {
  sampleSpaceshipState,
  simulateSpaceship,
  spaceshipObservationSize,
  type SpaceshipSettings,
} from "../envs/spaceship.ts";
import { dense, type Layer, ParameterSet, sequential } from "./nn.ts";

export interface SpaceshipModelConfig {
  hiddenSize: number;
  hiddenLayers: number;
}

/** The ship's changing part: x, y, vx, vy. */
const SHIP_DYNAMIC = 4;

export class SpaceshipModel {
  readonly params: ParameterSet;
  readonly stateSize: number;
  readonly #net: Layer;

  constructor(
    readonly settings: SpaceshipSettings,
    readonly config: SpaceshipModelConfig,
    seed: number,
  ) {
    this.stateSize = spaceshipObservationSize(settings);
    this.params = new ParameterSet("spaceship_model", new Rng(seed));
    const layers: Layer[] = [];
    let width = this.stateSize + 2;
    for (let i = 0; i < config.hiddenLayers; i++) {
      layers.push(dense(this.params, `hidden${i}`, width, config.hiddenSize, "relu"));
      width = config.hiddenSize;
    }
    layers.push(dense(this.params, "out", width, SHIP_DYNAMIC));
    this.#net = sequential(...layers);
  }

  /** The predicted state after the drift [B, S] from states [B, S] and forces [B, 2]. */
  predict(state: tf.Tensor2D, force: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const input = tf.concat([state, tf.div(force, this.settings.maxForce)], 1);
      const delta = this.#net.apply(input);
      const ship = tf.add(state.slice([0, 0], [-1, SHIP_DYNAMIC]), delta);
      return tf.concat([ship, state.slice([0, SHIP_DYNAMIC], [-1, -1])], 1) as tf.Tensor2D;
    });
  }

  /** The task's loss [B] of a (predicted) final state and the force that led there. */
  loss(finalState: tf.Tensor2D, force: tf.Tensor2D): tf.Tensor1D {
    return spaceshipLossTensor(finalState, force, this.settings);
  }

  /** One Adam step on the squared error of the predicted ship state; returns the loss. */
  trainStep(
    states: tf.Tensor2D,
    forces: tf.Tensor2D,
    targets: tf.Tensor2D,
    optimizer: tf.Optimizer,
  ): number {
    const cost = optimizer.minimize(
      () =>
        tf.mean(tf.square(tf.sub(
          this.predict(states, forces).slice([0, 0], [-1, SHIP_DYNAMIC]),
          targets.slice([0, 0], [-1, SHIP_DYNAMIC]),
        ))) as tf.Scalar,
      true,
      this.params.list(),
    )!;
    const value = cost.dataSync()[0];
    cost.dispose();
    return value;
  }

  dispose(): void {
    this.params.dispose();
  }
}

/** |position| + fuelPrice · relu(|F| - threshold), batched and differentiable. */
export function spaceshipLossTensor(
  finalState: tf.Tensor2D,
  force: tf.Tensor2D,
  settings: SpaceshipSettings,
): tf.Tensor1D {
  return tf.tidy(() => {
    // A tiny floor keeps the square roots differentiable at 0.
    const distance = tf.sqrt(tf.add(tf.sum(tf.square(finalState.slice([0, 0], [-1, 2])), 1), 1e-8));
    const push = tf.sqrt(tf.add(tf.sum(tf.square(force), 1), 1e-8));
    const fuel = tf.mul(tf.relu(tf.sub(push, settings.fuelThreshold)), settings.fuelPrice);
    return tf.add(distance, fuel) as tf.Tensor1D;
  });
}

/** Transitions under uniform random forces: states, forces and next states, row by row. */
export interface SpaceshipTransitions {
  count: number;
  states: Float32Array;
  forces: Float32Array;
  nextStates: Float32Array;
}

/**
 * `count` transitions under forces uniform in the force box; `movingShare` of them start from a
 * ship already set moving by one earlier random force (the states imagination chains reach).
 */
export function spaceshipTransitions(
  settings: SpaceshipSettings,
  count: number,
  rng: Rng,
  movingShare = 0.5,
): SpaceshipTransitions {
  const size = spaceshipObservationSize(settings);
  const states = new Float32Array(count * size);
  const forces = new Float32Array(count * 2);
  const nextStates = new Float32Array(count * size);
  const state = new Float32Array(size);
  const randomForce = () => rng.uniform(-settings.maxForce, settings.maxForce);
  for (let i = 0; i < count; i++) {
    sampleSpaceshipState(settings, rng, state);
    if (rng.next() < movingShare) {
      simulateSpaceship(state, randomForce(), randomForce(), settings, state);
    }
    const fx = randomForce(), fy = randomForce();
    states.set(state, i * size);
    forces[2 * i] = fx;
    forces[2 * i + 1] = fy;
    nextStates.set(simulateSpaceship(state, fx, fy, settings), i * size);
  }
  return { count, states, forces, nextStates };
}

/**
 * Fits the model on the transitions by minibatch Adam; returns the training loss per epoch-sized
 * stretch of updates (its last entry is the loss at the end).
 */
export function fitSpaceshipModel(
  model: SpaceshipModel,
  data: SpaceshipTransitions,
  options: { updates: number; batchSize: number; learningRate: number; rng: Rng },
): number[] {
  const size = model.stateSize;
  const optimizer = adam(options.learningRate);
  const batch = Math.min(options.batchSize, data.count);
  const states = new Float32Array(batch * size);
  const forces = new Float32Array(batch * 2);
  const targets = new Float32Array(batch * size);
  const curve: number[] = [];
  const every = Math.max(1, Math.floor(options.updates / 20));
  let sum = 0, n = 0;
  for (let update = 0; update < options.updates; update++) {
    for (let b = 0; b < batch; b++) {
      const i = options.rng.int(data.count);
      states.set(data.states.subarray(i * size, (i + 1) * size), b * size);
      forces.set(data.forces.subarray(2 * i, 2 * i + 2), 2 * b);
      targets.set(data.nextStates.subarray(i * size, (i + 1) * size), b * size);
    }
    const [s, f, t] = [
      tf.tensor2d(states, [batch, size]),
      tf.tensor2d(forces, [batch, 2]),
      tf.tensor2d(targets, [batch, size]),
    ];
    sum += model.trainStep(s, f, t, optimizer);
    n++;
    tf.dispose([s, f, t]);
    if ((update + 1) % every === 0 || update === options.updates - 1) {
      curve.push(sum / n);
      sum = 0;
      n = 0;
    }
  }
  optimizer.dispose();
  return curve;
}

/** Mean squared error of the predicted ship state on transitions (held-out ones, say). */
export function spaceshipModelError(model: SpaceshipModel, data: SpaceshipTransitions): number {
  return tf.tidy(() => {
    const size = model.stateSize;
    const predicted = model.predict(
      tf.tensor2d(data.states, [data.count, size]),
      tf.tensor2d(data.forces, [data.count, 2]),
    );
    const target = tf.tensor2d(data.nextStates, [data.count, size]);
    return tf.mean(tf.square(tf.sub(predicted, target))).dataSync()[0] * size / SHIP_DYNAMIC;
  });
}
