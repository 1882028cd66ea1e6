/**
 * Errors caused by what a user asked for (an unknown name, a bad config value, a missing
 * checkpoint). The CLI prints their message on one line, with no stack trace, and exits non-zero.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}

/** A run stopped on request (Ctrl-C); what finished before it is kept on disk. */
export class InterruptedError extends Error {
  constructor(message = "interrupted") {
    super(message);
    this.name = "InterruptedError";
  }
}

/** Throws InterruptedError once `signal` has fired; call it between steps of a long run. */
export function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError();
}
