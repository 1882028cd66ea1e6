/**
 * The worker side of `FitnessPool` (lib/evolution/parallel.ts): loads the caller's fitness module,
 * runs its `setup` once, then scores the candidates it is sent, one message per candidate.
 */
import { checkModule, type FitnessModule, type FromWorker, type ToWorker } from "./parallel.ts";

/** The worker's global scope, typed narrowly so this file checks alongside window code. */
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker): void;
};

let fitnessModule: FitnessModule | null = null;

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

scope.onmessage = async (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.kind === "init") {
    try {
      const module = await import(message.moduleUrl);
      fitnessModule = checkModule(module, message.moduleUrl);
      await fitnessModule.setup?.(message.setupPayload);
      scope.postMessage({ kind: "ready" });
    } catch (error) {
      scope.postMessage({ kind: "error", job: -1, message: describe(error) });
    }
    return;
  }
  try {
    const fitness = await fitnessModule!.fitness(message.candidate, message.task);
    scope.postMessage({ kind: "result", job: message.job, fitness });
  } catch (error) {
    scope.postMessage({ kind: "error", job: message.job, message: describe(error) });
  }
};
