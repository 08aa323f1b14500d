/**
 * What the parts of the device farm share: a job request and its result, a device as listed,
 * device selectors, and the errors a job fails with.
 */
import type { DeviceDescription, LatencyModel, LatencyStats, MeasureProtocol } from '../device.js';
import type { ProtocolOutcome } from '../protocol.js';
import type { Backend, ControlLimits, PageDescription } from './messages.js';

/** Which device a job may run on; all given fields must match. */
export interface DeviceSelector {
  /** Device id as shown by the server (the page's persistent client id). */
  id?: string;
  /** The `name` the page was opened with (?name=pixel7). */
  name?: string;
}

export interface ConnectedDevice {
  id: string;
  name?: string;
  remoteAddress: string;
  connectedAt: string;
  state: 'idle' | 'busy' | 'cancelling';
  jobsDone: number;
  /** Why the device gets no more jobs (implausible timings or a malformed message), if it was flagged. */
  flagged?: string;
  page: PageDescription;
  description: DeviceDescription;
}

export interface JobRequest {
  model: LatencyModel;
  /** Time the model interleaved with this one (../interleaved.ts): the result carries the ratio. */
  reference?: LatencyModel;
  /** Missing fields take ../protocol.ts DEFAULT_PROTOCOL (INTERLEAVED_PROTOCOL with a reference). */
  protocol?: Partial<MeasureProtocol>;
  backend?: Backend;
  selector?: DeviceSelector;
}

export interface JobResult {
  stats: ProtocolOutcome;
  device: DeviceDescription;
  /** Per-inference run times, ms, in the order measured. */
  times: number[];
  backend: Backend;
  /** Inferences per timed sample (> 1 for models faster than minSampleMs). */
  innerRepeats: number;
  loadMs: number;
  /** Devices the job was started on (> 1 after a disconnect). */
  attempts: number;
  /** With a reference: the model's ratio to it over pairs of blocks, and the reference's own figures. */
  pair?: PairResult;
}

export interface PairResult {
  /** Median over pairs of blocks of model / reference. */
  ratio: number;
  ratio_rel_half_width: number;
  pairs: number;
  /** Samples per block (each of innerRepeats inferences). */
  runs_per_block: number;
  reference: LatencyStats;
  referenceInnerRepeats: number;
  referenceLoadMs: number;
}

/** What GET /status (control secret) and the controllers' status request return. */
export interface ServerStatus {
  devices: ConnectedDevice[];
  /** Jobs waiting for a device. */
  queued: number;
  /** Jobs held (waiting or running) and their model bytes. */
  held: { jobs: number; bytes: number };
  limits: ControlLimits & { maxDevices: number; maxControllers: number };
  controllers: number;
  /** Flagged device ids (connected or not) and why. */
  flagged: Record<string, string>;
}

export class JobFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobFailedError';
  }
}

/**
 * No browser device matching the request joined, or was free for it, in time: the user's setup (open
 * the join URL, start the phone), not a fault of mnas or of the model. The command line reports it as
 * one line and exit 2; a distributed worker retries the job, as for any device that is gone.
 */
export class NoDeviceError extends JobFailedError {
  readonly code = 'no-device';
  constructor(message: string) {
    super(message);
    this.name = 'NoDeviceError';
  }
}

/** A job refused up front because it would exceed one of the server's caps. */
export class LimitError extends JobFailedError {
  readonly code = 'limit';
  constructor(message: string) {
    super(message);
    this.name = 'LimitError';
  }
}

export function selectorMatches(selector: DeviceSelector | undefined, id: string, name: string | undefined): boolean {
  if (!selector) return true;
  if (selector.id !== undefined && selector.id !== id) return false;
  if (selector.name !== undefined && selector.name !== name) return false;
  return true;
}

/** " with id 'x' and name 'y'" for messages, or '' for any device. */
export function selectorText(selector: DeviceSelector | undefined): string {
  const parts = [selector?.id !== undefined ? `id '${selector.id}'` : '', selector?.name !== undefined ? `name '${selector.name}'` : ''].filter(Boolean);
  return parts.length ? ` with ${parts.join(' and ')}` : '';
}

export function mebibytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
