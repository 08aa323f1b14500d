/**
 * A worker's training processes: one local WorkerPool (src/search/workers) for the proxy settings
 * of the jobs it is given, started on the first job and restarted only when a job of another run
 * with other settings arrives (after the running trials finish). The machine's own choices
 * override the job's: `threads` per training process and `dataDir` (where this machine keeps the
 * dataset). `holdWhile` stops every training step on this machine while a measurement runs.
 */
import type { ProxySettings, ProxyTrial, ProxyTrialResult } from '../search/proxy-trainer.js';
import { WorkerPool } from '../search/workers/worker-pool.js';
import { localDatasetChecksum, shortChecksum } from './dataset-checksum.js';

export interface TrainingProcessesOptions {
  readonly processes: number;
  /** libtorch threads per process (default: the job's). */
  readonly threads?: number;
  /** Where this machine keeps the dataset (default: the job's dataDir). */
  readonly dataDir?: string;
}

/** This machine cannot load the job's data: a problem of the worker, not of the architecture. */
export class TrainingUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrainingUnavailableError';
  }
}

/** Wall-clock interval, ms since the epoch. */
export interface Interval {
  readonly start: number;
  readonly end: number;
}

/** Pauses remembered for timelines (the most recent ones). */
const KEPT_PAUSES = 1000;

export class TrainingProcesses {
  private current: { key: string; pool: Promise<WorkerPool> } | undefined;
  private active = 0;
  private idle: Array<() => void> = [];
  private holds = 0;
  private released: Array<() => void> = [];
  private readonly pauses: Interval[] = [];

  constructor(private readonly o: TrainingProcessesOptions) {}

  /** The job's settings as this machine runs them. */
  localize(s: ProxySettings): ProxySettings {
    const dataDir = this.o.dataDir ?? s.dataset.dataDir;
    const { dataDir: _given, ...dataset } = s.dataset;
    return { ...s, dataset: { ...dataset, ...(dataDir !== undefined ? { dataDir } : {}) }, threads: this.o.threads ?? s.threads };
  }

  /** Trains on this machine's copy of the dataset, which must have the checksum `datasetChecksum` (the coordinator's). */
  async train(settings: ProxySettings, trial: ProxyTrial, datasetChecksum: string, signal?: AbortSignal): Promise<ProxyTrialResult> {
    // a trial that arrives while training is held waits (also when no training process exists yet)
    while (this.holds > 0) await new Promise<void>((resolve) => this.released.push(resolve));
    const pool = await this.acquire(this.localize(settings), datasetChecksum);
    this.active++;
    try {
      return await pool.train(trial, signal);
    } finally {
      if (--this.active === 0) for (const wake of this.idle.splice(0)) wake();
    }
  }

  private async acquire(settings: ProxySettings, datasetChecksum: string): Promise<WorkerPool> {
    const key = JSON.stringify([settings, datasetChecksum]);
    while (this.current && this.current.key !== key) {
      if (this.active > 0) {
        await new Promise<void>((resolve) => this.idle.push(resolve));
        continue;
      }
      const old = this.current;
      this.current = undefined;
      await (await old.pool.catch(() => undefined))?.close();
    }
    if (!this.current) {
      const where = `the dataset '${settings.dataset.name}'${settings.dataset.dataDir ? ` at ${settings.dataset.dataDir}` : settings.dataset.cacheFile ? ` in ${settings.dataset.cacheFile}` : ''}`;
      const pool = verifyDataset(settings, datasetChecksum, where)
        .then(() => WorkerPool.start({ workers: this.o.processes, settings }))
        .catch((e: unknown) => {
          if (this.current?.key === key) this.current = undefined;
          if (e instanceof TrainingUnavailableError) throw e;
          throw new TrainingUnavailableError(`cannot load ${where}: ${(e as Error).message}`, { cause: e });
        });
      this.current = { key, pool };
    }
    return this.current.pool;
  }

  /** Runs fn while none of these training processes runs a step and no new trial starts (`ready`: see ProxyTrainer.holdWhile). */
  async holdWhile<T>(fn: () => Promise<T>, ready?: Promise<unknown>): Promise<T> {
    this.holds++;
    try {
      const pool = await this.current?.pool.catch(() => undefined);
      const paused = async () => {
        const start = Date.now();
        try {
          return await fn();
        } finally {
          this.pauses.push({ start, end: Date.now() });
          if (this.pauses.length > KEPT_PAUSES) this.pauses.shift();
        }
      };
      return await (pool ? pool.holdWhile(paused, ready) : paused());
    } finally {
      if (--this.holds === 0) for (const wake of this.released.splice(0)) wake();
    }
  }

  /** The pauses (intervals in which no step ran) that overlap `during`. */
  pausesDuring(during: Interval): Interval[] {
    return this.pauses.filter((p) => p.end >= during.start && p.start <= during.end);
  }

  async close(): Promise<void> {
    const pool = await this.current?.pool.catch(() => undefined);
    this.current = undefined;
    await pool?.close();
  }
}

/** Checks this machine's copy of the dataset against the coordinator's checksum before any training process loads it. */
async function verifyDataset(settings: ProxySettings, expected: string, where: string): Promise<void> {
  let local: string;
  try {
    local = localDatasetChecksum(settings);
  } catch (e) {
    throw new TrainingUnavailableError(`cannot load ${where}: ${(e as Error).message}`, { cause: e });
  }
  if (local !== expected) {
    throw new TrainingUnavailableError(`this machine's copy of ${where} differs from the search's (checksum ${shortChecksum(local)}... here, ${shortChecksum(expected)}... on the coordinator)`);
  }
}
