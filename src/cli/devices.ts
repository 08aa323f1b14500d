/**
 * `mnas devices serve [--host H] [--port P] [--token T] [--control-token S] [caps] [--json]`: runs
 * the browser device server (src/latency/browser/server.ts) until Ctrl-C. Open the printed join URL
 * (it carries the join token) on a phone and the phone becomes a latency device; `measure`/`search`
 * jobs reach it through the server with the printed control URL (MNAS_BROWSER_URL=<control URL>,
 * see src/latency/browser/index.ts), which carries the separate control secret.
 *
 * Output: the join URL(s), the control URL, and a line per device joining, leaving or being flagged,
 * on stderr; with --json, one JSON object per line on stdout instead: {event:"listening", url, urls,
 * host, port, token, controlUrl, controlToken, limits}, {event:"device-joined", device},
 * {event:"device-left", id, reason}, {event:"device-flagged", id, reason}, {event:"closed"}.
 *
 * `mnas devices status <control URL> [--json]`: what a running server has (devices, flags, queue).
 * A malformed or unreachable URL is a usage error (exit 2), one line.
 */
import type { Command } from 'commander';
import type { ConnectedDevice, DeviceServer as DeviceServerType, ServerStatus } from '../latency/browser/server.js';
import { InputError } from '../util/input-error.js';
import { UsageError } from './errors.js';
import { intOption } from './options.js';
import { untilStopped } from './until-stopped.js';

export type Writer = (text: string) => void;

export interface DevicesServeOptions {
  host: string;
  port: number;
  token?: string;
  controlToken?: string;
  queueTimeout: number;
  maxDevices?: number;
  maxControllers?: number;
  maxModelMb?: number;
  maxQueuedJobs?: number;
  maxQueuedMb?: number;
  json?: boolean;
}

const MIB = 1024 * 1024;

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
    .option('--token <token>', 'join token for devices (default: random; or MNAS_BROWSER_TOKEN), 16-128 of [A-Za-z0-9_-]')
    .option('--control-token <secret>', 'control secret for controllers (default: random; or MNAS_BROWSER_CONTROL_TOKEN), 16-128 of [A-Za-z0-9_-]')
    .option('--queue-timeout <s>', 'seconds a job waits for a device before failing', intOption('--queue-timeout', 1, 86400), 120)
    .option('--max-devices <n>', 'device connections at once', intOption('--max-devices', 1, 100_000), 64)
    .option('--max-controllers <n>', 'controller connections at once', intOption('--max-controllers', 1, 10_000), 8)
    .option('--max-model-mb <n>', 'largest model a controller may send, MiB', intOption('--max-model-mb', 1, 2047), 64)
    .option('--max-queued-jobs <n>', 'jobs queued or running at once', intOption('--max-queued-jobs', 1, 1_000_000), 64)
    .option('--max-queued-mb <n>', 'model MiB held by queued and running jobs', intOption('--max-queued-mb', 1, 1_000_000), 256)
    .option('--json', 'one JSON object per line on stdout (listening, device-joined, device-left, device-flagged, closed)')
    .action(async (o: DevicesServeOptions) => {
      await serveDevices(o, io);
    });
  devices
    .command('status')
    .description('show the devices, flags and queue of a running `mnas devices serve`')
    .argument('<control-url>', 'the control URL the server printed (http://host:port/control?token=...)')
    .option('--json', 'the raw status JSON')
    .action(async (url: string, o: { json?: boolean }) => {
      (io.out ?? ((t: string) => void process.stdout.write(t)))(await devicesStatus(url, o));
    });
  return devices;
}

