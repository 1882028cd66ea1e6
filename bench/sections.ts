/**
 * The sections `deno task bench` runs, in order. A section is a name and a `run` that measures
 * and returns its figures as rows (or one record); the harness prints them as a table and writes
 * data/bench/<name>.json. To add one: write bench/<topic>.ts exporting
 * `{ name, run(options) }` and list it here.
 */
import { tensorSection } from "./tensor.ts";
import { envsSection } from "./envs_pixels.ts";
import { planningSection } from "./planning.ts";
import { minAtarSection } from "./minatar.ts";
import { mctsSection } from "./mcts.ts";
import { profileSection } from "./profile.ts";

export interface BenchOptions {
  /** A shorter run with fewer repeats (the numbers get noisier). */
  quick?: boolean;
  /** Whether the section prints its own progress lines. */
  print?: boolean;
}

/** Figures of one section: table rows, or a single record. */
export type BenchResult = object[] | object;

export interface BenchSection {
  name: string;
  run(options?: BenchOptions): Promise<BenchResult>;
}

export const BENCH_SECTIONS: readonly BenchSection[] = [
  tensorSection,
  envsSection,
  planningSection,
  minAtarSection,
  mctsSection,
  profileSection,
];
