/**
 * A scripted dodger for TakeCover (Ha & Schmidhuber 2018, "World Models", section "VizDoom
 * Experiment") that sees the true state: it tries a few short plans (stay, or move left or right
 * for a number of frames and then stand), flies every fireball forward along its straight path, and
 * picks the plan that is hit last (best: never), keeps the widest berth and ends nearest the middle
 * of the room, where there is space to dodge either way. It is a reference score beside the learned
 * controllers.
 */
import type { TakeCover } from "./take_cover.ts";
import {
  TAKE_COVER_LEFT,
  TAKE_COVER_RIGHT,
  TAKE_COVER_RULES as R,
  TAKE_COVER_STAY,
} from "./take_cover_rules.ts";

/** Frames looked ahead: about the flight time of a fireball down the room. */
const HORIZON = 60;
/** How long a plan keeps moving before standing still. */
const HOLD_FRAMES = [2, 5, 10, 20, 40, 60];
/** Clearance beyond which a miss counts as safe. */
const SAFE_CLEARANCE = 1.5;

/** The action (0 stay, 1 left, 2 right) for the current state of `env`. */
export function scriptedTakeCoverAction(env: TakeCover): number {
  let bestAction = TAKE_COVER_STAY;
  let bestScore = planScore(env, 0, 0);
  for (let direction = -1; direction <= 1; direction += 2) {
    for (let h = 0; h < HOLD_FRAMES.length; h++) {
      const score = planScore(env, direction, HOLD_FRAMES[h]);
      if (score > bestScore) {
        bestScore = score;
        bestAction = direction < 0 ? TAKE_COVER_LEFT : TAKE_COVER_RIGHT;
      }
    }
  }
  return bestAction;
}

/** Higher is better: late or no hit first, then clearance, then ending near the middle. */
function planScore(env: TakeCover, direction: number, hold: number): number {
  const state = env.trueState();
  const limit = R.roomHalfWidth - R.agentRadius;
  const reach = R.agentRadius + R.fireballRadius;
  let firstHit = HORIZON + 1;
  let clearance = SAFE_CLEARANCE;
  for (let f = 0; f < state.fireballCount; f++) {
    const z = state.fireballZ[f], vz = state.fireballVelocityZ[f];
    if (vz >= 0) continue;
    // Frames during which the fireball is within reach in depth.
    const enter = Math.max(1, Math.floor((z - reach) / -vz));
    const exit = Math.min(HORIZON, Math.ceil((z + reach) / -vz));
    for (let t = enter; t <= exit; t++) {
      const dz = z + vz * t;
      const dx = state.fireballX[f] + state.fireballVelocityX[f] * t -
        positionAt(state.agentX, direction, hold, t, limit);
      const gap = Math.sqrt(dx * dx + dz * dz) - reach;
      if (gap < 0) {
        if (t < firstHit) firstHit = t;
        break;
      }
      if (gap < clearance) clearance = gap;
    }
  }
  const end = positionAt(state.agentX, direction, hold, HORIZON, limit);
  // Standing still breaks ties, so the dodger does not jitter.
  const effort = direction === 0 ? 0 : 0.01 + 0.001 * hold;
  return firstHit * 100 + clearance - 0.05 * Math.abs(end) - effort;
}

/** Where the agent is after t frames of the plan (moving for `hold` frames, then standing). */
function positionAt(start: number, direction: number, hold: number, t: number, limit: number) {
  return Math.max(-limit, Math.min(limit, start + direction * R.agentSpeed * Math.min(t, hold)));
}
