/**
 * `mnas worker`: takes the jobs of distributed searches from Redis and runs them on this machine.
 *
 * - Train jobs: proxy training in `processes` local training processes (TrainingProcesses), as
 *   many jobs at once. The job is plain data, validated on receipt; invalid data fails the job
 *   without retries. An architecture failure (diverged, build error) is a result, returned.
 * - Measure jobs for the device this worker is attached to: one at a time per machine, and only
 *   while no training step runs on this machine: its own training processes and those of every
 *   other `mnas worker` on the same host are held off meanwhile (MachineHold, through Redis).
 * - A worker that cannot load the dataset, whose copy of it differs from the coordinator's
 *   (checksum in the job), or that cannot open the device fails that job with the reason (the
 *   coordinator submits it again for another worker) and stops taking jobs of that kind; with
 *   nothing left to take it stops (`stopped` resolves with the reason).
 * - A worker killed mid-job stops renewing the job's lock: after `lockSeconds` another worker's
 *   stalled check puts the job back on the queue and someone else runs it.
 * - Its status (jobs running and done, device) is published to Redis for `mnas workers`.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { LatencyDevice } from '../latency/device.js';
import { layersToModel, planToModel } from '../latency/model.js';
import { prepareMeasure } from '../latency/prepared.js';
import { createDevice } from '../latency/registry.js';
import { allLayers, buildPlan } from '../model/plan.js';
import { parseArch } from '../space/arch-string.js';
import { isInputError } from '../util/input-error.js';
import {
  describeIssues,
  measureQueue,
  MeasureJobSchema,
  QUEUE_PREFIX,
  TRAIN_QUEUE,
  TrainJobSchema,
  type DeviceKindName,
  type DeviceSettings,
  type JobKind,
  type MeasureOutcome,
  type TrainOutcome,
} from './jobs.js';
import { connectionOptions, queueConnection, type RedisTarget } from './redis-url.js';
import { MachineHold } from './machine-hold.js';
import { TrainingProcesses, TrainingUnavailableError } from './training-processes.js';
import { publishStatus, removeStatus, type WorkerStatus } from './worker-registry.js';

export interface SearchWorkerOptions {
  readonly target: RedisTarget;
  readonly jobs: readonly JobKind[];
  /** The latency device measure jobs run on (required with 'measure'). */
  readonly device?: DeviceKindName;
  /** Training processes = train jobs at once (default 1). */
  readonly processes?: number;
  /** libtorch threads per training process (default: the job's). */
  readonly threads?: number;
  /** Where this machine keeps datasets that need a directory. */
  readonly dataDir?: string;
  /** Seconds without a lock renewal after which a job counts as stalled and is retried elsewhere (default 30). */
  readonly lockSeconds?: number;
  /** Status publishing interval, ms (default 2000). */
  readonly statusMs?: number;
  /** A job running longer is cancelled and fails, to be retried (default 3600 s). */
  readonly jobTimeoutSeconds?: number;
  readonly onEvent?: (e: WorkerEvent) => void;
}

export type WorkerEvent =
  | { readonly event: 'job-started'; readonly kind: JobKind; readonly job: string }
  | { readonly event: 'job-done'; readonly kind: JobKind; readonly job: string; readonly seconds: number }
  | { readonly event: 'job-failed'; readonly kind: JobKind; readonly job: string; readonly reason: string }
  | { readonly event: 'refused'; readonly kind: JobKind; readonly reason: string }
  | { readonly event: 'redis-error'; readonly message: string };

/** Maximum stalls before BullMQ fails a job; the coordinator then submits it again. */
const MAX_STALLED = 3;

export class SearchWorker {
  readonly id = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly bull = new Map<JobKind, Worker>();
  private readonly training: TrainingProcesses;
  private readonly registry: Redis;
  private readonly machine: MachineHold;
  private readonly running = new Map<string, { kind: JobKind; since: string }>();
  private readonly done: Record<JobKind, number> = { train: 0, measure: 0 };
  private readonly failed: Record<JobKind, number> = { train: 0, measure: 0 };
  private readonly refused: Partial<Record<JobKind, string>> = {};
  private readonly startedAt = new Date().toISOString();
  private device: { settings: string; device: Promise<LatencyDevice> } | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private lastRedisError = 0;
  private closing = false;
  private resolveStopped!: (reason: string) => void;
  /** Resolves with the reason when the worker stopped itself (nothing it can take). */
  readonly stopped = new Promise<string>((resolve) => (this.resolveStopped = resolve));

