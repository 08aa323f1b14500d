/**
 * Trial wrapper: an architecture is evaluated once. A trial whose architecture identity (the DNA,
 * or - with an identity function - the network it builds) equals an earlier trial's waits for
 * that trial's outcome and, if it ended done, takes its result without an evaluation, recording
 * the trial that was evaluated (reusedFrom). If it failed or was skipped the trial is evaluated
 * itself (failures may be transient), and later twins wait for it instead.
 *
 * "Earlier" is the order in which trials are started, which the loop keeps deterministic, so
 * which trials are reused is a function of the run's events: a resumed run reuses exactly where
 * an uninterrupted one does. Trials finished in earlier sessions come from the store.
 */
import type { EvalDone, TrialEvaluation, TrialOutcome } from './evaluator.js';
import type { Dna } from './space-like.js';
import type { TrialRecord } from './run-store.js';

export interface ReuseOptions {
  /** The network a DNA builds, as a string: DNAs with equal identities share one evaluation. */
  readonly identity: (dna: Dna) => string;
  /** Trials stored by earlier sessions (the done ones that were evaluated are reused). */
  readonly earlier: Iterable<TrialRecord>;
}

interface Source {
  readonly id: number;
  readonly outcome: Promise<TrialOutcome>;
}

export function reuseIdenticalArchitectures(evaluate: TrialEvaluation, o: ReuseOptions): TrialEvaluation {
  /** Per identity, the latest trial started: the one the next twin waits for. */
  const latest = new Map<string, Source>();
  for (const t of o.earlier) {
    const key = o.identity(t.dna);
    if (t.status === 'done' && t.reusedFrom === null && !latest.has(key))
      latest.set(key, { id: t.id, outcome: Promise.resolve({ status: 'settled', result: storedResult(t), evalMs: 0 }) });
  }
  return (trial) => {
    const key = o.identity(trial.dna);
    const before = latest.get(key);
    const outcome = (async (): Promise<TrialOutcome> => {
      if (before) {
        const b = await before.outcome;
        if (b.status === 'aborted') return b;
        if (b.result.status === 'done') return { status: 'settled', result: withoutTimings(b.result), evalMs: 0, reusedFrom: b.reusedFrom ?? before.id };
      }
      return evaluate(trial);
    })();
    latest.set(key, { id: trial.id, outcome });
    return outcome;
  };
}

/** A reused result took no time of its own. */
function withoutTimings(r: EvalDone): EvalDone {
  const { timings: _, ...rest } = r;
  return rest;
}

function storedResult(r: TrialRecord): EvalDone {
  const result: { -readonly [K in keyof EvalDone]: EvalDone[K] } = { status: 'done', accuracy: r.accuracy!, latencyMs: r.latencyMs! };
  if (r.latencyStats !== null) result.latencyStats = r.latencyStats;
  if (r.macs !== null) result.macs = r.macs;
  if (r.params !== null) result.params = r.params;
  if (r.extra !== null && typeof r.extra === 'object' && !Array.isArray(r.extra)) result.extra = r.extra;
  return result;
}
