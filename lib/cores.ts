/**
 * How many cores this process may use: the CPUs SLURM gave the job (`SLURM_CPUS_PER_TASK`) when it
 * runs as a SLURM task, else every core the runtime reports. Stage workers, fitness workers and
 * the BLAS's threads are all sized from it, so a stage given one CPU of a larger node keeps to it.
 */
export function availableCores(): number {
  const granted = Number(readEnv("SLURM_CPUS_PER_TASK"));
  if (Number.isInteger(granted) && granted >= 1) return granted;
  const reported = typeof navigator !== "undefined" ? navigator.hardwareConcurrency : 1;
  return Math.max(1, reported || 1);
}

/** An environment variable, or undefined where there is none or no permission to read it. */
function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}
