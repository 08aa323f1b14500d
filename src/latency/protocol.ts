/**
 * The measurement protocol shared by every latency device: warm-up, then timed runs until the
 * median is known to +-relPrecision (95% distribution-free confidence interval of the median from
 * order statistics), or until a run or time cap stops it.
 *
 * Why medians: the machines we measure on are shared and noisy; the run-time distribution has a
 * long right tail (preemption, interrupts, frequency changes), so the mean and the standard
 * deviation move with every outlier while the median and its order-statistic interval do not.
 *
 * Everything here is pure given a clock, so the statistics and the stopping rule are tested on
 * synthetic timing sequences (protocol.test.ts) with a fake clock.
 */
import type { LatencyStats, MeasureProtocol } from './device.js';
import { quantileSorted } from '../util/stats.js';

/** Milliseconds, monotonic. */
export interface Clock {
  now(): number;
}

const realClock: Clock = { now: () => performance.now() };

/** Most sessions of one model a measurement may open (each holds the model's weights and arena). */
export const MAX_SESSIONS = 16;

/** Full-model default: converges in well under a second on small models, capped at ~1.5 s. */
export const DEFAULT_PROTOCOL: Readonly<MeasureProtocol> = Object.freeze({
  warmupRuns: 10,
  warmupSeconds: 0.1,
  minRuns: 30,
  minSeconds: 0.25,
  maxRuns: 5000,
  relPrecision: 0.02,
  maxSeconds: 1.5,
});

/** For single-layer profiling (thousands of tiny models): shorter caps, same precision target. */
export const PROFILE_PROTOCOL: Readonly<MeasureProtocol> = Object.freeze({
  warmupRuns: 5,
  warmupSeconds: 0.01,
  minRuns: 21,
  minSeconds: 0.005,
  maxRuns: 2000,
  relPrecision: 0.02,
  maxSeconds: 0.15,
  pickCore: false,
});

/** `p` over `base` (the default protocol unless given); undefined entries of `p` keep the base's. */
export function resolveProtocol(p: Partial<MeasureProtocol> = {}, base: Readonly<MeasureProtocol> = DEFAULT_PROTOCOL): MeasureProtocol {
  const r: MeasureProtocol = { ...base, ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) };
  const int = (k: keyof MeasureProtocol, min: number): void => {
    const v = r[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new Error(`measure protocol: ${k} must be an integer >= ${min}, got ${String(v)}`);
  };
  int('warmupRuns', 0);
  int('minRuns', 1);
  int('maxRuns', 1);
  if (r.maxRuns < r.minRuns) throw new Error(`measure protocol: maxRuns (${r.maxRuns}) < minRuns (${r.minRuns})`);
  if (!(r.relPrecision > 0 && r.relPrecision < 1)) throw new Error(`measure protocol: relPrecision must be in (0, 1), got ${r.relPrecision}`);
  if (!(r.maxSeconds > 0)) throw new Error(`measure protocol: maxSeconds must be > 0, got ${r.maxSeconds}`);
  if (r.minSeconds !== undefined && !(r.minSeconds >= 0 && r.minSeconds <= r.maxSeconds)) throw new Error(`measure protocol: minSeconds must be in [0, maxSeconds], got ${r.minSeconds}`);
  if (r.warmupSeconds !== undefined && !(r.warmupSeconds >= 0)) throw new Error(`measure protocol: warmupSeconds must be >= 0, got ${r.warmupSeconds}`);
  if (r.blockSeconds !== undefined && !(r.blockSeconds > 0 && r.blockSeconds <= r.maxSeconds)) throw new Error(`measure protocol: blockSeconds must be in (0, maxSeconds], got ${r.blockSeconds}`);
  if (r.blockQuantile !== undefined && !(r.blockQuantile > 0 && r.blockQuantile < 1)) throw new Error(`measure protocol: blockQuantile must be in (0, 1), got ${r.blockQuantile}`);
  if (r.pickCore !== undefined && typeof r.pickCore !== 'boolean') throw new Error(`measure protocol: pickCore must be true or false, got ${String(r.pickCore)}`);
  if (r.sessions !== undefined && !(Number.isInteger(r.sessions) && r.sessions >= 1 && r.sessions <= MAX_SESSIONS)) throw new Error(`measure protocol: sessions must be an integer in [1, ${MAX_SESSIONS}], got ${String(r.sessions)}`);
  return r;
}

