/**
 * Proxy training in worker processes on this machine: each worker is a child process with its
 * own libtorch, thread count and copy of the training images, running one trial at a time.
 * No server is involved; messages go over Node's IPC channel.
 *
 * - A worker that dies mid-trial (crash, OOM kill, SIGKILL) is replaced and its trial retried
 *   once on a fresh worker; if that attempt dies too, the trial fails with the reason.
 * - `holdWhile(fn)` stops every worker process (SIGSTOP, ./process-stop.ts), runs fn (a latency
 *   measurement) on a quiet machine, then continues them and tells them when they stood stopped
 *   (./stop-log.ts): a trial's `heldSeconds`, left out of its training throughput.
 * - Workers exit when the pool closes or when this process dies (they watch the IPC channel, and
 *   the kernel kills a stopped one: native exitWithParent).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { printArch } from '../../space/arch-string.js';
import type { ProxySettings, ProxyTrainer, ProxyTrial, ProxyTrialResult } from '../proxy-trainer.js';
import type { FromWorker, ToWorker, TrialSpec } from './messages.js';
import { continueProcesses, stopProcesses } from './process-stop.js';
import { epochNow } from './stop-log.js';

export interface WorkerPoolOptions {
  readonly workers: number;
  readonly settings: ProxySettings;
  /** Extra environment for the workers (e.g. MNAS_ALLOCATOR for comparisons). */
  readonly env?: Readonly<Record<string, string>>;
  /** Attempts per trial when workers die (default 2: the first and one retry). */
  readonly attempts?: number;
}

interface Job {
  readonly id: number;
  readonly spec: TrialSpec;
  readonly signal: AbortSignal | undefined;
  attempts: number;
  resolve(r: ProxyTrialResult): void;
  reject(e: unknown): void;
  onAbort?: () => void;
}

interface Worker {
  readonly index: number;
  readonly child: ChildProcess;
  ready: boolean;
  exited: boolean;
  job: Job | undefined;
  readonly stderr: string[];
}

/** A worker could not load the data (`died`: it was killed or crashed while loading). */
class WorkerLoadError extends Error {
  constructor(
    message: string,
    readonly died: boolean,
  ) {
    super(message);
  }
}

