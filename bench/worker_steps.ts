/**
 * A stage function for the bench: trains the World Models VAE for a number of steps in a stage
 * worker, so the bench can time two workers at once with one BLAS thread each (what the stage
 * pool sets) against two each (oversubscribed).
 */
import { activeBlas } from "../lib/tensor/mod.ts";
import { makeWorkload } from "./workloads.ts";

export interface VaeStepsArgs {
  steps: number;
  /** Sets the process-wide BLAS thread count from inside the worker (default: leave it). */
  blasThreads?: number;
}

export function vaeSteps(args: VaeStepsArgs): Promise<void> {
  if (args.blasThreads !== undefined) activeBlas()?.setThreads(args.blasThreads);
  const workload = makeWorkload("vae");
  for (let i = 0; i < args.steps; i++) workload.step();
  workload.dispose();
  return Promise.resolve();
}
