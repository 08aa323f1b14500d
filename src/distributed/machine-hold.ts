/**
 * The rule "a latency measurement never runs while its machine trains", across every `mnas
 * worker` process on one machine (same host name), through Redis:
 *
 * - A worker about to measure takes the machine's measuring key (SET NX, with an expiry it
 *   renews): one measurement per machine at a time. It then waits until every other live worker
 *   on the machine that trains has acknowledged the key (a hash field with the key's token), and
 *   only then measures; afterwards it deletes the key.
 * - Every worker that trains watches the key (`follow`): when another worker's token appears, it
 *   holds its own training (no step runs; new trials wait), acknowledges, and releases when the
 *   key is gone or changed.
 *
 * A measuring worker that dies leaves a key that expires (`ttlMs`), so training resumes; a
 * training worker that dies stops being listed once its status expires, so nobody waits for it
 * forever; if the others do not acknowledge within `ackTimeoutMs` the measurement fails as an
 * infrastructure failure (retried, never scored).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { timeQuietly } from '../latency/prepared.js';
import { QUEUE_PREFIX } from './jobs.js';
import { listWorkers } from './worker-registry.js';

const measuringKey = (host: string) => `${QUEUE_PREFIX}:machine:${host}:measuring`;
const acksKey = (host: string) => `${QUEUE_PREFIX}:machine:${host}:held`;

// delete the key only if it still holds our token (another measurer may own it after an expiry)
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export interface MachineHoldOptions {
  readonly redis: Redis;
  /** This machine (workers with the same host hold each other). */
  readonly host: string;
  /** This worker's id (as in the worker registry). */
  readonly workerId: string;
  /** Holds this worker's own training while fn runs (TrainingProcesses.holdWhile). */
  readonly holdTraining: <T>(fn: () => Promise<T>, ready?: Promise<unknown>) => Promise<T>;
  /** How often keys are read, ms (default 100). */
  readonly pollMs?: number;
  /** Expiry of the measuring key, renewed while measuring (default 10 s). */
  readonly ttlMs?: number;
  /** How long a measurement waits for the machine's other workers to hold (default 60 s). */
  readonly ackTimeoutMs?: number;
}

export class MachineHold {
  private following = false;
  private follower: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: MachineHoldOptions) {}

  private get pollMs(): number {
    return this.o.pollMs ?? 100;
  }

  /**
   * Runs `time` once no other worker on this machine trains and none measures; this worker's own
   * training is held too. The measurement's set-up (`prepare`, ../latency/prepared.ts) runs once
   * this worker is the machine's one measurer, while the machine's training comes to a stop.
   */
  async measurePrepared<P extends { close(): Promise<void> }, T>(prepare: () => Promise<P>, time: (prepared: P) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const { redis, host } = this.o;
    const token = `${this.o.workerId}:${randomBytes(4).toString('hex')}`;
    const ttl = this.o.ttlMs ?? 10_000;
    while ((await redis.set(measuringKey(host), token, 'PX', ttl, 'NX')) !== 'OK') {
      signal?.throwIfAborted();
      await sleep(this.pollMs);
    }
    const renew = setInterval(() => void redis.eval(RENEW, 1, measuringKey(host), token, String(ttl)).catch(() => {}), ttl / 4);
    try {
      return await timeQuietly(
        prepare,
        async (fn, ready) => {
          await this.waitForAcks(token, signal);
          return this.o.holdTraining(fn, ready);
        },
        time,
      );
    } finally {
      clearInterval(renew);
      await redis.eval(RELEASE, 1, measuringKey(host), token).catch(() => {});
    }
  }

  private async waitForAcks(token: string, signal?: AbortSignal): Promise<void> {
    const { redis, host } = this.o;
    const deadline = Date.now() + (this.o.ackTimeoutMs ?? 60_000);
    for (;;) {
      signal?.throwIfAborted();
      // listed again every round: a worker that started meanwhile is waited for too
      const trainers = (await listWorkers(redis)).filter((w) => w.host === host && w.id !== this.o.workerId && w.jobs.includes('train') && w.refused.train === undefined);
      const acks = trainers.length ? await redis.hmget(acksKey(host), ...trainers.map((w) => w.id)) : [];
      const missing = trainers.filter((_, i) => acks[i] !== token);
      if (missing.length === 0) return;
      if (Date.now() > deadline) throw new Error(`training on this machine did not pause for a measurement within ${(this.o.ackTimeoutMs ?? 60_000) / 1000} s (${missing.map((w) => w.id).join(', ')})`);
      await sleep(this.pollMs);
    }
  }

  /** Starts holding this worker's training whenever another worker of this machine measures; resolves after the first look. */
  async follow(): Promise<void> {
    if (this.following) return;
    this.following = true;
    await this.followOnce();
    this.follower = (async () => {
      while (!this.stopped) {
        await sleep(this.pollMs);
        await this.followOnce();
      }
    })();
  }

  private async followOnce(): Promise<void> {
    const { redis, host, workerId } = this.o;
    let token: string | null;
    try {
      token = await redis.get(measuringKey(host));
    } catch {
      return; // Redis away: nobody can measure through it either
    }
    if (token === null || token.startsWith(`${workerId}:`)) return;
    await this.o
      .holdTraining(async () => {
        await redis.hset(acksKey(host), workerId, token);
        while (!this.stopped && (await redis.get(measuringKey(host)).catch(() => null)) === token) await sleep(this.pollMs);
      })
      .catch(() => {});
    await redis.hdel(acksKey(host), workerId).catch(() => {});
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.follower;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
