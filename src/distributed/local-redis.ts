/**
 * For tests and benchmarks: a private redis-server on a free loopback port in a temporary
 * directory (optionally with a password and the append-only file), stopped and restarted on
 * demand. Tests never use a Redis that happens to be running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CA_ENV, checkReachable, parseRedisUrl } from './redis-url.js';

export const REDIS_SERVER = process.env['MNAS_REDIS_SERVER'] ?? '/usr/bin/redis-server';

export interface LocalRedisOptions {
  readonly password?: string;
  /** appendonly yes (fsync every write): data survives a restart. */
  readonly appendOnly?: boolean;
  /** An ACL user with every right; the default user is then switched off. */
  readonly user?: { readonly name: string; readonly password: string };
  /** TLS only (no plain port): the server's certificate and key, and the CA clients check it with. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
}

export interface LocalRedis {
  /** redis[s]://[[user]:password@]127.0.0.1:port */
  readonly url: string;
  /** What clients need in their environment besides the URL (MNAS_REDIS_CA with TLS). */
  readonly env: Readonly<Record<string, string>>;
  readonly port: number;
  readonly dir: string;
  /** Stops the server: SIGTERM (it writes its append-only file) or SIGKILL. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port and directory. */
  start(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startLocalRedis(o: LocalRedisOptions = {}): Promise<LocalRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mnas-redis-'));
  const credentials = o.user ? `${encodeURIComponent(o.user.name)}:${encodeURIComponent(o.user.password)}@` : o.password ? `:${encodeURIComponent(o.password)}@` : '';
  const url = `${o.tls ? 'rediss' : 'redis'}://${credentials}127.0.0.1:${port}`;
  const env: Record<string, string> = o.tls ? { [CA_ENV]: o.tls.caFile } : {};
  const ports = o.tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', o.tls.certFile, '--tls-key-file', o.tls.keyFile, '--tls-ca-cert-file', o.tls.caFile, '--tls-auth-clients', 'no']
    : ['--port', String(port)];
  const args = [...ports, '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no', '--loglevel', 'warning', '--logfile', path.join(dir, 'redis.log')];
  if (o.appendOnly) args.push('--appendonly', 'yes', '--appendfsync', 'always');
  if (o.password) args.push('--requirepass', o.password);
  if (o.user) args.push('--user', o.user.name, 'on', `>${o.user.password}`, '~*', '&*', '+@all', '--user', 'default', 'off');
  let child: ChildProcess | undefined;
  const server: LocalRedis = {
    url,
    env,
    port,
    dir,
    async start() {
      const c = spawn(REDIS_SERVER, args, { stdio: 'ignore' });
      child = c;
      const failed = new Promise<never>((_, reject) => {
        c.once('error', (e) => reject(new Error(`cannot start ${REDIS_SERVER}: ${e.message} (scripts/setup.sh installs redis-server)`)));
        c.once('exit', (code) => reject(new Error(`${REDIS_SERVER} exited with code ${code} (log: ${path.join(dir, 'redis.log')})`)));
      });
      failed.catch(() => {});
      const target = parseRedisUrl(url, env);
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          await Promise.race([checkReachable(target, 500), failed]);
          return;
        } catch (e) {
          if (c.exitCode !== null || Date.now() > deadline) throw e;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    },
    async stop(signal = 'SIGTERM') {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill(signal);
      });
    },
  };
  await server.start();
  return server;
}
