/**
 * The procedurally generated race track of Gym's CarRacing-v0, the task of Ha & Schmidhuber
 * (2018), "World Models", section "Car Racing Experiment".
 *
 * The generator follows Gym's recipe: twelve random checkpoints around a circle, then a heading
 * that turns towards the next checkpoint at a bounded rate while stepping forward in fixed steps,
 * driven round several laps; one full lap, cut where it passes the start angle, becomes the track.
 * Each step between two centre-line points is one road tile. Sharp turns get red and white kerbs.
 *
 * Coordinates are Gym's world units (y up). A heading `beta` points the car's forward axis along
 * (-sin beta, cos beta), as a Box2D body with angle `beta` whose local +y is forward.
 *
 * `TrackRaster` bakes the track into a grid of cells (grass, grass patch, kerb, or a tile index) so
 * rendering a pixel and finding the tile under a wheel are one array read each.
 */
import type { Rng } from "../rng.ts";

/** Gym's scale: world units per Box2D metre of the original 600-pixel design. */
export const TRACK_SCALE = 6;
/** Mean radius of the checkpoint circle. */
export const TRACK_RADIUS = 900 / TRACK_SCALE;
/** Half-size of the square playfield; leaving it ends the episode with -100. */
export const PLAYFIELD = 2000 / TRACK_SCALE;
/** Length of one road tile along the centre line. */
export const TRACK_DETAIL_STEP = 21 / TRACK_SCALE;
/** Largest heading change per tile, radians. */
export const TRACK_TURN_RATE = 0.31;
/** Half-width of the road. */
export const TRACK_WIDTH = 40 / TRACK_SCALE;
/** Width of the kerbs on hard turns. */
export const KERB_WIDTH = 8 / TRACK_SCALE;
/** Side of a square of the grass pattern. */
export const GRASS_SQUARE = PLAYFIELD / 20;

const CHECKPOINTS = 12;
/** Consecutive same-direction sharp turns needed before kerbs are drawn. */
const KERB_MIN_COUNT = 4;

/** A closed track: centre-line points, one tile between each point and the one before it. */
export interface Track {
  /** Number of points, and of tiles (tile i joins point i-1 to point i). */
  readonly tileCount: number;
  readonly centreX: Float64Array;
  readonly centreY: Float64Array;
  /** Heading at each point (forward is (-sin, cos)). */
  readonly heading: Float64Array;
  /** 1 where the tile has a kerb on the outside of a hard turn. */
  readonly kerb: Uint8Array;
}

/** Generates a track from the generator, retrying as Gym does until a lap closes cleanly. */
export function generateTrack(rng: Rng): Track {
  for (let attempt = 0; attempt < 100; attempt++) {
    const track = tryGenerateTrack(rng);
    if (track !== null) return track;
  }
  throw new Error("CarRacing: could not generate a closed track in 100 attempts");
}

