/**
 * Drift of the latency device during a search. T and every latency are measured on a machine
 * whose speed changes (CPU frequency, thermal state, other work), so a search re-measures its
 * reference architecture (the one whose latency set T; with a given T, the space's default) at
 * intervals and records every check in the store. Check 0 is the reference measurement of the
 * run's first session; a resumed run keeps it, so drift is always relative to the start of the run.
 *
 * Correction: once a check finds the reference off by more than the tolerance, every latency
 * measured after it is divided by that check's ratio (reference now / reference at start), until
 * the next check; the trial keeps its raw measurement (latency_stats.raw_ms) beside the corrected
 * one, which the reward uses. Why the latest check and not an interpolation between the checks
 * around a trial: the reward goes to the strategy as soon as the trial ends, before the next
 * check exists. Why a ratio and not a re-measurement: the device is still drifted, so measuring
 * again gives the drifted figure again; the ratio assumes the drift slows every model of the
 * space alike, which holds for frequency and thermal changes (the models share their operators).
 */
import type { DriftCheck } from './run-store.js';
import { fastSpeedOnceSeen, OFF_SPEED_TOLERANCE } from './speed-watch.js';

export interface DriftSettings {
  /** Re-measure the reference before the measurement of every N-th trial... */
  readonly everyTrials: number;
  /** ...or before the first measurement once this many seconds have passed since the last check. */
  readonly everySeconds: number;
  /** Relative change of the reference beyond which latencies are corrected. */
  readonly tolerance: number;
}

/** How a measurement taken now is corrected. */
export interface DriftCorrection {
  /** Divide the raw measurement by this (1: not corrected). */
  readonly ratio: number;
  /** The check the ratio comes from, when it corrects. */
  readonly check?: number;
}

export interface DriftSummary {
  readonly reference_ms: number;
  readonly tolerance: number;
  readonly checks: number;
  readonly min_ratio: number;
  readonly max_ratio: number;
  readonly last_ratio: number;
  /** Checks beyond the tolerance. */
  readonly drifted_checks: number;
  /** Trials whose latency was corrected. */
  readonly corrected_trials: number;
  /** Trials were measured interleaved with the reference (device.interleave): check 0 only, nothing to correct. */
  readonly interleaved: boolean;
  /** Interleaved: trials measured again because the reference ran in a slower speed mode the first time (./speed-watch.ts). */
  readonly speed_retried_trials: number;
  /**
   * Interleaved, once MIN_SEEN trials were measured: the reference's fast speed over the trials'
   * measurements (its time at FAST_QUANTILE of them), ms. Check 0 is one measurement; if it was
   * taken in a slower speed mode, every latency in ms (ratio x check 0) is high by as much.
   */
  readonly trials_reference_ms?: number;
  /** reference_ms / trials_reference_ms: 1.34 means check 0 ran 34% slower than the trials' fast speed. */
  readonly start_vs_trials?: number;
}

/** Where checks are kept (the ExperimentStore). */
export interface DriftSink {
  addDriftCheck(c: DriftCheck): void;
}

export class DriftMonitor {
  private readonly checks: DriftCheck[];
  private measurementsSinceCheck = 0;
  private lastCheckAt = Number.NEGATIVE_INFINITY;
  private sink: DriftSink | undefined;
  private unsaved: DriftCheck[] = [];

  /**
   * @param measureReference one measurement of the reference architecture on the device, ms (its latency_ms)
   * @param stored the checks of earlier sessions (check 0 is kept as the reference)
   */
  constructor(
    private readonly measureReference: (signal?: AbortSignal) => Promise<number>,
    readonly settings: DriftSettings,
    stored: readonly DriftCheck[] = [],
    private readonly clock: () => number = () => performance.now(),
    /** Told of every check taken (the search logs the ones that start or stop a correction). */
    private readonly onCheck?: (c: DriftCheck, previous: DriftCheck | undefined) => void,
  ) {
    if (!(settings.tolerance > 0 && settings.tolerance < 1)) throw new RangeError(`drift tolerance must be in (0, 1), got ${settings.tolerance}`);
    if (!(Number.isInteger(settings.everyTrials) && settings.everyTrials >= 1)) throw new RangeError(`drift everyTrials must be an integer >= 1, got ${settings.everyTrials}`);
    if (!(settings.everySeconds > 0)) throw new RangeError(`drift everySeconds must be > 0, got ${settings.everySeconds}`);
    this.checks = [...stored];
  }

  /** The reference latency (check 0), ms; undefined before start(). */
  get referenceMs(): number | undefined {
    return this.checks[0]?.ms;
  }

  /**
   * Starts a session: a new run measures its reference (check 0); a resumed one measures it again
   * against the stored check 0 (the machine may have changed between sessions). Returns check 0's ms.
   */
  async start(signal?: AbortSignal): Promise<number> {
    await this.check(null, signal);
    return this.checks[0]!.ms;
  }

  /** Stores the checks taken so far and every later one in `sink`. */
  attach(sink: DriftSink): void {
    this.sink = sink;
    for (const c of this.unsaved) sink.addDriftCheck(c);
    this.unsaved = [];
  }

