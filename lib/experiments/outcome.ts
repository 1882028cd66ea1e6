/**
 * What two runs of one config must agree on: a result's claims and metrics, less every timing
 * field (seconds, milliseconds), which differ from run to run and machine to machine.
 */
import type { ExperimentResult } from "./types.ts";

/** A value with every timing field left out, recursively. */
export function withoutTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTimes);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !/(^s|S)econds|Ms$|^timing$/.test(key))
        .map(([key, inner]) => [key, withoutTimes(inner)]),
    );
  }
  return value;
}

/** The claims and metrics of a result without their timings. */
export function outcomeOf(result: Pick<ExperimentResult<unknown>, "claims" | "metrics">): unknown {
  return withoutTimes({ claims: result.claims, metrics: result.metrics });
}

/** Whether two results report the same outcome (timings aside). */
export function sameOutcome(
  a: Pick<ExperimentResult<unknown>, "claims" | "metrics">,
  b: Pick<ExperimentResult<unknown>, "claims" | "metrics">,
): boolean {
  return JSON.stringify(outcomeOf(a)) === JSON.stringify(outcomeOf(b));
}

/**
 * Whether `later` reports everything `earlier` did, unchanged (timings aside), and maybe more:
 * the same claims, and every metric of `earlier` present in `later` with the same value, while
 * `later` may hold metrics `earlier` lacked (a measurement added to an experiment, say, or to
 * each of its seeds).
 */
export function extendsOutcome(
  earlier: Pick<ExperimentResult<unknown>, "claims" | "metrics">,
  later: Pick<ExperimentResult<unknown>, "claims" | "metrics">,
): boolean {
  const contains = (big: unknown, small: unknown): boolean => {
    // Lists of seeds or games keep their length; each entry may gain fields.
    if (Array.isArray(small)) {
      return Array.isArray(big) && big.length === small.length &&
        small.every((value, i) => contains(big[i], value));
    }
    if (small && typeof small === "object") {
      if (!big || typeof big !== "object" || Array.isArray(big)) return false;
      return Object.entries(small).every(([key, value]) =>
        contains((big as Record<string, unknown>)[key], value)
      );
    }
    return JSON.stringify(big) === JSON.stringify(small);
  };
  const a = outcomeOf(earlier) as { claims: unknown; metrics: unknown };
  const b = outcomeOf(later) as { claims: unknown; metrics: unknown };
  return JSON.stringify(a.claims) === JSON.stringify(b.claims) && contains(b.metrics, a.metrics);
}
