/**
 * Run summaries (src/runs/summary.ts) kept for a moment: a summary reads every trial of its run,
 * hundreds of milliseconds for 10,000 trials, while pages ask for it on every load and update.
 * A summary is made again when the run changed (a new view version), unless it is younger than
 * four times what making it cost (so summaries take at most about a fifth of the server's time on
 * a busy big run, and small runs are always current), and when it is three seconds old whatever
 * happened (states and ETAs change with time alone).
 */
import path from 'node:path';
import { summarizeRun, summaryOf, type RunContents, type RunSummary } from '../runs/summary.js';
import { isInputError } from '../util/input-error.js';

/** A run's summary, or why it cannot be read (its database being created, damaged, not a search run's). */
export type RunListing = (RunSummary & { id: string }) | { id: string; dir: string; name: string; problem: string };

const MAX_AGE_MS = 3000;
/** A summary of a changed run is kept for this many times what it cost to make. */
const COST_FACTOR = 4;

export class SummaryCache {
  private readonly entries = new Map<string, { listing: RunListing; version: number | null; at: number; costMs: number }>();

  /**
   * `version`: the run view's version when the run is open in a view (null: unknown, the age alone
   * decides); `read`: the run's contents from that view (default: read from the run directory).
   */
  get(id: string, dir: string, version: number | null = null, read?: () => RunContents): RunListing {
    const now = performance.now();
    const e = this.entries.get(dir);
    if (e && e.listing.id === id) {
      const age = now - e.at;
      if (age < MAX_AGE_MS && (version === null || version === e.version || age < COST_FACTOR * e.costMs)) return e.listing;
    }
    const listing = summarize(id, dir, read);
    this.entries.set(dir, { listing, version, at: now, costMs: performance.now() - now });
    return listing;
  }
}

function summarize(id: string, dir: string, read: (() => RunContents) | undefined): RunListing {
  try {
    return { ...(read ? summaryOf(read()) : summarizeRun(dir)), id };
  } catch (e) {
    if (!isInputError(e)) throw e;
    return { id, dir, name: path.basename(dir), problem: (e as Error).message };
  }
}