/** Fetches /status from a running server; a malformed URL, unreachable server or refused secret is a UsageError. */
export async function devicesStatus(url: string, o: { json?: boolean; timeoutMs?: number } = {}): Promise<string> {
  const { fetchFarmStatus } = await import('../latency/browser/status-client.js');
  let status: ServerStatus;
  try {
    status = await fetchFarmStatus(url, o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {});
  } catch (e) {
    if (e instanceof InputError) throw new UsageError(`devices status: ${e.message}`, { cause: e });
    throw e;
  }
  if (o.json) return `${JSON.stringify(status)}\n`;
  const lines = [`${status.devices.length} device(s), ${status.held.jobs} job(s) held (${status.queued} waiting, ${(status.held.bytes / MIB).toFixed(1)} MiB), ${status.controllers} controller(s)`];
  for (const d of status.devices) {
    lines.push(`  ${d.id}${d.name ? ` (${d.name})` : ''} ${d.state}, ${d.jobsDone} job(s) done, ${d.remoteAddress}: ${d.page.userAgent}${d.flagged ? `\n    FLAGGED: ${d.flagged}` : ''}`);
  }
  const offline = Object.entries(status.flagged).filter(([id]) => !status.devices.some((d) => d.id === id));
  for (const [id, why] of offline) lines.push(`  ${id} (not connected) FLAGGED: ${why}`);
  return `${lines.join('\n')}\n`;
}

export async function serveDevices(o: DevicesServeOptions, io: ServeIo = {}): Promise<void> {
  const out = io.out ?? ((t: string) => void process.stdout.write(t));
  const err = io.err ?? ((t: string) => void process.stderr.write(t));
  const token = o.token ?? (process.env['MNAS_BROWSER_TOKEN'] || undefined);
  if (token !== undefined && !/^[A-Za-z0-9_-]{16,128}$/.test(token)) throw new UsageError('devices serve: --token must be 16-128 characters of [A-Za-z0-9_-]');
  const controlToken = o.controlToken ?? (process.env['MNAS_BROWSER_CONTROL_TOKEN'] || undefined);
  if (controlToken !== undefined && !/^[A-Za-z0-9_-]{16,128}$/.test(controlToken)) throw new UsageError('devices serve: --control-token must be 16-128 characters of [A-Za-z0-9_-]');
  if (controlToken !== undefined && controlToken === token) throw new UsageError('devices serve: --control-token must differ from --token (devices must not be able to control the server)');
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
      ...(controlToken ? { controlToken } : {}),
      ...(o.maxDevices !== undefined ? { maxDevices: o.maxDevices } : {}),
      ...(o.maxControllers !== undefined ? { maxControllers: o.maxControllers } : {}),
      ...(o.maxModelMb !== undefined ? { maxModelBytes: o.maxModelMb * MIB } : {}),
      ...(o.maxQueuedJobs !== undefined ? { maxQueuedJobs: o.maxQueuedJobs } : {}),
      ...(o.maxQueuedMb !== undefined ? { maxQueuedBytes: o.maxQueuedMb * MIB } : {}),
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
    const st = server.status();
    json({ event: 'listening', url: server.url, urls, host: server.host, port: server.port, token: server.token, controlUrl: server.controlUrl, controlToken: server.controlToken, limits: st.limits });
    server.on('device-joined', (device: ConnectedDevice) => json({ event: 'device-joined', device }));
    server.on('device-left', (d: { id: string; reason: string }) => json({ event: 'device-left', ...d }));
    server.on('device-flagged', (d: { id: string; reason: string }) => json({ event: 'device-flagged', ...d }));
  } else {
    err(`browser device server on ${server.host}:${server.port}; open on the device:\n${urls.map((u) => `  ${u}\n`).join('')}`);
    err(`controllers (mnas measure/search; keep this secret, it is not the devices' token):\n  MNAS_BROWSER_URL='${server.controlUrl}'\n`);
    if (server.host === '127.0.0.1' || server.host === 'localhost') {
      err(
        `only this machine can join. A phone on the same network: --host 0.0.0.0. A phone over USB (Android): adb reverse tcp:${server.port} tcp:${server.port}, ` +
          `then open http://localhost:${server.port}/?token=${server.token} (localhost is a secure context: WebGPU and threads become possible)\n`,
      );
    }
    err('Ctrl-C to stop\n');
  }
  io.onListening?.(server.url);
  await untilStopped(io.signal);
  await server.close();
  if (o.json) json({ event: 'closed' });
  else err('browser device server stopped\n');
}
