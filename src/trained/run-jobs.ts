/**
 * Runs trainings of the trained table on a few processes at once (src/trained/train-job.ts), adds
 * each result to the table as it finishes, and stops starting new ones at a deadline or on abort.
 * Progress lines carry an ETA from the cost so far per training image (images x epochs).
 */
import type { TrainedTable, TrainRow } from './table.js';
import { runTrainJob, type TrainJob } from './train-job.js';

export interface RunJobsOptions {
  readonly workers: number;
  readonly threads: number;
  readonly dataDir?: string;
  /** Start no job after this time (ms since the epoch). */
  readonly deadline?: number;
  readonly signal?: AbortSignal;
  /** Weights and ONNX of a job go here when it returns a path. */
  readonly saveTo?: (job: TrainJob) => { weights: string; onnx: string } | undefined;
  readonly onRow?: (e: { job: TrainJob; row: TrainRow; done: number; total: number; etaSeconds: number }) => void;
}

const work = (j: TrainJob): number => j.setting.images * j.setting.epochs;

/** Runs `jobs` in order, `workers` at a time; resolves with how many ran. Rejects (after the running ones end) on a process failure. */
export async function runTrainJobs(table: TrainedTable, jobs: readonly TrainJob[], o: RunJobsOptions): Promise<number> {
  const started = performance.now();
  let next = 0;
  let done = 0;
  let workDone = 0;
  let workLeft = jobs.reduce((a, j) => a + work(j), 0);
  const worker = async (): Promise<void> => {
    while (next < jobs.length && !o.signal?.aborted && (o.deadline === undefined || Date.now() < o.deadline)) {
      const job = jobs[next++]!;
      const save = o.saveTo?.(job);
      const row = await runTrainJob(job, {
        threads: o.threads,
        ...(o.dataDir ? { dataDir: o.dataDir } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        ...(save ? { save } : {}),
      });
      table.add(row);
      done++;
      workDone += work(job);
      workLeft -= work(job);
      const secondsPerWork = (performance.now() - started) / 1000 / workDone;
      o.onRow?.({ job, row, done, total: jobs.length, etaSeconds: (workLeft * secondsPerWork) / Math.min(o.workers, Math.max(1, jobs.length - done)) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.workers, jobs.length) }, worker));
  return done;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : `${m} min ${Math.round(seconds % 60)} s`;
}

/** What a finished training scored, for progress lines. */
export function describeRow(r: TrainRow): string {
  if (r.status === 'failed') return `failed (${r.reason}) in ${r.seconds.toFixed(0)} s`;
  const acc = r.task === 'final' ? `test ${pct(r.testAccuracy)}, val ${pct(r.valAccuracy)}` : `val ${pct(r.valAccuracy)}`;
  return `${acc} in ${r.seconds.toFixed(1)} s`;
}

const pct = (x: number | null): string => (x === null ? '-' : `${(100 * x).toFixed(2)}%`);