  private constructor(private readonly o: SearchWorkerOptions) {
    if (o.jobs.length === 0) throw new Error('SearchWorker: no job kinds');
    if (o.jobs.includes('measure') && !o.device) throw new Error('SearchWorker: measure jobs need a device');
    this.training = new TrainingProcesses({ processes: o.processes ?? 1, ...(o.threads ? { threads: o.threads } : {}), ...(o.dataDir ? { dataDir: o.dataDir } : {}) });
    this.registry = new Redis(connectionOptions(o.target, `mnas-worker-status-${this.id}`));
    this.registry.on('error', (e: Error) => this.redisError(e));
    this.machine = new MachineHold({ redis: this.registry, host: os.hostname(), workerId: this.id, holdTraining: (fn, ready) => this.training.holdWhile(fn, ready) });
  }

  /** Connects and starts taking jobs; resolves once the queues are being read. */
  static async start(o: SearchWorkerOptions): Promise<SearchWorker> {
    const w = new SearchWorker(o);
    const lockDuration = (o.lockSeconds ?? 30) * 1000;
    // autorun off: the worker is listed and watches this machine's measurements before it takes a job
    const common = { prefix: QUEUE_PREFIX, lockDuration, stalledInterval: lockDuration, maxStalledCount: MAX_STALLED, name: w.id, autorun: false };
    if (o.jobs.includes('train')) {
      w.bull.set('train', new Worker(TRAIN_QUEUE, (job) => w.track('train', job, (signal) => w.train(job, signal)), { ...common, connection: queueConnection(o.target, `mnas-worker-train-${w.id}`), concurrency: o.processes ?? 1 }));
    }
    if (o.jobs.includes('measure')) {
      w.bull.set('measure', new Worker(measureQueue(o.device!), (job) => w.track('measure', job, (signal) => w.measure(job, signal)), { ...common, connection: queueConnection(o.target, `mnas-worker-measure-${w.id}`), concurrency: 1 }));
    }
    for (const b of w.bull.values()) b.on('error', (e) => w.redisError(e));
    await Promise.all([...w.bull.values()].map((b) => b.waitUntilReady()));
    await w.publish();
    w.heartbeat = setInterval(() => void w.publish(), o.statusMs ?? 2000);
    if (o.jobs.includes('train')) await w.machine.follow();
    for (const b of w.bull.values()) void b.run().catch((e: Error) => w.redisError(e));
    return w;
  }

  status(): WorkerStatus {
    return {
      id: this.id,
      host: os.hostname(),
      pid: process.pid,
      jobs: [...this.o.jobs],
      device: this.o.device ?? null,
      processes: this.o.processes ?? 1,
      threads: this.o.threads ?? null,
      running: [...this.running].map(([job, r]) => ({ job, kind: r.kind, since: r.since })),
      done: { ...this.done },
      failed: { ...this.failed },
      refused: { ...this.refused },
      startedAt: this.startedAt,
      seenAt: new Date().toISOString(),
    };
  }

  private async publish(): Promise<void> {
    if (this.closing) return;
    const ttl = 5 * (this.o.statusMs ?? 2000);
    await publishStatus(this.registry, this.status(), ttl).catch((e: Error) => this.redisError(e));
  }

  private redisError(e: Error): void {
    // one line per 5 s at most while Redis is away
    if (Date.now() - this.lastRedisError < 5000) return;
    this.lastRedisError = Date.now();
    this.o.onEvent?.({ event: 'redis-error', message: e.message });
  }

  private async track<T>(kind: JobKind, job: Job, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const id = job.id ?? '?';
    const t0 = performance.now();
    const seconds = this.o.jobTimeoutSeconds ?? 3600;
    const timeout = AbortSignal.timeout(seconds * 1000);
    this.running.set(id, { kind, since: new Date().toISOString() });
    this.o.onEvent?.({ event: 'job-started', kind, job: id });
    void this.publish();
    const timedOut = () => new Error(`worker ${this.id}: ${kind} job timed out after ${seconds} s`);
    try {
      let r: T;
      try {
        r = await run(timeout);
      } catch (e) {
        throw timeout.aborted && !(e instanceof UnrecoverableError) ? timedOut() : e;
      }
      // a run that ended by the timeout is an infrastructure failure, retried, whatever it returned
      if (timeout.aborted) throw timedOut();
      this.done[kind]++;
      this.o.onEvent?.({ event: 'job-done', kind, job: id, seconds: (performance.now() - t0) / 1000 });
      return r;
    } catch (e) {
      this.failed[kind]++;
      this.o.onEvent?.({ event: 'job-failed', kind, job: id, reason: (e as Error).message });
      throw e;
    } finally {
      this.running.delete(id);
      void this.publish();
    }
  }

