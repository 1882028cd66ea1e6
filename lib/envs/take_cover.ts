/**
 * TakeCover, the second task of Ha & Schmidhuber (2018), "World Models" (section "VizDoom
 * Experiment"): VizDoom's take_cover scenario as a 2-D game seen in a first-person 64x64 RGB view
 * (Uint8Array, height x width x channel).
 *
 * The room is a floor plan: x across (the agent's only axis of motion), z the depth away from it.
 * The agent stands at the near end (z = 0) and each frame can stay (0), move left (1) or move
 * right (2). Monsters stand against the far wall and throw fireballs aimed at where the agent is
 * when they throw; the fireballs fly straight at constant speed. More monsters appear the longer
 * the agent survives, as in VizDoom, so the fire grows denser. Reward +1 per frame survived; a
 * fireball touching the agent ends the episode (terminated); 2100 frames truncate it (VizDoom's
 * limit, one minute at 35 frames per second). `trueState()` gives positions and velocities of
 * the agent, monsters and fireballs, for the scripted dodger `scriptedTakeCoverAction`.
 *
 * The view is a pinhole camera a little behind the agent looking down the room (90 degree field
 * of view across, like Doom's, and Doom's 4:3 frame squeezed into the square, as the paper
 * resizes its frames): floor, ceiling and brick walls, monsters as figures on the far wall (they
 * glow just before they throw), and fireballs as bright discs that grow as they approach, so how
 * one is flying can be read off a few frames. Rendered with a ray per column for the walls and
 * depth-sorted sprites.
 *
 * The constants (lib/envs/take_cover_rules.ts) are calibrated so that a uniformly random policy
 * survives about 210 +- 108 frames, the paper's number for VizDoom: we measure 216 +- 109 over
 * 1,000 episodes (bench/envs_pixels.ts); the scripted dodger survives all 2100 frames on the
 * seeds we tried. For batches: `new VectorEnv(() => new TakeCover(), n)` (lib/envs/vector.ts).
 *
 * Where it differs from VizDoom: no 3-D map, monster AI or animation; fireballs fly straight at
 * one height and never miss by bouncing; the agent moves at a constant speed without Doom's
 * momentum; one step is one frame (no frame skip).
 */
import { Rng } from "../rng.ts";
import { assertCanStep, EpisodeOrderError, type EpisodePhase } from "./classic_env.ts";
import {
  type Action,
  type BoxSpec,
  boxSpec,
  checkDiscreteAction,
  type DiscreteSpec,
  type Env,
  type StepResult,
} from "./types.ts";

import {
  TAKE_COVER_LEFT,
  TAKE_COVER_RIGHT,
  TAKE_COVER_RULES as R,
  TAKE_COVER_SIZE,
} from "./take_cover_rules.ts";

export {
  TAKE_COVER_LEFT,
  TAKE_COVER_RIGHT,
  TAKE_COVER_RULES,
  TAKE_COVER_SIZE,
  TAKE_COVER_STAY,
} from "./take_cover_rules.ts";

/** Horizontal focal length in pixels: a 90 degree field of view across the frame, as Doom's. */
const FOCAL_X = TAKE_COVER_SIZE / 2;
/**
 * Vertical focal length: Doom's 4:3 frame squeezed into a square, as the paper resizes it, shows
 * three quarters of the height the width would suggest.
 */
const FOCAL_Y = TAKE_COVER_SIZE / 2 / 0.75;
const CENTRE = TAKE_COVER_SIZE / 2;
/** The camera sits this far behind the agent, so a fireball about to hit fills much of the view. */
const CAMERA_BACK = 1;
/** Heights in room units, in the proportions of Doom's player, imp and room. */
const EYE_HEIGHT = 1.4;
const CEILING_HEIGHT = 4;
const MONSTER_HALF_WIDTH = 0.6;
const MONSTER_HEIGHT = 2;
const FIREBALL_HEIGHT = 1.1;
/** Frames a monster glows before throwing, a cue that a fireball is coming. */
const THROW_GLOW = 10;
/** Fireballs further behind the agent than this are gone. */
const FIREBALL_GONE_Z = -CAMERA_BACK + 0.3;

/** The true state of a TakeCover episode, updated in place (arrays hold `count` live entries). */
export interface TakeCoverState {
  agentX: number;
  monsterCount: number;
  monsterX: Float64Array;
  /** Frames until each monster throws. */
  monsterCooldown: Float64Array;
  fireballCount: number;
  fireballX: Float64Array;
  fireballZ: Float64Array;
  fireballVelocityX: Float64Array;
  fireballVelocityZ: Float64Array;
  elapsedSteps: number;
}