// ------------------------------------------------------------------------------- statistics

/**
 * 0-based ranks [lo, hi] such that [x_(lo), x_(hi)] covers the population median with
 * probability >= confidence, for any continuous distribution (X_(j) <= median <= X_(n-1-j):
 * coverage = 1 - 2 P(Bin(n, 1/2) <= j - 1 ... ) computed exactly for n <= 1000, by the normal
 * approximation beyond). Returns null when n is too small for that confidence (n < 6 at 95%).
 */
export function medianCiRanks(n: number, confidence = 0.95): { lo: number; hi: number } | null {
  if (!(confidence > 0 && confidence < 1)) throw new Error(`confidence must be in (0, 1), got ${confidence}`);
  const alpha = 1 - confidence;
  if (n <= 1000) {
    // P(B <= k) for B ~ Bin(n, 1/2), accumulated in log space to avoid underflow.
    let logPmf = -n * Math.LN2; // k = 0
    let cdf = Math.exp(logPmf);
    let j = -1; // largest k with 2 * P(B <= k) <= alpha
    for (let k = 0; k < n / 2; k++) {
      if (2 * cdf > alpha) break;
      j = k;
      logPmf += Math.log((n - k) / (k + 1));
      cdf += Math.exp(logPmf);
    }
    // interval [X_(j+1), X_(n-j)] in 1-based ranks -> 0-based [j, n-1-j] using k = j
    if (j < 0) return null;
    return { lo: j, hi: n - 1 - j };
  }
  const z = normalQuantile(1 - alpha / 2);
  const j = Math.floor((n - z * Math.sqrt(n)) / 2);
  return { lo: Math.max(0, j), hi: Math.min(n - 1, n - 1 - j) };
}

/** Inverse standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  const poly = (k: number[], x: number): number => k.reduce((acc, v) => acc * x + v, 0);
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return poly(c, q) / (poly(d, q) * q + 1);
  }
  if (p > 1 - pl) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -poly(c, q) / (poly(d, q) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return (poly(a, r) * q) / (poly(b, r) * r + 1);
}

/**
 * Relative half-width of the 95% median CI of ascending-sorted samples: the larger of
 * (median - lower bound) and (upper bound - median), over the median. Infinity when there are
 * too few samples for an interval.
 */
export function medianRelHalfWidth(sorted: ArrayLike<number>, confidence = 0.95): number {
  const ranks = medianCiRanks(sorted.length, confidence);
  if (!ranks) return Infinity;
  const m = quantileSorted(sorted, 0.5);
  if (!(m > 0)) return Infinity;
  return Math.max(m - (sorted[ranks.lo] as number), (sorted[ranks.hi] as number) - m) / m;
}

/** Summary statistics of timed runs (milliseconds). */
export function summarize(samples: ArrayLike<number>, converged: boolean, seconds: number): LatencyStats {
  const n = samples.length;
  if (n === 0) throw new Error('summarize: no samples');
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i] as number;
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += ((sorted[i] as number) - mean) ** 2;
  const std = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  return {
    median_ms: quantileSorted(sorted, 0.5),
    p10_ms: quantileSorted(sorted, 0.1),
    p90_ms: quantileSorted(sorted, 0.9),
    mean_ms: mean,
    cv: mean > 0 ? std / mean : 0,
    runs: n,
    converged,
    seconds,
  };
}

// ------------------------------------------------------------------------------- the loop

export interface RunOptions {
  clock?: Clock;
  signal?: AbortSignal;
}

/** Why measure() stopped: precision reached, or which cap. */
export type StopReason = 'converged' | 'max_runs' | 'max_seconds';

export interface ProtocolOutcome extends LatencyStats {
  stop: StopReason;
  /** 95% median CI relative half-width when stopping. */
  rel_half_width: number;
}

/**
 * The stopping rule, separated from the timing so that sync and async loops share it: after
 * each run, call `push(ms)`; it returns a StopReason once measurement should end.
 */
export class ConvergenceTracker {
  readonly samples: Float64Array;
  private n = 0;
  private nextCheck: number;
  private lastRel = Infinity;
  private readonly scratch: Float64Array;

