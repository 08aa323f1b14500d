/**
 * Shared pieces of the block-string codecs (arch-string.ts, tf-block-string.ts,
 * timm-string.ts): token splitting, number formatting and errors that name the token and its
 * position. Nothing is silently dropped. Every error is an ArchError with a one-line message.
 */
import { ArchError, quoteText } from './arch-error.js';

/** `where` is e.g. "block 2" or "global prefix"; `index` is the token's index inside it. */
export function tokenError(format: string, where: string, index: number, token: string, problem: string): ArchError {
  return new ArchError(`${format}: ${where}, token ${index} '${quoteText(token)}': ${problem}`);
}

export function splitTokens(format: string, text: string, where: string): string[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new ArchError(`${format}: ${where} is empty`);
  const tokens = trimmed.split('_');
  tokens.forEach((t, i) => {
    if (t === '') throw tokenError(format, where, i, t, 'empty token (doubled or trailing underscore)');
  });
  return tokens;
}

const NUMBER = /^\d+(\.\d+)?([eE][-+]?\d+)?$/;

/** Parses the digits after a token's letter prefix as a non-negative decimal number. */
export function parseNumber(text: string): number | undefined {
  return NUMBER.test(text) ? Number(text) : undefined;
}

/**
 * Digits as an integer, undefined if `text` is not digits. Digits beyond 2^53 would silently
 * round (o99999999999999999999 = 1e20): an error from `bad`, which names the token.
 */
export function parseInteger(text: string, bad: (problem: string) => Error = (p) => new ArchError(p)): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw bad(`${quoteText(text, 24)} is not a safe integer (at most ${Number.MAX_SAFE_INTEGER})`);
  return value;
}

/** Shortest decimal that parses back to the same number (JS's own). */
export function formatNumber(value: number): string {
  return String(value);
}

/** Records which keys were seen so a repeated token is an error. */
export class SeenKeys {
  private readonly seen = new Set<string>();
  constructor(private readonly format: string, private readonly where: string) {}
  mark(key: string, index: number, token: string): void {
    if (this.seen.has(key)) throw tokenError(this.format, this.where, index, token, `'${key}' given twice`);
    this.seen.add(key);
  }
  has(key: string): boolean {
    return this.seen.has(key);
  }
  require(keys: readonly string[], example: string): void {
    const missing = keys.filter((k) => !this.seen.has(k));
    if (missing.length > 0) throw new ArchError(`${this.format}: ${this.where} is missing ${missing.map((k) => `'${k}'`).join(', ')} (e.g. ${example})`);
  }
}