const WORKER_SCRIPT = fileURLToPath(new URL('./trial-worker.js', import.meta.url));
const STDERR_LINES = 20;

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exited with code ${code}`;
}

export class WorkerPool implements ProxyTrainer {
  readonly slots: number;
  private readonly workers: Worker[] = [];
  private readonly queue: Job[] = [];
  private nextJobId = 0;
  private spawned = 0;
  private holders = 0;
  private held: Promise<unknown> = Promise.resolve();
  /** The workers stopped for the current hold, and since when (epoch ms). */
  private stopped: { readonly pids: number[]; readonly since: number } | undefined;
  private closing = false;
  private broken: Error | undefined;
  /** Workers that died and were replaced. */
  replacements = 0;

  private constructor(private readonly o: WorkerPoolOptions) {
    if (!Number.isInteger(o.workers) || o.workers < 1) throw new Error(`WorkerPool: workers must be an integer >= 1, got ${o.workers}`);
    this.slots = o.workers;
  }

  /** Starts the workers and resolves once all have loaded the data; rejects with the first worker's error. */
  static async start(o: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(o);
    try {
      await Promise.all(Array.from({ length: o.workers }, (_, i) => pool.spawn(i)));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** Process ids of the live workers. */
  get pids(): number[] {
    return this.workers.filter((w) => !w.exited).map((w) => w.child.pid!);
  }

  /** Process ids of the workers running a trial now. */
  get training(): number[] {
    return this.workers.filter((w) => !w.exited && w.job !== undefined).map((w) => w.child.pid!);
  }

  private spawn(index: number): Promise<void> {
    const { settings } = this.o;
    const child = fork(WORKER_SCRIPT, [], {
      execArgv: [],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
      env: {
        ...process.env,
        OMP_NUM_THREADS: String(settings.threads),
        // sleeping, not spinning, OpenMP threads when another process holds the cores (README: threading)
        OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE',
        ...this.o.env,
      },
    });
    this.spawned++;
    const w: Worker = { index, child, ready: false, exited: false, job: undefined, stderr: [] };
    // a worker started while the others are stopped (a replacement) is stopped too
    if (this.stopped && child.pid !== undefined) {
      this.stopped.pids.push(child.pid);
      void stopProcesses([child.pid]).catch(() => {}); // one that does not stop is continued again and runs
    }
    this.workers[index] = w;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      w.stderr.push(...chunk.split('\n').filter((l) => l.trim() !== ''));
      if (w.stderr.length > STDERR_LINES) w.stderr.splice(0, w.stderr.length - STDERR_LINES);
    });
    return new Promise<void>((resolve, reject) => {
      child.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'ready':
            w.ready = true;
            resolve();
            this.dispatch();
            break;
          case 'init-failed':
            reject(new WorkerLoadError(`trial worker ${index}: ${m.message}`, false));
            break;
          case 'result':
          case 'trial-error':
          case 'aborted':
            this.finish(w, m);
            break;
        }
      });
      child.on('error', (e) => reject(new WorkerLoadError(`trial worker ${index}: ${e.message}`, false)));
      child.on('exit', (code, signal) => {
        w.exited = true;
        if (!w.ready) reject(new WorkerLoadError(`trial worker ${index} ${describeExit(code, signal)} while loading${w.stderr.length ? `: ${w.stderr.at(-1)}` : ''}`, true));
        this.onWorkerExit(w, describeExit(code, signal));
      });
      this.post(w, { type: 'init', settings, parentPid: process.pid });
    });
  }

  private post(w: Worker, m: ToWorker): void {
    if (!w.exited && w.child.connected) w.child.send(m);
  }

  private onWorkerExit(w: Worker, how: string): void {
    const job = w.job;
    w.job = undefined;
    if (this.closing) {
      job?.reject(new Error('worker pool closed'));
      return;
    }
    if (job) {
      if (job.signal?.aborted) job.reject(job.signal.reason);
      else if (job.attempts >= (this.o.attempts ?? 2)) {
        const tail = w.stderr.at(-1);
        this.settle(job, { status: 'failed', reason: `the training process ${how} on ${job.attempts} attempts${tail ? ` (last output: ${tail})` : ''}`, seconds: 0, attempts: job.attempts, worker: w.index });
      } else this.queue.unshift(job);
    }
    if (!w.ready) return; // start() or replace() reports a worker that died while loading
    this.replace(w.index, 0);
  }

  /** Starts a new worker in slot `index`; a replacement that dies while loading is tried again, up to 3 times. */
  private replace(index: number, failures: number): void {
    this.replacements++;
    this.spawn(index).catch((e: Error) => {
      if (this.closing) return;
      if (e instanceof WorkerLoadError && e.died && failures < 2) return this.replace(index, failures + 1);
      this.broken = e;
      for (const j of this.queue.splice(0)) j.reject(e);
    });
  }

  private settle(job: Job, r: ProxyTrialResult): void {
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    job.resolve(r);
  }

  private finish(w: Worker, m: Extract<FromWorker, { type: 'result' | 'trial-error' | 'aborted' }>): void {
    const job = w.job;
    if (!job || job.id !== m.id) return;
    w.job = undefined;
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    if (m.type === 'result') job.resolve({ ...m.result, worker: w.index, attempts: job.attempts });
    else if (m.type === 'aborted') job.reject(job.signal?.reason ?? new Error('trial aborted'));
    else job.reject(new Error(m.message));
    this.dispatch();
  }

  private dispatch(): void {
    for (const w of this.workers) {
      if (this.queue.length === 0) return;
      if (!w || w.exited || !w.ready || w.job) continue;
      const job = this.queue.shift()!;
      job.attempts++;
      w.job = job;
      this.post(w, { type: 'trial', id: job.id, spec: job.spec });
    }
  }

  /** Sends the trial's arch string (a plan does not cross the process boundary); the worker plans it. */
  train(trial: ProxyTrial, signal?: AbortSignal): Promise<ProxyTrialResult> {
    const spec: TrialSpec = { arch: printArch(trial.plan.arch), seed: trial.seed };
    if (this.broken) return Promise.reject(this.broken);
    if (this.closing) return Promise.reject(new Error('worker pool closed'));
    return new Promise<ProxyTrialResult>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const job: Job = { id: this.nextJobId++, spec, signal, attempts: 0, resolve, reject };
      if (signal) {
        job.onAbort = () => {
          const queued = this.queue.indexOf(job);
          if (queued >= 0) {
            this.queue.splice(queued, 1);
            reject(signal.reason);
            return;
          }
          const w = this.workers.find((x) => x.job === job);
          if (w) this.post(w, { type: 'cancel', id: job.id });
        };
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.dispatch();
    });
  }

  async holdWhile<T>(fn: () => Promise<T>, ready?: Promise<unknown>): Promise<T> {
    // stopping takes a millisecond: nothing to overlap the set-up with, so training goes on during it
    await ready?.catch(() => {});
    if (this.holders++ === 0) {
      const pids = this.pids;
      this.stopped = { pids, since: epochNow() };
      this.held = stopProcesses(pids);
    }
    try {
      await this.held;
      return await fn();
    } finally {
      if (--this.holders === 0) this.continueStopped();
    }
  }

  /** Continues the stopped workers and tells them when they stood stopped. */
  private continueStopped(): void {
    const stopped = this.stopped;
    if (!stopped) return;
    this.stopped = undefined;
    continueProcesses(stopped.pids);
    const stop = { type: 'continued', start: stopped.since, end: epochNow() } as const;
    for (const w of this.workers) if (w) this.post(w, stop);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.continueStopped();
    for (const j of this.queue.splice(0)) j.reject(new Error('worker pool closed'));
    await Promise.all(
      this.workers.filter((w) => w && !w.exited).map(
        (w) =>
          new Promise<void>((resolve) => {
            const kill = setTimeout(() => w.child.kill('SIGKILL'), 5000);
            w.child.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            if (w.child.connected) w.child.send({ type: 'exit' } satisfies ToWorker);
            else w.child.kill('SIGKILL');
          }),
      ),
    );
  }
}
