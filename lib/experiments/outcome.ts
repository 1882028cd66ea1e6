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