function tryGenerateTrack(rng: Rng): Track | null {
  const checkpointAlpha = new Float64Array(CHECKPOINTS);
  const checkpointX = new Float64Array(CHECKPOINTS);
  const checkpointY = new Float64Array(CHECKPOINTS);
  const startAlpha = (2 * Math.PI * -0.5) / CHECKPOINTS;
  for (let c = 0; c < CHECKPOINTS; c++) {
    const noise = rng.uniform(0, (2 * Math.PI) / CHECKPOINTS);
    let alpha = (2 * Math.PI * c) / CHECKPOINTS + noise;
    let radius = rng.uniform(TRACK_RADIUS / 3, TRACK_RADIUS);
    if (c === 0) {
      alpha = 0;
      radius = 1.5 * TRACK_RADIUS;
    }
    if (c === CHECKPOINTS - 1) {
      alpha = (2 * Math.PI * c) / CHECKPOINTS;
      radius = 1.5 * TRACK_RADIUS;
    }
    checkpointAlpha[c] = alpha;
    checkpointX[c] = radius * Math.cos(alpha);
    checkpointY[c] = radius * Math.sin(alpha);
  }

  // Drive round the checkpoints for a few laps, turning towards the next one.
  const alphas: number[] = [];
  const betas: number[] = [];
  const xs: number[] = [];
  const ys: number[] = [];
  let x = 1.5 * TRACK_RADIUS;
  let y = 0;
  let beta = 0;
  let destination = 0;
  let laps = 0;
  let visitedOtherSide = false;
  for (let budget = 2500; budget > 0; budget--) {
    let alpha = Math.atan2(y, x);
    if (visitedOtherSide && alpha > 0) {
      laps++;
      visitedOtherSide = false;
    }
    if (alpha < 0) {
      visitedOtherSide = true;
      alpha += 2 * Math.PI;
    }
    let destX = 0;
    let destY = 0;
    for (;;) {
      let failed = true;
      for (;;) {
        const c = destination % CHECKPOINTS;
        if (alpha <= checkpointAlpha[c]) {
          destX = checkpointX[c];
          destY = checkpointY[c];
          failed = false;
          break;
        }
        destination++;
        if (destination % CHECKPOINTS === 0) break;
      }
      if (!failed) break;
      alpha -= 2 * Math.PI;
    }
    const forwardX = Math.cos(beta);
    const forwardY = Math.sin(beta);
    const perpX = -forwardY;
    const perpY = forwardX;
    // Projection of the direction to the destination on the radial axis decides the turn.
    let projection = forwardX * (destX - x) + forwardY * (destY - y);
    while (beta - alpha > 1.5 * Math.PI) beta -= 2 * Math.PI;
    while (beta - alpha < -1.5 * Math.PI) beta += 2 * Math.PI;
    const previousBeta = beta;
    projection *= TRACK_SCALE;
    if (projection > 0.3) beta -= Math.min(TRACK_TURN_RATE, Math.abs(0.001 * projection));
    if (projection < -0.3) beta += Math.min(TRACK_TURN_RATE, Math.abs(0.001 * projection));
    x += perpX * TRACK_DETAIL_STEP;
    y += perpY * TRACK_DETAIL_STEP;
    alphas.push(alpha);
    betas.push(0.5 * (previousBeta + beta));
    xs.push(x);
    ys.push(y);
    if (laps > 4) break;
  }

  // Cut one lap between the last two passes through the start angle.
  let first = -1;
  let last = -1;
  for (let i = alphas.length - 1;; i--) {
    if (i === 0) return null;
    const passesStart = alphas[i] > startAlpha && alphas[i - 1] <= startAlpha;
    if (passesStart && last === -1) last = i;
    else if (passesStart && first === -1) {
      first = i;
      break;
    }
  }
  const tileCount = last - 1 - first;
  if (tileCount < 3) return null;
  const centreX = Float64Array.from(xs.slice(first, last - 1));
  const centreY = Float64Array.from(ys.slice(first, last - 1));
  const heading = Float64Array.from(betas.slice(first, last - 1));

  // The lap must close: the gap between the last and first point, across the road, is small.
  const gapX = Math.cos(heading[0]) * (centreX[0] - centreX[tileCount - 1]);
  const gapY = Math.sin(heading[0]) * (centreY[0] - centreY[tileCount - 1]);
  if (Math.hypot(gapX, gapY) > TRACK_DETAIL_STEP) return null;

  // Kerbs where the heading keeps turning sharply the same way.
  const at = (i: number) => ((i % tileCount) + tileCount) % tileCount;
  const sharp = new Uint8Array(tileCount);
  for (let i = 0; i < tileCount; i++) {
    let good = true;
    let oneSide = 0;
    for (let back = 0; back < KERB_MIN_COUNT; back++) {
      const turn = heading[at(i - back)] - heading[at(i - back - 1)];
      good &&= Math.abs(turn) > TRACK_TURN_RATE * 0.2;
      oneSide += Math.sign(turn);
    }
    sharp[i] = good && Math.abs(oneSide) === KERB_MIN_COUNT ? 1 : 0;
  }
  const kerb = new Uint8Array(tileCount);
  for (let i = 0; i < tileCount; i++) {
    if (!sharp[i]) continue;
    for (let back = 0; back < KERB_MIN_COUNT; back++) kerb[at(i - back)] = 1;
  }
  return { tileCount, centreX, centreY, heading, kerb };
}

