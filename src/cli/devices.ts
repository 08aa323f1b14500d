/**
 * `mnas devices serve [--host H] [--port P] [--token T] [--json]`: runs the browser device server
 * (src/latency/browser/server.ts) until Ctrl-C. Open the printed URL (it carries the join token) on
 * a phone and the phone becomes a latency device; `measure`/`search` jobs reach it through the
 * server (MNAS_BROWSER_URL=<that URL>, see src/latency/browser/index.ts).
 *
 * Output: the join URL(s) and a line per device joining or leaving, on stderr; with --json, one
 * JSON object per line on stdout instead: {event:"listening", url, urls, host, port, token},
 * {event:"device-joined", device}, {event:"device-left", id, reason}, {event:"closed"}.
 */
import type { Command } from 'commander';
import type { ConnectedDevice, DeviceServer as DeviceServerType } from '../latency/browser/server.js';
import { UsageError } from './errors.js';
import { intOption } from './options.js';

export type Writer = (text: string) => void;

export interface DevicesServeOptions {
  host: string;
  port: number;
  token?: string;
  queueTimeout: number;
  json?: boolean;
}

export interface ServeIo {
  out?: Writer;
  err?: Writer;
  /** Stops the server (default: SIGINT or SIGTERM). */
  signal?: AbortSignal;
  /** Called once listening, with the join URL. */
  onListening?: (url: string) => void;
}

export function registerDevices(program: Command, io: ServeIo = {}): Command {
  const devices = program.command('devices').description('latency devices: run the server that phones and browsers join');
  devices
    .command('serve')
    .description('serve the browser device page; a browser that opens the printed URL becomes a latency device')
    .option('--host <host>', 'interface to bind (0.0.0.0: reachable from phones on the LAN)', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', intOption('--port', 0, 65535), 8765)
    .option('--token <token>', 'join token (default: random; or MNAS_BROWSER_TOKEN), 16-128 of [A-Za-z0-9_-]')
    .option('--queue-timeout <s>', 'seconds a job waits for a device before failing', intOption('--queue-timeout', 1, 86400), 120)
    .option('--json', 'one JSON object per line on stdout (listening, device-joined, device-left, closed)')
    .action(async (o: DevicesServeOptions) => {
      await serveDevices(o, io);
    });
  return devices;
}

export async function serveDevices(o: DevicesServeOptions, io: ServeIo = {}): Promise<void> {
  const out = io.out ?? ((t: string) => void process.stdout.write(t));
  const err = io.err ?? ((t: string) => void process.stderr.write(t));
  const token = o.token ?? (process.env['MNAS_BROWSER_TOKEN'] || undefined);
  if (token !== undefined && !/^[A-Za-z0-9_-]{16,128}$/.test(token)) throw new UsageError('devices serve: --token must be 16-128 characters of [A-Za-z0-9_-]');
  if (!o.host.trim()) throw new UsageError('devices serve: --host must not be empty');
  const { DeviceServer } = await import('../latency/browser/server.js');
  const json = (obj: unknown) => out(`${JSON.stringify(obj)}\n`);
  let server: DeviceServerType;
  try {
    server = await DeviceServer.start({
      host: o.host,
      port: o.port,
      queueTimeoutMs: o.queueTimeout * 1000,
      ...(token ? { token } : {}),
      log: o.json ? () => {} : (line) => err(`${line}\n`),
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`devices serve: port ${o.port} on ${o.host} is in use (choose another with --port, 0 for any)`, { cause: e });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') throw new UsageError(`devices serve: cannot bind --host ${o.host} (${code})`, { cause: e });
    throw e;
  }
  const urls = server.urls();
  if (o.json) {
    json({ event: 'listening', url: server.url, urls, host: server.host, port: server.port, token: server.token });
    server.on('device-joined', (device: ConnectedDevice) => json({ event: 'device-joined', device }));
    server.on('device-left', (d: { id: string; reason: string }) => json({ event: 'device-left', ...d }));
  } else {
    err(`browser device server on ${server.host}:${server.port}; open on the device:\n${urls.map((u) => `  ${u}\n`).join('')}`);
    if (server.host === '127.0.0.1' || server.host === 'localhost') {
      err(
        `only this machine can join. A phone on the same network: --host 0.0.0.0. A phone over USB (Android): adb reverse tcp:${server.port} tcp:${server.port}, ` +
          `then open http://localhost:${server.port}/?token=${server.token} (localhost is a secure context: WebGPU and threads become possible)\n`,
      );
    }
    err('Ctrl-C to stop\n');
  }
  io.onListening?.(server.url);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    if (io.signal) {
      if (io.signal.aborted) stop();
      else io.signal.addEventListener('abort', stop, { once: true });
    } else {
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    }
  });
  await server.close();
  if (o.json) json({ event: 'closed' });
  else err('browser device server stopped\n');
}
