/**
 * What the search loop needs from the place a run is kept: the SQLite ExperimentStore
 * (./store.ts) for real runs, the MemoryStore (./memory-store.ts) for benchmarks and tests.
 *
 * A run is a sequence of events: each proposal (a trial is added, pending) and each result (the
 * trial becomes done or failed). The store numbers the events 0, 1, 2, ... in the order they are
 * written; that order is the order in which the strategy saw them, so a fresh strategy fed the
 * same events in the same order (events()) is in the state the original was in. A strategy
 * snapshot is written together with an event, atomically, and records its number (afterEvent).
 */
import type { Dna, Json } from './space-like.js';
import type { Proposal, StrategyDescription, StrategySnapshot } from './strategy.js';

export type TrialStatus = 'pending' | 'running' | 'done' | 'failed';

export interface TrialRecord {
  readonly id: number;
  readonly dna: Dna;
  readonly arch: string | null;
  readonly status: TrialStatus;
  readonly accuracy: number | null;
  readonly latencyMs: number | null;
  readonly latencyStats: Json | null;
  readonly macs: number | null;
  readonly params: number | null;
  readonly reward: number | null;
  /** Id of the trial whose result was reused (identical architecture), or null if evaluated. */
  readonly reusedFrom: number | null;
  readonly extra: Json | null;
  readonly timings: Json | null;
  readonly error: string | null;
  /** Number of times evaluation started (> 1 after a resume re-ran it). */
  readonly attempts: number;
  /** Number of the event that proposed the trial. */
  readonly proposeEvent: number;
  /** Number of the event that reported its result (null while pending or running). */
  readonly resultEvent: number | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

/** A trial without its DNA, latency statistics, timings and extras: what summaries, plots and tables of a run need. */
export type TrialBrief = Pick<
  TrialRecord,
  'id' | 'arch' | 'status' | 'accuracy' | 'latencyMs' | 'macs' | 'params' | 'reward' | 'reusedFrom' | 'error' | 'attempts' | 'createdAt' | 'startedAt' | 'finishedAt'
> & {
  /** False when latencyMs is a prediction only (latency source predicted-then-measured); absent or true: measured (or the run's source). */
  readonly latencyMeasured?: boolean;
  /** True when latencyMs is a measurement corrected for the device's drift (./drift.ts). */
  readonly driftCorrected?: boolean;
  /** True when the trial was measured again because the machine ran in a slower speed mode the first time (./speed-watch.ts). */
  readonly speedRetried?: boolean;
  /** The trial's latency on the run's other devices (config `devices`), ms by device kind. */
  readonly deviceLatencyMs?: { readonly [device: string]: number };
  /** Measured interleaved with the reference: the reference's own time in that measurement, ms (latency_stats.reference_ms). */
  readonly interleavedReferenceMs?: number;
};

/** One re-measurement of a run's reference architecture (drift check). */
export interface DriftCheck {
  /** 0, 1, 2, ... in the order taken; check 0 is the reference measurement of the first session. */
  readonly seq: number;
  readonly at: string;
  /** The trial whose latency measurement the check preceded (null: at the start of a session). */
  readonly trialId: number | null;
  readonly ms: number;
  /** ms over check 0's ms. */
  readonly ratio: number;
  /** Whether latencies measured after this check are corrected by it (|ratio - 1| > tolerance). */
  readonly corrects: boolean;
}

export interface TrialMetrics {
  readonly accuracy: number;
  readonly latencyMs: number;
  readonly reward: number;
  readonly latencyStats?: Json;
  readonly macs?: number;
  readonly params?: number;
  readonly extra?: Json;
  readonly timings?: Json;
  readonly reusedFrom?: number;
}

export interface TrialFailure {
  readonly reason: string;
  /** The reward the strategy was given (FAILED_TRIAL_REWARD, or a skipped trial's assumed reward). */
  readonly reward: number;
  readonly timings?: Json;
}

export interface SnapshotRecord {
  /** Number of the event the snapshot was written with: it is the strategy's state right after that event. */
  readonly afterEvent: number;
  readonly trialId: number;
  readonly state: StrategySnapshot;
  readonly createdAt: string;
}

/** One event of a run, with the trial it concerns as stored now. */
export interface RunEvent {
  readonly number: number;
  readonly kind: 'propose' | 'result';
  readonly trial: TrialRecord;
}

export interface RunStore {
  /** The strategy that makes this run's trials, once recorded. */
  strategy(): StrategyDescription | undefined;
  /** Records the run's strategy (before its first trial). */
  recordStrategy(description: StrategyDescription): void;
  /** Records a proposal as a pending trial (and the strategy snapshot after it, if given) as the next event. */
  addTrial(proposal: Proposal, arch: string | undefined, snapshot?: StrategySnapshot): void;
  /** Marks a trial as being evaluated; returns its attempt number (1 for the first). */
  markRunning(id: number): number;
  /** Stores a trial's result (and the strategy snapshot after its feedback, if given) as the next event. */
  complete(id: number, metrics: TrialMetrics, snapshot?: StrategySnapshot): void;
  /** Stores a trial's failure (and the strategy snapshot after its feedback, if given) as the next event. */
  fail(id: number, failure: TrialFailure, snapshot?: StrategySnapshot): void;
  trial(id: number): TrialRecord | undefined;
  /** Trials in id order, optionally of one status. */
  listTrials(filter?: { status?: TrialStatus }): TrialRecord[];
  count(status?: TrialStatus): number;
  /** Trials that were proposed but not finished (pending or running), e.g. when a process died; in id order. */
  inFlight(): TrialRecord[];
  latestSnapshot(): SnapshotRecord | undefined;
  /** The events numbered above `afterEvent` (default: all), in order. */
  events(afterEvent?: number): RunEvent[];
}

/** The events of `trials` numbered above `afterEvent`, in order. */
export function eventsOf(trials: Iterable<TrialRecord>, afterEvent = -1): RunEvent[] {
  const events: RunEvent[] = [];
  for (const trial of trials) {
    if (trial.proposeEvent > afterEvent) events.push({ number: trial.proposeEvent, kind: 'propose', trial });
    if (trial.resultEvent !== null && trial.resultEvent > afterEvent) events.push({ number: trial.resultEvent, kind: 'result', trial });
  }
  return events.sort((a, b) => a.number - b.number);
}
