/**
 * A test problem for the shooting planners with a known best action sequence: a point mass of
 * unit mass on a line or plane (a double integrator) pushed by a bounded force, its exact
 * dynamics written as an `ImaginationModel`.
 *
 * Dynamics, semi-implicit Euler with time step dt and force u clipped to [-maxForce, maxForce]
 * per axis:  v' = v + dt u,  p' = p + dt v'.  The reward after each step is either
 *   "distance":  -|p' - goal|                      (Euclidean), or
 *   "quadratic": -|p' - goal|^2 - actionCost |u|^2.
 * Positions are linear in the forces, p_{t+1} = p_0 + (t+1) dt v_0 + dt^2 sum_{s<=t} (t-s+1) u_s,
 * so the optimum is exact in two cases: the quadratic reward has a unique maximiser given by the
 * normal equations (optimal under the bounds when it lies inside them), and the distance reward
 * with a goal out of reach on a line is maximised by full force towards the goal at every step
 * (each position grows with every earlier force). `optimalPlan` returns these.
 */
import { tf } from "../tensor/mod.ts";
import type { ImaginationModel } from "./types.ts";

export type PointMassReward = "distance" | "quadratic";

export interface PointMassOptions {
  /** Axes of motion: 1 (a line) or more. */
  dimensions: number;
  /** Goal position, one value per axis. */
  goal: ArrayLike<number>;
  /** Integration step dt in seconds (default 0.1). */
  timeStep?: number;
  /** Bound on the force per axis (default 1). */
  maxForce?: number;
  reward?: PointMassReward;
  /** Weight of the squared force in the quadratic reward (default 0.01). */
  actionCost?: number;
}

/** A start state: positions then velocities, [2 * dimensions]. */
export type PointMassState = ArrayLike<number>;

export class PointMass implements ImaginationModel<PointMassState> {
  readonly dimensions: number;
  readonly goal: Float64Array;
  readonly timeStep: number;
  readonly maxForce: number;
  readonly reward: PointMassReward;
  readonly actionCost: number;

  constructor(options: PointMassOptions) {
    this.dimensions = options.dimensions;
    if (!Number.isInteger(this.dimensions) || this.dimensions < 1) {
      throw new RangeError(`dimensions must be a positive integer, got ${options.dimensions}`);
    }
    if (options.goal.length !== this.dimensions) {
      throw new RangeError(`goal has ${options.goal.length} values for ${this.dimensions} axes`);
    }
    this.goal = Float64Array.from(options.goal);
    this.timeStep = options.timeStep ?? 0.1;
    this.maxForce = options.maxForce ?? 1;
    this.reward = options.reward ?? "distance";
    this.actionCost = options.actionCost ?? 0.01;
  }

  /** The action size planners should use. */
  get actionSize(): number {
    return this.dimensions;
  }

