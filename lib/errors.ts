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
