/**
 * The error every data reader throws when a file is missing, unreadable or malformed.
 * Its message always starts with the offending path, so a user can act on it without a stack trace.
 */
import { InputError } from '../util/input-error.js';

export class DataFileError extends InputError {
  override readonly name = 'DataFileError';

  constructor(
    /** The file (or directory) that is missing or wrong. */
    readonly path: string,
    /** What is wrong with it, without the path. */
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}
