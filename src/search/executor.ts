/**
 * Where evaluations run. The loop hands the executor one task per trial and never has more in
 * flight than `concurrency`. LocalPool runs tasks in this process (the synthetic evaluator, or
 * an evaluator that itself drives the libtorch engine / a device); a device farm or a
 * multi-process pool implements the same interface.
 */
export type Task<T> = (signal: AbortSignal) => Promise<T>;

export interface Executor {
  /** Maximum number of tasks running at once (>= 1). */
  readonly concurrency: number;
  /** Runs `task` when a slot is free. Rejects with the abort reason if `signal` aborts while queued. */
  submit<T>(task: Task<T>, signal?: AbortSignal): Promise<T>;
  /** Runs all tasks with the concurrency limit; results in input order. */
  run<T>(tasks: readonly Task<T>[], signal?: AbortSignal): Promise<PromiseSettledResult<T>[]>;
}

interface Queued {
  start: () => void;
  signal?: AbortSignal;
  cancel: (reason: unknown) => void;
}

export class LocalPool implements Executor {
  readonly concurrency: number;
  private active = 0;
  private readonly queue: Queued[] = [];

  constructor(concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`LocalPool: concurrency must be an integer >= 1, got ${concurrency}`);
    this.concurrency = concurrency;
  }

  /** Tasks currently running. */
  get running(): number {
    return this.active;
  }

  submit<T>(task: Task<T>, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const sig = signal ?? new AbortController().signal;
      if (sig.aborted) return reject(sig.reason);
      const start = () => {
        sig.removeEventListener('abort', onAbort);
        this.active++;
        let p: Promise<T>;
        try {
          p = task(sig);
        } catch (e) {
          p = Promise.reject(e);
        }
        p.then(resolve, reject).finally(() => {
          this.active--;
          this.next();
        });
      };
      const entry: Queued = { start, signal: sig, cancel: reject };
      const onAbort = () => {
        const i = this.queue.indexOf(entry);
        if (i >= 0) {
          this.queue.splice(i, 1);
          reject(sig.reason);
        }
      };
      sig.addEventListener('abort', onAbort, { once: true });
      this.queue.push(entry);
      this.next();
    });
  }

  run<T>(tasks: readonly Task<T>[], signal?: AbortSignal): Promise<PromiseSettledResult<T>[]> {
    return Promise.allSettled(tasks.map((t) => this.submit(t, signal)));
  }

  private next(): void {
    while (this.active < this.concurrency && this.queue.length > 0) this.queue.shift()!.start();
  }
}