  #checkState(state: PointMassState): void {
    if (state.length !== 2 * this.dimensions) {
      throw new RangeError(
        `a point-mass state has ${2 * this.dimensions} values (positions, velocities), ` +
          `got ${state.length}`,
      );
    }
  }

  imagine(startState: PointMassState, actionSequences: tf.Tensor3D): tf.Tensor1D {
    this.#checkState(startState);
    const d = this.dimensions;
    const [candidates, horizon, actionSize] = actionSequences.shape;
    if (actionSize !== d) {
      throw new RangeError(`actions have ${actionSize} values per step, expected ${d}`);
    }
    return tf.tidy(() => {
      const dt = this.timeStep;
      const goal = tf.tensor2d(Float32Array.from(this.goal), [1, d]);
      let position: tf.Tensor = tf.tensor2d(Array.from(startState).slice(0, d), [1, d]);
      let velocity: tf.Tensor = tf.tensor2d(Array.from(startState).slice(d), [1, d]);
      let total: tf.Tensor = tf.zeros([candidates]);
      const forces = tf.unstack(
        tf.clipByValue(actionSequences, -this.maxForce, this.maxForce),
        1,
      );
      for (let t = 0; t < horizon; t++) {
        velocity = tf.add(velocity, tf.mul(forces[t], dt));
        position = tf.add(position, tf.mul(velocity, dt));
        const squaredDistance = tf.sum(tf.square(tf.sub(position, goal)), 1);
        const reward = this.reward === "distance" ? tf.neg(tf.sqrt(squaredDistance)) : tf.sub(
          tf.neg(squaredDistance),
          tf.mul(tf.sum(tf.square(forces[t]), 1), this.actionCost),
        );
        total = tf.add(total, reward);
      }
      return total as tf.Tensor1D;
    });
  }

  /**
   * The exact return of one sequence (row-major [horizon * dimensions]) in double precision, to
   * score a plan without the model's float32 rounding.
   */
  returnOf(startState: PointMassState, sequence: ArrayLike<number>): number {
    this.#checkState(startState);
    const d = this.dimensions;
    if (sequence.length % d !== 0) {
      throw new RangeError(`a sequence of ${sequence.length} values is not whole steps of ${d}`);
    }
    const position = Float64Array.from(Array.from(startState).slice(0, d));
    const velocity = Float64Array.from(Array.from(startState).slice(d));
    let total = 0;
    for (let t = 0; t < sequence.length / d; t++) {
      let squaredDistance = 0;
      let squaredForce = 0;
      for (let axis = 0; axis < d; axis++) {
        const force = Math.min(this.maxForce, Math.max(-this.maxForce, sequence[t * d + axis]));
        velocity[axis] += this.timeStep * force;
        position[axis] += this.timeStep * velocity[axis];
        squaredDistance += (position[axis] - this.goal[axis]) ** 2;
        squaredForce += force * force;
      }
      total += this.reward === "distance"
        ? -Math.sqrt(squaredDistance)
        : -squaredDistance - this.actionCost * squaredForce;
    }
    return total;
  }

  /**
   * The best sequence over `horizon` steps from `startState`, row-major [horizon * dimensions].
   * Throws when this problem has no exact answer here: a distance reward on more than one axis
   * or with a goal in reach, or a quadratic optimum outside the force bounds.
   */
  optimalPlan(startState: PointMassState, horizon: number): Float32Array {
    this.#checkState(startState);
    return this.reward === "distance"
      ? this.#fullForcePlan(startState, horizon)
      : this.#quadraticPlan(startState, horizon);
  }

  #fullForcePlan(startState: PointMassState, horizon: number): Float32Array {
    if (this.dimensions !== 1) {
      throw new Error("the distance optimum is known exactly only on a line (dimensions 1)");
    }
    const direction = Math.sign(this.goal[0] - startState[0]) || 1;
    const plan = new Float32Array(horizon).fill(direction * this.maxForce);
    // Out of reach: even full force towards the goal never reaches it within the horizon.
    let position = startState[0];
    let velocity = startState[1];
    for (let t = 0; t < horizon; t++) {
      velocity += this.timeStep * plan[t];
      position += this.timeStep * velocity;
      if (direction * (this.goal[0] - position) < 0) {
        throw new Error(`the goal is in reach at step ${t + 1}; no exact full-force optimum`);
      }
    }
    return plan;
  }

  #quadraticPlan(startState: PointMassState, horizon: number): Float32Array {
    const d = this.dimensions;
    const dt = this.timeStep;
    // influence[t][s]: how much force s moves position t+1 (zero for s > t).
    const influence = (t: number, s: number) => (s <= t ? dt * dt * (t - s + 1) : 0);
    const plan = new Float32Array(horizon * d);
    for (let axis = 0; axis < d; axis++) {
      // Position error with no force: e_t = p_0 + (t+1) dt v_0 - goal.
      const freeError = new Float64Array(horizon);
      for (let t = 0; t < horizon; t++) {
        freeError[t] = startState[axis] + (t + 1) * dt * startState[d + axis] - this.goal[axis];
      }
      // Normal equations (B^T B + c I) u = -B^T e.
      const matrix: number[][] = [];
      const rhs: number[] = [];
      for (let i = 0; i < horizon; i++) {
        matrix.push([]);
        let b = 0;
        for (let t = 0; t < horizon; t++) b -= influence(t, i) * freeError[t];
        rhs.push(b);
        for (let j = 0; j < horizon; j++) {
          let sum = i === j ? this.actionCost : 0;
          for (let t = 0; t < horizon; t++) sum += influence(t, i) * influence(t, j);
          matrix[i].push(sum);
        }
      }
      const forces = solveLinearSystem(matrix, rhs);
      for (let t = 0; t < horizon; t++) {
        if (Math.abs(forces[t]) > this.maxForce) {
          throw new Error(
            `the unconstrained optimum needs force ${forces[t].toFixed(3)} at step ${t} on ` +
              `axis ${axis}, beyond the bound ${this.maxForce}`,
          );
        }
        plan[t * d + axis] = forces[t];
      }
    }
    return plan;
  }
}

/** Solves A x = b by Gaussian elimination with partial pivoting (A is copied, not changed). */
export function solveLinearSystem(matrix: readonly number[][], rhs: readonly number[]): number[] {
  const n = rhs.length;
  const a = matrix.map((row, i) => [...row, rhs[i]]);
  for (let column = 0; column < n; column++) {
    let pivot = column;
    for (let row = column + 1; row < n; row++) {
      if (Math.abs(a[row][column]) > Math.abs(a[pivot][column])) pivot = row;
    }
    if (Math.abs(a[pivot][column]) < 1e-300) throw new Error("singular linear system");
    [a[column], a[pivot]] = [a[pivot], a[column]];
    for (let row = column + 1; row < n; row++) {
      const factor = a[row][column] / a[column][column];
      for (let k = column; k <= n; k++) a[row][k] -= factor * a[column][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let row = n - 1; row >= 0; row--) {
    let sum = a[row][n];
    for (let k = row + 1; k < n; k++) sum -= a[row][k] * x[k];
    x[row] = sum / a[row][row];
  }
  return x;
}
