/**
 * A tiny software rasterizer for the pixel views of the environments (an RGB, height x width x
 * channel, uint8 image). Shapes are filled where a pixel's centre falls inside them, with no
 * anti-aliasing: cheap enough to draw every step of a pixel-based agent, and it writes into the
 * caller's buffer without allocating.
 */

/** An environment that can draw its current state as a square RGB image. */
export interface Renderable {
  /** Draws into `out` (allocated when absent) a `size` x `size` x 3 image and returns it. */
  render(out?: Uint8Array, size?: number): Uint8Array;
}

/** Whether an environment has a pixel view. */
export function isRenderable(env: object): env is Renderable {
  return typeof (env as Partial<Renderable>).render === "function";
}

/** A colour as 0xRRGGBB. */
export type Rgb = number;

/** Checks (or allocates) the image buffer of a `size` x `size` RGB image. */
export function imageBuffer(envId: string, out: Uint8Array | undefined, size: number): Uint8Array {
  if (!Number.isInteger(size) || size < 8) {
    throw new RangeError(`${envId}: render size must be an integer of at least 8, got ${size}`);
  }
  const length = size * size * 3;
  if (out === undefined) return new Uint8Array(length);
  if (out.length !== length) {
    throw new RangeError(
      `${envId}: render buffer holds ${out.length} bytes, a ${size}x${size} RGB image needs ${length}`,
    );
  }
  return out;
}

/** Paints rows [top, bottom) of the image in one colour. */
export function fillRows(image: Uint8Array, size: number, top: number, bottom: number, color: Rgb) {
  const r = (color >> 16) & 255, g = (color >> 8) & 255, b = color & 255;
  const start = Math.max(0, Math.min(size, Math.round(top))) * size * 3;
  const end = Math.max(0, Math.min(size, Math.round(bottom))) * size * 3;
  for (let i = start; i < end; i += 3) {
    image[i] = r;
    image[i + 1] = g;
    image[i + 2] = b;
  }
}

/** Fills the axis-aligned rectangle [left, right] x [top, bottom], in pixel units. */
export function fillRect(
  image: Uint8Array,
  size: number,
  left: number,
  top: number,
  right: number,
  bottom: number,
  color: Rgb,
): void {
  const r = (color >> 16) & 255, g = (color >> 8) & 255, b = color & 255;
  // Pixel (col, row) is covered when its centre (col + 0.5, row + 0.5) lies inside.
  const col0 = Math.max(0, Math.ceil(left - 0.5));
  const col1 = Math.min(size - 1, Math.floor(right - 0.5));
  const row0 = Math.max(0, Math.ceil(top - 0.5));
  const row1 = Math.min(size - 1, Math.floor(bottom - 0.5));
  for (let row = row0; row <= row1; row++) {
    for (let col = col0; col <= col1; col++) {
      const i = (row * size + col) * 3;
      image[i] = r;
      image[i + 1] = g;
      image[i + 2] = b;
    }
  }
}

/**
 * Fills the points within `radius` of the segment from (ax, ay) to (bx, by): a thick line with
 * round ends, used for poles and rods, and a disc when both ends coincide.
 */
export function fillCapsule(
  image: Uint8Array,
  size: number,
  ax: number,
  ay: number,
  bx: number,
  by: number,
  radius: number,
  color: Rgb,
): void {
  const r = (color >> 16) & 255, g = (color >> 8) & 255, b = color & 255;
  const dx = bx - ax, dy = by - ay;
  const lengthSquared = dx * dx + dy * dy;
  const radiusSquared = radius * radius;
  const col0 = Math.max(0, Math.floor(Math.min(ax, bx) - radius));
  const col1 = Math.min(size - 1, Math.ceil(Math.max(ax, bx) + radius));
  const row0 = Math.max(0, Math.floor(Math.min(ay, by) - radius));
  const row1 = Math.min(size - 1, Math.ceil(Math.max(ay, by) + radius));
  for (let row = row0; row <= row1; row++) {
    const py = row + 0.5 - ay;
    for (let col = col0; col <= col1; col++) {
      const px = col + 0.5 - ax;
      // Distance to the nearest point of the segment.
      let t = lengthSquared > 0 ? (px * dx + py * dy) / lengthSquared : 0;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const ex = px - t * dx, ey = py - t * dy;
      if (ex * ex + ey * ey <= radiusSquared) {
        const i = (row * size + col) * 3;
        image[i] = r;
        image[i + 1] = g;
        image[i + 2] = b;
      }
    }
  }
}
