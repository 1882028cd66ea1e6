/**
 * CarRacing, the first task of Ha & Schmidhuber (2018), "World Models" (section "Car Racing
 * Experiment"): Gym's CarRacing-v0 seen as the paper's agent sees it, a 64x64 RGB frame
 * (Uint8Array, height x width x channel), rendered straight at that size.
 *
 * Rules as in Gym: a procedurally generated closed track of N tiles (lib/envs/car_racing_track.ts);
 * reward -0.1 per frame and +1000/N for each tile a wheel touches for the first time; the episode
 * ends (terminated) when every tile has been visited, or with reward -100 (terminated) when the
 * car leaves the square playfield, and is truncated after 1000 frames. Tiles under the car at the
 * start count as visited without reward, as Gym's reset step absorbs them. Action: Float32Array
 * [steer -1..1 (negative left), gas 0..1, brake 0..1]; values outside are clipped, a wrong length
 * or a non-finite value throws `InvalidActionError`.
 *
 * The view follows Gym's state render cropped as the paper crops it (top 84 of 96 rows, the
 * indicator bar dropped) and resized to 64x64: 61.7 world units across, 43.2 units top to bottom,
 * the car at column 32 and row 55, the view turning so the car's direction of travel points up
 * (its heading when it is nearly still). Colours are Gym's: grass with lighter squares, grey road
 * tiles, red and white kerbs on hard turns, a red car with black wheels, black beyond the
 * playfield.
 *
 * Where it differs from Gym: no Box2D (see lib/envs/car_racing_car.ts for the car model); a wheel
 * touches a tile when its centre is on it, not any part of its box; pixels are sampled at their
 * centres (only the car is anti-aliased) rather than drawn at 96x96 and resized; there is no
 * zoom-in animation in the first second and no indicator bar.
 *
 * `trackState()` exposes the true state (car pose and speed, track centre line, tile progress)
 * for the scripted driver `scriptedCarRacingAction`, a pure-pursuit controller with speed control
 * that shows the task is solvable: it scores 915 on average over 20 tracks, while a uniformly
 * random policy scores -38 +- 4 (bench/envs_pixels.ts). For batches, step copies together with
 * `new VectorEnv(() => new CarRacing(), n)` (lib/envs/vector.ts), which handles Uint8Array frames.
 */
import { Rng } from "../rng.ts";
import { assertCanStep, EpisodeOrderError, type EpisodePhase } from "./classic_env.ts";
import {
  type Action,
  type BoxSpec,
  boxSpec,
  type Env,
  readBoxAction,
  type StepResult,
} from "./types.ts";
import { Car, FRICTION_LIMIT, GRASS_FRICTION_FACTOR, HULL_POLYGONS } from "./car_racing_car.ts";
import { WHEEL_HALF_WIDTH, WHEEL_POSITIONS, WHEEL_RADIUS } from "./car_racing_car.ts";
import {
  CELL_OUTSIDE,
  generateTrack,
  grassAt,
  PLAYFIELD,
  TILE_CELL_OFFSET,
  type Track,
  TrackRaster,
} from "./car_racing_track.ts";

export { type Track } from "./car_racing_track.ts";

/** Side of the square observation. */
export const CAR_RACING_SIZE = 64;
const FPS = 50;
/** Gym's window at its final zoom shows 1000/16.2 units across and 800/16.2 top to bottom. */
const VIEW_WIDTH_UNITS = 1000 / 16.2;
/** The paper keeps the top 84 of 96 rows (the rest is the indicator bar). */
const VIEW_HEIGHT_UNITS = (800 / 16.2) * (84 / 96);
/** The car sits a quarter of the window height above its bottom edge. */
const CAR_UNITS_BELOW_TOP = (800 / 16.2) * 0.75;
const PIXELS_PER_UNIT_X = CAR_RACING_SIZE / VIEW_WIDTH_UNITS;
const PIXELS_PER_UNIT_Y = CAR_RACING_SIZE / VIEW_HEIGHT_UNITS;
const CAR_COLUMN = CAR_RACING_SIZE / 2;
const CAR_ROW = CAR_UNITS_BELOW_TOP * PIXELS_PER_UNIT_Y;

const GRASS_RGB = [102, 204, 102];
const GRASS_PATCH_RGB = [102, 230, 102];
const KERB_WHITE_RGB = [255, 255, 255];
const KERB_RED_RGB = [255, 0, 0];
const ROAD_RGB = [[102, 102, 102], [105, 105, 105], [107, 107, 107]];
const HULL_RGB = [204, 0, 0];
const WHEEL_RGB = [0, 0, 0];

