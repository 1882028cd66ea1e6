/**
 * Progress of a long run, reported by agents, experiments and stage workers and shown by
 * lib/viz/progress.ts: a stage name and how far through it the run is.
 */
export interface Progress {
  stage: string;
  done: number;
  total: number;
  /** A short status such as the latest loss or return. */
  message?: string;
}
