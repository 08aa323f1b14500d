/**
 * A client for a running `mnas devices serve`: submits measurement jobs over its /control
 * WebSocket (same token as the join URL), so phones stay connected across many `mnas measure`
 * runs or a whole search. Same job API as DeviceServer (submit / waitForDevice / close).
 */
import { WebSocket } from 'ws';
import type { ConnectedDevice, DeviceSelector, JobRequest, JobResult } from './server.js';
import { JobFailedError } from './server.js';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/** http://host:port/?token=T (the join URL) -> ws://host:port/control?token=T */
export function controlUrl(joinUrl: string): string {
  let u: URL;
  try {
    u = new URL(joinUrl);
  } catch {
    throw new RangeError(`browser device: not a URL: '${joinUrl}'`);
  }
  const token = u.searchParams.get('token');
  if (!token || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw new RangeError(`browser device: expected the server's join URL http://host:port/?token=..., got '${joinUrl}'`);
  return `${u.protocol === 'https:' ? 'wss:' : 'ws:'}//${u.host}/control?token=${encodeURIComponent(token)}`;
}

export class RemoteDeviceServer {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closedReason?: string;

  private constructor(
    private readonly ws: WebSocket,
    readonly url: string,
  ) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let m: { type: string; id: number; result?: unknown; device?: unknown; message?: string };
      try {
        m = JSON.parse(data.toString());
      } catch {
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.type === 'error') p.reject(new JobFailedError(m.message ?? 'failed'));
      else p.resolve(m.type === 'result' ? m.result : m.device);
    });
    ws.on('close', (code, reason) => {
      this.closedReason = `device server connection closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`;
      for (const p of this.pending.values()) p.reject(new JobFailedError(this.closedReason));
      this.pending.clear();
    });
    ws.on('error', () => {});
  }

  /** Connects to the server behind a join URL (http://host:port/?token=...). */
  static connect(joinUrl: string, timeoutMs = 10_000): Promise<RemoteDeviceServer> {
    const target = controlUrl(joinUrl);
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(target, { handshakeTimeout: timeoutMs, maxPayload: 64 * 1024 * 1024 });
      ws.once('open', () => resolve(new RemoteDeviceServer(ws, joinUrl)));
      ws.once('unexpected-response', (_req, res) => {
        reject(new JobFailedError(`device server at ${new URL(joinUrl).host} refused the connection (HTTP ${res.statusCode}${res.statusCode === 403 ? ': wrong token' : ''})`));
        ws.terminate();
      });
      ws.once('error', (e) => reject(new JobFailedError(`cannot reach the device server at ${new URL(joinUrl).host}: ${e.message}`)));
    });
  }

  urls(): string[] {
    return [this.url];
  }

  private request<T>(msg: Record<string, unknown>, binary?: Uint8Array, signal?: AbortSignal): Promise<T> {
    if (this.closedReason) return Promise.reject(new JobFailedError(this.closedReason));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        if (this.pending.delete(id)) {
          if (msg['type'] === 'measure') this.ws.send(JSON.stringify({ type: 'cancel', id }));
          reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
        }
      };
      this.pending.set(id, {
        resolve: (v) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(v as T);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
      this.ws.send(JSON.stringify({ ...msg, id }));
      if (binary) this.ws.send(Buffer.from(binary.buffer, binary.byteOffset, binary.byteLength), { binary: true });
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  waitForDevice(selector: DeviceSelector = {}, timeoutMs = 120_000, signal?: AbortSignal): Promise<ConnectedDevice> {
    return this.request<ConnectedDevice>({ type: 'wait', selector, timeoutMs: Math.max(1, Math.round(timeoutMs)) }, undefined, signal);
  }

  submit(req: JobRequest, signal?: AbortSignal): Promise<JobResult> {
    const m = req.model;
    return this.request<JobResult>(
      {
        type: 'measure',
        name: m.name,
        inputShape: [...m.inputShape],
        ...(m.arch !== undefined ? { arch: m.arch } : {}),
        ...(req.protocol ? { protocol: req.protocol } : {}),
        ...(req.backend ? { backend: req.backend } : {}),
        ...(req.selector ? { selector: req.selector } : {}),
        bytes: m.onnx.byteLength,
      },
      m.onnx,
      signal,
    );
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close(1000);
      setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, 2000).unref();
    });
  }
}
