/**
 * A latency device on another machine: measurements go to the `measure-<kind>` queue and are run
 * by a `mnas worker --device <kind>` (one at a time per device, never while that worker trains).
 * The architecture string (and the layer range and weight seed) travels, not the ONNX bytes: the
 * worker plans it and exports the model with its own copy of the exporter. A measurement of the same architecture, device and protocol
 * in a run has one job id, so a restarted coordinator reuses it instead of measuring again.
 */
import type { DeviceDescription, LatencyDevice, LatencyModel, LatencyResult, MeasureProtocol } from '../latency/device.js';
import { printArch } from '../space/arch-string.js';
import type { JobClient } from './job-client.js';
import { DistributedJobError } from './job-client.js';
import { describeIssues, measureJobId, MeasureOutcomeSchema, type DeviceSettings, type MeasureJob, type MeasureOutcome } from './jobs.js';

export interface RemoteDeviceOptions {
  readonly client: JobClient;
  readonly runId: string;
  readonly device: DeviceSettings;
  readonly onFatal: (e: Error) => void;
  /** Aborts every job wait when the session stops (a call without a signal of its own would otherwise wait forever). */
  readonly stopped?: AbortSignal;
}

/** The architecture cannot be measured on the device (too large, refused): a failure of the architecture. */
export class RemoteMeasureRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RemoteMeasureRejectedError';
  }
}

/** One signal for two, either of which may be missing. */
export function either(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  return a && b ? AbortSignal.any([a, b]) : (a ?? b);
}

export class RemoteDevice implements LatencyDevice {
  constructor(private readonly o: RemoteDeviceOptions) {}

  async describe(): Promise<DeviceDescription> {
    const out = await this.run({ type: 'describe', runId: this.o.runId, device: this.o.device });
    if (out.status !== 'described') throw this.fatal(`a worker answered a describe job with '${out.status}'`);
    return out.description;
  }

  async measure(model: LatencyModel, protocol?: Partial<MeasureProtocol>, signal?: AbortSignal): Promise<LatencyResult> {
    const source = model.source;
    if (source?.kind !== 'plan') throw new Error(`RemoteDevice: model '${model.name}' is not a planned architecture; only those can be measured remotely`);
    const job: MeasureJob = {
      type: 'measure',
      runId: this.o.runId,
      device: this.o.device,
      arch: printArch(source.plan.arch),
      layers: { from: source.layers.from, to: source.layers.to },
      seed: source.seed,
      name: model.name.slice(0, 200),
      ...(protocol ? { protocol } : {}),
    };
    const out = await this.run(job, signal);
    if (out.status === 'rejected') throw new RemoteMeasureRejectedError(out.reason);
    if (out.status !== 'done') throw this.fatal(`a worker answered a measure job with '${out.status}'`);
    return out.result;
  }

  private async run(job: MeasureJob, signal?: AbortSignal): Promise<MeasureOutcome> {
    const value = await this.o.client.run((n) => measureJobId(job, n), job.type, job, either(signal, this.o.stopped));
    const parsed = MeasureOutcomeSchema.safeParse(value);
    if (!parsed.success) throw this.fatal(`a worker returned a malformed measurement (${describeIssues(parsed.error)}); are the workers running the same mnas version?`);
    return parsed.data as MeasureOutcome;
  }

  private fatal(message: string): Error {
    const e = new DistributedJobError(message);
    this.o.onFatal(e);
    return e;
  }

  async close(): Promise<void> {
    await this.o.client.close();
  }
}
