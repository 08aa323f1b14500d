/**
 * `mnas dashboard [DIR ...] [--host H] [--port P] [--token T] [--farm URL] [--redis URL]
 * [--latency-table FILE] [--json]`: serves the web dashboard (src/dashboard) over run
 * directories or folders of runs (default: the current folder) until Ctrl-C. Loopback only unless
 * --host says otherwise; the printed URL carries the token every request needs.
 *
 * Output: the URL on stderr; with --json one line on stdout instead:
 * {event:"listening", url, host, port, token, runs}, and {event:"closed"} when stopped.
 * Bad input (a DIR that is not a folder, a malformed URL, token or table) exits 2 before anything starts.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { DashboardServer as DashboardServerType } from '../dashboard/server.js';
import { parseRedisUrl } from '../distributed/redis-url.js';
import { controlUrl } from '../latency/browser/control-url.js';
import { loadTable } from '../latency/table.js';
import { findRunDirs } from '../runs/summary.js';
import { isInputError } from '../util/input-error.js';
import { UsageError } from './errors.js';
import { intOption } from './options.js';
import { untilStopped } from './until-stopped.js';

export type Writer = (text: string) => void;

export const DEFAULT_DASHBOARD_PORT = 8780;

export interface DashboardCliOptions {
  host: string;
  port: number;
  token?: string;
  farm?: string;
  redis?: string;
  latencyTable?: string;
  json?: boolean;
}

export interface DashboardIo {
  out?: Writer;
  err?: Writer;
  /** Stops the server (default: SIGINT or SIGTERM). */
  signal?: AbortSignal;
  onListening?: (url: string) => void;
}

export function registerDashboard(program: Command, io: DashboardIo = {}): Command {
  return program
    .command('dashboard')
    .description('serve a web dashboard of search runs: live progress, Pareto fronts, trials, comparisons, devices')
    .argument('[dirs...]', 'run directories or folders holding runs (default: the current folder)')
    .option('--host <host>', 'interface to bind (0.0.0.0: reachable from other machines; the token still applies)', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', intOption('--port', 0, 65535), DEFAULT_DASHBOARD_PORT)
    .option('--token <token>', 'the token in the URL (default: random; or MNAS_DASHBOARD_TOKEN), 8-128 of [A-Za-z0-9_-]')
    .option('--farm <url>', 'control URL of a browser device farm (mnas devices serve) for the devices page')
    .option('--redis <url>', 'Redis URL of distributed searches, to show their workers')
    .option('--latency-table <file>', 'latency table (mnas latency profile) for per-layer predictions of runs that name none')
    .option('--json', 'one JSON object per line on stdout (listening, closed)')
    .action(async (dirs: string[], o: DashboardCliOptions) => serveDashboard(dirs, o, io));
}

export async function serveDashboard(dirs: readonly string[], o: DashboardCliOptions, io: DashboardIo = {}): Promise<void> {
  const out = io.out ?? ((t: string) => void process.stdout.write(t));
  const err = io.err ?? ((t: string) => void process.stderr.write(t));
  const roots = dirs.length > 0 ? dirs : ['.'];
  const found = checkInput(roots, o);
  const token = o.token ?? (process.env['MNAS_DASHBOARD_TOKEN'] || undefined);
  const { DashboardServer } = await import('../dashboard/server.js');
  let server: DashboardServerType;
  try {
    server = await DashboardServer.start({
      dirs: roots,
      host: o.host,
      port: o.port,
      ...(token !== undefined ? { token } : {}),
      farmUrl: o.farm ?? null,
      redis: o.redis ?? null,
      latencyTable: o.latencyTable ?? null,
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`dashboard: port ${o.port} on ${o.host} is in use (choose another with --port, 0 for any)`, { cause: e });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') throw new UsageError(`dashboard: cannot bind --host ${o.host} (${code})`, { cause: e });
    if (e instanceof RangeError) throw new UsageError(`dashboard: --token: ${e.message}`, { cause: e });
    throw e;
  }
  if (o.json) out(`${JSON.stringify({ event: 'listening', url: server.url, host: server.host, port: server.port, token: server.token, runs: found })}\n`);
  else {
    err(`dashboard of ${found} run${found === 1 ? '' : 's'} under ${roots.join(', ')} (new runs appear as they start); open:\n  ${server.url}\n`);
    if (server.host !== '127.0.0.1' && server.host !== 'localhost' && server.host !== '::1') err(`listening on ${server.host}: anyone who can reach it and has the URL sees the runs\n`);
    err('Ctrl-C to stop\n');
  }
  io.onListening?.(server.url);
  await untilStopped(io.signal);
  await server.close();
  if (o.json) out(`${JSON.stringify({ event: 'closed' })}\n`);
  else err('dashboard stopped\n');
}

/** Every option checked before anything starts; returns how many runs the folders hold now. */
function checkInput(roots: readonly string[], o: DashboardCliOptions): number {
  const fail = (e: unknown): never => {
    if (isInputError(e)) throw new UsageError(`dashboard: ${e.message}`, { cause: e });
    throw e;
  };
  if (!o.host.trim()) throw new UsageError('dashboard: --host must not be empty');
  const token = o.token ?? (process.env['MNAS_DASHBOARD_TOKEN'] || undefined);
  if (token !== undefined && !/^[A-Za-z0-9_-]{8,128}$/.test(token)) throw new UsageError('dashboard: --token must be 8-128 characters of [A-Za-z0-9_-]');
  try {
    if (o.farm !== undefined) controlUrl(o.farm);
    if (o.redis !== undefined) parseRedisUrl(o.redis);
    if (o.latencyTable !== undefined) {
      if (!existsSync(o.latencyTable)) throw new UsageError(`--latency-table ${o.latencyTable}: no such file`);
      loadTable(o.latencyTable);
    }
    return roots.reduce((n, root) => n + findRunDirs(root).length, 0);
  } catch (e) {
    return fail(e);
  }
}
