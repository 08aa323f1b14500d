/**
 * The coordinator's side of one BullMQ queue: submit a job under an id derived from the run (or
 * attach to the job already there under that id), and wait for its end.
 *
 * - Nothing is submitted twice: submission n of a job has a fixed id; if a job with that id
 *   exists (waiting, running or finished, e.g. before the coordinator restarted), it is awaited,
 *   and a finished one gives its stored return value at once.
 * - Failures of a job are failures of the infrastructure (workers return architecture failures
 *   as results): BullMQ retries a job `attempts` times (a worker lost mid-job is detected as
 *   stalled and its job retried elsewhere); a job that still fails is submitted again under id
 *   n + 1, up to `submissions` times; then `onFatal` is called (the search stops, resumable) and
 *   the call rejects with a DistributedJobError. Never a failure reward. Submissions that failed
 *   in an earlier session are skipped, so a resume after fixing the workers submits afresh.
 * - The end of a job is learnt from the queue's event stream and, in case events were missed
 *   (Redis restarted), by polling the waiting jobs' states every `pollMs`.
 */
import { setMaxListeners } from 'node:events';
import { Queue, QueueEvents } from 'bullmq';
import { queueConnection, type RedisTarget } from './redis-url.js';
import { QUEUE_PREFIX } from './jobs.js';
import { InputError } from '../util/input-error.js';

export interface JobClientOptions {
  readonly target: RedisTarget;
  readonly queue: string;
  /** BullMQ attempts per submission (default 3). */
  readonly attempts?: number;
  /** Submissions of a job before the search stops (default 3). */
  readonly submissions?: number;
  /** How often waiting jobs are polled, ms (default 2000). */
  readonly pollMs?: number;
  /** Called once, before the failing call rejects, when a job cannot be completed. */
  readonly onFatal: (e: Error) => void;
  /**
   * After a submission failed: resolves to an Error to stop now (e.g. no worker left that takes
   * this kind of job) instead of submitting it again.
   */
  readonly onJobFailed?: (id: string, reason: string) => Promise<Error | undefined>;
}

/**
 * A job failed every submission: a problem of the workers (dataset or device missing, workers
 * crashing) that the search cannot get past by itself; the user fixes it and resumes.
 */
export class DistributedJobError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'DistributedJobError';
  }
}

type End = { readonly state: 'completed'; readonly value: unknown } | { readonly state: 'failed'; readonly reason: string } | { readonly state: 'lost' };

interface Waiter {
  readonly settle: (end: End) => void;
}

export class JobClient {
  readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly poller: NodeJS.Timeout;
  private polling = false;
  private closed = false;

  private constructor(private readonly o: JobClientOptions) {
    this.queue = new Queue(o.queue, { connection: queueConnection(o.target, `mnas-coordinator-${o.queue}`), prefix: QUEUE_PREFIX });
    this.events = new QueueEvents(o.queue, { connection: queueConnection(o.target, `mnas-coordinator-events-${o.queue}`), prefix: QUEUE_PREFIX });
    this.queue.on('error', () => {});
    this.events.on('error', () => {});
    this.events.on('completed', ({ jobId, returnvalue }) => this.settle(jobId, { state: 'completed', value: returnvalue }));
    this.events.on('failed', ({ jobId }) => void this.check(jobId));
    this.poller = setInterval(() => void this.poll(), o.pollMs ?? 2000);
    this.poller.unref();
  }

  static async open(o: JobClientOptions): Promise<JobClient> {
    const client = new JobClient(o);
    await Promise.all([client.queue.waitUntilReady(), client.events.waitUntilReady()]);
    return client;
  }

  /**
   * Runs the job `data` (named `name`) whose submission n has id `idOf(n)`, resolving with its
   * return value. Rejects with the signal's reason when aborted (the job stays for a resume).
   */
  async run(idOf: (n: number) => string, name: string, data: object, signal?: AbortSignal): Promise<unknown> {
    const submissions = this.o.submissions ?? 3;
    // submissions that failed in earlier sessions (before a resume) are skipped, not counted
    let failedHere = 0;
    let lastReason = '';
    for (let n = 1; ; ) {
      signal?.throwIfAborted();
      const id = idOf(n);
      const existing = await this.queue.getJob(id);
      if (existing && (await existing.getState()) === 'failed') {
        n++;
        continue;
      }
      if (!existing) {
        await this.queue.add(name, data, { jobId: id, attempts: this.o.attempts ?? 3, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: false, removeOnFail: false });
      }
      const end = await this.waitFor(id, signal);
      if (end.state === 'completed') return end.value;
      // 'lost': the job vanished (Redis lost its data): submit it again under the same id
      if (end.state === 'lost') continue;
      lastReason = end.reason;
      if (++failedHere >= submissions) break;
      const stop = await this.o.onJobFailed?.(id, lastReason);
      if (stop) {
        this.o.onFatal(stop);
        throw stop;
      }
      n++;
    }
    const e = new DistributedJobError(`job ${idOf(1)} on queue '${this.o.queue}' failed ${submissions} times (last: ${lastReason || 'no reason given'})`);
    this.o.onFatal(e);
    throw e;
  }

  /** Jobs of the queue by state, for status output. */
  counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
  }

  private waitFor(id: string, signal?: AbortSignal): Promise<End> {
    return new Promise<End>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const set = this.waiters.get(id) ?? new Set<Waiter>();
      this.waiters.set(id, set);
      const onAbort = () => {
        set.delete(waiter);
        if (set.size === 0) this.waiters.delete(id);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        settle: (end) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(end);
        },
      };
      set.add(waiter);
      // one listener per job in flight on the search's signal: hundreds are expected, not a leak
      if (signal) setMaxListeners(0, signal);
      signal?.addEventListener('abort', onAbort, { once: true });
      // it may have ended before the waiter was registered
      void this.check(id);
    });
  }

  private settle(id: string, end: End): void {
    const set = this.waiters.get(id);
    if (!set) return;
    this.waiters.delete(id);
    for (const w of set) w.settle(end);
  }

  /** Reads the job's state and settles its waiters if it has ended (or vanished). */
  private async check(id: string): Promise<void> {
    if (this.closed || !this.waiters.has(id)) return;
    try {
      const job = await this.queue.getJob(id);
      if (!job) return this.settle(id, { state: 'lost' });
      const state = await job.getState();
      if (state !== 'completed' && state !== 'failed') return;
      // the job may have ended between the two reads: read it again now that its state is final
      const ended = (await this.queue.getJob(id)) ?? job;
      if (state === 'completed') this.settle(id, { state: 'completed', value: ended.returnvalue });
      else this.settle(id, { state: 'failed', reason: ended.failedReason });
    } catch {
      // Redis unreachable: the next poll tries again
    }
  }

  private async poll(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      for (const id of [...this.waiters.keys()]) await this.check(id);
    } finally {
      this.polling = false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.poller);
    await Promise.allSettled([this.events.close(), this.queue.close()]);
  }
}
