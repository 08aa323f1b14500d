/**
 * Test helpers for the browser device: a scriptable fake device (a `ws` client speaking the page's
 * protocol) and a tiny ONNX model.
 */
import type { WebSocket } from 'ws';
import { BATCH, GraphBuilder } from '../../model/onnx/index.js';
import type { LatencyModel } from '../device.js';
import type { PageDescription, ServerMessage } from './messages.js';
import type { DeviceServer } from './server.js';

export function wsUrl(s: DeviceServer, token = s.token): string {
  return `ws://127.0.0.1:${s.port}/ws?token=${encodeURIComponent(token)}`;
}

/** The controllers' socket (control secret by default). */
export function controlWsUrl(s: DeviceServer, token = s.controlToken): string {
  return `ws://127.0.0.1:${s.port}/control?token=${encodeURIComponent(token)}`;
}

export const FAKE_DESCRIPTION: PageDescription = {
  userAgent: 'FakeDevice/1.0',
  platform: 'Test',
  hardwareConcurrency: 4,
  ortVersion: '0.0.0-fake',
  ortBundle: 'none',
  backends: ['wasm'],
  simd: true,
  threads: 1,
  crossOriginIsolated: false,
  webgpu: false,
  timerResolutionMs: 0.1,
};

type JobMsg = Extract<ServerMessage, { type: 'job' }>;

/** A ws client that behaves like (or deliberately unlike) the device page. */
export class FakeDevice {
  readonly messages: ServerMessage[] = [];
  readonly binaries: Buffer[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private listeners: Array<() => void> = [];
  private jobsTaken = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) this.binaries.push(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer));
      else this.messages.push(JSON.parse(data.toString()) as ServerMessage);
      for (const l of [...this.listeners]) l();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Opens the connection (rejects with the HTTP status on a refused upgrade). */
  static async connect(url: string, options: { origin?: string } = {}): Promise<FakeDevice> {
    // loaded here: `bench fuzz` takes FAKE_DESCRIPTION from this file, and every command loads that
    const { WebSocket } = await import('ws');
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options.origin !== undefined ? { origin: options.origin } : {});
      const d = new FakeDevice(ws);
      ws.once('open', () => resolve(d));
      ws.once('unexpected-response', (_req, res) => {
        reject(new Error(`HTTP ${res.statusCode}`));
        ws.terminate();
      });
      ws.once('error', reject);
    });
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' || Buffer.isBuffer(msg) ? msg : JSON.stringify(msg));
  }

  /** Sends hello and waits for welcome; returns the device id the server assigned. */
  async hello(clientId: string, name?: string, description: PageDescription = FAKE_DESCRIPTION): Promise<string> {
    this.send({ type: 'hello', v: 1, clientId, ...(name ? { name } : {}), description });
    const w = await this.waitFor((m) => m.type === 'welcome');
    return (w as { deviceId: string }).deviceId;
  }

  /** Resolves with the first message (already received or future) matching `pred`. */
  waitFor(pred: (m: ServerMessage) => boolean, timeoutMs = 10_000): Promise<ServerMessage> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.messages.find(pred);
        if (!m) return false;
        this.listeners = this.listeners.filter((l) => l !== listener);
        clearTimeout(timer);
        resolve(m);
        return true;
      };
      const listener = () => void check();
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== listener);
        reject(new Error(`FakeDevice: no matching message within ${timeoutMs} ms (got ${this.messages.map((m) => m.type).join(',')})`));
      }, timeoutMs);
      if (!check()) this.listeners.push(listener);
    });
  }

  /** Waits for the next job not returned yet, and its model bytes. */
  async nextJob(timeoutMs = 10_000): Promise<{ job: JobMsg; model: Buffer }> {
    const index = this.jobsTaken++;
    const job = (await this.waitFor((m) => m.type === 'job' && this.messages.filter((k) => k.type === 'job').indexOf(m) === index, timeoutMs)) as JobMsg;
    const deadline = Date.now() + timeoutMs;
    while (this.binaries.length <= index) {
      if (Date.now() > deadline) throw new Error('FakeDevice: no model bytes after job');
      await new Promise((r) => setTimeout(r, 5));
    }
    return { job, model: this.binaries[index] as Buffer };
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close();
    return this.closed;
  }

  terminate(): void {
    this.ws.terminate();
  }
}

/** A small conv net (1x28x28 -> 10) built with the project's ONNX builder. */
export function tinyModel(name = 'tiny-cnn'): LatencyModel {
  const g = new GraphBuilder();
  const x = g.input('input', [BATCH, 1, 28, 28]);
  const w = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7) * 0.1);
  let y = g.relu(g.conv(x, { weight: { data: w(16 * 9), shape: [16, 1, 3, 3] }, bias: w(16), pads: 1, strides: 2 }));
  y = g.relu(g.conv(y, { weight: { data: w(16 * 9), shape: [16, 1, 3, 3] }, bias: w(16), pads: 1, group: 16 }));
  y = g.relu(g.conv(y, { weight: { data: w(32 * 16), shape: [32, 16, 1, 1] }, bias: w(32), strides: 1 }));
  g.output(g.gemm(g.flatten(g.globalAveragePool(y)), { weight: { data: w(320), shape: [10, 32] }, bias: w(10) }), 'logits');
  return { name, onnx: g.toBytes(), inputShape: [1, 1, 28, 28] };
}
