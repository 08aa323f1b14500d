import { InputError } from '../util/input-error.js';

/**
 * A search that cannot be set up as asked: a bad config, a run directory that cannot be created
 * or resumed, a latency table for another space. Raised before any device, worker or file is
 * created; the CLI maps it, like every InputError, to exit code 2.
 */
export class SearchSetupError extends InputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SearchSetupError';
  }
}
