/**
 * The browser device server: HTTP serves the device page and onnxruntime-web's files
 * (./http-routes.ts), WebSocket /ws connects device pages (./device-connection.ts), WebSocket
 * /control connects controllers (./control-channel.ts), and a queue (./job-queue.ts) hands
 * measurement jobs to the devices one at a time per device; the statistics come from the
 * measurement protocol (./job-measurement.ts, ../protocol.ts).
 *
 * Security: binds 127.0.0.1 unless told otherwise; the join token and the control secret open
 * different doors and WebSocket upgrades are Origin-checked (./auth.ts). Every message from a device
 * is validated (./messages.ts); a bad one closes that device with code 1008 and a reason, and a device
 * that had joined is flagged. Caps (connections, frame sizes, queued jobs and bytes) bound what
 * either side can make the server hold; see DeviceServerOptions (./server-options.ts).
 *
 * Events: device-joined, device-left, device-flagged, job-started, job-requeued, job-done,
 * job-failed (from the queue), refused (a WebSocket upgrade turned down).
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import type { Duplex } from 'node:stream';
import { onnxruntimeWebDist } from './optional-deps.js';
import { WebSocketServer } from 'ws';
import { authorizeUpgrade, resolveSecrets } from './auth.js';
import { serveController, type ControlledFarm } from './control-channel.js';
import { DeviceConnection, describeDevice, type DeviceConnectionHandlers } from './device-connection.js';
import { JobFailedError, type ConnectedDevice, type DeviceSelector, type JobRequest, type JobResult, type ServerStatus } from './farm.js';
import { createRequestHandler } from './http-routes.js';
import { JobQueue } from './job-queue.js';
import type { ControlLimits } from './messages.js';
import { resolveServerOptions, type DeviceServerOptions, type ResolvedServerOptions } from './server-options.js';

export { tokenMatches } from './auth.js';
export { JobFailedError, LimitError, NoDeviceError } from './farm.js';
export type { ConnectedDevice, DeviceSelector, JobRequest, JobResult, ServerStatus } from './farm.js';
export { ortDistDir, staticDir } from './http-routes.js';
export type { DeviceServerOptions } from './server-options.js';

/** Events the queue raises that the server passes on to its listeners. */
const QUEUE_EVENTS = ['device-joined', 'device-left', 'device-flagged', 'job-started', 'job-requeued', 'job-done', 'job-failed'] as const;

export class DeviceServer extends EventEmitter {
  /** Join token: what devices need (it is in the join URL and on the page). */
  readonly token: string;
  /** Control secret: what controllers need (/control, /status); never shown to devices. */
  readonly controlToken: string;
  private readonly http: http.Server;
  private readonly wss: WebSocketServer;
  private readonly controlWss: WebSocketServer;
  /** Device connections, joined or not. */
  private readonly conns = new Set<DeviceConnection>();
  private readonly queue: JobQueue;
  private controllers = 0;
  private pingTimer?: NodeJS.Timeout;
  private closing = false;
  private readonly o: ResolvedServerOptions;

