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
import { checkReachable, parseRedisUrl } from './redis-url.js';

export const REDIS_SERVER = process.env['MNAS_REDIS_SERVER'] ?? '/usr/bin/redis-server';

export interface LocalRedisOptions {
  readonly password?: string;
  /** appendonly yes (fsync every write): data survives a restart. */
  readonly appendOnly?: boolean;
}

export interface LocalRedis {
  /** redis://[:password@]127.0.0.1:port */
  readonly url: string;
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
  const url = `redis://${o.password ? `:${encodeURIComponent(o.password)}@` : ''}127.0.0.1:${port}`;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no', '--loglevel', 'warning', '--logfile', path.join(dir, 'redis.log')];
  if (o.appendOnly) args.push('--appendonly', 'yes', '--appendfsync', 'always');
  if (o.password) args.push('--requirepass', o.password);
  let child: ChildProcess | undefined;
  const server: LocalRedis = {
    url,
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
      const target = parseRedisUrl(url, {});
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
