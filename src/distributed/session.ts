/**
 * The coordinator's side of a distributed search, as the run setup uses it: one call opens the
 * queues and gives a ProxyTrainer and a LatencyDevice backed by them; `stopped` aborts when a job
 * cannot be completed by any worker (the search then stops like a crash, resumable, and
 * `failure` says why; no trial is scored as a failure for it).
 */
import type { ProxySettings } from '../search/proxy-trainer.js';
import { Redis } from 'ioredis';
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
  /** Trials queued for the workers at once. */
  readonly inFlight: number;
  /** Polling interval of job states, ms (tests and benchmarks; default 2000). */
  readonly pollMs?: number;
  /** Status lines (a job failed on a worker and is submitted again). */
  readonly onLog?: (line: string) => void;
}

export class DistributedSession {
  private readonly stop = new AbortController();
  private readonly clients: JobClient[] = [];
  private remoteDevice: RemoteDevice | undefined;
  failure: Error | undefined;
  readonly trainer: RemoteTrainer;

  private constructor(
    readonly runId: string,
    readonly display: string,
    private readonly o: DistributedSessionOptions,
    train: JobClient,
    private readonly registry: Redis,
  ) {
    this.clients.push(train);
    this.trainer = new RemoteTrainer({ client: train, runId, settings: o.settings, inFlight: o.inFlight, onFatal: this.onFatal });
  }

  /** Checks the URL and that Redis answers (InputErrors), then opens the train queue. */
  static async open(o: DistributedSessionOptions): Promise<DistributedSession> {
    const target = parseRedisUrl(o.url);
    await checkReachable(target);
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
    session = new DistributedSession(runId, target.display, o, train, registry);
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
    this.remoteDevice = new RemoteDevice({ client, runId: this.runId, device: this.o.device, onFatal: this.onFatal });
    return this.remoteDevice;
  }

  /** A job failed on a worker: say so, and stop unless some live worker still takes this kind of job. */
  private async afterJobFailed(kind: JobKind, id: string, reason: string): Promise<Error | undefined> {
    this.o.onLog?.(`search: ${kind} job ${id} failed on a worker (${reason}); submitting it again`);
    const workers = await listWorkers(this.registry).catch(() => undefined);
    if (!workers) return undefined;
    const takes = (w: WorkerStatus) => w.jobs.includes(kind) && w.refused[kind] === undefined && (kind === 'train' || w.device === this.o.device.kind);
    if (workers.some(takes)) return undefined;
    const refusals = workers.filter((w) => w.refused[kind] !== undefined).map((w) => `${w.id}: ${w.refused[kind]}`);
    return new DistributedJobError(`no live worker takes ${kind} jobs${kind === 'measure' ? ` for ${this.o.device.kind}` : ''} any more (${refusals.join('; ') || reason})`);
  }

  private readonly onFatal = (e: Error): void => {
    if (this.failure) return;
    this.failure = e;
    this.stop.abort(e);
  };

  async close(): Promise<void> {
    await Promise.allSettled(this.clients.map((c) => c.close()));
    this.registry.disconnect();
  }
}