export class TakeCover implements Env<Uint8Array> {
  readonly id = "TakeCover-v0";
  readonly observationSpec: BoxSpec = boxSpec(
    [TAKE_COVER_SIZE, TAKE_COVER_SIZE, 3],
    0,
    255,
    "uint8",
  );
  readonly actionSpec: DiscreteSpec = { kind: "discrete", n: 3 };
  readonly maxEpisodeSteps = 2100;

  readonly #observation = new Uint8Array(TAKE_COVER_SIZE * TAKE_COVER_SIZE * 3);
  readonly #result: StepResult<Uint8Array> = {
    observation: this.#observation,
    reward: 0,
    terminated: false,
    truncated: false,
  };
  readonly #state: TakeCoverState = {
    agentX: 0,
    monsterCount: 0,
    monsterX: new Float64Array(R.maxMonsters),
    monsterCooldown: new Float64Array(R.maxMonsters),
    fireballCount: 0,
    fireballX: new Float64Array(R.maxFireballs),
    fireballZ: new Float64Array(R.maxFireballs),
    fireballVelocityX: new Float64Array(R.maxFireballs),
    fireballVelocityZ: new Float64Array(R.maxFireballs),
    elapsedSteps: 0,
  };
  /** Drawing order of the fireballs, far to near. */
  readonly #order = new Int32Array(R.maxFireballs);
  #rng: Rng | null = null;
  #phase: EpisodePhase = "before-reset";

  /** Steps taken in the current episode. */
  get elapsedSteps(): number {
    return this.#state.elapsedSteps;
  }

  /**
   * Starts an episode with the agent in the middle of the near end. A seed restarts the
   * generator; without one the previous stream goes on, and the first unseeded reset uses seed 0.
   */
  reset(seed?: number): Uint8Array {
    if (seed !== undefined || this.#rng === null) this.#rng = new Rng(seed ?? 0);
    const state = this.#state;
    state.agentX = 0;
    state.monsterCount = 0;
    state.fireballCount = 0;
    state.elapsedSteps = 0;
    for (let i = 0; i < R.initialMonsters; i++) this.#spawnMonster();
    this.#phase = "running";
    this.#render();
    return this.#observation;
  }

  /** Advances one frame; the returned object and its observation are reused. */
  step(action: Action): StepResult<Uint8Array> {
    assertCanStep(this.id, this.#phase, this.#state.elapsedSteps);
    const move = checkDiscreteAction(this.id, action, 3);
    const state = this.#state;
    const rng = this.#rng!;
    const limit = R.roomHalfWidth - R.agentRadius;
    if (move === TAKE_COVER_LEFT) state.agentX = Math.max(-limit, state.agentX - R.agentSpeed);
    if (move === TAKE_COVER_RIGHT) state.agentX = Math.min(limit, state.agentX + R.agentSpeed);

    // Fireballs fly; those far behind the agent are dropped (swap with the last).
    let hit = false;
    const reach = R.agentRadius + R.fireballRadius;
    for (let i = 0; i < state.fireballCount; i++) {
      state.fireballX[i] += state.fireballVelocityX[i];
      state.fireballZ[i] += state.fireballVelocityZ[i];
      const dx = state.fireballX[i] - state.agentX, dz = state.fireballZ[i];
      if (dx * dx + dz * dz < reach * reach) hit = true;
      if (state.fireballZ[i] < FIREBALL_GONE_Z) {
        this.#removeFireball(i);
        i--;
      }
    }

    // Monsters throw at the agent's current position; new ones arrive on a schedule.
    for (let m = 0; m < state.monsterCount; m++) {
      state.monsterCooldown[m] -= 1;
      if (state.monsterCooldown[m] <= 0) {
        this.#throwFireball(m);
        state.monsterCooldown[m] = rng.uniform(R.minThrowInterval, R.maxThrowInterval);
      }
    }
    state.elapsedSteps++;
    if (state.elapsedSteps % R.spawnInterval === 0 && state.monsterCount < R.maxMonsters) {
      this.#spawnMonster();
    }

    const terminated = hit;
    const truncated = !terminated && state.elapsedSteps >= this.maxEpisodeSteps;
    if (terminated || truncated) this.#phase = "ended";
    this.#render();
    const result = this.#result;
    result.reward = 1;
    result.terminated = terminated;
    result.truncated = truncated;
    return result;
  }

  /** The true state, one object updated in place. */
  trueState(): TakeCoverState {
    if (this.#phase === "before-reset") {
      throw new EpisodeOrderError(`${this.id}: trueState() called before reset()`);
    }
    return this.#state;
  }

  #spawnMonster(): void {
    const state = this.#state;
    const rng = this.#rng!;
    const m = state.monsterCount++;
    // Keep monsters apart so each is seen as its own figure.
    const margin = 1;
    let x = 0;
    for (let attempt = 0; attempt < 20; attempt++) {
      x = rng.uniform(-R.roomHalfWidth + margin, R.roomHalfWidth - margin);
      let clear = true;
      for (let other = 0; other < m; other++) {
        if (Math.abs(state.monsterX[other] - x) < 2 * MONSTER_HALF_WIDTH + 0.2) clear = false;
      }
      if (clear) break;
    }
    state.monsterX[m] = x;
    state.monsterCooldown[m] = rng.uniform(R.minThrowInterval, R.maxThrowInterval);
  }

  #throwFireball(monster: number): void {
    const state = this.#state;
    if (state.fireballCount >= R.maxFireballs) return;
    const f = state.fireballCount++;
    const x = state.monsterX[monster], z = R.roomDepth - MONSTER_HALF_WIDTH;
    const dx = state.agentX - x, dz = -z;
    const length = Math.hypot(dx, dz);
    state.fireballX[f] = x;
    state.fireballZ[f] = z;
    state.fireballVelocityX[f] = (dx / length) * R.fireballSpeed;
    state.fireballVelocityZ[f] = (dz / length) * R.fireballSpeed;
  }

  #removeFireball(i: number): void {
    const state = this.#state;
    const last = --state.fireballCount;
    state.fireballX[i] = state.fireballX[last];
    state.fireballZ[i] = state.fireballZ[last];
    state.fireballVelocityX[i] = state.fireballVelocityX[last];
    state.fireballVelocityZ[i] = state.fireballVelocityZ[last];
  }

  #render(): void {
    const out = this.#observation;
    const cameraX = this.#state.agentX;
    const farDepth = R.roomDepth + CAMERA_BACK;
    for (let column = 0; column < TAKE_COVER_SIZE; column++) {
      // The ray through this column meets the far wall or a side wall.
      const slope = (column + 0.5 - CENTRE) / FOCAL_X;
      let depth = farDepth;
      let along = cameraX + slope * farDepth;
      let side = false;
      if (along > R.roomHalfWidth || along < -R.roomHalfWidth) {
        const wallX = along > 0 ? R.roomHalfWidth : -R.roomHalfWidth;
        depth = (wallX - cameraX) / slope;
        along = depth - CAMERA_BACK;
        side = true;
      }
      const wallTop = CENTRE - (FOCAL_Y * (CEILING_HEIGHT - EYE_HEIGHT)) / depth;
      const wallBottom = CENTRE + (FOCAL_Y * EYE_HEIGHT) / depth;
      const shade = (side ? 0.85 : 1) * fade(depth);
      for (let row = 0; row < TAKE_COVER_SIZE; row++) {
        const o = (row * TAKE_COVER_SIZE + column) * 3;
        const y = row + 0.5;
        if (y < wallTop) {
          const light = fade((FOCAL_Y * (CEILING_HEIGHT - EYE_HEIGHT)) / (CENTRE - y));
          out[o] = 72 * light;
          out[o + 1] = 72 * light;
          out[o + 2] = 80 * light;
        } else if (y >= wallBottom) {
          const light = fade((FOCAL_Y * EYE_HEIGHT) / (y - CENTRE));
          out[o] = 100 * light;
          out[o + 1] = 84 * light;
          out[o + 2] = 62 * light;
        } else {
          // Bricks: courses of a third of a unit, staggered by half a brick.
          const height = EYE_HEIGHT + ((CENTRE - y) * depth) / FOCAL_Y;
          const course = Math.floor(height * 3);
          const brick = along * 1.2 + (course & 1) * 0.5;
          const mortar = height * 3 - course < 0.15 || brick - Math.floor(brick) < 0.08;
          const light = (mortar ? 0.75 : 1) * shade;
          out[o] = 160 * light;
          out[o + 1] = 120 * light;
          out[o + 2] = 88 * light;
        }
      }
    }
    this.#drawMonsters(cameraX, farDepth - 0.05);
    this.#drawFireballs(cameraX);
  }

  #drawMonsters(cameraX: number, depth: number): void {
    const out = this.#observation;
    const state = this.#state;
    const scaleX = FOCAL_X / depth, scaleY = FOCAL_Y / depth;
    const top = CENTRE - (MONSTER_HEIGHT - EYE_HEIGHT) * scaleY;
    const bottom = CENTRE + EYE_HEIGHT * scaleY;
    const r0 = Math.max(0, Math.round(top));
    const r1 = Math.min(TAKE_COVER_SIZE - 1, Math.round(bottom) - 1);
    const eyeRow = r0 + 1;
    const handRow = Math.round(CENTRE - (FIREBALL_HEIGHT - EYE_HEIGHT) * scaleY);
    for (let m = 0; m < state.monsterCount; m++) {
      const centre = CENTRE + (state.monsterX[m] - cameraX) * scaleX;
      const halfWidth = MONSTER_HALF_WIDTH * scaleX;
      const c0 = Math.max(0, Math.round(centre - halfWidth));
      const c1 = Math.min(TAKE_COVER_SIZE - 1, Math.round(centre + halfWidth) - 1);
      // A monster about to throw holds a glowing fireball.
      const glowing = state.monsterCooldown[m] <= THROW_GLOW;
      for (let row = r0; row <= r1; row++) {
        for (let column = c0; column <= c1; column++) {
          const o = (row * TAKE_COVER_SIZE + column) * 3;
          const edge = column === c0 || column === c1;
          if (row === eyeRow && !edge) {
            out[o] = 255;
            out[o + 1] = 30;
            out[o + 2] = 0;
          } else if (glowing && row >= handRow - 1 && row <= handRow) {
            out[o] = 255;
            out[o + 1] = 170;
            out[o + 2] = 30;
          } else {
            out[o] = 84;
            out[o + 1] = 52;
            out[o + 2] = 34;
          }
        }
      }
    }
  }

  #drawFireballs(cameraX: number): void {
    const out = this.#observation;
    const state = this.#state;
    const order = this.#order;
    const count = state.fireballCount;
    // Insertion sort by depth, far first, so nearer fireballs cover further ones.
    for (let i = 0; i < count; i++) {
      let j = i;
      while (j > 0 && state.fireballZ[order[j - 1]] < state.fireballZ[i]) {
        order[j] = order[j - 1];
        j--;
      }
      order[j] = i;
    }
    for (let k = 0; k < count; k++) {
      const f = order[k];
      const depth = state.fireballZ[f] + CAMERA_BACK;
      if (depth < 0.3) continue;
      const centreX = CENTRE + ((state.fireballX[f] - cameraX) * FOCAL_X) / depth;
      const centreY = CENTRE + ((EYE_HEIGHT - FIREBALL_HEIGHT) * FOCAL_Y) / depth;
      // An ellipse (the squeezed frame), at least a pixel across so far fireballs stay visible.
      const radiusX = Math.max(0.8, (R.fireballRadius * FOCAL_X) / depth);
      const radiusY = Math.max(0.8, (R.fireballRadius * FOCAL_Y) / depth);
      const c0 = Math.max(0, Math.floor(centreX - radiusX));
      const c1 = Math.min(TAKE_COVER_SIZE - 1, Math.ceil(centreX + radiusX));
      const r0 = Math.max(0, Math.floor(centreY - radiusY));
      const r1 = Math.min(TAKE_COVER_SIZE - 1, Math.ceil(centreY + radiusY));
      for (let row = r0; row <= r1; row++) {
        const dy = (row + 0.5 - centreY) / radiusY;
        for (let column = c0; column <= c1; column++) {
          const dx = (column + 0.5 - centreX) / radiusX;
          const distance2 = dx * dx + dy * dy;
          if (distance2 > 1) continue;
          const o = (row * TAKE_COVER_SIZE + column) * 3;
          const core = distance2 < 0.3;
          out[o] = 255;
          out[o + 1] = core ? 240 : 140;
          out[o + 2] = core ? 140 : 20;
        }
      }
    }
  }
}

/** Light falling off with distance, as Doom's sector lighting fades. */
function fade(distance: number): number {
  return Math.max(0.45, 1 - distance / 28);
}

export { scriptedTakeCoverAction } from "./take_cover_dodger.ts";
