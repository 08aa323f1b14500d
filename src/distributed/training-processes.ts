/**
 * A worker's training processes: one local WorkerPool (src/search/workers) for the proxy settings
 * of the jobs it is given, started on the first job and restarted only when a job of another run
 * with other settings arrives (after the running trials finish). The machine's own choices
 * override the job's: `threads` per training process and `dataDir` (where this machine keeps the
 * dataset). `holdWhile` stops every training step on this machine while a measurement runs.
 */
import type { ProxySettings, ProxyTrial, ProxyTrialResult } from '../search/proxy-trainer.js';
import { WorkerPool } from '../search/workers/worker-pool.js';

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

export class TrainingProcesses {
  private current: { key: string; pool: Promise<WorkerPool> } | undefined;
  private active = 0;
  private idle: Array<() => void> = [];

  constructor(private readonly o: TrainingProcessesOptions) {}

  /** The job's settings as this machine runs them. */
  localize(s: ProxySettings): ProxySettings {
    const dataDir = this.o.dataDir ?? s.dataset.dataDir;
    const { dataDir: _given, ...dataset } = s.dataset;
    return { ...s, dataset: { ...dataset, ...(dataDir !== undefined ? { dataDir } : {}) }, threads: this.o.threads ?? s.threads };
  }

  async train(settings: ProxySettings, trial: ProxyTrial, signal?: AbortSignal): Promise<ProxyTrialResult> {
    const pool = await this.acquire(this.localize(settings));
    this.active++;
    try {
      return await pool.train(trial, signal);
    } finally {
      if (--this.active === 0) for (const wake of this.idle.splice(0)) wake();
    }
  }

  private async acquire(settings: ProxySettings): Promise<WorkerPool> {
    const key = JSON.stringify(settings);
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
      const pool = WorkerPool.start({ workers: this.o.processes, settings }).catch((e: unknown) => {
        if (this.current?.key === key) this.current = undefined;
        throw new TrainingUnavailableError(`cannot load the dataset '${settings.dataset.name}'${settings.dataset.dataDir ? ` from ${settings.dataset.dataDir}` : ''}: ${(e as Error).message}`, { cause: e });
      });
      this.current = { key, pool };
    }
    return this.current.pool;
  }

  /** Runs fn while no training step runs on this machine. */
  async holdWhile<T>(fn: () => Promise<T>): Promise<T> {
    const pool = await this.current?.pool.catch(() => undefined);
    return pool ? pool.holdWhile(fn) : fn();
  }

  async close(): Promise<void> {
    const pool = await this.current?.pool.catch(() => undefined);
    this.current = undefined;
    await pool?.close();
  }
}
