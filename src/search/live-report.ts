/**
 * The outputs of a running search (report.html, summary.json, pareto.json, best.json) rewritten
 * after its trials, so the report can be watched while the search runs. Rewriting reads every
 * trial, so it is throttled to a share of the search's time: after a rewrite that took d ms the
 * next waits at least d * (1 - share) / share ms. Trials that take seconds (training) get a fresh
 * report after every one; a synthetic run of 10,000 one-millisecond trials gets one every few
 * dozen trials instead of a quadratic cost.
 */
import { writeOutputs, type ReportContext } from './outputs.js';
import type { TrialBrief } from './run-store.js';

export interface LiveReportOptions {
  /** Largest share of wall time spent rewriting (default 0.1). */
  readonly share?: number;
}

export class LiveReport {
  private nextAt = 0;
  private writes = 0;
  private spentMs = 0;
  private readonly share: number;

  constructor(
    readonly dir: string,
    private readonly context: ReportContext,
    options: LiveReportOptions = {},
  ) {
    this.share = options.share ?? 0.1;
    if (!(this.share > 0 && this.share <= 1)) throw new Error(`LiveReport: share must be in (0, 1], got ${this.share}`);
  }

  /** After a trial: rewrites the outputs unless the last rewrite was too recent. True if it rewrote. */
  refresh(trials: () => readonly TrialBrief[]): boolean {
    if (performance.now() < this.nextAt) return false;
    this.write(trials());
    return true;
  }

  /** Rewrites the outputs now. */
  write(trials: readonly TrialBrief[]): void {
    const start = performance.now();
    writeOutputs(this.dir, trials, this.context);
    const end = performance.now();
    this.writes++;
    this.spentMs += end - start;
    this.nextAt = end + ((end - start) * (1 - this.share)) / this.share;
  }

  /** Rewrites so far and the milliseconds they took. */
  get stats(): { writes: number; ms: number } {
    return { writes: this.writes, ms: this.spentMs };
  }
}
