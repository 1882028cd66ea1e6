/**
 * The soft indicator behind the smooth rewards of the DeepMind Control Suite (Tassa et al. 2018),
 * `rewards.tolerance` in dm_control: 1 inside [lower, upper], falling off outside with a sigmoid
 * that equals `valueAtMargin` at a distance of `margin` from the nearest bound.
 */

export type ToleranceSigmoid = "gaussian" | "quadratic" | "linear";

export interface ToleranceOptions {
  /** Inclusive target interval; [0, 0] unless given. */
  readonly lower?: number;
  readonly upper?: number;
  /** Distance from the interval at which the value has fallen to `valueAtMargin`; 0 gives a hard indicator. */
  readonly margin?: number;
  readonly sigmoid?: ToleranceSigmoid;
  /** dm_control's default is 0.1. */
  readonly valueAtMargin?: number;
}

/** A sigmoid of x >= 0, 1 at x = 0 and `valueAtOne` at x = 1. */
function sigmoid(x: number, valueAtOne: number, kind: ToleranceSigmoid): number {
  switch (kind) {
    case "gaussian": {
      if (!(valueAtOne > 0 && valueAtOne < 1)) {
        throw new RangeError(
          `tolerance: a gaussian needs 0 < valueAtMargin < 1, got ${valueAtOne}`,
        );
      }
      const scale = Math.sqrt(-2 * Math.log(valueAtOne));
      const scaled = x * scale;
      return Math.exp(-0.5 * scaled * scaled);
    }
    case "quadratic": {
      if (!(valueAtOne >= 0 && valueAtOne < 1)) {
        throw new RangeError(`tolerance: needs 0 <= valueAtMargin < 1, got ${valueAtOne}`);
      }
      const scaled = x * Math.sqrt(1 - valueAtOne);
      return Math.abs(scaled) < 1 ? 1 - scaled * scaled : 0;
    }
    case "linear": {
      if (!(valueAtOne >= 0 && valueAtOne < 1)) {
        throw new RangeError(`tolerance: needs 0 <= valueAtMargin < 1, got ${valueAtOne}`);
      }
      const scaled = x * (1 - valueAtOne);
      return Math.abs(scaled) < 1 ? 1 - scaled : 0;
    }
  }
}

/**
 * 1 when `x` lies in [lower, upper]; otherwise a sigmoid of the distance to the nearest bound over
 * `margin`. Pass one options object kept in a constant to stay free of allocation in a loop.
 */
export function tolerance(x: number, options: ToleranceOptions = {}): number {
  const lower = options.lower ?? 0, upper = options.upper ?? 0, margin = options.margin ?? 0;
  if (lower > upper) throw new RangeError(`tolerance: lower ${lower} > upper ${upper}`);
  if (margin < 0) throw new RangeError(`tolerance: margin must be non-negative, got ${margin}`);
  if (lower <= x && x <= upper) return 1;
  if (margin === 0) return 0;
  const distance = (x < lower ? lower - x : x - upper) / margin;
  return sigmoid(distance, options.valueAtMargin ?? 0.1, options.sigmoid ?? "gaussian");
}
