/**
 * The worker side of `runStageJobs` (lib/experiments/stage_pool.ts): runs the stage function it
 * is sent, forwarding its progress, then says it is done or why it failed. One job at a time.
 */
import { UserError } from "../errors.ts";
import { type FromStageWorker, loadStageFunction, type ToStageWorker } from "./stage_pool.ts";

/** The worker's global scope, typed narrowly so this file checks alongside window code. */
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<ToStageWorker>) => void) | null;
  postMessage(message: FromStageWorker): void;
};

scope.onmessage = async (event: MessageEvent<ToStageWorker>) => {
  const { moduleUrl, exportName, args } = event.data;
  try {
    const fn = await loadStageFunction(moduleUrl, exportName);
    await fn(args, (progress) => scope.postMessage({ kind: "progress", progress }));
    scope.postMessage({ kind: "done" });
  } catch (error) {
    const userError = error instanceof UserError;
    const message = error instanceof Error
      ? (userError ? error.message : (error.stack ?? error.message))
      : String(error);
    scope.postMessage({ kind: "error", message, userError });
  }
};
