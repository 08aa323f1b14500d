/** The device server's options, their defaults, and the caps they set. */
import { normalizeOrigins } from './auth.js';
import { DEFAULT_MAX_MODEL_BYTES, MAX_FRAME_BYTES } from './messages.js';
import { resolveTimingBounds, type TimingBounds } from './plausibility.js';

export interface DeviceServerOptions {
  /** Interface to bind (default 127.0.0.1; 0.0.0.0 to let phones on the LAN join). */
  host?: string;
  /** Port (default 0: any free port). */
  port?: number;
  /** Join token for devices (default: 24 random base64url characters). */
  token?: string;
  /** Control secret for controllers: /control and /status (default: 32 random base64url characters; must differ from token). */
  controlToken?: string;
  /** Origins besides the server's own allowed to open its WebSockets from a browser (e.g. behind an https proxy). */
  allowedOrigins?: string[];
  /** Device connections at once, joined or not (default 64); beyond: 503. */
  maxDevices?: number;
  /** Controller connections at once (default 8); beyond: 503. */
  maxControllers?: number;
  /** TCP connections at once, page loads included (default 512); beyond, Node drops new sockets. */
  maxConnections?: number;
  /** WebSocket message limit for devices (default 1 MiB; their messages are results, at most 256 KiB is accepted). */
  maxDeviceFrameBytes?: number;
  /** Largest model a controller may send, and its WebSocket message limit (default 64 MiB). */
  maxModelBytes?: number;
  /** Jobs held at once, queued or running (default 64); more are refused. */
  maxQueuedJobs?: number;
  /** Model bytes held at once by queued and running jobs (default 256 MiB); more are refused. */
  maxQueuedBytes?: number;
  /** Plausibility bounds for device run times (./plausibility.ts DEFAULT_TIMING_BOUNDS). */
  timing?: Partial<TimingBounds>;
  /** How long a queued job waits for a matching idle device before it fails (default 120 s). */
  queueTimeoutMs?: number;
  /** Time a device gets beyond the protocol's maxSeconds to load the model, warm up and finish (default 120 s). */
  jobGraceMs?: number;
  /** Devices a job may be tried on before it fails (default 3). */
  maxAttempts?: number;
  /** WebSocket ping interval; a device that misses a pong is dropped (default 15 s). */
  pingIntervalMs?: number;
  /** Time a new connection has to send its hello (default 15 s). */
  helloTimeoutMs?: number;
  /** A timed sample is at least this long (ms): faster models run several inferences per sample (default 2). */
  minSampleMs?: number;
  /** Diagnostic lines (joins, leaves, rejections, job moves). */
  log?: (line: string) => void;
}

export type ResolvedServerOptions = Required<Omit<DeviceServerOptions, 'token' | 'controlToken' | 'log' | 'timing'>> & {
  timing: TimingBounds;
  log: (line: string) => void;
};

/** Defaults filled in; RangeError on a cap that is not a positive integer or on bad timing bounds. */
export function resolveServerOptions(options: DeviceServerOptions): ResolvedServerOptions {
  const count = (name: string, v: number | undefined, def: number): number => {
    const n = v ?? def;
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer, got ${String(v)}`);
    return n;
  };
  const timing = resolveTimingBounds(options.timing);
  return {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    queueTimeoutMs: options.queueTimeoutMs ?? 120_000,
    jobGraceMs: options.jobGraceMs ?? 120_000,
    maxAttempts: options.maxAttempts ?? 3,
    pingIntervalMs: options.pingIntervalMs ?? 15_000,
    helloTimeoutMs: options.helloTimeoutMs ?? 15_000,
    minSampleMs: options.minSampleMs ?? 2,
    allowedOrigins: normalizeOrigins(options.allowedOrigins ?? []),
    maxDevices: count('maxDevices', options.maxDevices, 64),
    maxControllers: count('maxControllers', options.maxControllers, 8),
    maxConnections: count('maxConnections', options.maxConnections, 512),
    maxDeviceFrameBytes: count('maxDeviceFrameBytes', options.maxDeviceFrameBytes, MAX_FRAME_BYTES),
    maxModelBytes: count('maxModelBytes', options.maxModelBytes, DEFAULT_MAX_MODEL_BYTES),
    maxQueuedJobs: count('maxQueuedJobs', options.maxQueuedJobs, 64),
    maxQueuedBytes: count('maxQueuedBytes', options.maxQueuedBytes, 256 * 1024 * 1024),
    timing,
    log: options.log ?? (() => {}),
  };
}
