/**
 * The browser device server: HTTP serves the device page and onnxruntime-web's files, WebSocket
 * (/ws) connects device pages, and a queue hands measurement jobs to them one at a time per device.
 *
 * Security: binds 127.0.0.1 unless told otherwise. Two secrets, compared in constant time: the join
 * token (devices: the page / and the /ws upgrade) and the control secret (controllers: the /control
 * upgrade and /status); neither opens the other's endpoints, and the page never sees the control
 * secret. Anything else gets 403. WebSocket upgrades carrying an Origin header (browsers) must come
 * from this server's own origin (or allowedOrigins). The static files (page script, onnxruntime-web)
 * are public: they hold nothing secret, and onnxruntime-web loads its .mjs/.wasm by URL, which must
 * work without the token. Every message from a device is validated (./messages.ts); a bad one closes
 * that device with code 1008 and a reason. Caps (connections, frame sizes, queued jobs and bytes)
 * bound what either side can make the server hold; see DeviceServerOptions.
 *
 * Run times are checked for plausibility (./plausibility.ts): a device reporting impossible ones is
 * flagged (no more jobs while this server runs, also after reconnecting) and its job moves to another
 * device or fails with the reason.
 *
 * Jobs: FIFO queue; a job goes to the first idle device matching its selector. If the device
 * disconnects mid-job, the job's runs are discarded and it goes back to the front of the queue for
 * another device (up to maxAttempts); if no matching device is there within queueTimeoutMs, it fails
 * with a reason. The page streams raw run times; the server feeds them to the shared stopping rule
 * (../protocol.ts, ConvergenceTracker, the same as every other device), tells the page to stop once
 * the median is known to the requested precision, and computes the statistics itself.
 *
 * Controllers: other processes (`mnas measure` with MNAS_BROWSER_URL) submit jobs over /control
 * (control secret); see RemoteDeviceServer in ./remote.ts. A controller's queued and running jobs are
 * dropped when it disconnects.
 */
import { onnxruntimeWebDist } from './optional-deps.js';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createReadStream, existsSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { DeviceDescription, LatencyModel, MeasureProtocol } from '../device.js';
import { ConvergenceTracker, medianRelHalfWidth, resolveProtocol, summarize, type ProtocolOutcome, type StopReason } from '../protocol.js';
import { repoRoot } from '../../util/paths.js';
import {
  closeReason,
  controlMessageSchema,
  DEFAULT_MAX_MODEL_BYTES,
  MAX_FRAME_BYTES,
  parseDeviceMessage,
  PROTOCOL_VERSION,
  type Backend,
  type ControlLimits,
  type ControlMessage,
  type DeviceMessage,
  type PageDescription,
  type ServerMessage,
} from './messages.js';
import { implausibleClock, implausibleTime, inconsistentSamples, resolveTimingBounds, type TimingBounds } from './plausibility.js';

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
  /** Missing fields take ../protocol.ts DEFAULT_PROTOCOL. */
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
}

export class JobFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobFailedError';
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

interface Job {
  id: number;
  req: JobRequest & { backend: Backend; protocol: MeasureProtocol };
  resolve: (r: JobResult) => void;
  reject: (e: Error) => void;
  attempts: number;
  /** Why earlier attempts ended (reported if the job fails). */
  history: string[];
  conn?: Conn;
  queueTimer?: NodeJS.Timeout;
  runTimer?: NodeJS.Timeout;
  loaded?: { loadMs: number; innerRepeats: number; tracker: ConvergenceTracker };
  /** Page-side ms spent in counted timed runs (the tracker's clock). */
  clockMs: number;
  /** When the job was last sent to a device (Date.now()), for the page-clock check. */
  sentAt: number;
  bytes: number;
  stop?: StopReason;
  settled: boolean;
  detachSignal?: () => void;
}

interface Conn {
  ws: WebSocket;
  remoteAddress: string;
  connectedAt: Date;
  hello?: { id: string; name?: string; page: PageDescription; description: DeviceDescription };
  state: 'idle' | 'busy' | 'cancelling';
  job?: Job;
  /** Job id the device was told to cancel and has not acknowledged yet. */
  cancelling?: number;
  cancelTimer?: NodeJS.Timeout;
  helloTimer?: NodeJS.Timeout;
  alive: boolean;
  jobsDone: number;
  closed: boolean;
}

const STATIC_FILES: Record<string, string> = { '/device.js': 'device.js' };
const ORT_FILES = new Set([
  'ort.wasm.min.mjs',
  'ort.min.mjs',
  'ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm',
  'ort-wasm-simd-threaded.jsep.mjs',
  'ort-wasm-simd-threaded.jsep.wasm',
]);
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

/** Folder of the page files (src/latency/browser/static, also when running from dist/). */
export function staticDir(): string {
  return path.join(repoRoot(), 'src', 'latency', 'browser', 'static');
}

/** onnxruntime-web's dist folder, through the module resolver (an optional dependency: optional-deps.ts). */
export function ortDistDir(): string {
  return onnxruntimeWebDist();
}

function tokenDigest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time token check (hashing first makes the lengths equal). */
export function tokenMatches(given: string | null | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  return timingSafeEqual(tokenDigest(given), tokenDigest(expected)) && given.length === expected.length;
}

