/**
 * The measurement protocol shared by every latency device: warm-up, then timed runs until the
 * reported quantile is known to +-relPrecision (95% distribution-free confidence interval from
 * order statistics), or until a run or time cap stops it.
 *
 * Why a low quantile (LATENCY_QUANTILE, the 10th percentile) and not the mean or the median: what
 * slows a run on a shared machine only ever adds time (interrupts, preemption, a busy neighbour on
 * the same physical core), so the fastest runs estimate the model's own cost best and the
 * slowest ones say most about the machine (the argument of Chen and Revels, "Robust benchmarking
 * in noisy environments", 2016, for the minimum; a low quantile is the minimum made robust to a
 * lucky run). On this project's VMs a model's runs are bimodal, a fast mode and one 12-25% slower
 * whose share changes from second to second: measured in 5 separate processes the medians jump
 * between the two modes (CV 4-7%) while the 10th percentiles stay within 1-2.5% (README,
 * "What a measurement reports"). Interleaved blocks compare the same quantile (interleaved.ts
 * BLOCK_QUANTILE). The median, p10 and p90 are reported alongside.
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

/** The quantile of the timed runs a measurement reports as its latency unless its protocol says otherwise. */
export const LATENCY_QUANTILE = 0.1;

/** Most sessions of one model a measurement may open (each holds the model's weights and arena). */
export const MAX_SESSIONS = 16;

/**
 * Full-model default: converges in well under a second on small models, capped at ~1.5 s.
 * Timing at least 0.15 s after 0.05 s of warm-up (the core choice's probe counting toward it):
 * on 20 fmnist networks measured 4 times each, alternating with 0.25 s after 0.1 s (three runs),
 * the two agreed to a median 0.0-0.2%, single networks differing no more than one protocol's own
 * repeats spread, and both spread alike whatever the host's noise (README, "What a measurement
 * reports"); a measurement holds training 0.15 s less.
 */
