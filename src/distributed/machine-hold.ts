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
 * Every change (a measurer takes the key, a trainer acknowledges, the key is released) is also
 * published on the machine's channel, and whoever waits on one reads the keys again at once: a
 * trainer holds within a round trip of the key being taken and trains again within one of its
 * release, instead of at its next poll. The keys stay the truth; the polls (`pollMs`) remain for
 * a message lost while a connection was down.
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
const eventsChannel = (host: string) => `${QUEUE_PREFIX}:machine:${host}:events`;

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
  /** How often keys are read when no message comes (one lost while a connection was down), ms (default 500). */
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
  private subscriber: Redis | undefined;
  private subscribed: Promise<void> | undefined;
  private readonly waiting = new Set<() => void>();

  constructor(private readonly o: MachineHoldOptions) {}

  private get pollMs(): number {
    return this.o.pollMs ?? 500;
  }

  /** Listens to the machine's channel (once); every message wakes whoever waits in `change`. */
  private listen(): Promise<void> {
    if (!this.subscribed) {
      const sub = this.o.redis.duplicate();
      this.subscriber = sub;
      sub.on('error', () => {}); // Redis away: the polls go on, and ioredis subscribes again on reconnect
      sub.on('message', () => this.wakeAll());
      this.subscribed = sub.subscribe(eventsChannel(this.o.host)).then(
        () => undefined,
        () => undefined,
      );
    }
    return this.subscribed;
  }

  /**
   * Resolves at the next message on the machine's channel, or after `pollMs`. Taken before the
   * keys are read, so that a change between the read and the wait is not missed.
   */
  private change(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(done);
        resolve();
      };
      // a wait nobody awaits any more (the key was taken at once) must not keep the process alive
      const timer = setTimeout(done, this.pollMs).unref();
      this.waiting.add(done);
    });
  }

  private wakeAll(): void {
    for (const wake of [...this.waiting]) wake();
  }

  private announce(): Promise<unknown> {
    return this.o.redis.publish(eventsChannel(this.o.host), this.o.workerId).catch(() => 0);
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
    await this.listen();
    for (;;) {
      const changed = this.change();
      if ((await redis.set(measuringKey(host), token, 'PX', ttl, 'NX')) === 'OK') break;
      signal?.throwIfAborted();
      await changed;
    }
    await this.announce();
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
      await this.announce();
    }
  }

  private async waitForAcks(token: string, signal?: AbortSignal): Promise<void> {
    const { redis, host } = this.o;
    const deadline = Date.now() + (this.o.ackTimeoutMs ?? 60_000);
    for (;;) {
      signal?.throwIfAborted();
      const changed = this.change();
      // listed again every round: a worker that started meanwhile is waited for too
      const trainers = (await listWorkers(redis)).filter((w) => w.host === host && w.id !== this.o.workerId && w.jobs.includes('train') && w.refused.train === undefined);
      const acks = trainers.length ? await redis.hmget(acksKey(host), ...trainers.map((w) => w.id)) : [];
      const missing = trainers.filter((_, i) => acks[i] !== token);
      if (missing.length === 0) return;
      if (Date.now() > deadline) throw new Error(`training on this machine did not pause for a measurement within ${(this.o.ackTimeoutMs ?? 60_000) / 1000} s (${missing.map((w) => w.id).join(', ')})`);
      await changed;
    }
  }

  /** Starts holding this worker's training whenever another worker of this machine measures; resolves after the first look. */
  async follow(): Promise<void> {
    if (this.following) return;
    this.following = true;
    await this.listen();
    let changed = this.change();
    await this.followOnce();
    this.follower = (async () => {
      while (!this.stopped) {
        await changed;
        changed = this.change();
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
        await this.announce();
        while (!this.stopped) {
          const changed = this.change();
          if ((await redis.get(measuringKey(host)).catch(() => null)) !== token) break;
          await changed;
        }
      })
      .catch(() => {});
    await redis.hdel(acksKey(host), workerId).catch(() => {});
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.wakeAll();
    await this.follower;
    this.subscriber?.disconnect();
  }
}
