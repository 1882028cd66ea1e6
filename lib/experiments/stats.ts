/** Small statistics used to report claims as mean ± std over seeds. */

/** 0, 1, ..., n - 1: seed lists and evaluation episode indices. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

/** Population standard deviation, as the papers report spread over runs. */
export function std(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  const m = mean(values);
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += (values[i] - m) ** 2;
  return Math.sqrt(sum / values.length);
}

/** "12.3 ± 4.5" with the given number of decimals. */
export function formatMeanStd(values: ArrayLike<number>, decimals = 1): string {
  return `${mean(values).toFixed(decimals)} ± ${std(values).toFixed(decimals)}`;
}

/** Element-wise mean of equally long curves (one per seed). */
export function meanCurve(curves: readonly ArrayLike<number>[]): number[] {
  if (curves.length === 0) return [];
  const length = Math.min(...curves.map((c) => c.length));
  const out = new Array<number>(length).fill(0);
  for (const curve of curves) for (let i = 0; i < length; i++) out[i] += curve[i] / curves.length;
  return out;
}

/** Element-wise standard deviation of equally long curves. */
export function stdCurve(curves: readonly ArrayLike<number>[]): number[] {
  const m = meanCurve(curves);
  return m.map((mu, i) => Math.sqrt(mean(curves.map((c) => (c[i] - mu) ** 2))));
}
