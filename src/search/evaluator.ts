/**
 * What the loop needs from whoever measures an architecture (proxy training + latency on a
 * device, or the synthetic closed form). The evaluator never sees the strategy.
 */
import type { Dna, Json } from './space-like.js';

export interface EvalDone {
  readonly status: 'done';
  /** Held-out accuracy in [0, 1]. */
  readonly accuracy: number;
  /** The latency the reward uses (the measurement protocol's quantile of the timed runs, or a prediction), ms > 0. */
  readonly latencyMs: number;
  /** Full latency statistics (latency, median, p10, p90, runs, device...), stored as JSON. */
  readonly latencyStats?: Json;
  readonly macs?: number;
  readonly params?: number;
  /** Phase timings in ms (train, export, measure...), stored as JSON. */
  readonly timings?: { readonly [phase: string]: number };
  readonly extra?: { readonly [key: string]: Json };
}

export interface EvalFailed {
  readonly status: 'failed';
  readonly reason: string;
  /** Phase timings in ms of the failed attempt, stored with it. */
  readonly timings?: { readonly [phase: string]: number };
}

/**
 * The architecture was not trained because a cheap check already settles it (its latency misses
 * a hard target): recorded with the reward of `assumedAccuracy` at `latencyMs`.
 */
export interface EvalSkipped {
  readonly status: 'skipped';
  readonly reason: string;
  readonly latencyMs: number;
  readonly latencyStats?: Json;
  /** The accuracy the reward assumes for the untrained model (chance: 1 / classes). */
  readonly assumedAccuracy: number;
  readonly timings?: { readonly [phase: string]: number };
}

export type EvalResult = EvalDone | EvalFailed | EvalSkipped;

/** How the reason of a skipped trial begins: it is stored as a failed trial with that reason. */
export const SKIPPED_REASON_PREFIX = 'not trained: ';

/** The reason a skipped trial is stored with. */
export function skippedReason(r: EvalSkipped): string {
  return r.reason.startsWith(SKIPPED_REASON_PREFIX) ? r.reason : `${SKIPPED_REASON_PREFIX}${r.reason}`;
}

/** Whether a stored failed trial was a skipped one (not trained because a cheap check settled it). */
export function isSkippedTrial(t: { readonly status: string; readonly error?: string | null }): boolean {
  return t.status === 'failed' && typeof t.error === 'string' && t.error.startsWith(SKIPPED_REASON_PREFIX);
}

/** The timings a skipped trial is stored with: its own, plus the latency and accuracy its reward assumed. */
export function skippedTimings(r: EvalSkipped): { readonly [phase: string]: number } {
  return { ...(r.timings ?? {}), skipped_latency_ms: r.latencyMs, assumed_accuracy: r.assumedAccuracy };
}

export interface EvalContext {
  /** Trial id (= proposal id), stable across resume: use it for checkpoint / artifact paths. */
  readonly trialId: number;
  /** 1 for the first attempt, 2 after a resume re-runs an interrupted trial, ... */
  readonly attempt: number;
  /** Architecture string, if the loop was given an arch() function. */
  readonly arch?: string;
}

export interface Evaluator {
  /**
   * Evaluates one architecture. Must stop promptly (reject or return) when `signal` aborts;
   * anything returned after an abort is ignored. A thrown error (other than after an abort)
   * is recorded as a failed trial with the error message as the reason.
   */
  evaluate(dna: Dna, signal: AbortSignal, context: EvalContext): Promise<EvalResult>;
}

/** How one trial was settled: by an evaluation or by reusing one (reusedFrom), or not at all (aborted). */
export type TrialOutcome =
  | { readonly status: 'settled'; readonly result: EvalResult; readonly evalMs: number; readonly reusedFrom?: number }
  | { readonly status: 'aborted' };

/** Settles one proposed trial; the search loop composes it from an evaluator, an executor and wrappers (./reuse.ts). */
export type TrialEvaluation = (trial: { readonly id: number; readonly dna: Dna }) => Promise<TrialOutcome>;

/** Resolves after `ms`, or rejects with the abort reason when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
