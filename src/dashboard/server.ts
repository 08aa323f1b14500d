/**
 * `mnas dashboard`'s web server: the dashboard app on @hono/node-server, bound to loopback by
 * default, with a random token in the URL it prints (like the device farm).
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { resolveSecrets } from '../latency/browser/auth.js';
import { createApp } from './app.js';
import { LatencyTables } from './latency-tables.js';
import { LiveUpdates } from './live-updates.js';
import { RunCatalog } from './run-catalog.js';

export interface DashboardOptions {
  /** Run directories, or folders holding runs. */
  readonly dirs: readonly string[];
  /** Interface to bind (default 127.0.0.1). */
  readonly host?: string;
  /** Port (default 0: any free port). */
  readonly port?: number;
  /** The token (default: 24 random base64url characters); 8-128 characters of [A-Za-z0-9_-]. */
  readonly token?: string;
  /** Control URL of a browser device farm (`mnas devices serve`), for the devices page. */
  readonly farmUrl?: string | null;
  /** Redis URL of distributed searches, for their workers. */
  readonly redis?: string | null;
  /** A latency table for the per-layer predictions of runs whose config names none. */
  readonly latencyTable?: string | null;
  /** How often open pages' stores are polled for changes (default 750 ms). */
  readonly pollMs?: number;
}

export class DashboardServer {
  private constructor(
    private readonly server: Server,
    private readonly catalog: RunCatalog,
    private readonly live: LiveUpdates,
    private readonly streams: Set<() => void>,
    readonly host: string,
    readonly port: number,
    readonly token: string,
  ) {}

  /** The URL to open: the runs page with the token. */
  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${host}:${this.port}/?token=${this.token}`;
  }

  /** Starts serving; RangeError for a malformed token. */
  static async start(o: DashboardOptions): Promise<DashboardServer> {
    const token = resolveSecrets(o.token).token;
    const host = o.host ?? '127.0.0.1';
    const catalog = new RunCatalog(o.dirs);
    const live = new LiveUpdates(catalog, o.pollMs ?? 750);
    const streams = new Set<() => void>();
    let port = 0;
    const app = createApp({
      token,
      port: () => port,
      catalog,
      live,
      tables: new LatencyTables(o.latencyTable ?? null),
      farmUrl: o.farmUrl ?? null,
      redis: o.redis ?? null,
      trackStream: (close) => {
        streams.add(close);
        return () => streams.delete(close);
      },
    });
    const server = await new Promise<Server>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: host, port: o.port ?? 0 }) as Server;
      s.once('listening', () => resolve(s));
      s.once('error', reject);
    });
    port = (server.address() as AddressInfo).port;
    // (a failure here is the requests' to report: they read the same runs)
    catalog.warmUp().catch(() => {});
    return new DashboardServer(server, catalog, live, streams, host, port, token);
  }

  async close(): Promise<void> {
    this.live.close();
    for (const end of this.streams) end();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.catalog.close();
  }
}