  constructor(
    readonly protocol: MeasureProtocol,
    private readonly startMs: number,
  ) {
    this.samples = new Float64Array(protocol.maxRuns);
    this.scratch = new Float64Array(protocol.maxRuns);
    this.nextCheck = protocol.minRuns;
  }

  get count(): number {
    return this.n;
  }

  get relHalfWidth(): number {
    return this.lastRel;
  }

  /** Records one run; returns why to stop, or null to go on. `nowMs` is the clock after the run. */
  push(ms: number, nowMs: number): StopReason | null {
    this.samples[this.n++] = ms;
    const p = this.protocol;
    const elapsed = (nowMs - this.startMs) / 1000;
    if (this.n >= this.nextCheck && elapsed >= (p.minSeconds ?? 0)) {
      // checking costs a sort: do it at minRuns, then every ~5% more runs
      this.nextCheck = this.n + Math.max(1, Math.floor(this.n / 20));
      this.lastRel = this.check();
      if (this.lastRel <= p.relPrecision) return 'converged';
    }
    if (this.n >= p.maxRuns) {
      this.lastRel = this.check();
      return this.lastRel <= p.relPrecision ? 'converged' : 'max_runs';
    }
    if (elapsed >= p.maxSeconds) {
      if (this.n < p.minRuns) return 'max_seconds';
      this.lastRel = this.check();
      return this.lastRel <= p.relPrecision ? 'converged' : 'max_seconds';
    }
    return null;
  }

  private check(): number {
    const s = this.scratch.subarray(0, this.n);
    s.set(this.samples.subarray(0, this.n));
    s.sort();
    return medianRelHalfWidth(s);
  }

  outcome(stop: StopReason, seconds: number): ProtocolOutcome {
    return { ...summarize(this.samples.subarray(0, this.n), stop === 'converged', seconds), stop, rel_half_width: this.lastRel };
  }

  /** The outcome when the runs ended outside push() (a remote page's own cap): the interval is checked over every sample. */
  finish(capReached: StopReason, seconds: number): ProtocolOutcome {
    this.lastRel = this.check();
    return this.outcome(this.lastRel <= this.protocol.relPrecision ? 'converged' : capReached, seconds);
  }
}

/** Throws the abort reason (or a plain 'measurement aborted') once `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('measurement aborted');
}

/**
 * Times `run` under the protocol (async: each run is awaited). The run function should do
 * exactly one inference with everything preallocated. The clock is read once before and once
 * after each run; warm-up runs are not recorded.
 */
export async function measureAsync(run: () => Promise<unknown>, protocol: Partial<MeasureProtocol> = {}, o: RunOptions = {}): Promise<ProtocolOutcome> {
  const p = resolveProtocol(protocol);
  const clock = o.clock ?? realClock;
  const w0 = clock.now();
  for (let i = 0; i < p.warmupRuns || (clock.now() - w0) / 1000 < (p.warmupSeconds ?? 0); i++) {
    throwIfAborted(o.signal);
    await run();
    if ((clock.now() - w0) / 1000 > p.maxSeconds) break; // a pathological warm-up must not hang
  }
  const start = clock.now();
  const tracker = new ConvergenceTracker(p, start);
  for (;;) {
    throwIfAborted(o.signal);
    const t0 = clock.now();
    await run();
    const t1 = clock.now();
    const stop = tracker.push(t1 - t0, t1);
    if (stop) return tracker.outcome(stop, (t1 - start) / 1000);
  }
}

/** The synchronous twin of measureAsync (engine device: forward is synchronous). */
export function measureSync(run: () => unknown, protocol: Partial<MeasureProtocol> = {}, o: RunOptions = {}): ProtocolOutcome {
  const p = resolveProtocol(protocol);
  const clock = o.clock ?? realClock;
  const w0 = clock.now();
  for (let i = 0; i < p.warmupRuns || (clock.now() - w0) / 1000 < (p.warmupSeconds ?? 0); i++) {
    throwIfAborted(o.signal);
    run();
    if ((clock.now() - w0) / 1000 > p.maxSeconds) break;
  }
  const start = clock.now();
  const tracker = new ConvergenceTracker(p, start);
  for (;;) {
    throwIfAborted(o.signal);
    const t0 = clock.now();
    run();
    const t1 = clock.now();
    const stop = tracker.push(t1 - t0, t1);
    if (stop) return tracker.outcome(stop, (t1 - start) / 1000);
  }
}
