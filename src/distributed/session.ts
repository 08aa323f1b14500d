/**
 * The coordinator's side of a distributed search, as the run setup uses it: one call opens the
 * queues and gives a ProxyTrainer and a LatencyDevice backed by them; `stopped` aborts when a job
 * cannot be completed by any worker (the search then stops like a crash, resumable, and
 * `failure` says why; no trial is scored as a failure for it).
 */
import type { ProxySettings } from '../search/proxy-trainer.js';
import { JobClient } from './job-client.js';
import { measureQueue, TRAIN_QUEUE, type DeviceSettings } from './jobs.js';
import { checkReachable, parseRedisUrl } from './redis-url.js';
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
    const train = await JobClient.open({ target, queue: TRAIN_QUEUE, ...(o.pollMs ? { pollMs: o.pollMs } : {}), onFatal: (e) => session?.onFatal(e) });
    session = new DistributedSession(runId, target.display, o, train);
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
    const client = await JobClient.open({ target, queue: measureQueue(this.o.device.kind), ...(this.o.pollMs ? { pollMs: this.o.pollMs } : {}), onFatal: this.onFatal });
    this.clients.push(client);
    this.remoteDevice = new RemoteDevice({ client, runId: this.runId, device: this.o.device, onFatal: this.onFatal });
    return this.remoteDevice;
  }

  private readonly onFatal = (e: Error): void => {
    if (this.failure) return;
    this.failure = e;
    this.stop.abort(e);
  };

  async close(): Promise<void> {
    await Promise.allSettled(this.clients.map((c) => c.close()));
  }
}
