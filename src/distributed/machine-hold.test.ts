/**
 * MachineHold against a real Redis: a measurement waits for the other training workers of its
 * host to hold, runs inside their hold, excludes other measurements of the host, and fails (an
 * infrastructure failure) when a listed trainer never acknowledges; workers of other hosts are
 * not waited for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startLocalRedis } from './local-redis.js';
import { MachineHold } from './machine-hold.js';
import { connectionOptions, parseRedisUrl } from './redis-url.js';
import { publishStatus } from './worker-registry.js';
import { listedStatus as status } from './testing.js';

/** A real Redis, a log, and holdTraining functions that log when each worker's training is held and released. */
async function onRedis(body: (redis: Redis, log: string[], holding: (who: string) => <T>(fn: () => Promise<T>) => Promise<T>) => Promise<void>): Promise<void> {
  const server = await startLocalRedis();
  const redis = new Redis(connectionOptions(parseRedisUrl(server.url, {}), 'test'));
  const log: string[] = [];
  const holding = (who: string) => async <T>(fn: () => Promise<T>): Promise<T> => {
    log.push(`${who} hold`);
    try {
      return await fn();
    } finally {
      log.push(`${who} release`);
    }
  };
  try {
    await body(redis, log, holding);
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

test('MachineHold: measurements run inside the holds of the host\'s other trainers, one at a time; a silent trainer fails the measurement', { timeout: 60_000 }, () =>
  onRedis(async (redis, log, holding) => {
    const trainer = new MachineHold({ redis, host: 'box', workerId: 'trainer', holdTraining: holding('trainer'), pollMs: 20 });
    const measurer = new MachineHold({ redis, host: 'box', workerId: 'measurer', holdTraining: holding('measurer'), pollMs: 20, ackTimeoutMs: 2000 });
    const other = new MachineHold({ redis, host: 'box', workerId: 'other', holdTraining: holding('other'), pollMs: 20 });
    try {
      await publishStatus(redis, status('trainer', 'box', ['train']), 30_000);
      await publishStatus(redis, status('elsewhere', 'another-box', ['train']), 30_000); // never acknowledges: another machine
      await trainer.follow();
      const measured = (who: string, hold: MachineHold) =>
        hold.measurePrepared(
          async () => ({ close: async () => {} }),
          async () => {
            log.push(`${who} measures`);
            await new Promise((r) => setTimeout(r, 150));
            log.push(`${who} done`);
          },
        );
      await Promise.all([measured('measurer', measurer), measured('other', other)]);
      // each measurement inside the trainer's hold and its own, never two at once
      const i = log.indexOf('measurer measures');
      const j = log.indexOf('other measures');
      assert.ok(i >= 0 && j >= 0, log.join(', '));
      for (const who of ['measurer', 'other']) {
        const start = log.indexOf(`${who} measures`);
        const end = log.indexOf(`${who} done`);
        assert.equal(log[end + 1], `${who} release`);
        assert.ok(log.slice(0, start).lastIndexOf('trainer hold') > log.slice(0, start).lastIndexOf('trainer release'), `trainer held during ${who}: ${log.join(', ')}`);
        assert.ok(!log.slice(start + 1, end).some((l) => l.endsWith('measures')), 'one measurement at a time');
      }

      // a trainer of this host that is listed but never acknowledges: the measurement fails, not measured
      await trainer.close();
      await publishStatus(redis, status('silent', 'box', ['train']), 30_000);
      await assert.rejects(measured('measurer', measurer), /training on this machine did not pause for a measurement within 2 s \((trainer, silent|silent, trainer|silent)\)/);
      assert.equal(await redis.exists('mnas:machine:box:measuring'), 0, 'the key is released after a failure');
    } finally {
      for (const h of [trainer, measurer, other]) await h.close();
    }
  }),
);

test('MachineHold: a measurement\'s set-up runs once it is the host\'s one measurer, before training has stopped, and is closed after the hold', { timeout: 60_000 }, () =>
  onRedis(async (redis, log, holding) => {
    // like a real trainer, this one comes to a stop some time after it is asked to (its step ends):
    // a set-up that waited for the stop would come after 'trainer hold'
    const stopping = holding('trainer');
    const slowToStop = <T>(fn: () => Promise<T>): Promise<T> => new Promise((r) => setTimeout(r, 400)).then(() => stopping(fn));
    const trainer = new MachineHold({ redis, host: 'box', workerId: 'trainer', holdTraining: slowToStop, pollMs: 20 });
    const a = new MachineHold({ redis, host: 'box', workerId: 'a', holdTraining: holding('a'), pollMs: 20 });
    const b = new MachineHold({ redis, host: 'box', workerId: 'b', holdTraining: holding('b'), pollMs: 20 });
    try {
      await publishStatus(redis, status('trainer', 'box', ['train']), 30_000);
      await trainer.follow();
      const measured = (who: string, hold: MachineHold) =>
        hold.measurePrepared(
          async () => {
            log.push(`${who} prepare`);
            return { close: async () => void log.push(`${who} close`) };
          },
          async () => {
            log.push(`${who} measures`);
            await new Promise((r) => setTimeout(r, 100));
            log.push(`${who} done`);
            return who;
          },
        );
      assert.deepEqual(await Promise.all([measured('a', a), measured('b', b)]), ['a', 'b']);
      const first = log.indexOf('a prepare') < log.indexOf('b prepare') ? 'a' : 'b';
      const second = first === 'a' ? 'b' : 'a';
      const at = (line: string) => log.indexOf(line);
      // the first set-up ran before the trainer held, the timing inside the hold, the close after it
      assert.ok(at(`${first} prepare`) < at('trainer hold'), log.join(', '));
      assert.ok(at('trainer hold') < at(`${first} measures`) && at(`${first} close`) > at(`${first} release`), log.join(', '));
      // the second measurer set up only once the first had finished: never beside another's timing
      assert.ok(at(`${second} prepare`) > at(`${first} done`), log.join(', '));
    } finally {
      for (const h of [trainer, a, b]) await h.close();
    }
  }),
);

test('MachineHold: a trainer holds and trains again on the machine\'s messages, not at its next poll', { timeout: 60_000 }, () =>
  onRedis(async (redis, log, holding) => {
    // polls 10 s apart: only the messages can make a measurement and its release quick
    const trainer = new MachineHold({ redis, host: 'box', workerId: 'trainer', holdTraining: holding('trainer'), pollMs: 10_000 });
    const measurer = new MachineHold({ redis, host: 'box', workerId: 'measurer', holdTraining: holding('measurer'), pollMs: 10_000 });
    try {
      await publishStatus(redis, status('trainer', 'box', ['train']), 30_000);
      await trainer.follow();
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        await measurer.measurePrepared(
          async () => ({ close: async () => {} }),
          async () => void log.push('measures'),
        );
        while (log.filter((l) => l === 'trainer release').length <= i) await new Promise((r) => setTimeout(r, 5));
        const ms = performance.now() - t0;
        assert.ok(ms < 5000, `measurement ${i}: held and released in ${ms.toFixed(0)} ms, not at a 10 s poll`);
      }
      assert.deepEqual(log.filter((l) => l.startsWith('trainer') || l === 'measures'), ['trainer hold', 'measures', 'trainer release', 'trainer hold', 'measures', 'trainer release', 'trainer hold', 'measures', 'trainer release']);
    } finally {
      const t0 = performance.now();
      await trainer.close();
      await measurer.close();
      assert.ok(performance.now() - t0 < 5000, 'close does not wait for a poll');
    }
  }),
);
