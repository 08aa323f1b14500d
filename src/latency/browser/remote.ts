/**
 * A client for a running `mnas devices serve`: submits measurement jobs over its /control
 * WebSocket with the control secret (the control URL the server printed, not the devices' join
 * URL), so phones stay connected across many `mnas measure` runs or a whole search. Same job API
 * as DeviceServer (submit / waitForDevice / close), plus status().
 */
import { WebSocket } from 'ws';
import type { ControlLimits } from './messages.js';
import type { ConnectedDevice, DeviceSelector, JobRequest, JobResult, ServerStatus } from './server.js';
import { JobFailedError, LimitError, NoDeviceError } from './server.js';
import { BrowserDeviceUrlError, controlUrl } from './control-url.js';

export { BrowserDeviceUrlError, controlUrl, redactUrl } from './control-url.js';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class RemoteDeviceServer {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closedReason?: string;

  private constructor(
    private readonly ws: WebSocket,
    readonly url: string,
    /** The server's caps, from its ready message. */
    readonly limits: ControlLimits,
  ) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let m: { type: string; id: number; result?: unknown; device?: unknown; status?: unknown; message?: string; code?: string };
      try {
        m = JSON.parse(data.toString());
      } catch {
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.type === 'error') p.reject(m.code === 'limit' ? new LimitError(m.message ?? 'refused') : m.code === 'no-device' ? new NoDeviceError(m.message ?? 'no device') : new JobFailedError(m.message ?? 'failed'));
      else p.resolve(m.type === 'result' ? m.result : m.type === 'status' ? m.status : m.device);
    });
    ws.on('close', (code, reason) => {
      this.closedReason = `device server connection closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`;
      for (const p of this.pending.values()) p.reject(new JobFailedError(this.closedReason));
      this.pending.clear();
    });
    ws.on('error', () => {});
  }

  /** Connects to the server behind a control URL (http://host:port/control?token=...); BrowserDeviceUrlError when that fails. */
  static connect(url: string, timeoutMs = 10_000): Promise<RemoteDeviceServer> {
    const target = controlUrl(url);
    const where = new URL(target).host;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(target, { handshakeTimeout: timeoutMs, maxPayload: 64 * 1024 * 1024 });
      let settled = false;
      const done = (e?: BrowserDeviceUrlError, r?: RemoteDeviceServer) => {
        if (settled) return;
        settled = true;
        clearTimeout(readyTimer);
        if (e) {
          reject(e);
          ws.terminate();
        } else resolve(r!);
      };
      const readyTimer = setTimeout(
        () => done(new BrowserDeviceUrlError(`browser device server at ${where} did not answer within ${Math.round(timeoutMs / 1000)} s (is it a \`mnas devices serve\`?)`, 'unreachable')),
        timeoutMs,
      );
      ws.once('message', (data, isBinary) => {
        let m: { type?: string; limits?: ControlLimits } = {};
        try {
          if (!isBinary) m = JSON.parse(data.toString());
        } catch {
          /* handled below */
        }
        if (m.type !== 'ready' || !m.limits) return done(new BrowserDeviceUrlError(`browser device server at ${where} did not greet as a mnas device server`, 'refused'));
        done(undefined, new RemoteDeviceServer(ws, url, m.limits));
      });
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body = (body + chunk).slice(0, 200)));
        const finish = () => {
          const why = body.trim().split('\n')[0] || (res.statusCode === 403 ? 'wrong control secret' : 'refused');
          done(new BrowserDeviceUrlError(`browser device server at ${where} refused the connection (HTTP ${res.statusCode}: ${why})`, 'refused'));
        };
        res.on('end', finish);
        res.on('error', finish);
        setTimeout(finish, 1000).unref();
      });
      ws.once('close', (code) => done(new BrowserDeviceUrlError(`browser device server at ${where} closed the connection (${code}) before it was ready`, 'refused')));
      ws.on('error', (e) => done(new BrowserDeviceUrlError(`browser device server at ${where} is unreachable (${e.message.split('\n')[0]})`, 'unreachable', { cause: e })));
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
          if (msg['type'] === 'measure' || msg['type'] === 'wait') this.send(JSON.stringify({ type: 'cancel', id }));
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
      this.send(JSON.stringify({ ...msg, id }));
      if (binary) this.send(Buffer.from(binary.buffer, binary.byteOffset, binary.byteLength));
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private send(data: string | Buffer): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(data, { binary: typeof data !== 'string' });
  }

  /** Devices (flagged ones with their reason), queue and caps, as GET /status. */
  status(): Promise<ServerStatus> {
    return this.request<ServerStatus>({ type: 'status' });
  }

  waitForDevice(selector: DeviceSelector = {}, timeoutMs = 120_000, signal?: AbortSignal): Promise<ConnectedDevice> {
    return this.request<ConnectedDevice>({ type: 'wait', selector, timeoutMs: Math.max(1, Math.round(timeoutMs)) }, undefined, signal);
  }

  submit(req: JobRequest, signal?: AbortSignal): Promise<JobResult> {
    const m = req.model;
    const r = req.reference;
    // one binary frame: the model, then the reference's bytes
    const bytes = r ? Buffer.concat([m.onnx, r.onnx]) : m.onnx;
    if (bytes.byteLength > this.limits.maxModelBytes) {
      const mib = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MiB`;
      return Promise.reject(new LimitError(`'${m.name}' refused: ${r ? 'model and reference' : 'model'} of ${mib(bytes.byteLength)} exceed${r ? '' : 's'} the device server's maxModelBytes ${mib(this.limits.maxModelBytes)}`));
    }
    return this.request<JobResult>(
      {
        type: 'measure',
        name: m.name,
        inputShape: [...m.inputShape],
        ...(req.protocol ? { protocol: req.protocol } : {}),
        ...(req.backend ? { backend: req.backend } : {}),
        ...(req.selector ? { selector: req.selector } : {}),
        bytes: m.onnx.byteLength,
        ...(r ? { reference: { name: r.name, inputShape: [...r.inputShape], bytes: r.onnx.byteLength } } : {}),
      },
      bytes,
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
