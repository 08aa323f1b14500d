/**
 * `mnas bench search-latency`: do latencies measured during a parallel search agree with quiet
 * measurements of the same models? A search measures on the machine its workers train on; the
 * measure gate holds training off while it measures (src/search/measure-gate.ts), so what it
 * stores should be what the device gives with nothing else running. This re-measures a seeded
 * sample of a run's measured trials, and its reference model, on the run's device with the
 * machine quiet, and reports the relative differences two ways:
 *   - raw: the search's raw measurement (before any drift correction) against the quiet one;
 *   - reference-normalized: both as multiples of the reference model measured alongside (in
 *     the search: interleaved with it under device.interleave, else the drift check preceding
 *     the trial; quietly: interleaved where the device can), which removes what the machine's
 *     speed did between then and now and leaves what measuring beside training did. Without
 *     interleaving this is only as good as the search's checks are close to its trials.
 * Target: within 3% (issue 9).
 *
 * How close two quiet measurements of the same model come is the floor of that agreement: each
 * sampled trial is measured quietly twice, and the report gives the second against the first
 * (`repeat`). On this project's VM a 0.4-ms model measured interleaved 8 times in one process
 * gave ratios 2.56-2.73 to a 0.15-ms reference that itself stayed within 0.150-0.155 ms: the
 * larger model's time moves with something (other tenants' cache and memory traffic, presumably)
 * that the small reference hardly feels, so interleaving cannot cancel it (2026-12-01). The
 * normalized agreement is also given for the trials whose reference ran within
 * SPEED_MATCH_TOLERANCE of its search-time speed, i.e. with the machine in the same speed mode.
 *
 * That VM also runs in a slow mode for minutes at a time (the fmnist reference 9-15% slower),
 * which moves the models' ratios to each other by up to 14%, quietly as much as during a search:
 * in four 30-trial searches (2026-12-04, bench/results/search-latency-sessions-2026-12-04.jsonl),
 * 10 of the 13 normalized errors beyond 3% had the quiet reference 5.7-13.5% off the search's
 * (all 5 of the two runs with the 3-session protocol), and the trials whose quiet reference
 * ran within 5% of the search's agreed within 3% in 22 of 22 and 19 of 19 with that protocol
 * (worst 2.6% and 2.1%; before it 18 of 19 and 20 of 22). A quiet pair measured off the
 * search's speed is a measurement of the other mode, not of what training beside it did, so the
 * bench measures those trials again in up to `speedPasses` more passes, `passWaitS` apart (the
 * modes last minutes), and keeps the pair nearest the search's speed.
 */
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDevice } from '../latency/registry.js';
import { planToModel } from '../latency/model.js';
import type { LatencyDevice } from '../latency/device.js';
import { buildPlan } from '../model/plan.js';
import { NotARunError } from '../runs/summary.js';
import { parseArch } from '../space/arch-string.js';
import type { Arch } from '../space/arch.js';
import { parseRunRecord, resolveSearchConfig } from '../search/run-config.js';
import type { DriftCheck, TrialRecord } from '../search/run-store.js';
import { referenceOf } from '../search/setup.js';
import { ExperimentStore } from '../search/store.js';
import { InputError } from '../util/input-error.js';
import { Rng } from '../util/rng.js';
import { median, quantileSorted } from '../util/stats.js';

export const SEARCH_LATENCY_TOLERANCE = 0.03;
/**
 * The reference's search-time and quiet timings within this of each other: the machine was in the
 * same speed mode. Tighter than the latency package's SAME_SPEED_TOLERANCE (10%), which a slow
 * mode 9-15% slower straddles on this project's VM.
 */
export const SPEED_MATCH_TOLERANCE = 0.05;
/** Passes over the trials whose quiet pair missed the search's speed, and the pause before each (defaults and bounds). */
export const DEFAULT_SPEED_PASSES = 3;
export const MAX_SPEED_PASSES = 20;
export const DEFAULT_PASS_WAIT_S = 20;
export const MAX_PASS_WAIT_S = 600;

export interface SearchLatencyOptions {
  /** Run directory of a search whose latencies were measured (latency source measured or predicted-then-measured). */
  readonly dir: string;
  /** Trials re-measured (all measured trials when fewer). */
  readonly samples: number;
  /** Seed of the sample. */
  readonly seed: number;
  /** More passes over the trials measured quietly off the search's speed (default DEFAULT_SPEED_PASSES; 0: none). */
  readonly speedPasses?: number;
  /** Seconds waited before each of those passes (default DEFAULT_PASS_WAIT_S). */
  readonly passWaitS?: number;
  /** Called after each quiet measurement of the first pass (1-based index). */
  readonly onMeasured?: (m: ComparedTrial, index: number, of: number) => void;
  /** Called before each further pass with the trials it measures again. */
  readonly onPass?: (pass: number, trials: number) => void;
  readonly signal?: AbortSignal;
}