/** The true state of a CarRacing episode, updated in place on every step. */
export interface CarRacingTrackState {
  /** Car body origin, world units (y up). */
  x: number;
  y: number;
  /** Heading in radians; forward is (-sin angle, cos angle). */
  angle: number;
  velocityX: number;
  velocityY: number;
  /** World units per second; about 100 at most. */
  speed: number;
  angularVelocity: number;
  /** Front wheels' angle, positive to the left. */
  steerAngle: number;
  /** The tile under the car's origin, or -1 off the road. */
  tileIndex: number;
  tilesVisited: number;
  /** 1 for each tile visited this episode. */
  visited: Uint8Array;
  track: Track;
}

export class CarRacing implements Env<Uint8Array> {
  readonly id = "CarRacing-v0";
  readonly observationSpec: BoxSpec = boxSpec(
    [CAR_RACING_SIZE, CAR_RACING_SIZE, 3],
    0,
    255,
    "uint8",
  );
  readonly actionSpec: BoxSpec = boxSpec([3], [-1, 0, 0], [1, 1, 1]);
  readonly maxEpisodeSteps = 1000;
  /** Seconds per step. */
  readonly dt = 1 / FPS;

  readonly #observation = new Uint8Array(CAR_RACING_SIZE * CAR_RACING_SIZE * 3);
  readonly #result: StepResult<Uint8Array> = {
    observation: this.#observation,
    reward: 0,
    terminated: false,
    truncated: false,
  };
  readonly #action = new Float32Array(3);
  readonly #car = new Car();
  readonly #raster = new TrackRaster();
  readonly #frictionLimit = new Float64Array(4);
  #palette = new Uint8Array(0);
  #track: Track | null = null;
  #visited = new Uint8Array(0);
  #tilesVisited = 0;
  #rng: Rng | null = null;
  #elapsedSteps = 0;
  #phase: EpisodePhase = "before-reset";
  #state: CarRacingTrackState | null = null;

  /** Steps taken in the current episode. */
  get elapsedSteps(): number {
    return this.#elapsedSteps;
  }

  /**
   * Starts an episode on a new track. A seed restarts the generator; without one the previous
   * stream goes on, and the very first unseeded reset uses seed 0.
   */
  reset(seed?: number): Uint8Array {
    if (seed !== undefined || this.#rng === null) this.#rng = new Rng(seed ?? 0);
    const track = generateTrack(this.#rng);
    this.#track = track;
    this.#raster.build(track);
    this.#buildPalette(track.tileCount);
    if (this.#visited.length < track.tileCount) this.#visited = new Uint8Array(track.tileCount);
    else this.#visited.fill(0);
    this.#tilesVisited = 0;
    this.#car.place(track.centreX[0], track.centreY[0], track.heading[0]);
    this.#touchTiles();
    this.#elapsedSteps = 0;
    this.#phase = "running";
    this.#state = null;
    this.#render();
    return this.#observation;
  }

  /** Advances one frame (1/50 s); the returned object and its observation are reused. */
  step(action: Action): StepResult<Uint8Array> {
    assertCanStep(this.id, this.#phase, this.#elapsedSteps);
    const controls = this.#readAction(action);
    const car = this.#car;
    car.control(controls[0], controls[1], controls[2]);
    for (let i = 0; i < 4; i++) {
      const onRoad = this.#raster.tileAt(car.wheelX[i], car.wheelY[i]) >= 0;
      this.#frictionLimit[i] = onRoad ? FRICTION_LIMIT : FRICTION_LIMIT * GRASS_FRICTION_FACTOR;
    }
    car.step(this.dt, this.#frictionLimit);
    const newTiles = this.#touchTiles();
    const track = this.#track!;
    let reward = -0.1 + (newTiles * 1000) / track.tileCount;
    let terminated = this.#tilesVisited === track.tileCount;
    if (Math.abs(car.x) > PLAYFIELD || Math.abs(car.y) > PLAYFIELD) {
      terminated = true;
      reward = -100;
    }
    this.#elapsedSteps++;
    const truncated = !terminated && this.#elapsedSteps >= this.maxEpisodeSteps;
    if (terminated || truncated) this.#phase = "ended";
    this.#render();
    const result = this.#result;
    result.reward = reward;
    result.terminated = terminated;
    result.truncated = truncated;
    return result;
  }

  /** Clips a valid action into the reused buffer; anything else goes to the shared checker. */
  #readAction(action: Action): Float32Array {
    const out = this.#action;
    if (typeof action !== "number" && action.length === 3) {
      const steer = action[0], gas = action[1], brake = action[2];
      if (Number.isFinite(steer) && Number.isFinite(gas) && Number.isFinite(brake)) {
        out[0] = Math.min(1, Math.max(-1, steer));
        out[1] = Math.min(1, Math.max(0, gas));
        out[2] = Math.min(1, Math.max(0, brake));
        return out;
      }
    }
    // Throws InvalidActionError with the library's standard message.
    return readBoxAction(this.id, action, this.actionSpec, out);
  }

  /** The current track (after `reset`). */
  get track(): Track {
    if (this.#track === null) throw new EpisodeOrderError(`${this.id}: track read before reset()`);
    return this.#track;
  }

  /** The true state, one object updated in place on each call. */
  trackState(): CarRacingTrackState {
    const track = this.track;
    const car = this.#car;
    const state = this.#state ??= {
      x: 0,
      y: 0,
      angle: 0,
      velocityX: 0,
      velocityY: 0,
      speed: 0,
      angularVelocity: 0,
      steerAngle: 0,
      tileIndex: -1,
      tilesVisited: 0,
      visited: this.#visited.subarray(0, track.tileCount),
      track,
    };
    state.x = car.x;
    state.y = car.y;
    state.angle = car.angle;
    state.velocityX = car.velocityX;
    state.velocityY = car.velocityY;
    state.speed = car.speed;
    state.angularVelocity = car.angularVelocity;
    state.steerAngle = car.steerAngle;
    state.tileIndex = this.#raster.tileAt(car.x, car.y);
    state.tilesVisited = this.#tilesVisited;
    return state;
  }

  /** Marks tiles under the wheels as visited; returns how many were new. */
  #touchTiles(): number {
    const car = this.#car;
    let fresh = 0;
    for (let i = 0; i < 4; i++) {
      const tile = this.#raster.tileAt(car.wheelX[i], car.wheelY[i]);
      if (tile >= 0 && this.#visited[tile] === 0) {
        this.#visited[tile] = 1;
        this.#tilesVisited++;
        fresh++;
      }
    }
    return fresh;
  }

  /** Colours by cell code: grass, patch, kerbs, then one road shade per tile, then outside. */
  #buildPalette(tileCount: number): void {
    const size = (TILE_CELL_OFFSET + tileCount + 1) * 3;
    if (this.#palette.length < size) this.#palette = new Uint8Array(size);
    const palette = this.#palette;
    palette.set(GRASS_RGB, 0);
    palette.set(GRASS_PATCH_RGB, 3);
    palette.set(KERB_WHITE_RGB, 6);
    palette.set(KERB_RED_RGB, 9);
    for (let i = 0; i < tileCount; i++) palette.set(ROAD_RGB[i % 3], (TILE_CELL_OFFSET + i) * 3);
    palette.fill(0, (TILE_CELL_OFFSET + tileCount) * 3, size);
  }

  #render(): void {
    const car = this.#car;
    const raster = this.#raster;
    const cells = raster.cells;
    const columns = raster.columns, rows = raster.rows;
    const inverse = raster.inverseCell;
    const palette = this.#palette;
    const outsideCode = TILE_CELL_OFFSET + this.#track!.tileCount;
    const out = this.#observation;

    // The view's up axis: the direction of travel, or the heading when nearly still.
    let upX = -Math.sin(car.angle), upY = Math.cos(car.angle);
    const speed = car.speed;
    if (speed > 0.5) {
      upX = car.velocityX / speed;
      upY = car.velocityY / speed;
    }
    const rightX = upY, rightY = -upX;
    // World point of pixel (column, row) is linear in both; step in raster cells.
    const perColumnX = rightX / PIXELS_PER_UNIT_X, perColumnY = rightY / PIXELS_PER_UNIT_X;
    const perRowX = -upX / PIXELS_PER_UNIT_Y, perRowY = -upY / PIXELS_PER_UNIT_Y;
    const firstX = car.x + (0.5 - CAR_COLUMN) * perColumnX + (0.5 - CAR_ROW) * perRowX;
    const firstY = car.y + (0.5 - CAR_COLUMN) * perColumnY + (0.5 - CAR_ROW) * perRowY;
    let offset = 0;
    for (let row = 0; row < CAR_RACING_SIZE; row++) {
      let worldX = firstX + row * perRowX;
      let worldY = firstY + row * perRowY;
      let cellX = (worldX - raster.originX) * inverse;
      let cellY = (worldY - raster.originY) * inverse;
      const stepCellX = perColumnX * inverse, stepCellY = perColumnY * inverse;
      for (let column = 0; column < CAR_RACING_SIZE; column++) {
        let code: number;
        if (cellX >= 0 && cellY >= 0 && cellX < columns && cellY < rows) {
          code = cells[(cellY | 0) * columns + (cellX | 0)];
        } else {
          code = grassAt(worldX, worldY);
          if (code === CELL_OUTSIDE) code = outsideCode;
        }
        const p = code * 3;
        out[offset] = palette[p];
        out[offset + 1] = palette[p + 1];
        out[offset + 2] = palette[p + 2];
        offset += 3;
        cellX += stepCellX;
        cellY += stepCellY;
        worldX += perColumnX;
        worldY += perColumnY;
      }
    }
    this.#drawCar(upX, upY);
  }

  /** Draws the car over the road with 2x2 samples per pixel, blending into the background. */
  #drawCar(upX: number, upY: number): void {
    const car = this.#car;
    const out = this.#observation;
    const rightX = upY, rightY = -upX;
    const cosA = Math.cos(car.angle), sinA = Math.sin(car.angle);
    const cosS = Math.cos(car.steerAngle), sinS = Math.sin(car.steerAngle);
    // The car fits in a circle of 2.7 units round its origin.
    const halfColumns = Math.ceil(2.7 * PIXELS_PER_UNIT_X) + 1;
    const halfRows = Math.ceil(2.7 * PIXELS_PER_UNIT_Y) + 1;
    const rowStart = Math.max(0, Math.floor(CAR_ROW) - halfRows);
    const rowEnd = Math.min(CAR_RACING_SIZE - 1, Math.floor(CAR_ROW) + halfRows);
    const columnStart = Math.max(0, CAR_COLUMN - halfColumns);
    const columnEnd = Math.min(CAR_RACING_SIZE - 1, CAR_COLUMN + halfColumns);
    for (let row = rowStart; row <= rowEnd; row++) {
      for (let column = columnStart; column <= columnEnd; column++) {
        let hull = 0, wheel = 0;
        for (let sample = 0; sample < 4; sample++) {
          const screenX = (column + 0.25 + 0.5 * (sample & 1) - CAR_COLUMN) / PIXELS_PER_UNIT_X;
          const screenY = (CAR_ROW - row - 0.25 - 0.5 * (sample >> 1)) / PIXELS_PER_UNIT_Y;
          const dx = screenX * rightX + screenY * upX;
          const dy = screenX * rightY + screenY * upY;
          // Car coordinates: x to the car's right, y forward.
          const localX = dx * cosA + dy * sinA;
          const localY = -dx * sinA + dy * cosA;
          if (insideWheel(localX, localY, cosS, sinS)) wheel++;
          else if (insideHull(localX, localY)) hull++;
        }
        if (hull + wheel === 0) continue;
        const o = (row * CAR_RACING_SIZE + column) * 3;
        const background = 4 - hull - wheel;
        for (let channel = 0; channel < 3; channel++) {
          out[o + channel] = (out[o + channel] * background + HULL_RGB[channel] * hull +
            WHEEL_RGB[channel] * wheel + 2) >> 2;
        }
      }
    }
  }
}

