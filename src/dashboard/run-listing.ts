/**
 * The runs page's rows: each served run's summary, or, for a run that cannot be read (its
 * database is being created, damaged, or not a search run's), its name and the reason.
 */
import path from 'node:path';
import { summarizeRun, type RunSummary } from '../runs/summary.js';
import { isInputError } from '../util/input-error.js';
import type { RunCatalog } from './run-catalog.js';

export type RunListing = (RunSummary & { id: string }) | { id: string; dir: string; name: string; problem: string };

export function listRuns(catalog: RunCatalog): RunListing[] {
  return catalog.runs().map(({ id, dir }) => {
    try {
      return { ...summarizeRun(dir), id };
    } catch (e) {
      if (!isInputError(e)) throw e;
      return { id, dir, name: path.basename(dir), problem: (e as Error).message };
    }
  });
}
