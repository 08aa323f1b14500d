/**
 * Live updates for open pages (server-sent events). One timer polls the stores the open pages
 * look at: a run page gets the trials that are new or changed since its last update (with the
 * front, the best trial and the run's summary); the runs page gets the list of summaries when
 * any of them changed. A search in another process, or on another machine writing to a shared
 * folder, is seen the same way: through its store.
 */
import type { RunCatalog } from './run-catalog.js';
import type { RunListing } from './summary-cache.js';
import { trialRow, type TrialRow } from './trial-query.js';

export type LiveEvent =
  | { event: 'trials'; data: { trials: TrialRow[]; front: number[]; best: number | null; summary: RunListing; version: number } }
  | { event: 'summary'; data: RunListing }
  | { event: 'runs'; data: { runs: RunListing[] } }
  | { event: 'problem'; data: { message: string } };

type Listener = (e: LiveEvent) => void;

interface Subscription {
  /** A run id, or null for the runs page. */
  readonly run: string | null;
  readonly listener: Listener;
  /** The run view's version this page has seen. */
  seen: number;
  lastSent: string;
  lastProblem: string;
}

/** Runs' states and ETAs change without a new trial (a process dies, time passes): sent again this often. */
const SUMMARY_EVERY_MS = 3000;

export class LiveUpdates {
  private readonly subs = new Set<Subscription>();
  private readonly timer: NodeJS.Timeout;
  private lastSummaryAt = 0;

  constructor(
    private readonly catalog: RunCatalog,
    pollMs: number,
  ) {
    this.timer = setInterval(() => this.tick(), pollMs);
    this.timer.unref();
  }

  /**
   * Starts sending `listener` the updates of run `run` after the view version `since` (what the
   * page loaded), or of the runs list for null; returns the unsubscribe.
   */
  subscribe(run: string | null, since: number, listener: Listener): () => void {
    const version = run === null ? undefined : this.catalog.view(run)?.version;
    // a version the view never had (the page was loaded from an earlier server): send it everything
    const seen = version !== undefined && since > version ? 0 : since;
    const s: Subscription = { run, listener, seen, lastSent: '', lastProblem: '' };
    this.subs.add(s);
    return () => this.subs.delete(s);
  }

  close(): void {
    clearInterval(this.timer);
    this.subs.clear();
  }

  private tick(): void {
    const now = performance.now();
    const summaryDue = now - this.lastSummaryAt >= SUMMARY_EVERY_MS;
    if (summaryDue) this.lastSummaryAt = now;
    const byRun = new Map<string | null, Subscription[]>();
    for (const s of this.subs) byRun.set(s.run, [...(byRun.get(s.run) ?? []), s]);
    for (const [run, subs] of byRun) {
      try {
        if (run === null) {
          if (summaryDue) this.sendRuns(subs);
        } else this.sendRun(run, subs, summaryDue);
      } catch (e) {
        const message = (e as Error).message;
        for (const s of subs) {
          if (s.lastProblem === message) continue;
          s.lastProblem = message;
          s.listener({ event: 'problem', data: { message } });
        }
      }
    }
  }

  private sendRuns(subs: Subscription[]): void {
    const runs = this.catalog.listings();
    const text = JSON.stringify(runs);
    for (const s of subs) {
      if (s.lastSent === text) continue;
      s.lastSent = text;
      s.listener({ event: 'runs', data: { runs } });
    }
  }

  private sendRun(run: string, subs: Subscription[], summaryDue: boolean): void {
    const view = this.catalog.view(run);
    if (!view) return;
    view.refresh();
    const behind = subs.filter((s) => s.seen < view.version);
    if (behind.length === 0 && !summaryDue) return;
    const summary = this.catalog.listing(run) as RunListing;
    const text = JSON.stringify(summary);
    const outputs = view.summary();
    for (const s of subs) {
      if (s.seen < view.version) {
        const trials = view.changedSince(s.seen).map(trialRow);
        s.seen = view.version;
        s.lastSent = text;
        s.listener({ event: 'trials', data: { trials, front: outputs.pareto.map((p) => p.trial), best: outputs.best?.trial ?? null, summary, version: view.version } });
      } else if (s.lastSent !== text) {
        s.lastSent = text;
        s.listener({ event: 'summary', data: summary });
      }
    }
  }
}
