/**
 * The one error type of invalid architectures: makeArch, the string codecs (arch-string.ts,
 * tf-block-string.ts, timm-string.ts) and the size limits (model/limits.ts, a subclass) throw
 * it with a one-line message naming the field or token and the value. Anything else thrown
 * while parsing is a bug.
 */
import { InputError } from '../util/input-error.js';

export class ArchError extends InputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ArchError';
  }
}

/**
 * Echo of user text inside a one-line message: control characters (newlines included) escaped,
 * long text cut, so a hostile string cannot make a message multi-line or kilobytes long.
 */
export function quoteText(text: string, max = 48): string {
  const s = String(text);
  const cut = s.length > max ? `${s.slice(0, max)}...(${s.length} chars)` : s;
  // eslint-disable-next-line no-control-regex
  return cut.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