function describeDevice(id: string, name: string | undefined, page: PageDescription, remoteAddress: string): DeviceDescription {
  const cpu = [page.platform || undefined, page.architecture || undefined, page.model || undefined].filter(Boolean).join(' ') || 'unknown';
  const details: Record<string, string | number | boolean> = {
    userAgent: page.userAgent,
    hardwareConcurrency: page.hardwareConcurrency,
    backends: page.backends.join(','),
    simd: page.simd,
    crossOriginIsolated: page.crossOriginIsolated,
    webgpu: page.webgpu,
    timerResolutionMs: page.timerResolutionMs,
    ortBundle: page.ortBundle,
    remoteAddress,
  };
  if (name) details['name'] = name;
  if (page.deviceMemoryGb !== undefined) details['deviceMemoryGb'] = page.deviceMemoryGb;
  return {
    id: `browser:${id}`,
    kind: 'browser',
    cpu: `${cpu}, ${page.hardwareConcurrency} logical cores`,
    runtime: 'onnxruntime-web',
    runtimeVersion: page.ortVersion,
    threads: page.threads,
    details,
  };
}

export class DeviceServer extends EventEmitter {
  /** Join token: what devices need (it is in the join URL and on the page). */
  readonly token: string;
  /** Control secret: what controllers need (/control, /status); never shown to devices. */
  readonly controlToken: string;
  private readonly http: http.Server;
  private readonly wss: WebSocketServer;
  private readonly controlWss: WebSocketServer;
  private readonly conns = new Set<Conn>();
  private readonly queue: Job[] = [];
  /** Jobs queued or running (their model bytes are held). */
  private readonly held = new Set<Job>();
  private heldBytes = 0;
  /** Announced by a controller's measure message, model frame not received yet. */
  private reserved = { jobs: 0, bytes: 0 };
  private controllers = 0;
  /** Device id -> why it gets no more jobs. */
  private readonly flagged = new Map<string, string>();
  private readonly waiters = new Set<() => void>();
  private nextJobId = 1;
  private pingTimer?: NodeJS.Timeout;
  private closing = false;
  private readonly timing: TimingBounds;
  private readonly o: Required<Omit<DeviceServerOptions, 'token' | 'controlToken' | 'log' | 'timing'>> & { log: (line: string) => void };

  private constructor(options: DeviceServerOptions) {
    super();
    this.token = options.token ?? randomBytes(18).toString('base64url');
    if (!/^[A-Za-z0-9_-]{8,128}$/.test(this.token)) throw new RangeError('token must be 8-128 characters of [A-Za-z0-9_-]');
    this.controlToken = options.controlToken ?? randomBytes(24).toString('base64url');
    if (!/^[A-Za-z0-9_-]{16,128}$/.test(this.controlToken)) throw new RangeError('controlToken must be 16-128 characters of [A-Za-z0-9_-]');
    if (this.controlToken === this.token) throw new RangeError('controlToken must differ from the join token');
    const count = (name: string, v: number | undefined, def: number): number => {
      const n = v ?? def;
      if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer, got ${String(v)}`);
      return n;
    };
    this.timing = resolveTimingBounds(options.timing);
    this.o = {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      queueTimeoutMs: options.queueTimeoutMs ?? 120_000,
      jobGraceMs: options.jobGraceMs ?? 120_000,
      maxAttempts: options.maxAttempts ?? 3,
      pingIntervalMs: options.pingIntervalMs ?? 15_000,
      helloTimeoutMs: options.helloTimeoutMs ?? 15_000,
      minSampleMs: options.minSampleMs ?? 2,
      allowedOrigins: (options.allowedOrigins ?? []).map((o) => o.replace(/\/+$/, '').toLowerCase()),
      maxDevices: count('maxDevices', options.maxDevices, 64),
      maxControllers: count('maxControllers', options.maxControllers, 8),
      maxConnections: count('maxConnections', options.maxConnections, 512),
      maxDeviceFrameBytes: count('maxDeviceFrameBytes', options.maxDeviceFrameBytes, MAX_FRAME_BYTES),
      maxModelBytes: count('maxModelBytes', options.maxModelBytes, DEFAULT_MAX_MODEL_BYTES),
      maxQueuedJobs: count('maxQueuedJobs', options.maxQueuedJobs, 64),
      maxQueuedBytes: count('maxQueuedBytes', options.maxQueuedBytes, 256 * 1024 * 1024),
      log: options.log ?? (() => {}),
    };
    this.http = http.createServer((req, res) => this.onRequest(req, res));
    this.http.maxConnections = this.o.maxConnections;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.o.maxDeviceFrameBytes });
    // text frames (measure with an arch string) need up to ~100 KB even when models are capped lower
    this.controlWss = new WebSocketServer({ noServer: true, maxPayload: Math.max(this.o.maxModelBytes, 1024 * 1024) });
    this.http.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  /** Starts a server and resolves once it listens. */
  static async start(options: DeviceServerOptions = {}): Promise<DeviceServer> {
    onnxruntimeWebDist(); // a missing optional dependency is one line, before the server starts
    const s = new DeviceServer(options);
    await new Promise<void>((resolve, reject) => {
      s.http.once('error', reject);
      s.http.listen(s.o.port, s.o.host, () => {
        s.http.off('error', reject);
        resolve();
      });
    });
    s.pingTimer = setInterval(() => s.pingAll(), s.o.pingIntervalMs);
    s.pingTimer.unref();
    return s;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get host(): string {
    return this.o.host;
  }

  /** The join URL on the bound host (for 0.0.0.0 / ::, see urls()). */
  get url(): string {
    return this.urls()[0] as string;
  }

  /** Join URLs: the bound host, or each external IPv4 address (then localhost) when bound to all interfaces. */
  urls(): string[] {
    const q = `/?token=${this.token}`;
    const h = this.o.host;
    if (isWildcard(h)) {
      const addrs: string[] = [];
      for (const list of Object.values(os.networkInterfaces())) {
        for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) addrs.push(a.address);
      }
      return [...addrs, '127.0.0.1'].map((a) => `http://${a}:${this.port}${q}`);
    }
    return [`http://${hostPart(h)}:${this.port}${q}`];
  }

