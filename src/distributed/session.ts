/**
 * The coordinator's side of a distributed search, as the run setup uses it: one call opens the
 * queues and gives a ProxyTrainer and a LatencyDevice backed by them; `stopped` aborts when a job
 * cannot be completed by any worker (the search then stops like a crash, resumable, and
 * `failure` says why; no trial is scored as a failure for it).
 *
 * A job cannot be completed when it failed on every worker that tried it (JobClient), when no
 * live worker takes its kind any more after a failure (afterJobFailed), or when it has waited
 * `workerWaitSeconds` while no live worker took its kind at all: no `mnas worker` was started
 * for the search's device, or every one of them is gone (the watchdog).
 */
import { MAX_CONCURRENCY } from '../search/config.js';
import type { ProxySettings } from '../search/proxy-trainer.js';
import { Redis } from 'ioredis';
import { localDatasetChecksum } from './dataset-checksum.js';
import { DistributedJobError, JobClient } from './job-client.js';
import { measureQueue, TRAIN_QUEUE, type DeviceSettings, type JobKind } from './jobs.js';
import { checkReachable, connectionOptions, parseRedisUrl } from './redis-url.js';
import { listWorkers, type WorkerStatus } from './worker-registry.js';
import { RemoteDevice } from './remote-device.js';
import { RemoteTrainer } from './remote-trainer.js';
import { readOrCreateRunId } from './run-id.js';

export interface DistributedSessionOptions {
  readonly url: string;
  /** The run directory: its run id names the jobs. */
  readonly runDir: string;
  readonly settings: ProxySettings;
  /** The latency device the search measures on (when it measures). */
  readonly device: DeviceSettings;
  /** Trials queued for the workers at once (default: queueWidth's, from the live workers). */
  readonly inFlight?: number;
  /** Polling interval of job states, ms (tests and benchmarks; default 2000). */
  readonly pollMs?: number;
  /** Seconds a job may wait while no live worker takes its kind before the search stops (default 600). */
  readonly workerWaitSeconds?: number;
  /** Status lines (a job failed on a worker and is submitted again). */
  readonly onLog?: (line: string) => void;
}

/** The search's queue width, and the train workers live when it was chosen. */
export interface QueueWidth {
  readonly inFlight: number;
  /** Set by the search's config (--concurrency) rather than from the workers. */
  readonly given: boolean;
  readonly workers: number;
  /** Their training processes in all. */
  readonly processes: number;
}

/** How often the watchdog looks for workers, ms. */
const WATCH_MS = 1000;

export class DistributedSession {
  private readonly stop = new AbortController();
  private readonly clients: JobClient[] = [];
  private measure: JobClient | undefined;
  private remoteDevice: RemoteDevice | undefined;
  private readonly watchdog: NodeJS.Timeout;
  /** Since when jobs of a kind wait with no live worker taking them (ms since epoch). */
  private readonly unserved = new Map<JobKind, number>();
  private watching = false;
  failure: Error | undefined;
  readonly trainer: RemoteTrainer;

  private constructor(
    readonly runId: string,
    readonly display: string,
    private readonly o: DistributedSessionOptions,
    train: JobClient,
    private readonly registry: Redis,
    readonly datasetChecksum: string,
  ) {
    this.clients.push(train);
    this.trainer = new RemoteTrainer({ client: train, runId, settings: o.settings, datasetChecksum, inFlight: o.inFlight ?? 1, onFatal: this.onFatal, stopped: this.stop.signal });
    this.watchdog = setInterval(() => void this.watch(), Math.min(WATCH_MS, (o.workerWaitSeconds ?? 600) * 250));
    this.watchdog.unref();
  }

  /** Checks the URL and that Redis answers (InputErrors), then opens the train queue. */
  static async open(o: DistributedSessionOptions): Promise<DistributedSession> {
    const target = parseRedisUrl(o.url);
    await checkReachable(target);
    let checksum: string;
    try {
      checksum = localDatasetChecksum(o.settings);
    } catch (e) {
      throw new DistributedJobError(`search --redis: cannot load the dataset '${o.settings.dataset.name}' here to give the workers its checksum: ${(e as Error).message}`);
    }
    const runId = readOrCreateRunId(o.runDir);
    let session: DistributedSession | undefined;
    const registry = new Redis(connectionOptions(target, 'mnas-coordinator-status'));
    registry.on('error', () => {});
    const train = await JobClient.open({
      target,
      queue: TRAIN_QUEUE,
      ...(o.pollMs ? { pollMs: o.pollMs } : {}),
      onFatal: (e) => session?.onFatal(e),
      onJobFailed: (id, reason) => session!.afterJobFailed('train', id, reason),
    });
    session = new DistributedSession(runId, target.display, o, train, registry, checksum);
    return session;
  }

