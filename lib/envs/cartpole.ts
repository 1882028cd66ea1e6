/**
 * CartPole-v1: Barto, Sutton & Anderson (1983), "Neuronlike adaptive elements that can solve
 * difficult learning control problems", with the equations of motion corrected by Florian (2007),
 * as implemented in Gymnasium's `classic_control/cartpole.py` (Towers et al. 2023).
 *
 * A pole hinged on a cart that is pushed left or right with a fixed force. Same constants,
 * explicit Euler integration, thresholds, start distribution and default reward (+1 on every step,
 * the terminating one included) as Gymnasium; a 500-step limit as in its registration.
 * Where ours differs: stepping after the episode ended is an error here (Gymnasium warns and pays
 * 0), and the pixel view is a small uint8 image for pixel-based agents, not pygame's 600x400.
 */

import type { Rng } from "../rng.ts";
import { ClassicControlEnv } from "./classic_env.ts";
import { fillCapsule, fillRect, fillRows, imageBuffer, type Renderable } from "./render.ts";
import { type Action, boxSpec, checkDiscreteAction } from "./types.ts";

const FLOAT32_MAX = 3.4028234663852886e38;

export const CARTPOLE_CONSTANTS = {
  gravity: 9.8,
  cartMass: 1.0,
  poleMass: 0.1,
  /** Half the pole's length, in metres. */
  poleHalfLength: 0.5,
  /** Force of a push, in newtons. */
  forceMagnitude: 10.0,
  /** Seconds per step. */
  tau: 0.02,
  /** |theta| beyond 12 degrees ends the episode. */
  thetaThreshold: (12 * 2 * Math.PI) / 360,
  /** |x| beyond 2.4 m ends the episode. */
  xThreshold: 2.4,
  maxEpisodeSteps: 500,
} as const;

const C = CARTPOLE_CONSTANTS;
const TOTAL_MASS = C.poleMass + C.cartMass;
const POLE_MASS_LENGTH = C.poleMass * C.poleHalfLength;

/**
 * Observation: [cart position, cart velocity, pole angle, pole angular velocity], the angle 0 when
 * upright and positive when the pole leans towards +x. Actions: 0 pushes left, 1 pushes right.
 */
export class CartPoleEnv extends ClassicControlEnv implements Renderable {
  constructor() {
    super({
      id: "CartPole-v1",
      // Twice the thresholds, so the observation that ends an episode is still inside the box.
      observationSpec: boxSpec(
        [4],
        [-C.xThreshold * 2, -FLOAT32_MAX, -C.thetaThreshold * 2, -FLOAT32_MAX],
        [C.xThreshold * 2, FLOAT32_MAX, C.thetaThreshold * 2, FLOAT32_MAX],
      ),
      actionSpec: { kind: "discrete", n: 2 },
      maxEpisodeSteps: C.maxEpisodeSteps,
      stateNames: ["x", "xDot", "theta", "thetaDot"],
    });
  }

  protected sampleInitialState(rng: Rng): void {
    for (let i = 0; i < 4; i++) this.state[i] = rng.uniform(-0.05, 0.05);
  }

  protected transition(action: Action): number {
    const push = checkDiscreteAction(this.id, action, 2);
    const s = this.state;
    const x = s[0], xDot = s[1], theta = s[2], thetaDot = s[3];
    const force = push === 1 ? C.forceMagnitude : -C.forceMagnitude;
    const cosTheta = Math.cos(theta);
    const sinTheta = Math.sin(theta);
    const temp = (force + POLE_MASS_LENGTH * thetaDot * thetaDot * sinTheta) / TOTAL_MASS;
    const thetaAcc = (C.gravity * sinTheta - cosTheta * temp) /
      (C.poleHalfLength * (4.0 / 3.0 - (C.poleMass * cosTheta * cosTheta) / TOTAL_MASS));
    const xAcc = temp - (POLE_MASS_LENGTH * thetaAcc * cosTheta) / TOTAL_MASS;
    // Explicit Euler: positions move with the old velocities.
    s[0] = x + C.tau * xDot;
    s[1] = xDot + C.tau * xAcc;
    s[2] = theta + C.tau * thetaDot;
    s[3] = thetaDot + C.tau * thetaAcc;
    return 1.0;
  }

  protected isTerminal(): boolean {
    const x = this.state[0], theta = this.state[2];
    return x < -C.xThreshold || x > C.xThreshold || theta < -C.thetaThreshold ||
      theta > C.thetaThreshold;
  }

  protected writeObservation(out: Float32Array): void {
    out.set(this.state);
  }

  /** Cart, pole and track, framed like Gymnasium's view: 4.8 m across, track at 60% height. */
  render(out?: Uint8Array, size = 64): Uint8Array {
    this.assertStarted("render");
    const image = imageBuffer(this.id, out, size);
    const scale = size / (C.xThreshold * 2);
    const trackY = size * 0.6;
    const cartX = size / 2 + this.state[0] * scale;
    const cartHalfWidth = Math.max(1.5, 0.2 * scale);
    const cartHalfHeight = Math.max(1, 0.12 * scale);
    const poleRadius = Math.max(1, 0.04 * scale);
    const poleLength = 2 * C.poleHalfLength * scale;
    const pivotY = trackY - cartHalfHeight / 2;
    const theta = this.state[2];
    fillRows(image, size, 0, size, 0xffffff);
    fillRect(image, size, 0, trackY - 0.5, size, trackY + 0.5, 0x000000);
    fillRect(
      image,
      size,
      cartX - cartHalfWidth,
      trackY - cartHalfHeight,
      cartX + cartHalfWidth,
      trackY + cartHalfHeight,
      0x000000,
    );
    fillCapsule(
      image,
      size,
      cartX,
      pivotY,
      cartX + poleLength * Math.sin(theta),
      pivotY - poleLength * Math.cos(theta),
      poleRadius,
      0xca9865,
    );
    fillCapsule(image, size, cartX, pivotY, cartX, pivotY, poleRadius, 0x8184cb);
    return image;
  }
}
