/**
 * The base of every error a user can cause (bad argument, bad file, a run in use): the command
 * line prints its message as one line and exits with code 2. Anything else is an internal bug.
 */
export class InputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InputError';
  }
}

export function isInputError(e: unknown): e is InputError {
  return e instanceof InputError;
}
