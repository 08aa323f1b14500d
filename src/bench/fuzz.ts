/**
 * `mnas bench fuzz`: random and mutated inputs through every parser a user or a device can reach
 * (arch strings, search configs, safetensors headers, device frames). Each input ends as the
 * command line would end it: accepted (exit 0), refused with an InputError (exit 2, one line),
 * or anything else, which is a crash (exit 1 with a stack: an internal bug). Seeded: the same
 * seed feeds the same inputs.
 *
 * Inputs are half random (bytes, or tokens of the format's vocabulary) and half mutations of
 * valid examples (bit flips, byte edits, insertions, deletions, duplicated ranges, truncation,
 * numbers swapped for boundary or extreme ones, format tokens spliced in), one to four edits each.
 */
import { isInputError } from '../util/input-error.js';
import { Rng } from '../util/rng.js';

export interface FuzzTarget {
  readonly name: string;
  /** Valid inputs to mutate. */
  readonly seeds: readonly Uint8Array[];
  /** Tokens of the format, for random inputs and splices. */
  readonly tokens: readonly string[];
  /** Runs one input through the parser (and whatever the command does next with a valid one). */
  run(input: Uint8Array): void;
}

export interface FuzzCrash {
  readonly input: string;
  readonly error: string;
}

export interface FuzzTargetReport {
  readonly target: string;
  readonly inputs: number;
  readonly accepted: number;
  readonly refused: number;
  readonly crashed: number;
  /** Inputs slower than the slow threshold (a parser must not hang or blow up on any input). */
  readonly slow: number;
  readonly max_ms: number;
  readonly seconds: number;
  /** The first few crashes, input escaped as JSON. */
  readonly crashes: readonly FuzzCrash[];
}

export interface FuzzReport {
  readonly seed: number;
  readonly inputs: number;
  readonly crashed: number;
  readonly slow: number;
  readonly seconds: number;
  readonly slow_ms: number;
  readonly targets: readonly FuzzTargetReport[];
}

const EXTREME_NUMBERS = ['2', '3', '8', '64', '65', '4096', '4097', '0', '-1', '1e309', '-0', 'NaN', '1.5', '4294967296', '9007199254740993', '99999999999999999999', '1e-300', '2147483648', '65536'];

export function mutate(seed: Uint8Array, tokens: readonly string[], rng: Rng): Uint8Array {
  let b = Buffer.from(seed);
  // half single edits, which mostly keep the input valid enough to reach past the first check
  const edits = rng.int(2) === 0 ? 1 : 1 + rng.int(4);
  for (let e = 0; e < edits; e++) {
    const at = b.length ? rng.int(b.length) : 0;
    switch (rng.int(8)) {
      case 0:
        if (b.length) b[at] = b[at]! ^ (1 << rng.int(8));
        break;
      case 1:
        if (b.length) b[at] = rng.int(256);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), randomBytes(1 + rng.int(8), rng), b.subarray(at)]);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(16)))]);
        break;
      case 4: {
        const len = 1 + rng.int(32);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
        break;
      }
      case 5:
        b = b.subarray(0, rng.int(b.length + 1));
        break;
      case 6: {
        const text = b.toString('latin1');
        const digits = [...text.matchAll(/-?\d+(\.\d+)?(e-?\d+)?/g)];
        const d = digits.length ? digits[rng.int(digits.length)]! : undefined;
        const n = EXTREME_NUMBERS[rng.int(EXTREME_NUMBERS.length)]!;
        if (d?.index !== undefined) b = Buffer.from(text.slice(0, d.index) + n + text.slice(d.index + d[0].length), 'latin1');
        break;
      }
      default: {
        const t = Buffer.from(tokens.length ? tokens[rng.int(tokens.length)]! : '', 'utf8');
        b = Buffer.concat([b.subarray(0, at), t, b.subarray(at)]);
      }
    }
  }
  return b;
}

function randomBytes(n: number, rng: Rng): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(256);
  return b;
}

function randomInput(target: FuzzTarget, rng: Rng): Uint8Array {
  if (rng.int(2) === 0 || target.tokens.length === 0) return randomBytes(rng.int(257), rng);
  const parts: string[] = [];
  const n = 1 + rng.int(40);
  for (let i = 0; i < n; i++) parts.push(rng.int(4) === 0 ? EXTREME_NUMBERS[rng.int(EXTREME_NUMBERS.length)]! : target.tokens[rng.int(target.tokens.length)]!);
  return Buffer.from(parts.join(''), 'utf8');
}

/** The endless, seeded input stream of a target (`index` keeps targets' streams apart). */
export function* fuzzInputs(target: FuzzTarget, seed: number, index: number): Generator<Uint8Array> {
  const rng = new Rng((seed * 31 + index) >>> 0);
  for (;;) yield rng.int(2) === 0 && target.seeds.length ? mutate(target.seeds[rng.int(target.seeds.length)]!, target.tokens, rng) : randomInput(target, rng);
}

export interface FuzzOptions {
  readonly targets: readonly FuzzTarget[];
  /** Inputs per target. */
  readonly perTarget: number;
  readonly seed: number;
  /** An input taking longer than this counts as slow (default 1000 ms). */
  readonly slowMs?: number;
  readonly onProgress?: (target: string, done: number, total: number) => void;
}

export function runFuzz(o: FuzzOptions): FuzzReport {
  const slowMs = o.slowMs ?? 1000;
  const start = performance.now();
  const reports = o.targets.map((target, t) => {
    const inputs = fuzzInputs(target, o.seed, t);
    let accepted = 0, refused = 0, crashed = 0, slow = 0, maxMs = 0;
    const crashes: FuzzCrash[] = [];
    const t0 = performance.now();
    for (let i = 0; i < o.perTarget; i++) {
      const input = inputs.next().value as Uint8Array;
      const s = performance.now();
      try {
        target.run(input);
        accepted++;
      } catch (e) {
        if (isInputError(e)) refused++;
        else {
          crashed++;
          if (crashes.length < 5) crashes.push({ input: JSON.stringify(Buffer.from(input).toString('latin1')), error: String((e as Error)?.stack ?? e).split('\n').slice(0, 3).join(' | ') });
        }
      }
      const ms = performance.now() - s;
      if (ms > slowMs) slow++;
      maxMs = Math.max(maxMs, ms);
      if (o.onProgress && (i + 1) % 1000 === 0) o.onProgress(target.name, i + 1, o.perTarget);
    }
    return { target: target.name, inputs: o.perTarget, accepted, refused, crashed, slow, max_ms: maxMs, seconds: (performance.now() - t0) / 1000, crashes };
  });
  return {
    seed: o.seed,
    inputs: reports.reduce((a, r) => a + r.inputs, 0),
    crashed: reports.reduce((a, r) => a + r.crashed, 0),
    slow: reports.reduce((a, r) => a + r.slow, 0),
    seconds: (performance.now() - start) / 1000,
    slow_ms: slowMs,
    targets: reports,
  };
}
