/**
 * A scripted driver for CarRacing (Ha & Schmidhuber 2018, "World Models", section "Car Racing
 * Experiment") that sees the true track: pure pursuit on the centre line for steering, and a speed
 * limit from the curvature ahead (cornering grip, then braking distance) for gas and brake. It
 * shows the task is solvable in our simplified physics, and gives a reference score beside learned
 * controllers.
 */
import type { CarRacing } from "./car_racing.ts";
import { TRACK_DETAIL_STEP } from "./car_racing_track.ts";

/** Distance between the front and rear axles, world units (Gym's wheel positions). */
const WHEELBASE = 3.24;
const STEER_LIMIT = 0.4;
/** Lateral acceleration we allow in corners; below the tyres' limit of about 200 units/s^2. */
const CORNERING_ACCELERATION = 110;
/** Deceleration we count on when planning to brake before a corner. */
const BRAKING_ACCELERATION = 90;
/** How far ahead corners are looked for, in tiles. */
const PREVIEW_TILES = 45;
const TOP_SPEED = 100;

function wrapAngle(angle: number): number {
  return angle - 2 * Math.PI * Math.round(angle / (2 * Math.PI));
}

/** Writes [steer, gas, brake] for the current state of `env` into `out` and returns it. */
export function scriptedCarRacingAction(
  env: CarRacing,
  out: Float32Array = new Float32Array(3),
): Float32Array {
  const state = env.trackState();
  const { centreX, centreY, heading, tileCount } = state.track;
  let nearest = 0;
  let nearestDistance = Infinity;
  for (let i = 0; i < tileCount; i++) {
    const dx = centreX[i] - state.x, dy = centreY[i] - state.y;
    const distance = dx * dx + dy * dy;
    if (distance < nearestDistance) {
      nearestDistance = distance;
      nearest = i;
    }
  }

  // Steering: pure pursuit towards the centre line a speed-dependent distance ahead.
  const lookahead = 6 + 0.2 * state.speed;
  const target = (nearest + Math.max(1, Math.round(lookahead / TRACK_DETAIL_STEP))) % tileCount;
  const dx = centreX[target] - state.x, dy = centreY[target] - state.y;
  const cosA = Math.cos(state.angle), sinA = Math.sin(state.angle);
  const right = dx * cosA + dy * sinA;
  const squaredDistance = dx * dx + dy * dy;
  const curvature = (2 * right) / Math.max(squaredDistance, 1e-6);
  // Damp the yaw rate so the car does not swing out of drifts.
  const steerAngle = Math.atan(WHEELBASE * curvature) + 0.04 * state.angularVelocity;
  out[0] = Math.max(-1, Math.min(1, steerAngle / STEER_LIMIT));

  // Speed: the slowest of (corner speed + braking room) over the corners ahead.
  let targetSpeed = TOP_SPEED;
  for (let k = 1; k <= PREVIEW_TILES; k++) {
    const i = (nearest + k) % tileCount;
    const before = (i - 2 + tileCount) % tileCount, after = (i + 2) % tileCount;
    const bend = Math.abs(wrapAngle(heading[after] - heading[before])) / (4 * TRACK_DETAIL_STEP);
    const cornerSpeed = bend > 1e-6 ? Math.sqrt(CORNERING_ACCELERATION / bend) : TOP_SPEED;
    const distance = Math.max(0, (k - 1) * TRACK_DETAIL_STEP);
    const allowed = Math.sqrt(cornerSpeed * cornerSpeed + 2 * BRAKING_ACCELERATION * distance);
    if (allowed < targetSpeed) targetSpeed = allowed;
  }
  const error = targetSpeed - state.speed;
  out[1] = error > 0 ? Math.min(1, 0.1 * error) : 0;
  out[2] = error < -3 ? Math.min(0.8, -0.05 * error) : 0;
  return out;
}