function insideHull(x: number, y: number): boolean {
  for (let p = 0; p < HULL_POLYGONS.length; p++) {
    if (insideConvex(HULL_POLYGONS[p], x, y)) return true;
  }
  return false;
}

/** Inside a convex polygon of either winding: on one side of every edge. */
function insideConvex(points: readonly number[], x: number, y: number): boolean {
  const n = points.length;
  let left = false, right = false;
  for (let i = 0; i < n; i += 2) {
    const ax = points[i], ay = points[i + 1];
    const bx = points[(i + 2) % n], by = points[(i + 3) % n];
    const cross = (bx - ax) * (y - ay) - (by - ay) * (x - ax);
    if (cross > 0) left = true;
    else if (cross < 0) right = true;
    if (left && right) return false;
  }
  return true;
}

function insideWheel(x: number, y: number, cosSteer: number, sinSteer: number): boolean {
  for (let i = 0; i < 4; i++) {
    let dx = x - WHEEL_POSITIONS[i][0], dy = y - WHEEL_POSITIONS[i][1];
    if (i < 2) {
      // Front wheels turn with the steering.
      const rx = dx * cosSteer + dy * sinSteer;
      dy = -dx * sinSteer + dy * cosSteer;
      dx = rx;
    }
    if (Math.abs(dx) <= WHEEL_HALF_WIDTH && Math.abs(dy) <= WHEEL_RADIUS) return true;
  }
  return false;
}

export { scriptedCarRacingAction } from "./car_racing_driver.ts";
