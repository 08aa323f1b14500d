/**
 * The Redis a distributed search runs on, from a URL: `redis://[user[:password]@]host[:port][/db]`
 * or `rediss://...` (TLS, the server's certificate checked against the host: signed by a public
 * CA, or by the private CA in the PEM file MNAS_REDIS_CA names). A password left out of the URL
 * is read from MNAS_REDIS_PASSWORD, so it needs to appear neither on a command line (visible in
 * `ps`) nor in a config file. Both are environment variables rather than flags so that every
 * command (search, worker, workers) and a config file's `redis` URL take them alike.
 *
 * Parsing is checked before anything starts (a bad URL is a RedisUrlError, an InputError: one
 * line, exit 2); `checkReachable` then tries the server once with a short timeout, so a wrong
 * host or password is also one line instead of a process that waits forever.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { InputError } from '../util/input-error.js';

export const PASSWORD_ENV = 'MNAS_REDIS_PASSWORD';
/** A PEM file with the CA certificate(s) that signed a TLS Redis server's certificate. */
export const CA_ENV = 'MNAS_REDIS_CA';

export class RedisUrlError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUrlError';
  }
}

export class RedisUnreachableError extends InputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RedisUnreachableError';
  }
}

export interface RedisTarget {
  /** Connection options for ioredis and BullMQ (no retry policy: see `connectionOptions`). */
  readonly options: Readonly<RedisOptions>;
  /** The URL without its password, for messages and status output. */
  readonly display: string;
}

/** Parses and checks a Redis URL; throws RedisUrlError naming what is wrong. */
export function parseRedisUrl(text: string, env: NodeJS.ProcessEnv = process.env): RedisTarget {
  const bad = (why: string) => new RedisUrlError(`--redis: ${why} (expected redis://[user[:password]@]host[:port][/db] or rediss://...)`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad(`'${redactText(text)}' is not a URL`);
  }
  const tls = url.protocol === 'rediss:';
  if (!tls && url.protocol !== 'redis:') throw bad(`unsupported scheme '${url.protocol.replace(/:$/, '')}'`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw bad('no host');
  const port = url.port === '' ? 6379 : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(`port ${url.port} is out of range`);
  const dbText = url.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d{1,5}$/.test(dbText)) throw bad(`database '${dbText}' is not a number`);
  if (url.search !== '' || url.hash !== '') throw bad('query strings and fragments are not supported');
  const username = decodeURIComponent(url.username);
  const password = url.password !== '' ? decodeURIComponent(url.password) : env[PASSWORD_ENV];
  const caFile = env[CA_ENV];
  if (caFile !== undefined && caFile !== '' && !tls) throw new RedisUrlError(`--redis: ${CA_ENV} is set but '${redactText(text)}' is not a TLS URL (use rediss://)`);
  let ca: string | undefined;
  if (tls && caFile !== undefined && caFile !== '') {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (e) {
      throw new RedisUrlError(`${CA_ENV}: cannot read ${caFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new RedisUrlError(`${CA_ENV}: ${caFile} holds no PEM certificate`);
  }
  const options: RedisOptions = {
    host,
    port,
    db: dbText === '' ? 0 : Number(dbText),
    ...(username !== '' ? { username } : {}),
    ...(password !== undefined && password !== '' ? { password } : {}),
    // the host (name or IP) is checked against the certificate; Node sends it as SNI when it is a name
    ...(tls ? { tls: ca !== undefined ? { ca } : {} } : {}),
  };
  const shown = new URL(url.href);
  shown.password = '';
  return { options, display: shown.href.replace(/\/$/, '') };
}

/** Text with the password of anything that looks like a URL's credentials removed. */
export function redactText(text: string): string {
  return text.replace(/:[^@/\s]*@/g, ':***@');
}

/** Options for long-lived connections: commands wait while Redis restarts, reconnecting every ≤ 2 s. */
export function connectionOptions(target: RedisTarget, name: string): RedisOptions {
  return {
    ...target.options,
    connectionName: name,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (attempt: number) => Math.min(100 * attempt, 2000),
  };
}

/** The same options typed for BullMQ's queues and workers (it hands them to ioredis). */
export function queueConnection(target: RedisTarget, name: string): ConnectionOptions {
  return connectionOptions(target, name) as ConnectionOptions;
}

/** Connects once and pings, within `timeoutMs`; throws RedisUnreachableError with the reason. */
export async function checkReachable(target: RedisTarget, timeoutMs = 5000): Promise<void> {
  // loaded on first use: every command parses --redis, few connect
  const { Redis } = await import('ioredis');
  const client = new Redis({ ...target.options, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // the socket's error (ECONNREFUSED, WRONGPASS...) says more than the 'Connection is closed' that follows it
  let first: Error | undefined;
  client.on('error', (e: Error) => (first ??= e));
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    const why = first ?? (e as Error);
    throw new RedisUnreachableError(`cannot use Redis at ${target.display}: ${why.message}`, { cause: why });
  } finally {
    client.disconnect();
  }
}