export interface ComparedTrial {
  readonly trial: number;
  readonly arch: string;
  /** The search's measurement before drift correction, and what it stored (corrected or not). */
  readonly search_raw_ms: number;
  readonly search_ms: number;
  /** The drift check (reference measurement) that preceded the trial's measurement in the search. */
  readonly search_reference_ms: number;
  /** How many trials before this one that check was taken (0: right before it, or interleaved with it). */
  readonly search_reference_age: number;
  /** The trial's latency over the reference's in the search: interleaved, or raw over the check's. */
  readonly search_ratio: number;
  readonly quiet_ms: number;
  /** The reference measured quietly with this trial (interleaved where the device can, else right before it). */
  readonly quiet_reference_ms: number;
  readonly quiet_ratio: number;
  /** The same pair measured quietly a second time, right after the first: the device's own repeatability. */
  readonly repeat_ratio: number;
  /** search_raw_ms / quiet_ms - 1. */
  readonly raw_error: number;
  /** search_ratio / quiet_ratio - 1. */
  readonly normalized_error: number;
  /** search_reference_ms / quiet_reference_ms - 1: how much faster or slower the machine ran then. */
  readonly speed_change: number;
  /** repeat_ratio / quiet_ratio - 1. */
  readonly repeat_error: number;
  /** Times the quiet pair was measured: more than 1 when the first was off the search's speed. */
  readonly quiet_passes: number;
}

export interface Agreement {
  /** Share of trials within the tolerance. */
  readonly within: number;
  readonly median_abs: number;
  readonly p90_abs: number;
  readonly max_abs: number;
  /** Median signed error: > 0 when the search measured slower than quiet. */
  readonly median: number;
}

export interface SearchLatencyReport {
  readonly run: string;
  readonly device: string;
  readonly threads: number;
  /** Measured trials in the run, and how many were re-measured. */
  readonly measured_trials: number;
  readonly samples: number;
  readonly seed: number;
  readonly tolerance: number;
  readonly reference: {
    readonly name: string;
    /** Drift check 0 of the run (the measurement that set T when T was not given). */
    readonly search_start_ms: number;
    /** The quiet reference with the first trial of the first pass, and after the last pass. */
    readonly quiet_before_ms: number;
    readonly quiet_after_ms: number;
    /** Drift checks the search took. */
    readonly search_checks: number;
  };
  readonly raw: Agreement;
  readonly normalized: Agreement;
  /** The normalized agreement of the trials whose reference ran within `tolerance` (SPEED_MATCH_TOLERANCE) of its search-time speed (null: none did). */
  readonly same_speed: { readonly tolerance: number; readonly trials: number; readonly normalized: Agreement | null };
  /** Passes allowed over the trials measured off the search's speed, and how many such trials the first pass left. */
  readonly speed_passes: { readonly allowed: number; readonly wait_s: number; readonly off_speed_first: number };
  /** The second quiet ratio against the first: how well the device agrees with itself, the floor of the figures above. */
  readonly repeat: Agreement;
  /** 1-minute load average before and after the quiet measurements (the machine should be quiet). */
  readonly loadavg_1m: readonly [number, number];
  readonly trials: readonly ComparedTrial[];
}

interface MeasuredTrial {
  readonly record: TrialRecord;
  readonly arch: string;
  readonly rawMs: number;
  /** Measured interleaved with the reference (device.interleave): its ratio and the reference's ms. */
  readonly interleaved?: { readonly ratio: number; readonly referenceMs: number };
}

/** A trial's latency was measured on the run's device in this run (not predicted, not from a table, not reused). */
function measuredTrial(t: TrialRecord): MeasuredTrial | null {
  if (t.status !== 'done' || t.latencyMs === null || t.arch === null || t.reusedFrom !== null) return null;
  const s = t.latencyStats as { source?: unknown; measured?: unknown; raw_ms?: unknown; latency_ms?: unknown; median_ms?: unknown; interleaved?: unknown; ratio?: unknown; reference_ms?: unknown } | null;
  if (s === null || typeof s !== 'object' || s.source !== undefined || s.measured === false || (typeof s.latency_ms !== 'number' && typeof s.median_ms !== 'number')) return null;
  const interleaved = s.interleaved === true && typeof s.ratio === 'number' && typeof s.reference_ms === 'number' ? { ratio: s.ratio, referenceMs: s.reference_ms } : undefined;
  return { record: t, arch: t.arch, rawMs: typeof s.raw_ms === 'number' ? s.raw_ms : t.latencyMs, ...(interleaved ? { interleaved } : {}) };
}

