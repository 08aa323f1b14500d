/**
 * Helpers for the end-to-end tests of distributed searches (test/distributed*.e2e.test.ts):
 * `mnas worker` and `mnas search` processes, a tiny search config, a look into the test's Redis,
 * and a throwaway CA and server certificate for TLS.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { storedTrials } from '../search/testing.js';
import { repoRoot } from '../util/paths.js';
import { QUEUE_PREFIX, TRAIN_QUEUE } from './jobs.js';
import type { LocalRedis } from './local-redis.js';
import { connectionOptions, parseRedisUrl, queueConnection } from './redis-url.js';
import { listWorkers, type WorkerStatus } from './worker-registry.js';
import { tempDir } from '../util/testing.js';

export const MAIN = path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
export const tmp = (): string => tempDir('mnas-dist-e2e-');
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A worker's status as the registry lists it, for a worker that exists only as this status (no jobs run). */
export function listedStatus(id: string, host: string, jobs: WorkerStatus['jobs']): WorkerStatus {
  const now = new Date().toISOString();
  return { id, host, pid: process.pid, jobs, device: null, processes: 1, threads: null, running: [], done: { train: 0, measure: 0 }, failed: { train: 0, measure: 0 }, refused: {}, startedAt: now, seenAt: now };
}

/** Proxy settings small enough for a test; latency from MACs (one measurement of the default architecture). */
export function tinyConfig(dir: string, rest: Record<string, unknown> = {}): string {
  const file = path.join(dir, `tiny-${Math.random().toString(36).slice(2, 8)}.json`);
  const config = {
    dataset: { name: 'synthetic', validationImages: 100 },
    proxy: { images: 100, epochs: 1, batch: 50, threads: 1 },
    latencySource: 'macs',
    strategy: { kind: 'random' },
    ...rest,
  };
  writeFileSync(file, JSON.stringify(config));
  return file;
}

export interface RunningWorker {
  readonly child: ChildProcess;
  readonly id: Promise<string>;
  readonly exited: Promise<number | null>;
  /** Every JSON event line of its stdout so far. */
  readonly events: Array<{ event: string } & Record<string, unknown>>;
}

/** `mnas worker --json` (default: train + measure on ort-cpu, 2 s locks) with `extra` flags and environment. */
export function startWorker(url: string, extra: string[] = [], env: Readonly<Record<string, string>> = {}, device: string | null = 'ort-cpu'): RunningWorker {
  const args = [MAIN, 'worker', '--redis', url, ...(device ? ['--device', device] : []), '--lock-seconds', '2', '--json', ...extra];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const events: RunningWorker['events'] = [];
  const id = new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buffer += chunk;
      for (const line of buffer.split('\n').slice(0, -1)) {
        const e = JSON.parse(line) as RunningWorker['events'][number];
        events.push(e);
        if (e.event === 'ready') resolve(e['id'] as string);
      }
      buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
    });
    void exited.then((code) => reject(new Error(`worker exited with code ${code} before it was ready`)));
  });
  id.catch(() => {});
  return { child, id, exited, events };
}

export async function stopWorkers(workers: readonly RunningWorker[]): Promise<void> {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
}

export interface RunningSearch {
  readonly child: ChildProcess;
  readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** `mnas search --quiet --json ARGS`; stderr is collected (and passed through). */
export function startSearch(args: readonly string[], env: Readonly<Record<string, string>> = {}): RunningSearch {
  const child = spawn(process.execPath, [MAIN, 'search', '--quiet', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (c: string) => (stdout += c));
  child.stderr!.on('data', (c: string) => {
    stderr += c;
    process.stderr.write(c);
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

export async function waitUntil(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(100);
  }
}

/** Reads the workers' statuses and a queue (default: train) of the test's Redis. */
export async function inspect<T>(redis: LocalRedis, fn: (o: { workers: WorkerStatus[]; train: Queue }) => Promise<T>, queue = TRAIN_QUEUE): Promise<T> {
  const target = parseRedisUrl(redis.url, redis.env);
  const client = new Redis(connectionOptions(target, 'test'));
  const train = new Queue(queue, { connection: queueConnection(target, 'test-queue'), prefix: QUEUE_PREFIX });
  try {
    return await fn({ workers: await listWorkers(client), train });
  } finally {
    await train.close();
    client.disconnect();
  }
}

export function assertEveryTrialOnce(dir: string, budget: number): void {
  const trials = storedTrials(dir);
  assert.equal(trials.length, budget, 'one stored trial per budget slot');
  assert.deepEqual(trials.map((t) => t.id), Array.from({ length: budget }, (_, i) => i), 'trial ids 0..budget-1, each once');
  for (const t of trials) assert.equal(t.status, 'done', `trial ${t.id}: ${t.error ?? ''} (an infrastructure failure must never be scored as a failed architecture)`);
}

export interface TestCertificates {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** A second CA that signed nothing of this server's. */
  readonly otherCaFile: string;
}

/** A throwaway CA and a server certificate for 127.0.0.1 / localhost signed by it (openssl, 1 day). */
export function makeTestCertificates(dir: string): TestCertificates {
  const f = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '1', '-subj', '/CN=mnas test CA');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('other-ca.key'), '-out', f('other-ca.crt'), '-days', '1', '-subj', '/CN=mnas other CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '1', '-extfile', f('server.ext'));
  return { caFile: f('ca.crt'), certFile: f('server.crt'), keyFile: f('server.key'), otherCaFile: f('other-ca.crt') };
}