  /** The controllers' URL (MNAS_BROWSER_URL): /control with the control secret, on loopback when bound to all interfaces. */
  get controlUrl(): string {
    const h = isWildcard(this.o.host) ? '127.0.0.1' : hostPart(this.o.host);
    return `http://${h}:${this.port}/control?token=${this.controlToken}`;
  }

  /** The caps controllers see (model size, queued jobs and bytes). */
  get limits(): ControlLimits {
    return { maxModelBytes: this.o.maxModelBytes, maxQueuedJobs: this.o.maxQueuedJobs, maxQueuedBytes: this.o.maxQueuedBytes };
  }

  /** Devices, queue, caps and flags (GET /status with the control secret). */
  status(): ServerStatus {
    return {
      devices: this.devices(),
      queued: this.queue.length,
      held: { jobs: this.held.size, bytes: this.heldBytes },
      limits: { ...this.limits, maxDevices: this.o.maxDevices, maxControllers: this.o.maxControllers },
      controllers: this.controllers,
      flagged: Object.fromEntries(this.flagged),
    };
  }

  /** Connected devices that have said hello. */
  devices(): ConnectedDevice[] {
    return [...this.conns]
      .filter((c) => c.hello && !c.closed)
      .map((c) => {
        const h = c.hello!;
        const d: ConnectedDevice = {
          id: h.id,
          remoteAddress: c.remoteAddress,
          connectedAt: c.connectedAt.toISOString(),
          state: c.state,
          jobsDone: c.jobsDone,
          page: h.page,
          description: h.description,
        };
        if (h.name) d.name = h.name;
        const flag = this.flagged.get(h.id);
        if (flag !== undefined) d.flagged = flag;
        return d;
      });
  }