  private async train(job: Job, signal: AbortSignal): Promise<TrainOutcome> {
    const parsed = TrainJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`worker ${this.id}: invalid train job: ${describeIssues(parsed.error)}`);
    const { settings, arch, seed, trialId, datasetChecksum } = parsed.data;
    let plan;
    try {
      plan = buildPlan(parseArch(arch));
    } catch (e) {
      // an architecture that cannot be built is the architecture's failure, as in a local search
      if (isInputError(e)) return { status: 'failed', reason: `cannot build the architecture: ${(e as Error).message}`, seconds: 0, worker: this.id };
      throw e;
    }
    try {
      const start = Date.now();
      const r = await this.training.train(settings, { plan, seed, trialId }, datasetChecksum, signal);
      const { worker: _index, attempts: _attempts, ...result } = r;
      const end = Date.now();
      return { ...result, worker: this.id, timeline: { start, end, paused: this.training.pausesDuring({ start, end }) } };
    } catch (e) {
      if (e instanceof TrainingUnavailableError) throw this.refuse('train', e.message);
      if (this.closing || signal.aborted) throw e;
      // an exception of the training itself, as a local search records it: a failure of the architecture
      return { status: 'failed', reason: `training raised: ${(e as Error).message}`, seconds: 0, worker: this.id };
    }
  }

  private async measure(job: Job, signal: AbortSignal): Promise<MeasureOutcome> {
    const parsed = MeasureJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`worker ${this.id}: invalid measure job: ${describeIssues(parsed.error)}`);
    const m = parsed.data;
    if (m.device.kind !== this.o.device) throw new UnrecoverableError(`worker ${this.id}: a ${m.device.kind} job on the queue of ${this.o.device}`);
    const device = await this.deviceFor(m.device);
    if (m.type === 'describe') return { status: 'described', description: { ...(await device.describe()) }, worker: this.id };
    let model;
    try {
      const plan = buildPlan(parseArch(m.arch));
      const whole = allLayers(plan);
      model = m.layers.from === whole.from && m.layers.to === whole.to ? planToModel(plan, m.name, m.seed) : layersToModel(plan, m.layers, m.name, m.seed);
    } catch (e) {
      if (isInputError(e)) return { status: 'rejected', reason: (e as Error).message, worker: this.id };
      throw e;
    }
    try {
      let window = { start: 0, end: 0 };
      const result = await this.machine.measurePrepared(
        () => prepareMeasure(device, model, m.protocol, signal),
        async (prepared) => {
          const start = Date.now();
          const r = await prepared.time(signal);
          window = { start, end: Date.now() };
          return r;
        },
        signal,
      );
      return { status: 'done', result: { ...result }, worker: this.id, timeline: window };
    } catch (e) {
      // the runtime refused this model: the architecture's failure; anything else (device gone) is retried
      if (isInputError(e) && !signal.aborted) return { status: 'rejected', reason: (e as Error).message, worker: this.id };
      throw e;
    }
  }

  private async deviceFor(settings: DeviceSettings): Promise<LatencyDevice> {
    const key = JSON.stringify(settings);
    if (this.device?.settings !== key) {
      const old = this.device;
      // opened = created and answering: a farm that is unreachable or has no device fails here, once
      const opened = createDevice(settings.kind, { threads: settings.threads, joinTimeoutS: settings.joinTimeoutS }).then(async (d) => {
        try {
          await d.describe();
          return d;
        } catch (e) {
          await d.close().catch(() => {});
          throw e;
        }
      });
      this.device = { settings: key, device: opened };
      await (await old?.device.catch(() => undefined))?.close();
    }
    try {
      return await this.device.device;
    } catch (e) {
      this.device = undefined;
      throw this.refuse('measure', `cannot open the latency device ${settings.kind}: ${(e as Error).message}`);
    }
  }

  /** Stops taking jobs of this kind (after failing the current one without retry); stops the worker when nothing is left. */
  private refuse(kind: JobKind, reason: string): UnrecoverableError {
    if (this.refused[kind] === undefined) {
      this.refused[kind] = reason;
      this.o.onEvent?.({ event: 'refused', kind, reason });
      // before the job fails: the coordinator reads who still takes this kind when it sees the failure
      void this.publish();
      const b = this.bull.get(kind);
      // not awaited: close() waits for this very job to finish
      void b?.close();
      if (this.o.jobs.every((k) => this.refused[k] !== undefined)) this.resolveStopped(Object.values(this.refused).join('; '));
    }
    return new UnrecoverableError(`worker ${this.id}: ${reason}`);
  }

  /** Stops taking jobs; waits for the running ones unless `force` (then they stall and are retried elsewhere). */
  async close(force = false): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.heartbeat);
    await Promise.allSettled([...this.bull.values()].map((b) => b.close(force)));
    await this.machine.close();
    await this.training.close();
    await (await this.device?.device.catch(() => undefined))?.close();
    await removeStatus(this.registry, this.id).catch(() => {});
    this.registry.disconnect();
  }
}
