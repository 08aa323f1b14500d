/**
 * Errors a command throws when the user asked for something invalid (bad argument, unknown
 * preset, malformed arch string). main.ts maps them, like every InputError, to exit code 2.
 */
import { InputError } from '../util/input-error.js';

export class UsageError extends InputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}