/** Cell codes of the raster below tile indices. */
export const CELL_GRASS = 0;
export const CELL_GRASS_PATCH = 1;
export const CELL_KERB_WHITE = 2;
export const CELL_KERB_RED = 3;
/** Cell code of tile i is TILE_CELL_OFFSET + i. */
export const TILE_CELL_OFFSET = 4;
/** Code for points outside the playfield (never stored in the grid). */
export const CELL_OUTSIDE = 0xffff;

/** Width of a raster cell in world units: finer than a pixel of the 64x64 view (about 1 unit). */
export const RASTER_CELL = 0.5;

/**
 * The track baked into a grid covering its bounding box. Outside the box (but on the playfield)
 * the grass pattern is computed directly, so the grid stays small and is reused across resets.
 */
export class TrackRaster {
  /** Cell codes, row-major from (originX, originY); y grows with the row. */
  cells: Uint16Array = new Uint16Array(0);
  columns = 0;
  rows = 0;
  originX = 0;
  originY = 0;
  readonly inverseCell = 1 / RASTER_CELL;

  /** Rebuilds the grid for a track, reusing the buffer when it is large enough. */
  build(track: Track): void {
    const margin = TRACK_WIDTH + KERB_WIDTH + 2;
    let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
    for (let i = 0; i < track.tileCount; i++) {
      minX = Math.min(minX, track.centreX[i]);
      maxX = Math.max(maxX, track.centreX[i]);
      minY = Math.min(minY, track.centreY[i]);
      maxY = Math.max(maxY, track.centreY[i]);
    }
    this.originX = minX - margin;
    this.originY = minY - margin;
    this.columns = Math.ceil((maxX + margin - this.originX) * this.inverseCell);
    this.rows = Math.ceil((maxY + margin - this.originY) * this.inverseCell);
    const size = this.columns * this.rows;
    if (this.cells.length < size) this.cells = new Uint16Array(size);
    const cells = this.cells;
    for (let row = 0; row < this.rows; row++) {
      const y = this.originY + (row + 0.5) * RASTER_CELL;
      const base = row * this.columns;
      for (let column = 0; column < this.columns; column++) {
        cells[base + column] = grassAt(this.originX + (column + 0.5) * RASTER_CELL, y);
      }
    }
    const n = track.tileCount;
    for (let i = 0; i < n; i++) {
      const j = i === 0 ? n - 1 : i - 1;
      const x1 = track.centreX[i], y1 = track.centreY[i], b1 = track.heading[i];
      const x2 = track.centreX[j], y2 = track.centreY[j], b2 = track.heading[j];
      const c1 = Math.cos(b1), s1 = Math.sin(b1), c2 = Math.cos(b2), s2 = Math.sin(b2);
      if (track.kerb[i]) {
        const side = Math.sign(b2 - b1);
        const inner = side * TRACK_WIDTH;
        const outer = side * (TRACK_WIDTH + KERB_WIDTH);
        this.#fillQuad(
          x1 + inner * c1,
          y1 + inner * s1,
          x1 + outer * c1,
          y1 + outer * s1,
          x2 + outer * c2,
          y2 + outer * s2,
          x2 + inner * c2,
          y2 + inner * s2,
          i % 2 === 0 ? CELL_KERB_WHITE : CELL_KERB_RED,
        );
      }
    }
    // Tiles last, so road wins over the kerb of a neighbouring turn.
    for (let i = 0; i < n; i++) {
      const j = i === 0 ? n - 1 : i - 1;
      const x1 = track.centreX[i], y1 = track.centreY[i], b1 = track.heading[i];
      const x2 = track.centreX[j], y2 = track.centreY[j], b2 = track.heading[j];
      const c1 = Math.cos(b1), s1 = Math.sin(b1), c2 = Math.cos(b2), s2 = Math.sin(b2);
      this.#fillQuad(
        x1 - TRACK_WIDTH * c1,
        y1 - TRACK_WIDTH * s1,
        x1 + TRACK_WIDTH * c1,
        y1 + TRACK_WIDTH * s1,
        x2 + TRACK_WIDTH * c2,
        y2 + TRACK_WIDTH * s2,
        x2 - TRACK_WIDTH * c2,
        y2 - TRACK_WIDTH * s2,
        TILE_CELL_OFFSET + i,
      );
    }
  }

  /** The cell code at a world point. */
  cellAt(x: number, y: number): number {
    const column = Math.floor((x - this.originX) * this.inverseCell);
    const row = Math.floor((y - this.originY) * this.inverseCell);
    if (column >= 0 && column < this.columns && row >= 0 && row < this.rows) {
      return this.cells[row * this.columns + column];
    }
    return grassAt(x, y);
  }

  /** The tile under a world point, or -1 off the road. */
  tileAt(x: number, y: number): number {
    const code = this.cellAt(x, y);
    return code >= TILE_CELL_OFFSET && code !== CELL_OUTSIDE ? code - TILE_CELL_OFFSET : -1;
  }

  /** Marks every cell whose centre lies in the quad (a, b, c, d) with `code`. */
  #fillQuad(
    ax: number,
    ay: number,
    bx: number,
    by: number,
    cx: number,
    cy: number,
    dx: number,
    dy: number,
    code: number,
  ): void {
    const inverse = this.inverseCell;
    const c0 = Math.max(0, Math.floor((Math.min(ax, bx, cx, dx) - this.originX) * inverse));
    const c1 = Math.min(
      this.columns - 1,
      Math.floor((Math.max(ax, bx, cx, dx) - this.originX) * inverse),
    );
    const r0 = Math.max(0, Math.floor((Math.min(ay, by, cy, dy) - this.originY) * inverse));
    const r1 = Math.min(
      this.rows - 1,
      Math.floor((Math.max(ay, by, cy, dy) - this.originY) * inverse),
    );
    // Orientation of the quad decides which side of each edge is inside.
    const area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax) +
      (cx - ax) * (dy - ay) - (cy - ay) * (dx - ax);
    const sign = area >= 0 ? 1 : -1;
    const epsilon = -1e-9;
    for (let row = r0; row <= r1; row++) {
      const py = this.originY + (row + 0.5) * RASTER_CELL;
      for (let column = c0; column <= c1; column++) {
        const px = this.originX + (column + 0.5) * RASTER_CELL;
        if (
          sign * ((bx - ax) * (py - ay) - (by - ay) * (px - ax)) >= epsilon &&
          sign * ((cx - bx) * (py - by) - (cy - by) * (px - bx)) >= epsilon &&
          sign * ((dx - cx) * (py - cy) - (dy - cy) * (px - cx)) >= epsilon &&
          sign * ((ax - dx) * (py - dy) - (ay - dy) * (px - dx)) >= epsilon
        ) {
          this.cells[row * this.columns + column] = code;
        }
      }
    }
  }
}

/** Gym's grass: lighter squares where both square indices are even; nothing off the playfield. */
export function grassAt(x: number, y: number): number {
  if (x < -PLAYFIELD || x > PLAYFIELD || y < -PLAYFIELD || y > PLAYFIELD) return CELL_OUTSIDE;
  const squareX = Math.floor(x / GRASS_SQUARE);
  const squareY = Math.floor(y / GRASS_SQUARE);
  return (squareX & 1) === 0 && (squareY & 1) === 0 ? CELL_GRASS_PATCH : CELL_GRASS;
}
