/**
 * One device page's WebSocket (/ws): every frame validated (./messages.ts), hello first and once
 * (within helloTimeoutMs), liveness by ping/pong. A malformed frame or a protocol violation closes
 * the connection with code 1008 and a reason. What the messages mean is the server's and the job
 * queue's business: this class only delivers them.
 */
import type { IncomingMessage } from 'node:http';
import { WebSocket, type RawData } from 'ws';
import type { DeviceDescription } from '../device.js';
import type { DevicePort, JobMessage } from './job-queue.js';
import { closeReason, parseDeviceMessage, PROTOCOL_VERSION, type DeviceMessage, type PageDescription, type ServerMessage } from './messages.js';

export type HelloMessage = Extract<DeviceMessage, { type: 'hello' }>;

export interface DeviceConnectionHandlers {
  /** The id a device saying hello with this client id gets (sent back in the welcome). */
  deviceIdFor(clientId: string): string;
  /** The device said hello and was welcomed under conn.deviceId. */
  onJoined(conn: DeviceConnection, hello: HelloMessage): void;
  /** A message from a device that has said hello. */
  onMessage(conn: DeviceConnection, msg: JobMessage): void;
  /** A frame failed validation; the connection closes right after. */
  onMalformed(conn: DeviceConnection, reason: string): void;
  /** The connection is gone (called once). */
  onClosed(conn: DeviceConnection, why: string): void;
}

export class DeviceConnection implements DevicePort {
  readonly remoteAddress: string;
  readonly connectedAt = new Date();
  /** The id the device got at hello. */
  deviceId?: string;
  private alive = true;
  private closed = false;
  private readonly helloTimer: NodeJS.Timeout;

  constructor(
    private readonly ws: WebSocket,
    req: IncomingMessage,
    helloTimeoutMs: number,
    private readonly handlers: DeviceConnectionHandlers,
  ) {
    this.remoteAddress = req.socket.remoteAddress ?? '?';
    this.helloTimer = setTimeout(() => this.disconnect(1008, 'no hello received'), helloTimeoutMs);
    ws.on('pong', () => (this.alive = true));
    ws.on('message', (data: RawData, isBinary: boolean) => this.onFrame(data, isBinary));
    ws.on('close', (code, reason) => this.markClosed(`connection closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`));
    ws.on('error', (e) => this.markClosed(`connection error: ${e.message}`));
  }

  /** The device id once joined, else the remote address (for log lines). */
  get label(): string {
    return this.deviceId ?? this.remoteAddress;
  }

  send(msg: ServerMessage): void {
    if (!this.closed && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  sendModel(onnx: Uint8Array): void {
    this.ws.send(Buffer.from(onnx.buffer, onnx.byteOffset, onnx.byteLength), { binary: true });
  }

  disconnect(code: number, reason: string): void {
    if (this.closed) return;
    try {
      this.ws.close(code, closeReason(reason));
    } catch {
      this.ws.terminate();
    }
    // don't wait for the closing handshake of a misbehaving peer
    const t = setTimeout(() => this.ws.terminate(), 2000);
    t.unref();
    this.markClosed(reason);
  }

  /** Drops the device if it missed the last ping, else pings it again. */
  heartbeat(): void {
    if (!this.alive) {
      this.disconnect(1001, 'no pong (device asleep or gone)');
      this.ws.terminate();
      return;
    }
    this.alive = false;
    try {
      this.ws.ping();
    } catch {
      /* closed */
    }
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    const parsed = parseDeviceMessage(data as Buffer | ArrayBuffer | Buffer[], isBinary);
    if (!parsed.ok) {
      this.handlers.onMalformed(this, parsed.reason);
      this.disconnect(1008, parsed.reason);
      return;
    }
    try {
      this.onMessage(parsed.msg);
    } catch (e) {
      this.disconnect(1011, `server error: ${(e as Error).message}`);
    }
  }

  private onMessage(msg: DeviceMessage): void {
    if (msg.type === 'hello') {
      if (this.deviceId !== undefined) return this.disconnect(1008, 'hello sent twice');
      clearTimeout(this.helloTimer);
      this.deviceId = this.handlers.deviceIdFor(msg.clientId);
      this.send({ type: 'welcome', deviceId: this.deviceId, v: PROTOCOL_VERSION });
      this.handlers.onJoined(this, msg);
      return;
    }
    if (this.deviceId === undefined) return this.disconnect(1008, `'${msg.type}' before hello`);
    this.handlers.onMessage(this, msg);
  }

  private markClosed(why: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.helloTimer);
    this.handlers.onClosed(this, why);
  }
}

/** What the server tells job submitters about a device, from what its page reported. */
export function describeDevice(id: string, name: string | undefined, page: PageDescription, remoteAddress: string): DeviceDescription {
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
