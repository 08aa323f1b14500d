/**
 * Is a device's run time physically plausible? A device reports ms per inference; the reward of a
 * search divides by it, so a device claiming 1e-300 ms (buggy timer, or a hostile page) would
 * dominate everything. The server rejects such timings, fails or moves the job, and flags the device.
 *
 * Three checks, each pure:
 *  - each sample: finite, > 0, >= floorMs (1 µs: no CNN runs faster), <= ceilingMs;
 *  - the page's clock: timed runs cannot add up to more than the wall-clock time since the job was sent;
 *  - the whole job: no sample more than maxFastRatio times faster than the median (a CPU does not run
 *    the same model 20x faster now and then; slow outliers are real: GC, preemption), nor more than
 *    maxSlowRatio times slower.
 */
import { quantileSorted } from '../../util/stats.js';

export interface TimingBounds {
  /** Smallest plausible time per inference, ms (default 0.001 = 1 µs). */
  floorMs: number;
  /** Largest plausible time per inference, ms (default 60 000). */
  ceilingMs: number;
  /** Largest median / fastest sample ratio within a job (default 20). */
  maxFastRatio: number;
  /** Largest slowest sample / median ratio within a job (default 1000). */
  maxSlowRatio: number;
}

export const DEFAULT_TIMING_BOUNDS: TimingBounds = { floorMs: 0.001, ceilingMs: 60_000, maxFastRatio: 20, maxSlowRatio: 1000 };

/** Checks bounds given as options; throws RangeError on nonsense. */
export function resolveTimingBounds(b: Partial<TimingBounds> = {}): TimingBounds {
  const r = { ...DEFAULT_TIMING_BOUNDS, ...Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined)) } as TimingBounds;
  for (const k of Object.keys(DEFAULT_TIMING_BOUNDS) as Array<keyof TimingBounds>) {
    if (!(Number.isFinite(r[k]) && r[k] > 0)) throw new RangeError(`timing bounds: ${k} must be a positive number, got ${String(r[k])}`);
  }
  if (r.ceilingMs <= r.floorMs) throw new RangeError(`timing bounds: ceilingMs (${r.ceilingMs}) must exceed floorMs (${r.floorMs})`);
  if (r.maxFastRatio < 1 || r.maxSlowRatio < 1) throw new RangeError('timing bounds: ratios must be >= 1');
  return r;
}

/** Why one reported time per inference is implausible, or undefined if it is fine. */
export function implausibleTime(t: unknown, b: TimingBounds): string | undefined {
  if (typeof t !== 'number' || !Number.isFinite(t)) return `run time ${String(t)} is not a finite number`;
  if (t <= 0) return `run time ${t} ms is not positive`;
  if (t < b.floorMs) return `run time ${t} ms is below the physical floor of ${b.floorMs} ms`;
  if (t > b.ceilingMs) return `run time ${t} ms is above the ceiling of ${b.ceilingMs} ms`;
  return undefined;
}

/**
 * Why the page's clock is implausible: `pageMs` of timed runs reported `wallMs` after the job was
 * sent (network and timer granularity get 10% + 1 s of slack).
 */
export function implausibleClock(pageMs: number, wallMs: number): string | undefined {
  if (pageMs > wallMs * 1.1 + 1000) return `timed runs add up to ${Math.round(pageMs)} ms but only ${Math.round(wallMs)} ms passed since the job was sent`;
  return undefined;
}

/** Why a job's samples (ms per inference) are inconsistent with each other, or undefined. */
export function inconsistentSamples(samples: ArrayLike<number>, b: TimingBounds): string | undefined {
  if (samples.length < 3) return undefined;
  const sorted = Float64Array.from(samples).sort();
  const med = quantileSorted(sorted, 0.5);
  const lo = sorted[0] as number;
  const hi = sorted[sorted.length - 1] as number;
  if (lo * b.maxFastRatio < med) return `inconsistent samples: fastest ${lo} ms is more than ${b.maxFastRatio}x below the median ${med} ms`;
  if (hi > med * b.maxSlowRatio) return `inconsistent samples: slowest ${hi} ms is more than ${b.maxSlowRatio}x above the median ${med} ms`;
  return undefined;
}