/** The drift check that preceded a trial's measurement: the one taken for it, else the latest taken before the trial started. */
export function checkBefore(checks: readonly DriftCheck[], t: TrialRecord): DriftCheck | undefined {
  const own = checks.find((c) => c.trialId === t.id);
  if (own) return own;
  const started = t.startedAt ?? t.finishedAt;
  let best: DriftCheck | undefined;
  for (const c of checks) if (started !== null && c.at <= started && (!best || c.at >= best.at)) best = c;
  return best ?? checks[0];
}

export function agreement(errors: readonly number[], tolerance: number): Agreement {
  const abs = errors.map(Math.abs).sort((a, b) => a - b);
  return {
    within: abs.filter((e) => e <= tolerance).length / abs.length,
    median_abs: median(abs),
    p90_abs: quantileSorted(abs, 0.9),
    max_abs: abs[abs.length - 1]!,
    median: median(errors),
  };
}

function readRun(dir: string): { trials: TrialRecord[]; checks: DriftCheck[]; stored: ExperimentStore['config'] } {
  if (!ExperimentStore.exists(dir)) throw new NotARunError(dir);
  const store = ExperimentStore.open(dir, { readonly: true });
  try {
    return { trials: store.listTrials(), checks: store.driftChecks(), stored: store.config };
  } finally {
    store.close();
  }
}

/** Seeded sample of k of n indices, in increasing order. */
function sampleIndices(n: number, k: number, seed: number): number[] {
  return Array.from(new Rng(seed).permutation(n).subarray(0, Math.min(k, n))).sort((a, b) => a - b);
}

async function quietMs(device: LatencyDevice, arch: Arch, name: string, signal?: AbortSignal): Promise<number> {
  return (await device.measure(planToModel(buildPlan(arch), name), undefined, signal)).latency_ms;
}

/** The trial and the reference measured quietly: interleaved where the device can, else the reference right before the trial. */
async function quietPair(device: LatencyDevice, arch: Arch, reference: Arch, signal?: AbortSignal): Promise<Quiet> {
  if (device.measureAgainst) {
    const r = await device.measureAgainst(planToModel(buildPlan(arch), 'trial'), planToModel(buildPlan(reference), 'reference'), undefined, signal);
    return { ms: r.latency_ms, referenceMs: r.reference_ms, ratio: r.ratio };
  }
  const referenceMs = await quietMs(device, reference, 'reference', signal);
  const ms = await quietMs(device, arch, 'trial', signal);
  return { ms, referenceMs, ratio: ms / referenceMs };
}

interface Quiet {
  readonly ms: number;
  readonly referenceMs: number;
  readonly ratio: number;
}

/** Checks the run before anything is measured: an InputError names what makes it unusable. */
export function planSearchLatency(o: SearchLatencyOptions) {
  if (!Number.isInteger(o.samples) || o.samples < 1) throw new InputError(`bench search-latency: --samples must be a positive integer, got ${o.samples}`);
  const { trials, checks, stored } = readRun(o.dir);
  const record = parseRunRecord(stored, o.dir);
  const { config } = record;
  if (config.evaluator === 'synthetic') throw new InputError(`bench search-latency: ${o.dir} used the synthetic evaluator: it measured no latency`);
  if (config.latencySource !== 'measured' && config.latencySource !== 'predicted-then-measured') throw new InputError(`bench search-latency: ${o.dir} took its latencies from ${config.latencySource}, not measurements`);
  if (config.redis !== undefined) throw new InputError(`bench search-latency: ${o.dir} was measured by distributed workers, maybe on other machines; run it on a local search`);
  const measured = trials.map(measuredTrial).filter((t): t is MeasuredTrial => t !== null);
  if (measured.length === 0) throw new InputError(`bench search-latency: ${o.dir} has no trial whose latency it measured`);
  if (checks.length === 0) throw new InputError(`bench search-latency: ${o.dir} has no drift checks (a run from before they existed): nothing to normalize by`);
  const { space } = resolveSearchConfig(config);
  const reference = referenceOf(config, space);
  const sample = sampleIndices(measured.length, o.samples, o.seed).map((i) => measured[i]!);
  const speedPasses = o.speedPasses ?? DEFAULT_SPEED_PASSES;
  const passWaitS = o.passWaitS ?? DEFAULT_PASS_WAIT_S;
  if (!Number.isInteger(speedPasses) || speedPasses < 0 || speedPasses > MAX_SPEED_PASSES) throw new InputError(`bench search-latency: --speed-passes must be an integer from 0 to ${MAX_SPEED_PASSES}, got ${speedPasses}`);
  if (!Number.isFinite(passWaitS) || passWaitS < 0 || passWaitS > MAX_PASS_WAIT_S) throw new InputError(`bench search-latency: --pass-wait must be from 0 to ${MAX_PASS_WAIT_S} seconds, got ${passWaitS}`);
  return { config, checks, measured, sample, reference, speedPasses, passWaitS };
}

