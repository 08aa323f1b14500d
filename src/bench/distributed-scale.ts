/**
 * `mnas bench distributed-scale`: the same distributed search (fmnist space, Fashion-MNIST, random
 * strategy with a fixed seed, latency measured on ort-cpu by the worker) with one `mnas worker`
 * of 1, then 2, ... training processes of one thread each, on a fresh loopback redis-server each
 * time. Reports candidates per hour and the ratio to the first; with several rounds the process
 * counts alternate (1, 2, 1, 2, ...) and the summary gives medians.
 *
 * Where a ratio below the process count goes, from the train jobs' timelines (JobTimeline, kept in
 * Redis): how long a trial ran outside measurement pauses (`contention`: that time against one
 * process's, whether trainings slow each other or a process idles at a hold point until the other
 * reaches one), and what share of the processes' time went to that (`busy`; the rest is
 * measurements holding training and the wait for the last trials). The ratio is
 * processes x busy / first busy / contention.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { QUEUE_PREFIX, TRAIN_QUEUE, type JobTimeline, type TrainJob, type TrainOutcome } from '../distributed/jobs.js';
import { startLocalRedis } from '../distributed/local-redis.js';
import { parseRedisUrl, queueConnection } from '../distributed/redis-url.js';
import { QUEUED_AHEAD, search } from '../search/setup.js';
import { median } from '../util/stats.js';

export interface ScaleOptions {
  readonly processes: readonly number[];
  readonly budget: number;
  readonly images: number;
  readonly seed: number;
  /** Times the whole list of process counts is run, alternating. */
  readonly rounds?: number;
  readonly onLog?: (line: string) => void;
}

export interface ScaleRow {
  readonly round: number;
  readonly processes: number;
  readonly trials: number;
  readonly seconds: number;
  readonly trials_per_hour: number;
  /** Candidates per hour against the first row's of the same round. */
  readonly ratio: number;
  readonly load: number;
  /** Mean seconds a train job ran outside its worker's measurement pauses. */
  readonly train_seconds_per_trial: number;
  /** Mean seconds a train job stood paused for measurements. */
  readonly held_seconds_per_trial: number;
  /** Share of processes x seconds that went to training outside the pauses. */
  readonly busy: number;
  /** Mean CPU seconds (all threads) of the training process per trial. */
  readonly cpu_seconds_per_trial: number;
  /** Mean seconds a trial stood at a closed hold point, as its training process saw it. */
  readonly gate_seconds_per_trial: number;
}

export interface ScaleSummary {
  readonly processes: number;
  readonly runs: number;
  readonly median_trials_per_hour: number;
  /** Median candidates per hour against the first process count's median. */
  readonly ratio_of_medians: number;
  /** Median of the per-round ratios. */
  readonly median_ratio: number;
  readonly median_train_seconds_per_trial: number;
  /** Median seconds per trial against the first process count's: how much longer a trial takes with more processes. */
  readonly contention: number;
  readonly median_busy: number;
  readonly median_cpu_seconds_per_trial: number;
  /** Median CPU seconds per trial against the first process count's: the same trials' work costing more when processes share the machine. */
  readonly cpu_contention: number;
  readonly median_gate_seconds_per_trial: number;
}

/** Seconds the train jobs ran, and of those, their worker's training stood paused for measurements. */
export function trainingSeconds(timelines: readonly JobTimeline[]): { ran: number; paused: number } {
  let ran = 0;
  let paused = 0;
  for (const t of timelines) {
    ran += (t.end - t.start) / 1000;
    for (const p of t.paused ?? []) paused += Math.max(0, Math.min(p.end, t.end) - Math.max(p.start, t.start)) / 1000;
  }
  return { ran, paused };
}

/** Medians per process count over the rounds. */
export function summarizeScale(rows: readonly ScaleRow[]): ScaleSummary[] {
  const counts = [...new Set(rows.map((r) => r.processes))];
  const medianOf = (p: number, f: (r: ScaleRow) => number) => median(rows.filter((r) => r.processes === p).map(f));
  const first = medianOf(counts[0]!, (r) => r.trials_per_hour);
  const firstSeconds = medianOf(counts[0]!, (r) => r.train_seconds_per_trial);
  const firstCpu = medianOf(counts[0]!, (r) => r.cpu_seconds_per_trial);
  return counts.map((p) => ({
    processes: p,
    runs: rows.filter((r) => r.processes === p).length,
    median_trials_per_hour: medianOf(p, (r) => r.trials_per_hour),
    ratio_of_medians: medianOf(p, (r) => r.trials_per_hour) / first,
    median_ratio: medianOf(p, (r) => r.ratio),
    median_train_seconds_per_trial: medianOf(p, (r) => r.train_seconds_per_trial),
    contention: medianOf(p, (r) => r.train_seconds_per_trial) / firstSeconds,
    median_busy: medianOf(p, (r) => r.busy),
    median_cpu_seconds_per_trial: medianOf(p, (r) => r.cpu_seconds_per_trial),
    cpu_contention: firstCpu > 0 ? medianOf(p, (r) => r.cpu_seconds_per_trial) / firstCpu : 1,
    median_gate_seconds_per_trial: medianOf(p, (r) => r.gate_seconds_per_trial),
  }));
}

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export async function runDistributedScale(o: ScaleOptions): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  for (let round = 1; round <= (o.rounds ?? 1); round++) for (const processes of o.processes) rows.push(await runOnce(o, processes, round, rows.find((r) => r.round === round)?.trials_per_hour));
  return rows;
}

