/**
 * Which latency table gives a run's per-layer predicted latencies: the table the run's config
 * names (`latencyTable`, resolved against the dashboard's working directory, then the run
 * directory), else the one given to the dashboard if it is for the run's space. Tables are read
 * once and kept; a table that cannot be used is reported with the reason, never thrown.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadTable, type LatencyTable } from '../latency/table.js';

export type TableLookup = { table: LatencyTable; file: string } | { table: null; why: string };

export class LatencyTables {
  private readonly loaded = new Map<string, LatencyTable | Error>();

  /** `fallback`: a table file given on the command line (--latency-table), for runs that name none. */
  constructor(private readonly fallback: string | null = null) {}

  forRun(runDir: string, configured: string | null, space: string | null): TableLookup {
    if (configured !== null) {
      const candidates = path.isAbsolute(configured) ? [configured] : [path.resolve(configured), path.resolve(runDir, configured)];
      const file = candidates.find((f) => existsSync(f));
      if (file === undefined) return { table: null, why: `the run's latency table ${configured} is not found (from ${process.cwd()} or the run directory)` };
      return this.checked(file, space);
    }
    if (this.fallback !== null) return this.checked(this.fallback, space);
    return { table: null, why: 'the run has no latency table (its latency was measured or synthetic); give one with --latency-table to see per-layer predictions' };
  }

  private checked(file: string, space: string | null): TableLookup {
    const table = this.load(file);
    if (table instanceof Error) return { table: null, why: table.message };
    if (space !== null && table.space !== space) return { table: null, why: `latency table ${file} is for space '${table.space}', not the run's '${space}'` };
    return { table, file };
  }

  private load(file: string): LatencyTable | Error {
    let t = this.loaded.get(file);
    if (t === undefined) {
      try {
        t = loadTable(file);
      } catch (e) {
        t = e as Error;
      }
      this.loaded.set(file, t);
    }
    return t;
  }
}
