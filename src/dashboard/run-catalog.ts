/**
 * The runs a dashboard serves: the run directories found under the folders it was given (a
 * folder may be one run or hold many, found again as new runs appear), each under a short id
 * for URLs. Only these directories are ever read: a URL names a run by id, never by path.
 */
import path from 'node:path';
import { findRunDirs, type RunSummary } from '../runs/summary.js';
import { isInputError } from '../util/input-error.js';
import { RunView } from './run-view.js';
import { SummaryCache, type RunListing } from './summary-cache.js';

export interface CatalogRun {
  readonly id: string;
  readonly dir: string;
}

/** Runs whose live views warmUp opens ahead of any request. */
const WARM_VIEWS = 4;

/** How often the folders are searched again for new runs, at most. */
const RESCAN_MS = 2000;

export class RunCatalog {
  private readonly ids = new Map<string, string>();
  private readonly dirs = new Map<string, string>();
  private readonly views = new Map<string, RunView>();
  private scannedAt = -Infinity;
  private readonly summaries = new SummaryCache();
  private closed = false;

  constructor(readonly roots: readonly string[]) {}

  /** The runs found so far, in the order found (searching the folders again if it is time to). */
  runs(): CatalogRun[] {
    if (performance.now() - this.scannedAt > RESCAN_MS) this.rescan();
    return [...this.dirs].map(([id, dir]) => ({ id, dir }));
  }

  dirOf(id: string): string | undefined {
    if (!this.dirs.has(id)) this.runs();
    return this.dirs.get(id);
  }

  /** The live view of run `id` (opened on first use; kept); undefined for an unknown id. Throws RunStoreError if its store cannot be read. */
  view(id: string): RunView | undefined {
    const dir = this.dirOf(id);
    if (dir === undefined) return undefined;
    let v = this.views.get(id);
    if (!v) {
      v = new RunView(dir);
      this.views.set(id, v);
    }
    return v;
  }

  /** Every run's summary (or why it cannot be read), at most a few seconds old. */
  listings(): RunListing[] {
    return this.runs().map((r) => this.summaryOf(r.id, r.dir));
  }

  /** Run `id`'s summary (or why it cannot be read); undefined for an unknown id. */
  listing(id: string): RunListing | undefined {
    const dir = this.dirOf(id);
    return dir === undefined ? undefined : this.summaryOf(id, dir);
  }

  /** A run open in a view is summarized from the view's trials (no second read of its store). */
  private summaryOf(id: string, dir: string): RunListing {
    const view = this.views.get(id);
    return view ? this.summaries.get(id, dir, view.version, () => view.contents()) : this.summaries.get(id, dir);
  }

  /**
   * Reads ahead what the first pages will ask for, so they open at once: every run's summary
   * (the runs page) and the live views of the `views` most recently active runs (their pages),
   * one run at a time, letting requests in between. Runs that cannot be read are left to the
   * requests to report. Resolves with the runs summarized and the views opened.
   */
  async warmUp(views = WARM_VIEWS): Promise<{ summarized: string[]; opened: string[] }> {
    const done = { summarized: [] as string[], opened: [] as string[] };
    const yieldToRequests = () => new Promise<void>((resolve) => setImmediate(resolve));
    const open = async (id: string) => {
      if (this.closed) return;
      try {
        this.view(id)?.plotJson();
        done.opened.push(id);
      } catch (e) {
        if (!isInputError(e)) throw e;
      }
      await yieldToRequests();
    };
    const runs = this.runs();
    // few runs: their views first (their summaries are then made from the views)
    if (runs.length <= views) for (const r of runs) await open(r.id);
    const listed: RunListing[] = [];
    for (const r of runs) {
      if (this.closed) return done;
      listed.push(this.summaryOf(r.id, r.dir));
      done.summarized.push(r.id);
      await yieldToRequests();
    }
    if (runs.length > views) {
      const recent = listed.filter((l): l is RunSummary & { id: string } => !('problem' in l)).sort((a, b) => (b.updatedAt ?? '').localeCompare(a.updatedAt ?? ''));
      for (const l of recent.slice(0, views)) await open(l.id);
    }
    return done;
  }

  close(): void {
    this.closed = true;
    for (const v of this.views.values()) v.close();
    this.views.clear();
  }

  private rescan(): void {
    this.scannedAt = performance.now();
    for (const root of this.roots) {
      for (const dir of findRunDirs(root)) {
        const abs = path.resolve(dir);
        if (this.ids.has(abs)) continue;
        const id = this.freshId(abs, root);
        this.ids.set(abs, id);
        this.dirs.set(id, abs);
      }
    }
  }

  /** The run's path below its root (or its folder name), in URL-safe characters, made unique. */
  private freshId(dir: string, root: string): string {
    const rel = path.relative(path.resolve(root), dir);
    const name = (rel === '' ? path.basename(dir) : rel).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '') || 'run';
    let id = name.slice(0, 80);
    for (let n = 2; this.dirs.has(id); n++) id = `${name.slice(0, 76)}-${n}`;
    return id;
  }
}
