/**
 * Learning curves an experiment reports on a task other experiments also run (the swing-up, say),
 * so that the `comparison` experiment can put methods side by side at equal environment steps
 * from the results files alone. Each experiment extracts its own curves from its metrics
 * (`Experiment.sharedTasks`); nothing is typed in by hand.
 */

/** One method's return against environment steps on a shared task, per seed. */
export interface SharedTaskCurve {
  /** The task's id, shared across experiments, e.g. "cartpole-swingup". */
  task: string;
  /** The method, e.g. "PlaNet". */
  method: string;
  /** What the return is: e.g. "training-episode return". */
  measure: string;
  envSteps: number[];
  /** perSeed[s][i]: seed s's return at envSteps[i]. */
  perSeed: number[][];
}

/** The curve's per-seed values at the last point at or before `step`; null when none is. */
export function valuesAtStep(curve: SharedTaskCurve, step: number): number[] | null {
  let index = -1;
  for (let i = 0; i < curve.envSteps.length; i++) if (curve.envSteps[i] <= step) index = i;
  if (index < 0) return null;
  return curve.perSeed.map((seed) => seed[index]);
}

/** A curve from a metrics entry shaped `{ envSteps, perSeed }`, or none when it is missing. */
export function curveFrom(
  task: string,
  method: string,
  measure: string,
  entry: { envSteps: number[]; perSeed: number[][] } | undefined,
): SharedTaskCurve[] {
  if (!entry || !Array.isArray(entry.envSteps) || !Array.isArray(entry.perSeed)) return [];
  return [{ task, method, measure, envSteps: entry.envSteps, perSeed: entry.perSeed }];
}

/** Per-seed scores measured once, after `envSteps` steps of training, as a one-point curve. */
export function finalScores(
  task: string,
  method: string,
  measure: string,
  envSteps: number,
  perSeed: number[] | undefined,
): SharedTaskCurve[] {
  if (!Array.isArray(perSeed) || perSeed.length === 0) return [];
  return [{ task, method, measure, envSteps: [envSteps], perSeed: perSeed.map((v) => [v]) }];
}
