/**
 * Errors a command throws when the user asked for something invalid (bad argument, unknown
 * preset, malformed arch string). main.ts maps them to exit code 2.
 */
export class UsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}
