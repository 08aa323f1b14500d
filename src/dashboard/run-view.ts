/**
 * A live, read-only view of one run's trials, kept in memory and brought up to date cheaply:
 * the store numbers every proposal and result as an event, so refresh() asks only for the events
 * after the last one seen, plus the few trials in flight (a trial that starts running changes
 * its status without an event). The store is opened read-only and the run lock is never taken,
 * so a search in another process (or on another machine sharing the folder) runs undisturbed.
 */
import { ExperimentStore, type TrialBrief, type TrialRecord } from '../search/store.js';
import { summarize, type SearchOutputs } from '../search/outputs.js';
import type { Json } from '../search/space-like.js';
import { parseRunRecord, type RunRecord } from '../search/run-config.js';
import { runLockState } from '../search/run-lock.js';
import type { RunContents } from '../runs/summary.js';
import { plotData } from './plot-data.js';

/** The parts of the stored run record the dashboard shows (read defensively: any search run's record). */
export interface RunSettings {
  readonly space: string | null;
  readonly targetMs: number | null;
  readonly latencyTable: string | null;
  readonly redis: string | null;
}

export class RunView {
  private readonly store: ExperimentStore;
  private readonly trials = new Map<number, TrialBrief>();
  /** Trial id -> the version in which it last changed. */
  private readonly changedIn = new Map<number, number>();
  private lastEvent = -1;
  /** Goes up by one with every refresh that found a change: pages ask for the changes after the version they have. */
  version = 0;
  private ordered: TrialBrief[] | null = null;
  private outputs: SearchOutputs | null = null;
  readonly settings: RunSettings;
  private record: RunRecord | null = null;
  private plot: { version: number; json: string } | null = null;

  constructor(readonly dir: string) {
    this.store = ExperimentStore.open(dir, { readonly: true });
    this.settings = settingsOf(this.store.config);
    this.load();
  }

  /**
   * The first read: every trial's brief at once (no DNA or JSON columns: several times quicker
   * than whole records or replaying the events). The store numbers its events 0, 1, 2, ... with
   * one per proposal and one per result, so the last one this snapshot holds is
   * trials + finished trials - 1.
   */
  private load(): void {
    let events = 0;
    for (const t of this.store.listTrialBriefs()) {
      this.trials.set(t.id, t);
      events += t.status === 'done' || t.status === 'failed' ? 2 : 1;
    }
    this.lastEvent = events - 1;
  }

  /** Reads what changed in the store since the last call; returns the trials that are new or changed (id order). */
  refresh(): TrialRecord[] {
    const changed = new Map<number, TrialRecord>();
    for (const e of this.store.events(this.lastEvent)) {
      changed.set(e.trial.id, e.trial);
      this.lastEvent = Math.max(this.lastEvent, e.number);
    }
    for (const t of this.store.inFlight()) {
      const known = this.trials.get(t.id);
      if (!changed.has(t.id) && (!known || known.status !== t.status || known.attempts !== t.attempts)) changed.set(t.id, t);
    }
    if (changed.size > 0) {
      this.version++;
      for (const t of changed.values()) {
        this.trials.set(t.id, t);
        this.changedIn.set(t.id, this.version);
      }
      this.ordered = null;
      this.outputs = null;
    }
    return [...changed.values()].sort((a, b) => a.id - b.id);
  }

  /** Every trial, in id order. */
  records(): readonly TrialBrief[] {
    this.ordered ??= [...this.trials.values()].sort((a, b) => a.id - b.id);
    return this.ordered;
  }

  /** The trials that changed after `version` (id order). */
  changedSince(version: number): TrialBrief[] {
    if (version >= this.version) return [];
    return this.records().filter((t) => (this.changedIn.get(t.id) ?? 0) > version);
  }

  trial(id: number): TrialBrief | undefined {
    return this.trials.get(id);
  }

  /** The whole stored record of a trial (DNA, latency statistics, timings), read from the store. */
  fullTrial(id: number): TrialRecord | undefined {
    return this.store.trial(id);
  }

  /** The Pareto front and best trial, as the run's outputs (pareto.json, best.json) define them. */
  summary(): SearchOutputs {
    this.outputs ??= summarize(this.records());
    return this.outputs;
  }

  /** The run page's chart data (plot-data.ts) as JSON, made once per version. */
  plotJson(): string {
    if (this.plot?.version !== this.version) this.plot = { version: this.version, json: JSON.stringify({ version: this.version, ...plotData(this.records(), this.summary(), this.settings.targetMs) }) };
    return this.plot.json;
  }

  /**
   * What `mnas runs show` reads from the run directory, from this view's trials instead of a
   * second read of the store (brought up to date first; the lock is read before the trials, as
   * readRun does). Throws RunRecordError if the stored record is not a search run's.
   */
  contents(): RunContents {
    const lock = runLockState(this.dir);
    this.refresh();
    this.record ??= parseRunRecord(this.store.config, this.dir);
    return { dir: this.dir, record: this.record, trials: this.records(), lock, driftChecks: this.store.driftChecks() };
  }

  close(): void {
    this.store.close();
  }
}

function settingsOf(record: Json): RunSettings {
  const r = asObject(record);
  const config = asObject(r?.['config']);
  const reward = asObject(r?.['reward']);
  const str = (v: Json | undefined): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
  const targetMs = reward?.['targetMs'];
  return {
    space: str(config?.['space']),
    targetMs: typeof targetMs === 'number' && Number.isFinite(targetMs) ? targetMs : null,
    latencyTable: str(config?.['latencyTable']),
    redis: str(config?.['redis']),
  };
}

function asObject(v: Json | undefined): Record<string, Json> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, Json>) : undefined;
}