  /** Resolves with the first connected, unflagged device matching the selector, waiting up to timeoutMs. */
  async waitForDevice(selector: DeviceSelector = {}, timeoutMs = this.o.queueTimeoutMs, signal?: AbortSignal): Promise<ConnectedDevice> {
    const find = () => this.devices().find((d) => d.flagged === undefined && matches(d.id, d.name, selector));
    const found = find();
    if (found) return found;
    return new Promise<ConnectedDevice>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
        signal?.removeEventListener('abort', onAbort);
      };
      const check = () => {
        const d = find();
        if (d) {
          cleanup();
          resolve(d);
        } else if (this.closing) {
          cleanup();
          reject(new JobFailedError('device server closed'));
        }
      };
      const onAbort = () => {
        cleanup();
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new JobFailedError(`no browser device${selectorText(selector)} joined within ${Math.round(timeoutMs / 1000)} s (open ${this.url})${this.flaggedText(selector)}`));
      }, timeoutMs);
      this.waiters.add(check);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Queues a measurement; resolves with the statistics from the device that ran it. */
  submit(req: JobRequest, signal?: AbortSignal): Promise<JobResult> {
    if (this.closing) return Promise.reject(new JobFailedError('device server closed'));
    const shape = req.model.inputShape;
    if (shape.length !== 4 || !shape.every((d) => Number.isSafeInteger(d) && d > 0)) {
      return Promise.reject(new RangeError(`inputShape must be 4 positive integers, got ${JSON.stringify(shape)}`));
    }
    let protocol: MeasureProtocol;
    try {
      protocol = resolveProtocol(req.protocol ?? {});
    } catch (e) {
      return Promise.reject(e as Error);
    }
    const bytes = req.model.onnx.byteLength;
    const over = this.overLimit(bytes);
    if (over) return Promise.reject(new LimitError(`'${req.model.name}' refused: ${over}`));
    return new Promise<JobResult>((resolve, reject) => {
      const job: Job = {
        id: this.nextJobId++,
        req: { ...req, backend: req.backend ?? 'wasm', protocol },
        resolve,
        reject,
        attempts: 0,
        history: [],
        clockMs: 0,
        sentAt: 0,
        bytes,
        settled: false,
      };
      if (signal) {
        if (signal.aborted) {
          reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
          return;
        }
        const onAbort = () => this.abortJob(job, signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        signal.addEventListener('abort', onAbort, { once: true });
        job.detachSignal = () => signal.removeEventListener('abort', onAbort);
      }
      this.held.add(job);
      this.heldBytes += bytes;
      this.enqueue(job, false);
      this.dispatch();
    });
  }

  /** Why one more job of `bytes` would exceed a cap (counting held jobs and announced ones), or undefined. */
  private overLimit(bytes: number): string | undefined {
    const jobs = this.held.size + this.reserved.jobs;
    const held = this.heldBytes + this.reserved.bytes;
    if (jobs + 1 > this.o.maxQueuedJobs) return `${jobs} jobs already queued or running (maxQueuedJobs ${this.o.maxQueuedJobs})`;
    if (held + bytes > this.o.maxQueuedBytes) return `model of ${mb(bytes)} on top of ${mb(held)} held exceeds maxQueuedBytes ${mb(this.o.maxQueuedBytes)}`;
    return undefined;
  }

  private flaggedText(selector: DeviceSelector | undefined): string {
    const f = this.devices().filter((d) => d.flagged !== undefined && matches(d.id, d.name, selector));
    return f.length ? `; flagged, no jobs: ${f.map((d) => `${d.id} (${d.flagged})`).join(', ')}` : '';
  }

  /** Rejects pending jobs, disconnects devices and stops listening. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.pingTimer);
    for (const job of [...this.queue]) this.settle(job, new JobFailedError('device server closed'));
    for (const c of this.conns) {
      if (c.job) this.settle(c.job, new JobFailedError('device server closed'));
      this.dropConn(c, 1001, 'server shutting down');
    }
    for (const w of [...this.waiters]) w();
    for (const ws of this.controlWss.clients) {
      ws.close(1001, 'server shutting down');
      setTimeout(() => ws.terminate(), 2000).unref();
    }
    this.wss.close();
    this.controlWss.close();
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  // ---- HTTP ----

  private securityHeaders(res: http.ServerResponse): void {
    // cross-origin isolation: lets the page use threads (SharedArrayBuffer) where the context is secure
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.securityHeaders(res);
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (url.pathname === '/status') {
      if (!tokenMatches(url.searchParams.get('token'), this.controlToken)) {
        this.o.log(`refused /status from ${req.socket.remoteAddress}: bad or missing control secret`);
        res.writeHead(403, { 'Content-Type': 'text/plain' }).end('forbidden: /status needs the control secret (token of the control URL the server printed)\n');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify(this.status()));
      return;
    }
    if (url.pathname === '/' || url.pathname === '/index.html') {
      if (!tokenMatches(url.searchParams.get('token'), this.token)) {
        this.o.log(`refused ${url.pathname} from ${req.socket.remoteAddress}: bad or missing token`);
        res.writeHead(403, { 'Content-Type': 'text/plain' }).end('forbidden: open the URL with the token the server printed\n');
        return;
      }
      this.sendFile(req, res, path.join(staticDir(), 'index.html'), 'no-store');
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const staticName = STATIC_FILES[url.pathname];
    if (staticName) {
      this.sendFile(req, res, path.join(staticDir(), staticName), 'no-store');
      return;
    }
    if (url.pathname.startsWith('/ort/')) {
      const name = url.pathname.slice('/ort/'.length);
      if (ORT_FILES.has(name)) {
        this.sendFile(req, res, path.join(ortDistDir(), name), 'public, max-age=86400');
        return;
      }
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  }

  private sendFile(req: http.IncomingMessage, res: http.ServerResponse, file: string, cache: string): void {
    if (!existsSync(file)) {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`missing file ${path.basename(file)}\n`);
      return;
    }
    const size = statSync(file).size;
    res.writeHead(200, { 'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream', 'Content-Length': size, 'Cache-Control': cache });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = createReadStream(file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const refuse = (status: string, why: string) => {
      this.o.log(`refused WebSocket from ${req.socket.remoteAddress}: ${why}`);
      this.emit('refused', { remoteAddress: req.socket.remoteAddress, reason: why });
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${why.length + 1}\r\n\r\n${why}\n`);
      socket.destroy();
    };
    if (this.closing) return refuse('503 Service Unavailable', 'server shutting down');
    if (url.pathname !== '/ws' && url.pathname !== '/control') return refuse('404 Not Found', 'no such endpoint');
    const control = url.pathname === '/control';
    const originProblem = this.originProblem(req);
    if (originProblem) return refuse('403 Forbidden', originProblem);
    if (!tokenMatches(url.searchParams.get('token'), control ? this.controlToken : this.token)) return refuse('403 Forbidden', control ? 'bad or missing control secret' : 'bad or missing token');
    if (control) {
      if (this.controllers >= this.o.maxControllers) return refuse('503 Service Unavailable', `too many controllers connected (maxControllers ${this.o.maxControllers})`);
      // ws completes a valid upgrade synchronously, so the count cannot be overtaken; a failed one never calls back
      this.controlWss.handleUpgrade(req, socket, head, (ws) => this.onControl(ws));
    } else {
      if (this.conns.size >= this.o.maxDevices) return refuse('503 Service Unavailable', `too many devices connected (maxDevices ${this.o.maxDevices})`);
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req));
    }
  }

  /**
   * Browsers send Origin on WebSocket upgrades and let any page open any ws:// URL: a foreign page
   * must not drive this server through a visitor's browser. Non-browser clients send no Origin.
   */
  private originProblem(req: http.IncomingMessage): string | undefined {
    const origin = req.headers.origin;
    if (origin === undefined) return undefined;
    let u: URL;
    try {
      u = new URL(origin);
    } catch {
      return `bad Origin '${closeReason(origin).slice(0, 60)}'`;
    }
    const normalized = u.origin.toLowerCase();
    if (this.o.allowedOrigins.includes(normalized)) return undefined;
    if ((u.protocol === 'http:' || u.protocol === 'https:') && req.headers.host !== undefined) {
      let host: string | undefined;
      try {
        // parsed with the origin's scheme so a default port written out (Host: x:80) compares equal
        host = new URL(`${u.protocol}//${req.headers.host}`).host;
      } catch {
        host = undefined;
      }
      if (host !== undefined && host === u.host) return undefined;
    }
    return `foreign Origin ${normalized.slice(0, 60)}`;
  }

  // ---- controllers ----

  private onControl(ws: WebSocket): void {
    this.controllers++;
    const jobs = new Map<number, AbortController>();
    const waits = new Map<number, AbortController>();
    let pending: Extract<ControlMessage, { type: 'measure' }> | undefined;
    /** The announced model frame of a refused measure: dropped when it arrives. */
    let discard: number | undefined;
    let reservation: { jobs: number; bytes: number } | undefined;
    const unreserve = () => {
      if (!reservation) return;
      this.reserved.jobs -= reservation.jobs;
      this.reserved.bytes -= reservation.bytes;
      reservation = undefined;
    };
    const reply = (msg: unknown) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
    };
    const fail = (reason: string) => {
      ws.close(1008, closeReason(reason));
      setTimeout(() => ws.terminate(), 2000).unref();
    };
    const replyError = (id: number, e: Error) => reply({ type: 'error', id, message: e.message, ...(e instanceof LimitError ? { code: e.code } : {}) });
    reply({ type: 'ready', v: PROTOCOL_VERSION, limits: this.limits });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (isBinary) {
        if (discard !== undefined && !pending) {
          if (buf.length !== discard) return fail(`model frame of ${buf.length} bytes, ${discard} announced`);
          discard = undefined;
          return;
        }
        if (!pending || buf.length !== pending.bytes) return fail(pending ? `model frame of ${buf.length} bytes, ${pending.bytes} announced` : 'binary frame without a measure message');
        const m = pending;
        pending = undefined;
        unreserve();
        if (jobs.has(m.id)) return reply({ type: 'error', id: m.id, message: `job id ${m.id} in use` });
        const ac = new AbortController();
        jobs.set(m.id, ac);
        const model: LatencyModel = { name: m.name, onnx: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), inputShape: m.inputShape, ...(m.arch !== undefined ? { arch: m.arch } : {}) };
        this.submit({ model, ...(m.protocol ? { protocol: m.protocol } : {}), ...(m.backend ? { backend: m.backend } : {}), ...(m.selector ? { selector: m.selector } : {}) }, ac.signal)
          .then(
            (result) => reply({ type: 'result', id: m.id, result }),
            (e: Error) => replyError(m.id, e),
          )
          .finally(() => jobs.delete(m.id));
        return;
      }
      if (pending) return fail('expected the model bytes after measure');
      if (discard !== undefined) return fail('expected the (refused) model bytes after measure');
      let parsed;
      try {
        parsed = controlMessageSchema.safeParse(JSON.parse(buf.toString('utf8')));
      } catch {
        return fail('message is not JSON');
      }
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return fail(`malformed message: ${issue?.path.map(String).join('.') || 'message'}: ${issue?.message ?? 'invalid'}`);
      }
      const m = parsed.data;
      if (m.type === 'measure') {
        const over = m.bytes > this.o.maxModelBytes ? `model of ${mb(m.bytes)} exceeds maxModelBytes ${mb(this.o.maxModelBytes)}` : this.overLimit(m.bytes);
        if (over) {
          discard = m.bytes;
          replyError(m.id, new LimitError(`'${m.name}' refused: ${over}`));
          return;
        }
        pending = m;
        // held from now on, so controllers sending at once cannot overshoot the caps together
        reservation = { jobs: 1, bytes: m.bytes };
        this.reserved.jobs += 1;
        this.reserved.bytes += m.bytes;
      } else if (m.type === 'cancel') (jobs.get(m.id) ?? waits.get(m.id))?.abort(new JobFailedError('cancelled by the controller'));
      else if (m.type === 'status') reply({ type: 'status', id: m.id, status: this.status() });
      else {
        if (waits.has(m.id)) return reply({ type: 'error', id: m.id, message: `wait id ${m.id} in use` });
        const ac = new AbortController();
        waits.set(m.id, ac);
        this.waitForDevice(m.selector ?? {}, m.timeoutMs, ac.signal)
          .then(
            (device) => reply({ type: 'device', id: m.id, device }),
            (e: Error) => replyError(m.id, e),
          )
          .finally(() => waits.delete(m.id));
      }
    });
    ws.on('close', () => {
      this.controllers--;
      unreserve();
      pending = undefined;
      for (const ac of jobs.values()) ac.abort(new JobFailedError('controller disconnected'));
      for (const ac of waits.values()) ac.abort(new JobFailedError('controller disconnected'));
    });
    ws.on('error', () => {});
  }

  // ---- devices ----

  private onConnection(ws: WebSocket, req: http.IncomingMessage): void {
    const c: Conn = { ws, remoteAddress: req.socket.remoteAddress ?? '?', connectedAt: new Date(), state: 'idle', alive: true, jobsDone: 0, closed: false };
    this.conns.add(c);
    c.helloTimer = setTimeout(() => this.dropConn(c, 1008, 'no hello received'), this.o.helloTimeoutMs);
    ws.on('pong', () => (c.alive = true));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (c.closed) return;
      const parsed = parseDeviceMessage(data as Buffer | ArrayBuffer | Buffer[], isBinary);
      if (!parsed.ok) {
        this.o.log(`device ${c.hello?.id ?? c.remoteAddress}: ${parsed.reason}; closing it`);
        // a joined device that sends garbage (e.g. a run time of 1e999, which JSON parses to Infinity) is not trusted again
        if (c.hello) this.flag(c.hello.id, parsed.reason);
        this.dropConn(c, 1008, parsed.reason);
        return;
      }
      try {
        this.onMessage(c, parsed.msg);
      } catch (e) {
        this.dropConn(c, 1011, `server error: ${(e as Error).message}`);
      }
    });
    ws.on('close', (code, reason) => this.onClosed(c, `connection closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`));
    ws.on('error', (e) => this.onClosed(c, `connection error: ${e.message}`));
  }

  private uniqueId(clientId: string): string {
    const taken = new Set([...this.conns].map((c) => c.hello?.id));
    if (!taken.has(clientId)) return clientId;
    for (let i = 2; ; i++) if (!taken.has(`${clientId}-${i}`)) return `${clientId}-${i}`;
  }

  private send(c: Conn, msg: ServerMessage): void {
    if (!c.closed && c.ws.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify(msg));
  }

  private onMessage(c: Conn, msg: DeviceMessage): void {
    if (msg.type === 'hello') {
      if (c.hello) return this.dropConn(c, 1008, 'hello sent twice');
      clearTimeout(c.helloTimer);
      const id = this.uniqueId(msg.clientId);
      c.hello = { id, page: msg.description, description: describeDevice(id, msg.name, msg.description, c.remoteAddress) };
      if (msg.name) c.hello.name = msg.name;
      this.send(c, { type: 'welcome', deviceId: id, v: PROTOCOL_VERSION });
      this.o.log(`device ${id}${msg.name ? ` (${msg.name})` : ''} joined from ${c.remoteAddress}: ${msg.description.userAgent}; backends ${msg.description.backends.join(',')}, ${msg.description.threads} thread(s)`);
      this.emit('device-joined', this.devices().find((d) => d.id === id));
      for (const w of [...this.waiters]) w();
      this.dispatch();
      return;
    }
    if (!c.hello) return this.dropConn(c, 1008, `'${msg.type}' before hello`);
    if (c.state === 'cancelling' && msg.job === c.cancelling) {
      if (msg.type === 'cancelled' || msg.type === 'done' || msg.type === 'failed') this.setIdle(c);
      return;
    }
    const job = c.job;
    // messages about a job this device no longer runs (e.g. racing a cancel) are ignored
    if (!job || msg.job !== job.id) return;
    switch (msg.type) {
      case 'loaded':
        if (job.loaded) return this.dropConn(c, 1008, 'loaded sent twice');
        job.loaded = { loadMs: msg.loadMs, innerRepeats: msg.innerRepeats, tracker: new ConvergenceTracker(job.req.protocol, 0) };
        job.clockMs = 0;
        return;
      case 'runs': {
        if (!job.loaded) return this.dropConn(c, 1008, 'runs before loaded');
        // runs after the stopping point (sent before the page saw 'stop') are not counted
        for (const t of msg.times) {
          if (job.stop) break;
          const bad = implausibleTime(t, this.timing);
          if (bad) return this.rejectTimings(c, job, bad);
          job.clockMs += t * job.loaded.innerRepeats;
          const stop = job.loaded.tracker.push(t, job.clockMs);
          if (stop) {
            job.stop = stop;
            this.send(c, { type: 'stop', job: job.id });
          }
        }
        const clock = implausibleClock(job.clockMs, Date.now() - job.sentAt);
        if (clock) return this.rejectTimings(c, job, clock);
        return;
      }
      case 'done': {
        const tracker = job.loaded?.tracker;
        if (!job.loaded || !tracker || tracker.count === 0) {
          this.finishOnDevice(c, job, new JobFailedError(`device ${c.hello.id} ended job ${job.id} without timed runs`));
          return;
        }
        const samples = tracker.samples.slice(0, tracker.count);
        const inconsistent = inconsistentSamples(samples, this.timing);
        if (inconsistent) return this.rejectTimings(c, job, inconsistent, true);
        const rel = medianRelHalfWidth(Float64Array.from(samples).sort());
        const converged = rel <= job.req.protocol.relPrecision;
        const stop: StopReason = converged ? 'converged' : (job.stop ?? (msg.reason === 'maxRuns' ? 'max_runs' : 'max_seconds'));
        const result: JobResult = {
          stats: { ...summarize(samples, converged, job.clockMs / 1000), stop, rel_half_width: rel },
          device: c.hello.description,
          times: Array.from(samples),
          backend: job.req.backend,
          innerRepeats: job.loaded.innerRepeats,
          loadMs: job.loaded.loadMs,
          attempts: job.attempts,
        };
        c.jobsDone++;
        this.finishOnDevice(c, job, result);
        return;
      }
      case 'failed':
        this.finishOnDevice(c, job, new JobFailedError(`device ${c.hello.id} could not run '${job.req.model.name}': ${msg.error}`));
        return;
      case 'cancelled':
        // the device gave up on its own (e.g. page hidden); try elsewhere
        this.requeueFrom(c, job, `device ${c.hello.id} cancelled it`);
        this.setIdle(c);
        return;
    }
  }

  /**
   * The device reported implausible timings for `job`: flag it, stop the job there, and retry the job
   * on another device (if one that could take it is connected) or fail it with the reason.
   */
  private rejectTimings(c: Conn, job: Job, reason: string, deviceDone = false): void {
    const id = c.hello!.id;
    const why = `device ${id} reported implausible timings for '${job.req.model.name}' (${reason}); device flagged`;
    this.flag(id, `implausible timings: ${reason}`);
    clearTimeout(job.runTimer);
    if (deviceDone) this.setIdle(c);
    else this.cancelOnDevice(c, job.id);
    this.requeueFrom(c, job, why, { onlyToAnotherDevice: true });
  }

  /** Whether a connected, unflagged device could take the job (selector and backend). */
  private hasDeviceFor(job: Job): boolean {
    return this.devices().some((d) => d.flagged === undefined && matches(d.id, d.name, job.req.selector) && d.page.backends.includes(job.req.backend));
  }

  private flag(id: string, reason: string): void {
    if (this.flagged.has(id)) return;
    this.flagged.set(id, reason);
    this.o.log(`device ${id} flagged (no more jobs while this server runs): ${reason}`);
    this.emit('device-flagged', { id, reason });
  }

  private finishOnDevice(c: Conn, job: Job, outcome: JobResult | Error): void {
    this.settle(job, outcome);
    this.setIdle(c);
  }

  private setIdle(c: Conn): void {
    c.job = undefined;
    c.cancelling = undefined;
    clearTimeout(c.cancelTimer);
    c.state = 'idle';
    this.dispatch();
  }

  private onClosed(c: Conn, why: string): void {
    if (!this.conns.has(c)) return;
    this.conns.delete(c);
    c.closed = true;
    clearTimeout(c.helloTimer);
    clearTimeout(c.cancelTimer);
    const id = c.hello?.id ?? c.remoteAddress;
    if (c.hello) {
      this.o.log(`device ${id} left: ${why}`);
      this.emit('device-left', { id: c.hello.id, reason: why });
    }
    const job = c.job;
    c.job = undefined;
    if (job && !job.settled) this.requeueFrom(c, job, `device ${id} disconnected mid-measurement (${why})`);
  }

  private dropConn(c: Conn, code: number, reason: string): void {
    if (c.closed) return;
    try {
      c.ws.close(code, closeReason(reason));
    } catch {
      c.ws.terminate();
    }
    // don't wait for the closing handshake of a misbehaving peer
    const t = setTimeout(() => c.ws.terminate(), 2000);
    t.unref();
    this.onClosed(c, reason);
  }

  private pingAll(): void {
    for (const c of this.conns) {
      if (!c.alive) {
        this.dropConn(c, 1001, 'no pong (device asleep or gone)');
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      try {
        c.ws.ping();
      } catch {
        /* closed */
      }
    }
  }

  // ---- jobs ----

  private enqueue(job: Job, front: boolean): void {
    if (front) this.queue.unshift(job);
    else this.queue.push(job);
    this.armQueueTimer(job);
  }

  /** Fails a queued job once no matching device has been connected for queueTimeoutMs. */
  private armQueueTimer(job: Job): void {
    clearTimeout(job.queueTimer);
    job.queueTimer = setTimeout(() => {
      if (job.settled || !this.queue.includes(job)) return;
      // a matching device that is busy (e.g. with earlier jobs) will take it: keep waiting
      if (this.hasDeviceFor(job)) {
        this.armQueueTimer(job);
        return;
      }
      const where = job.history.length ? `${job.history.join('; ')}; ` : '';
      const backend = job.req.backend === 'wasm' ? '' : ` supporting ${job.req.backend}`;
      this.settle(job, new JobFailedError(`${where}no browser device${selectorText(job.req.selector)}${backend} available within ${Math.round(this.o.queueTimeoutMs / 1000)} s to measure '${job.req.model.name}' (open ${this.url})${this.flaggedText(job.req.selector)}`));
    }, this.o.queueTimeoutMs);
  }

  /**
   * Takes the job back from device `c` and queues it again, or fails it once it has had its
   * attempts (or, with onlyToAnotherDevice, when no other device could take it now).
   */
  private requeueFrom(c: Conn, job: Job, why: string, o: { onlyToAnotherDevice?: boolean } = {}): void {
    clearTimeout(job.runTimer);
    if (job.conn === c) job.conn = undefined;
    job.history.push(why);
    job.loaded = undefined;
    job.stop = undefined;
    if (job.settled) return;
    const noOther = o.onlyToAnotherDevice === true && !this.hasDeviceFor(job);
    if (noOther || job.attempts >= this.o.maxAttempts) {
      this.settle(job, new JobFailedError(`${job.history.join('; ')}${noOther ? '; no other device to retry on' : `; gave up after ${job.attempts} attempts`}`));
      return;
    }
    this.o.log(`job ${job.id} ('${job.req.model.name}'): ${why}; queued for another device`);
    this.emit('job-requeued', { job: job.id, reason: why });
    this.enqueue(job, true);
    this.dispatch();
  }

  private abortJob(job: Job, reason: Error): void {
    if (job.settled) return;
    const c = job.conn;
    this.settle(job, reason);
    if (c && !c.closed && c.job === job) this.cancelOnDevice(c, job.id);
  }

  private cancelOnDevice(c: Conn, jobId: number): void {
    c.job = undefined;
    c.state = 'cancelling';
    c.cancelling = jobId;
    this.send(c, { type: 'cancel', job: jobId });
    clearTimeout(c.cancelTimer);
    c.cancelTimer = setTimeout(() => this.dropConn(c, 1008, 'cancel not acknowledged'), 30_000);
  }

  private settle(job: Job, outcome: JobResult | Error): void {
    if (job.settled) return;
    job.settled = true;
    clearTimeout(job.queueTimer);
    clearTimeout(job.runTimer);
    job.detachSignal?.();
    const i = this.queue.indexOf(job);
    if (i >= 0) this.queue.splice(i, 1);
    if (this.held.delete(job)) this.heldBytes -= job.bytes;
    // the model bytes are what is big; the job object may outlive this (e.g. referenced by a device's state)
    job.req = { ...job.req, model: { ...job.req.model, onnx: new Uint8Array(0) } };
    if (outcome instanceof Error) {
      this.emit('job-failed', { job: job.id, reason: outcome.message });
      job.reject(outcome);
    } else {
      this.emit('job-done', { job: job.id, device: outcome.device.id, median_ms: outcome.stats.median_ms });
      job.resolve(outcome);
    }
  }

  private dispatch(): void {
    if (this.closing) return;
    for (const job of [...this.queue]) {
      const c = [...this.conns].find(
        (k) => k.hello && !k.closed && k.state === 'idle' && !this.flagged.has(k.hello.id) && matches(k.hello.id, k.hello.name, job.req.selector) && k.hello.page.backends.includes(job.req.backend),
      );
      if (!c) continue;
      this.queue.splice(this.queue.indexOf(job), 1);
      clearTimeout(job.queueTimer);
      this.start(c, job);
    }
  }

  private start(c: Conn, job: Job): void {
    const p = job.req.protocol;
    c.state = 'busy';
    c.job = job;
    job.conn = c;
    job.attempts++;
    job.loaded = undefined;
    job.stop = undefined;
    const bytes = job.req.model.onnx;
    this.send(c, {
      type: 'job',
      job: job.id,
      name: job.req.model.name,
      inputShape: [...job.req.model.inputShape],
      backend: job.req.backend,
      warmupRuns: p.warmupRuns,
      warmupSeconds: p.warmupSeconds ?? 0,
      maxRuns: p.maxRuns,
      maxSeconds: p.maxSeconds,
      minSampleMs: this.o.minSampleMs,
      bytes: bytes.byteLength,
    });
    c.ws.send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { binary: true });
    job.sentAt = Date.now();
    this.emit('job-started', { job: job.id, device: c.hello!.id, attempt: job.attempts });
    const limitMs = p.maxSeconds * 1000 + this.o.jobGraceMs;
    job.runTimer = setTimeout(() => {
      if (c.job !== job) return;
      this.settle(job, new JobFailedError(`device ${c.hello!.id} did not finish '${job.req.model.name}' within ${Math.round(limitMs / 1000)} s`));
      this.cancelOnDevice(c, job.id);
    }, limitMs);
  }
}

function matches(id: string, name: string | undefined, sel: DeviceSelector | undefined): boolean {
  if (!sel) return true;
  if (sel.id !== undefined && sel.id !== id) return false;
  if (sel.name !== undefined && sel.name !== name) return false;
  return true;
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

function hostPart(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

function selectorText(sel: DeviceSelector | undefined): string {
  const parts = [sel?.id !== undefined ? `id '${sel.id}'` : '', sel?.name !== undefined ? `name '${sel.name}'` : ''].filter(Boolean);
  return parts.length ? ` with ${parts.join(' and ')}` : '';
}