/** The search of this benchmark, with one `mnas worker` of `processes` one-thread training processes. */
export interface ScaleSearchOptions {
  readonly processes: number;
  readonly budget: number;
  readonly images: number;
  readonly seed: number;
  /** Held-out images each candidate is scored on (default 2,000). */
  readonly validationImages?: number;
}

export type ScaleSearchResult = Awaited<ReturnType<typeof search>>;

/**
 * Runs the benchmark's search on a fresh loopback redis-server with a fresh worker, then
 * `inspect(result, redisUrl)` while both still run (the train jobs' results are still in Redis);
 * stops both and removes the run whatever happens.
 */
export async function runScaleSearch<T>(o: ScaleSearchOptions, inspect: (r: ScaleSearchResult, redisUrl: string) => Promise<T>): Promise<T> {
  const redis = await startLocalRedis();
  const worker = spawn(process.execPath, [MAIN, 'worker', '--redis', redis.url, '--concurrency', String(o.processes), '--threads', '1', '--device', 'ort-cpu', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  const dir = mkdtempSync(path.join(tmpdir(), 'mnas-bench-scale-'));
  try {
    await new Promise<void>((resolve, reject) => {
      worker.stdout!.setEncoding('utf8');
      worker.stdout!.on('data', (chunk: string) => {
        if (chunk.includes('"event":"ready"')) resolve();
      });
      void exited.then(() => reject(new Error('the worker exited before it was ready')));
    });
    const r = await search({
      config: {
        space: 'fmnist',
        strategy: { kind: 'random' },
        seed: o.seed,
        budget: o.budget,
        dataset: { name: 'fashion-mnist', validationImages: o.validationImages ?? 2000 },
        proxy: { images: o.images, epochs: 1, threads: 1 },
        // as a local search does: QUEUED_AHEAD trials queued ahead of the training processes
        concurrency: o.processes + QUEUED_AHEAD,
      },
      redis: redis.url,
      out: path.join(dir, 'run'),
    });
    return await inspect(r, redis.url);
  } finally {
    worker.kill('SIGTERM');
    await exited;
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(redis.dir, { recursive: true, force: true });
  }
}

function runOnce(o: ScaleOptions, processes: number, round: number, firstOfRound: number | undefined): Promise<ScaleRow> {
  return runScaleSearch({ processes, budget: o.budget, images: o.images, seed: o.seed }, async (r, redisUrl) => {
    const first = firstOfRound ?? r.session.trials_per_hour;
    const timelines = await trainTimelines(redisUrl);
    const { ran, paused } = trainingSeconds(timelines);
    const jobs = Math.max(1, timelines.length);
    // a fresh run: the session's trials are all of them
    const costs = r.session.per_trial;
    const row: ScaleRow = {
      round,
      processes,
      trials: r.session.evaluated + r.session.reused,
      seconds: r.session.seconds,
      trials_per_hour: r.session.trials_per_hour,
      ratio: r.session.trials_per_hour / first,
      load: loadavg()[0]!,
      train_seconds_per_trial: (ran - paused) / jobs,
      held_seconds_per_trial: paused / jobs,
      busy: (ran - paused) / (processes * r.session.seconds),
      cpu_seconds_per_trial: costs?.cpu_s ?? 0,
      gate_seconds_per_trial: costs?.held_s ?? 0,
    };
    o.onLog?.(
      `bench: round ${round}, ${processes} training process(es): ${row.trials} candidates in ${row.seconds.toFixed(1)} s, ${row.trials_per_hour.toFixed(0)}/h (x${row.ratio.toFixed(2)}, load ${row.load.toFixed(2)}); ` +
        `${row.train_seconds_per_trial.toFixed(2)} s training and ${row.held_seconds_per_trial.toFixed(2)} s held per trial, ${(100 * row.busy).toFixed(1)}% busy; ` +
        `${row.cpu_seconds_per_trial.toFixed(2)} CPU s and ${row.gate_seconds_per_trial.toFixed(2)} s at closed hold points per trial in the training process`,
    );
    return row;
  });
}

/** The run's finished train jobs as the workers stored them in Redis: each job's data and its outcome. */
export async function completedTrainJobs(url: string): Promise<{ job: TrainJob; outcome: TrainOutcome | null }[]> {
  // loaded here, not at the top: every `mnas` command imports this module, few connect
  const { Queue } = await import('bullmq');
  const queue = new Queue(TRAIN_QUEUE, { connection: queueConnection(parseRedisUrl(url), 'mnas-bench-timelines'), prefix: QUEUE_PREFIX });
  try {
    const jobs = await queue.getJobs(['completed'], 0, -1);
    return jobs.map((j) => ({ job: j.data as TrainJob, outcome: (j.returnvalue as TrainOutcome | null) ?? null }));
  } finally {
    await queue.close();
  }
}

/** The timelines of the run's finished train jobs. */
async function trainTimelines(url: string): Promise<JobTimeline[]> {
  return (await completedTrainJobs(url)).map((j) => j.outcome?.timeline).filter((t): t is JobTimeline => t !== undefined);
}
