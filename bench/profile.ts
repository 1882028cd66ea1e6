/**
 * Bench section "profile": where one step of each bench workload (bench/workloads.ts) spends its
 * time, kernel by kernel (lib/tensor/profile.ts), at one BLAS thread. The rows are each
 * workload's costliest kernels and one "outside kernels" row: the JavaScript between kernels
 * (TensorFlow.js's engine, the gradient tape, tidy), which for small models is most of a step.
 *
 *   deno task bench profile [--quick]
 */
import { activeBlas } from "../lib/tensor/mod.ts";
import { profileKernels } from "../lib/tensor/profile.ts";
import { makeWorkload, WORKLOAD_NAMES } from "./workloads.ts";

export interface ProfileRow {
  workload: string;
  kernel: string;
  calls: number;
  milliseconds: number;
  /** Share of the step's wall time. */
  share: number;
}

export function run(options: { quick?: boolean; print?: boolean } = {}): Promise<ProfileRow[]> {
  const blas = activeBlas();
  const previousThreads = blas?.threads ?? 1;
  if (blas?.canSetThreads) blas.setThreads(1);
  const rows: ProfileRow[] = [];
  try {
    for (const name of WORKLOAD_NAMES.filter((n) => n !== "mlp")) {
      const workload = makeWorkload(name);
      for (let i = 0; i < (options.quick ? 1 : 2); i++) workload.step();
      const profile = profileKernels(() => workload.step());
      workload.dispose();
      const wall = profile.wallMilliseconds;
      for (const row of profile.rows.slice(0, options.quick ? 4 : 8)) {
        rows.push({
          workload: name,
          kernel: row.kernel,
          calls: row.calls,
          milliseconds: row.milliseconds,
          share: row.milliseconds / wall,
        });
      }
      const outside = wall - profile.kernelMilliseconds;
      rows.push({
        workload: name,
        kernel: "(outside kernels)",
        calls: 0,
        milliseconds: outside,
        share: outside / wall,
      });
      if (options.print ?? true) {
        console.log(
          `  ${name}: ${wall.toFixed(0)} ms, ${(100 * outside / wall).toFixed(0)}% outside kernels`,
        );
      }
    }
  } finally {
    if (blas?.canSetThreads) blas.setThreads(previousThreads);
  }
  return Promise.resolve(rows);
}

/** The section the bench harness (bench/main.ts) runs. */
export const profileSection = { name: "profile", run };

if (import.meta.main) await run({ quick: Deno.args.includes("--quick") });