export type SearchLatencyPlan = ReturnType<typeof planSearchLatency>;

export async function runSearchLatency(o: SearchLatencyOptions, plan: SearchLatencyPlan = planSearchLatency(o)): Promise<SearchLatencyReport> {
  const { config, checks, measured, sample, reference, speedPasses, passWaitS } = plan;
  const loadBefore = loadavg()[0] as number;
  const device = await createDevice(config.device.kind, { threads: config.device.threads, joinTimeoutS: config.device.joinTimeoutS });
  try {
    const compared: ComparedTrial[] = [];
    const measurePair = async (t: MeasuredTrial, passes: number): Promise<ComparedTrial> => {
      o.signal?.throwIfAborted();
      const arch = parseArch(t.arch);
      const quiet = await quietPair(device, arch, reference.arch, o.signal);
      const repeat = await quietPair(device, arch, reference.arch, o.signal);
      return compare(t, quiet, repeat, checks, passes);
    };
    for (const t of sample) {
      compared.push(await measurePair(t, 1));
      o.onMeasured?.(compared.at(-1)!, compared.length, sample.length);
    }
    const quietBeforeMs = compared[0]!.quiet_reference_ms;
    const offSpeed = () => compared.flatMap((c, i) => (Math.abs(c.speed_change) > SPEED_MATCH_TOLERANCE ? [i] : []));
    const offSpeedFirst = offSpeed().length;
    for (let pass = 1; pass <= speedPasses; pass++) {
      const again = offSpeed();
      if (again.length === 0) break;
      o.onPass?.(pass, again.length);
      await sleep(passWaitS * 1000, undefined, { signal: o.signal });
      for (const i of again) {
        const next = await measurePair(sample[i]!, compared[i]!.quiet_passes + 1);
        compared[i] = Math.abs(next.speed_change) < Math.abs(compared[i]!.speed_change) ? next : { ...compared[i]!, quiet_passes: next.quiet_passes };
      }
    }
    const after = await quietMs(device, reference.arch, 'reference', o.signal);
    return {
      run: o.dir,
      device: config.device.kind,
      threads: config.device.threads,
      measured_trials: measured.length,
      samples: sample.length,
      seed: o.seed,
      tolerance: SEARCH_LATENCY_TOLERANCE,
      reference: { name: reference.name, search_start_ms: checks[0]!.ms, quiet_before_ms: quietBeforeMs, quiet_after_ms: after, search_checks: checks.length },
      raw: agreement(compared.map((c) => c.raw_error), SEARCH_LATENCY_TOLERANCE),
      normalized: agreement(compared.map((c) => c.normalized_error), SEARCH_LATENCY_TOLERANCE),
      same_speed: sameSpeed(compared),
      speed_passes: { allowed: speedPasses, wait_s: passWaitS, off_speed_first: offSpeedFirst },
      repeat: agreement(compared.map((c) => c.repeat_error), SEARCH_LATENCY_TOLERANCE),
      loadavg_1m: [loadBefore, loadavg()[0] as number],
      trials: compared,
    };
  } finally {
    await device.close();
  }
}

export function sameSpeed(compared: readonly ComparedTrial[]): SearchLatencyReport['same_speed'] {
  const same = compared.filter((c) => Math.abs(c.speed_change) <= SPEED_MATCH_TOLERANCE);
  return { tolerance: SPEED_MATCH_TOLERANCE, trials: same.length, normalized: same.length > 0 ? agreement(same.map((c) => c.normalized_error), SEARCH_LATENCY_TOLERANCE) : null };
}

function compare(t: MeasuredTrial, quiet: Quiet, repeat: Quiet, checks: readonly DriftCheck[], passes: number): ComparedTrial {
  const check = checkBefore(checks, t.record)!;
  const searchRatio = t.interleaved ? t.interleaved.ratio : t.rawMs / check.ms;
  const searchReferenceMs = t.interleaved ? t.interleaved.referenceMs : check.ms;
  return {
    trial: t.record.id,
    arch: t.arch,
    search_raw_ms: t.rawMs,
    search_ms: t.record.latencyMs!,
    search_reference_ms: searchReferenceMs,
    search_reference_age: t.interleaved ? 0 : check.trialId === null ? t.record.id : Math.max(0, t.record.id - check.trialId),
    search_ratio: searchRatio,
    quiet_ms: quiet.ms,
    quiet_reference_ms: quiet.referenceMs,
    quiet_ratio: quiet.ratio,
    repeat_ratio: repeat.ratio,
    raw_error: t.rawMs / quiet.ms - 1,
    normalized_error: searchRatio / quiet.ratio - 1,
    speed_change: searchReferenceMs / quiet.referenceMs - 1,
    repeat_error: repeat.ratio / quiet.ratio - 1,
    quiet_passes: passes,
  };
}
