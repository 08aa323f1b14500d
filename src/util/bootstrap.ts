/**
 * The percentile bootstrap over items (architectures, models): resample n items with replacement,
 * seeded, and hand every resample to the caller, who computes all the statistics it compares on
 * that same resample, so their differences keep the pairing of the data.
 */
import { quantileSorted } from './stats.js';
import { Rng } from './rng.js';

/** Calls visit with `rounds` resamples of the indices 0..n-1 (with replacement); the same seed gives the same resamples. */
export function forEachResample(n: number, rounds: number, seed: number, visit: (indices: Uint32Array) => void): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`bootstrap: need at least one item, got ${n}`);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`bootstrap: rounds must be a positive integer, got ${rounds}`);
  const rng = new Rng(seed);
  const indices = new Uint32Array(n);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < n; i++) indices[i] = rng.int(n);
    visit(indices);
  }
}

/** The central `level` interval of values (e.g. 0.9: the 5th and 95th percentiles); null for none. */
export function percentileInterval(values: readonly number[], level: number): readonly [number, number] | null {
  if (!(level > 0 && level < 1)) throw new Error(`bootstrap: level must be in (0, 1), got ${level}`);
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const tail = (1 - level) / 2;
  return [quantileSorted(sorted, tail), quantileSorted(sorted, 1 - tail)];
}
