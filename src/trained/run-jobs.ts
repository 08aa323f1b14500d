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

/** How a study (fidelity, models, recipe) runs its trainings: the part of its options they share. */
export interface StudyRunOptions {
  readonly dataDir?: string;
  /** Training processes at once, and libtorch threads of each. */
  readonly workers: number;
  readonly threads: number;
  /** Train nothing: report from the table as it is. */
  readonly train: boolean;
  /** Start no job after this time (ms since the epoch). */
  readonly deadline?: number;
  readonly signal?: AbortSignal;
  readonly onLine?: (line: string) => void;
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

/**
 * A study's trainings: says how many there are (`what`, e.g. '12 trainings (4 models x 3 seeds)')
 * and how many the table already holds, runs the others unless the study trains nothing, with a
 * progress line per training naming it by `describe`; resolves with how many are still missing.
 */
export async function runStudyJobs(
  table: TrainedTable,
  all: readonly TrainJob[],
  o: StudyRunOptions & Pick<RunJobsOptions, 'saveTo'>,
  what: string,
  describe: (job: TrainJob) => string,
): Promise<{ ran: number; pending: number }> {
  const missing = (j: TrainJob) => table.train(j.arch, j.setting, j.seed) === undefined;
  const todo = all.filter(missing);
  const say = o.onLine ?? (() => {});
  if (o.train && todo.length > 0) table.checkWritable();
  say(`${what}, ${all.length - todo.length} already in the table${o.train ? `, ${todo.length} to run with ${o.workers} worker(s) x ${o.threads} thread(s)` : ''}`);
  let ran = 0;
  if (o.train && todo.length > 0) {
    ran = await runTrainJobs(table, todo, {
      workers: o.workers,
      threads: o.threads,
      ...(o.dataDir ? { dataDir: o.dataDir } : {}),
      ...(o.deadline !== undefined ? { deadline: o.deadline } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.saveTo ? { saveTo: o.saveTo } : {}),
      onRow: (e) => say(`[${e.done}/${e.total}] ${describe(e.job)}: ${describeRow(e.row)} (ETA ${formatDuration(e.etaSeconds)})`),
    });
  }
  return { ran, pending: all.filter(missing).length };
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