  /**
   * Called right before a trial's latency is measured, with the device to itself: re-measures the
   * reference when a check is due, and says how to correct the measurement that follows.
   */
  async beforeMeasurement(trialId: number, signal?: AbortSignal): Promise<DriftCorrection> {
    const due = this.measurementsSinceCheck >= this.settings.everyTrials || (this.clock() - this.lastCheckAt) / 1000 >= this.settings.everySeconds;
    if (due) await this.check(trialId, signal);
    this.measurementsSinceCheck++;
    return this.correction();
  }

  /** The correction in force: the latest check's ratio when it is beyond the tolerance. */
  correction(): DriftCorrection {
    const last = this.checks.at(-1);
    return last?.corrects ? { ratio: last.ratio, check: last.seq } : { ratio: 1 };
  }

  list(): readonly DriftCheck[] {
    return this.checks;
  }

  private async check(trialId: number | null, signal?: AbortSignal): Promise<void> {
    const ms = await this.measureReference(signal);
    if (!(ms > 0 && Number.isFinite(ms))) throw new Error(`drift check: the reference measured ${ms} ms`);
    const reference = this.checks[0]?.ms ?? ms;
    const ratio = ms / reference;
    const c: DriftCheck = { seq: this.checks.length, at: new Date().toISOString(), trialId, ms, ratio, corrects: Math.abs(ratio - 1) > this.settings.tolerance };
    const previous = this.checks.at(-1);
    this.checks.push(c);
    this.onCheck?.(c, previous);
    this.measurementsSinceCheck = 0;
    this.lastCheckAt = this.clock();
    if (this.sink) this.sink.addDriftCheck(c);
    else this.unsaved.push(c);
  }
}

/** What summary.json, `mnas runs show` and the report say about a run's drift (undefined: no checks). */
export function driftSummary(
  checks: readonly DriftCheck[],
  tolerance: number,
  correctedTrials: number,
  interleaved = false,
  speedRetriedTrials = 0,
  referenceTimes: readonly number[] = [],
): DriftSummary | undefined {
  if (checks.length === 0) return undefined;
  const ratios = checks.map((c) => c.ratio);
  const trialsMs = interleaved ? fastSpeedOnceSeen(referenceTimes) : undefined;
  return {
    reference_ms: checks[0]!.ms,
    tolerance,
    checks: checks.length,
    min_ratio: Math.min(...ratios),
    max_ratio: Math.max(...ratios),
    last_ratio: ratios.at(-1)!,
    drifted_checks: checks.filter((c) => c.corrects).length,
    corrected_trials: correctedTrials,
    interleaved,
    speed_retried_trials: speedRetriedTrials,
    ...(trialsMs !== undefined ? { trials_reference_ms: trialsMs, start_vs_trials: checks[0]!.ms / trialsMs } : {}),
  };
}

/**
 * Interleaved: check 0 (x the ratios, every latency in ms) over the reference's fast speed in the
 * trials' measurements, when the two differ by more than OFF_SPEED_TOLERANCE (check 0 taken in
 * another speed mode than the trials); undefined when they agree or there is nothing to compare.
 */
export function startOffSpeed(startMs: number, trialsMs: number | undefined): number | undefined {
  if (trialsMs === undefined) return undefined;
  const r = startMs / trialsMs;
  return Math.abs(r - 1) > OFF_SPEED_TOLERANCE ? r : undefined;
}

/** How far off a ratio of 1 is, in words: "34% high", "20% low". */
export function offText(ratio: number): string {
  return `${Math.round(100 * Math.abs(ratio - 1))}% ${ratio > 1 ? 'high' : 'low'}`;
}

/** The reference's time in each trial measured interleaved with it, ms; reads briefs or full records. */
export function interleavedReferenceTimes(trials: readonly { readonly interleavedReferenceMs?: number; readonly latencyStats?: unknown }[]): number[] {
  const times: number[] = [];
  for (const t of trials) {
    const stats = t.latencyStats as { interleaved?: unknown; reference_ms?: unknown } | null | undefined;
    const ms = t.interleavedReferenceMs ?? (stats?.interleaved === true && typeof stats.reference_ms === 'number' ? stats.reference_ms : undefined);
    if (ms !== undefined) times.push(ms);
  }
  return times;
}

/** How many trials were measured again for the machine's speed (latency_stats.speed_retry); reads briefs or full records. */
export function speedRetriedTrials(trials: readonly { readonly speedRetried?: boolean; readonly latencyStats?: unknown }[]): number {
  return countMarked(trials, (t) => t.speedRetried === true, (stats) => stats.speed_retry !== undefined && stats.speed_retry !== null);
}

/** How many trials had their latency corrected (latency_stats.drift_ratio); reads briefs or full records. */
export function correctedTrials(trials: readonly { readonly driftCorrected?: boolean; readonly latencyStats?: unknown }[]): number {
  return countMarked(trials, (t) => t.driftCorrected === true, (stats) => typeof stats.drift_ratio === 'number');
}

/** Trials marked either in their brief (a flag the store derives) or in their full record's latency statistics. */
function countMarked<T extends { readonly latencyStats?: unknown }>(trials: readonly T[], briefMark: (t: T) => boolean, statsMark: (stats: { [key: string]: unknown }) => boolean): number {
  let n = 0;
  for (const t of trials) {
    const stats = t.latencyStats as { [key: string]: unknown } | null | undefined;
    if (briefMark(t) || (stats !== null && stats !== undefined && statsMark(stats))) n++;
  }
  return n;
}