export const DEFAULT_PROTOCOL: Readonly<MeasureProtocol> = Object.freeze({
  warmupRuns: 10,
  warmupSeconds: 0.05,
  minRuns: 30,
  minSeconds: 0.15,
  maxRuns: 5000,
  relPrecision: 0.02,
  maxSeconds: 1.5,
  quantile: LATENCY_QUANTILE,
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
  // a layer table's entries are medians (table.ts), and its fits were made on them
  quantile: 0.5,
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
  if (r.quantile !== undefined && !(r.quantile > 0 && r.quantile < 1)) throw new Error(`measure protocol: quantile must be in (0, 1), got ${r.quantile}`);
  if (r.pickCore !== undefined && typeof r.pickCore !== 'boolean') throw new Error(`measure protocol: pickCore must be true or false, got ${String(r.pickCore)}`);
  if (r.sessions !== undefined && !(Number.isInteger(r.sessions) && r.sessions >= 1 && r.sessions <= MAX_SESSIONS)) throw new Error(`measure protocol: sessions must be an integer in [1, ${MAX_SESSIONS}], got ${String(r.sessions)}`);
  return r;
}

/**
 * `p` with `seconds` of running the model already done counted toward its warm-up (the core
 * choice's probe runs the session on each core just before): the warm-up's runs still happen,
 * its time is what is left. The reported quantile is a low one, which the odd slow run of a
 * model not quite warm does not move.
 */
export function creditWarmup(p: MeasureProtocol, seconds: number): MeasureProtocol {
  if (!(seconds > 0) || p.warmupSeconds === undefined) return p;
  return { ...p, warmupSeconds: Math.max(0, p.warmupSeconds - seconds) };
}

// ------------------------------------------------------------------------------- statistics

/**
 * 0-based ranks [lo, hi] such that [x_(lo), x_(hi)] covers the population's q-quantile with
 * probability >= confidence, for any continuous distribution: with B ~ Bin(n, q) the number of
 * samples below the quantile, X_(lo+1) lies above it with probability P(B <= lo) and X_(hi+1)
 * below it with probability P(B >= hi + 1), each kept <= (1 - confidence) / 2. Exact for
 * n <= 1000 (tails summed in log space), the normal approximation beyond. Returns null when n is
 * too small for that confidence (n < 6 for the median at 95%, n < 36 for the 10th percentile).
 */
export function quantileCiRanks(n: number, q: number, confidence = 0.95): { lo: number; hi: number } | null {
  if (!(confidence > 0 && confidence < 1)) throw new Error(`confidence must be in (0, 1), got ${confidence}`);
  if (!(q > 0 && q < 1)) throw new Error(`quantile must be in (0, 1), got ${q}`);
  const tail = (1 - confidence) / 2;
  if (n <= 1000) {
    // lower tail: lo = the largest k with P(B <= k) <= tail
    let logPmf = n * Math.log1p(-q); // P(B = 0)
    let cdf = Math.exp(logPmf);
    let lo = -1;
    for (let k = 0; k < n && cdf <= tail; k++) {
      lo = k;
      logPmf += Math.log((n - k) / (k + 1)) + Math.log(q / (1 - q));
      cdf += Math.exp(logPmf);
    }
    // upper tail: hi + 1 = the smallest s with P(B >= s) <= tail
    logPmf = n * Math.log(q); // P(B = n)
    let upper = Math.exp(logPmf);
    let hi = n;
    for (let k = n; k > 0 && upper <= tail; k--) {
      hi = k - 1;
      logPmf += Math.log(k / (n - k + 1)) + Math.log((1 - q) / q);
      upper += Math.exp(logPmf);
    }
    if (lo < 0 || hi >= n) return null;
    return { lo, hi };
  }
  const z = normalQuantile(1 - tail);
  const spread = z * Math.sqrt(n * q * (1 - q));
  return { lo: Math.max(0, Math.floor(n * q - spread)), hi: Math.min(n - 1, n - 1 - Math.floor(n * (1 - q) - spread)) };
}

/** quantileCiRanks of the median. */
export function medianCiRanks(n: number, confidence = 0.95): { lo: number; hi: number } | null {
  return quantileCiRanks(n, 0.5, confidence);
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
 * Relative half-width of the 95% CI of the q-quantile of ascending-sorted samples: the larger of
 * (quantile - lower bound) and (upper bound - quantile), over the quantile. Infinity when there are
 * too few samples for an interval.
 */
export function quantileRelHalfWidth(sorted: ArrayLike<number>, q: number, confidence = 0.95): number {
  const ranks = quantileCiRanks(sorted.length, q, confidence);
  if (!ranks) return Infinity;
  const m = quantileSorted(sorted, q);
  if (!(m > 0)) return Infinity;
  return Math.max(m - (sorted[ranks.lo] as number), (sorted[ranks.hi] as number) - m) / m;
}

/** quantileRelHalfWidth of the median. */
export function medianRelHalfWidth(sorted: ArrayLike<number>, confidence = 0.95): number {
  return quantileRelHalfWidth(sorted, 0.5, confidence);
}

/** Summary statistics of timed runs (milliseconds); `latency_ms` is their `quantile`. */
export function summarize(samples: ArrayLike<number>, converged: boolean, seconds: number, quantile = LATENCY_QUANTILE): LatencyStats {
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
    latency_ms: quantileSorted(sorted, quantile),
    quantile,
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
  /** 95% CI relative half-width of the reported quantile when stopping. */
  rel_half_width: number;
  /** Seconds of warm-up runs before the timed ones (measureAsync, measureSync). */
  warmup_seconds?: number;
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
    return quantileRelHalfWidth(s, this.quantile);
  }

  private get quantile(): number {
    return this.protocol.quantile ?? LATENCY_QUANTILE;
  }

  outcome(stop: StopReason, seconds: number): ProtocolOutcome {
    return { ...summarize(this.samples.subarray(0, this.n), stop === 'converged', seconds, this.quantile), stop, rel_half_width: this.lastRel };
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
    if (stop) return { ...tracker.outcome(stop, (t1 - start) / 1000), warmup_seconds: (start - w0) / 1000 };
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
    if (stop) return { ...tracker.outcome(stop, (t1 - start) / 1000), warmup_seconds: (start - w0) / 1000 };
  }
}