  /** Aborts when the search must stop for a failure of the infrastructure. */
  get stopped(): AbortSignal {
    return this.stop.signal;
  }

  /** The search's latency device, measured on by workers attached to it. */
  async device(): Promise<RemoteDevice> {
    if (this.remoteDevice) return this.remoteDevice;
    const target = parseRedisUrl(this.o.url);
    const client = await JobClient.open({
      target,
      queue: measureQueue(this.o.device.kind),
      ...(this.o.pollMs ? { pollMs: this.o.pollMs } : {}),
      onFatal: this.onFatal,
      onJobFailed: (id, reason) => this.afterJobFailed('measure', id, reason),
    });
    this.clients.push(client);
    this.measure = client;
    this.remoteDevice = new RemoteDevice({ client, runId: this.runId, device: this.o.device, onFatal: this.onFatal, stopped: this.stop.signal });
    return this.remoteDevice;
  }

  /**
   * How many trials the search queues for the workers at once: the `inFlight` it was opened with,
   * or else the training processes of the live workers that take train jobs plus `ahead` (a
   * process that finishes finds its next trial waiting), 1 + `ahead` while none is connected.
   * Sets the trainer's slots to it. Workers that connect later share the same queue width.
   */
  async queueWidth(ahead: number): Promise<QueueWidth> {
    const workers = await listWorkers(this.registry).catch(() => [] as WorkerStatus[]);
    const trainers = workers.filter(this.takes('train'));
    const processes = trainers.reduce((n, w) => n + w.processes, 0);
    const given = this.o.inFlight !== undefined;
    const inFlight = given ? this.o.inFlight! : Math.min(MAX_CONCURRENCY, Math.max(1, processes) + ahead);
    this.trainer.setSlots(inFlight);
    return { inFlight, given, workers: trainers.length, processes };
  }

  /** A job failed on a worker: say so, and stop unless some live worker still takes this kind of job. */
  private async afterJobFailed(kind: JobKind, id: string, reason: string): Promise<Error | undefined> {
    this.o.onLog?.(`search: ${kind} job ${id} failed on a worker (${reason}); submitting it again`);
    const workers = await listWorkers(this.registry).catch(() => undefined);
    if (!workers) return undefined;
    if (workers.some(this.takes(kind))) return undefined;
    return new DistributedJobError(`no live worker takes ${this.kindText(kind)} any more (${this.refusals(workers, kind) || reason})`);
  }

  private takes(kind: JobKind): (w: WorkerStatus) => boolean {
    return (w) => w.jobs.includes(kind) && w.refused[kind] === undefined && (kind === 'train' || w.device === this.o.device.kind);
  }

  private kindText(kind: JobKind): string {
    return kind === 'measure' ? `measure jobs for the device ${this.o.device.kind}` : 'train jobs';
  }

  private refusals(workers: readonly WorkerStatus[], kind: JobKind): string {
    return workers.filter((w) => w.refused[kind] !== undefined).map((w) => `${w.id} refuses them: ${w.refused[kind]}`).join('; ');
  }

  /** Stops the search when jobs of a kind waited `workerWaitSeconds` with no live worker that takes them. */
  private async watch(): Promise<void> {
    if (this.watching || this.failure) return;
    this.watching = true;
    try {
      const workers = await listWorkers(this.registry);
      const queues: Array<[JobKind, JobClient | undefined]> = [['train', this.clients[0]], ['measure', this.measure]];
      for (const [kind, client] of queues) {
        const counts = client ? await client.queue.getJobCounts('waiting', 'prioritized', 'delayed') : {};
        const waiting = Object.values(counts).reduce((a, b) => a + b, 0);
        if (waiting === 0 || workers.some(this.takes(kind))) {
          this.unserved.delete(kind);
          continue;
        }
        const since = this.unserved.get(kind) ?? Date.now();
        this.unserved.set(kind, since);
        const limit = this.o.workerWaitSeconds ?? 600;
        if (Date.now() - since < limit * 1000) continue;
        const refused = this.refusals(workers, kind);
        const start = `mnas worker --redis URL${kind === 'measure' ? ` --device ${this.o.device.kind}` : ''}`;
        this.onFatal(
          new DistributedJobError(
            `${waiting} ${this.kindText(kind)} waited ${limit} s and no live worker takes them (${refused || `${workers.length} worker(s) connected, none for them`}); start one with \`${start}\``,
          ),
        );
        return;
      }
    } catch {
      // Redis unreachable: the connections reconnect and the next round looks again
    } finally {
      this.watching = false;
    }
  }

  private readonly onFatal = (e: Error): void => {
    if (this.failure) return;
    this.failure = e;
    this.stop.abort(e);
  };

  async close(): Promise<void> {
    clearInterval(this.watchdog);
    await Promise.allSettled(this.clients.map((c) => c.close()));
    this.registry.disconnect();
  }
}
