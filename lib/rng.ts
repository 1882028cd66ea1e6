/**
 * The one seeded random number generator of the library.
 *
 * Environments, agents, planners and the seeds handed to TensorFlow.js all draw from `Rng`, so a
 * run is fixed by its seed: the same seed on the same backend gives the same numbers. The
 * generator is sfc32 (Chris Doty-Humphrey's Small Fast Counter), seeded through splitmix32 so
 * nearby integer seeds give unrelated streams.
 */

/** splitmix32: spreads a 32-bit seed into well-mixed state words. */
function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  #spareNormal: number | null = null;

  constructor(readonly seed: number) {
    if (!Number.isFinite(seed)) {
      throw new RangeError(`Rng seed must be a finite number, got ${seed}`);
    }
    const mix = splitmix32(Math.floor(seed));
    this.#a = mix();
    this.#b = mix();
    this.#c = mix();
    this.#d = 1;
    // Warm up so the first outputs do not echo the seed.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** A uniform number in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform number in [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.next();
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    if (!(n >= 1)) throw new RangeError(`Rng.int needs n >= 1, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** A standard normal sample (Box-Muller, the spare kept for the next call). */
  normal(mean = 0, std = 1): number {
    if (this.#spareNormal !== null) {
      const z = this.#spareNormal;
      this.#spareNormal = null;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.#spareNormal = radius * Math.sin(2 * Math.PI * v);
    return mean + std * radius * Math.cos(2 * Math.PI * v);
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  /** A uniformly chosen element. */
  choice<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Shuffles in place (Fisher-Yates) and returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** Fills `out` with standard normal samples. */
  fillNormal(out: Float32Array | Float64Array, mean = 0, std = 1): typeof out {
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** A 31-bit integer for seeding another generator or a TensorFlow.js op. */
  seedInt(): number {
    return this.nextUint32() >>> 1;
  }

  /** An independent child generator, e.g. one per environment in a batch. */
  fork(): Rng {
    return new Rng(this.seedInt());
  }
}