  private constructor(options: DeviceServerOptions) {
    super();
    const secrets = resolveSecrets(options.token, options.controlToken);
    this.token = secrets.token;
    this.controlToken = secrets.controlToken;
    this.o = resolveServerOptions(options);
    this.queue = new JobQueue({ ...this.o, joinUrl: () => this.url });
    for (const name of QUEUE_EVENTS) this.queue.on(name, (payload: unknown) => this.emit(name, payload));
    this.http = http.createServer(createRequestHandler({ secrets, status: () => this.status(), log: this.o.log }));
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
    s.pingTimer = setInterval(() => {
      for (const c of s.conns) c.heartbeat();
    }, s.o.pingIntervalMs);
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
      queued: this.queue.queued,
      held: this.queue.heldJobs,
      limits: { ...this.limits, maxDevices: this.o.maxDevices, maxControllers: this.o.maxControllers },
      controllers: this.controllers,
      flagged: this.queue.flagged(),
    };
  }

  /** Connected devices that have said hello. */
  devices(): ConnectedDevice[] {
    return this.queue.devices();
  }

  /** Resolves with the first connected, unflagged device matching the selector, waiting up to timeoutMs. */
  waitForDevice(selector: DeviceSelector = {}, timeoutMs = this.o.queueTimeoutMs, signal?: AbortSignal): Promise<ConnectedDevice> {
    return this.queue.waitForDevice(selector, timeoutMs, signal);
  }

  /** Queues a measurement; resolves with the statistics from the device that ran it. */
  submit(req: JobRequest, signal?: AbortSignal): Promise<JobResult> {
    return this.queue.submit(req, signal);
  }

  /** Rejects pending jobs, disconnects devices and stops listening. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.pingTimer);
    this.queue.close(new JobFailedError('device server closed'));
    for (const c of [...this.conns]) c.disconnect(1001, 'server shutting down');
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

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (status: string, why: string) => {
      this.o.log(`refused WebSocket from ${req.socket.remoteAddress}: ${why}`);
      this.emit('refused', { remoteAddress: req.socket.remoteAddress, reason: why });
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${why.length + 1}\r\n\r\n${why}\n`);
      socket.destroy();
    };
    if (this.closing) return refuse('503 Service Unavailable', 'server shutting down');
    const decision = authorizeUpgrade(req, { token: this.token, controlToken: this.controlToken }, this.o.allowedOrigins);
    if ('status' in decision) return refuse(decision.status, decision.why);
    if (decision.endpoint === 'control') {
      if (this.controllers >= this.o.maxControllers) return refuse('503 Service Unavailable', `too many controllers connected (maxControllers ${this.o.maxControllers})`);
      // ws completes a valid upgrade synchronously, so the count cannot be overtaken; a failed one never calls back
      this.controlWss.handleUpgrade(req, socket, head, (ws) => {
        this.controllers++;
        serveController(ws, this.forControllers(), () => this.controllers--);
      });
    } else {
      if (this.conns.size >= this.o.maxDevices) return refuse('503 Service Unavailable', `too many devices connected (maxDevices ${this.o.maxDevices})`);
      this.wss.handleUpgrade(req, socket, head, (ws) => this.conns.add(new DeviceConnection(ws, req, this.o.helloTimeoutMs, this.deviceHandlers)));
    }
  }

  private forControllers(): ControlledFarm {
    return {
      limits: this.limits,
      status: () => this.status(),
      submit: (req, signal) => this.submit(req, signal),
      waitForDevice: (selector, timeoutMs, signal) => this.waitForDevice(selector, timeoutMs, signal),
      overLimit: (bytes) => this.queue.overLimit(bytes),
      reserve: (bytes) => this.queue.reserve(bytes),
    };
  }

  private readonly deviceHandlers: DeviceConnectionHandlers = {
    deviceIdFor: (clientId) => this.queue.uniqueDeviceId(clientId),
    onJoined: (conn, hello) => {
      const id = conn.deviceId as string;
      const description = describeDevice(id, hello.name, hello.description, conn.remoteAddress);
      this.queue.addDevice(
        { id, ...(hello.name ? { name: hello.name } : {}), remoteAddress: conn.remoteAddress, connectedAt: conn.connectedAt.toISOString(), page: hello.description, description },
        conn,
      );
    },
    onMessage: (conn, msg) => this.queue.onDeviceMessage(conn.deviceId as string, msg),
    onMalformed: (conn, reason) => {
      this.o.log(`device ${conn.label}: ${reason}; closing it`);
      // a joined device that sends garbage (e.g. a run time of 1e999, which JSON parses to Infinity) is not trusted again
      if (conn.deviceId !== undefined) this.queue.flag(conn.deviceId, reason);
    },
    onClosed: (conn, why) => {
      this.conns.delete(conn);
      if (conn.deviceId !== undefined) this.queue.removeDevice(conn.deviceId, why);
    },
  };
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

function hostPart(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
