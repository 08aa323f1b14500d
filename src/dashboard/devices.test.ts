import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { REDIS_SERVER, startLocalRedis } from '../distributed/local-redis.js';
import { publishStatus, type WorkerStatus } from '../distributed/worker-registry.js';
import { devicesView } from './devices.js';

test('devicesView: nothing asked, nothing shown; an unreachable farm or Redis is reported, not thrown', async () => {
  assert.deepEqual(await devicesView({ farmUrl: null, redis: null }), { farm: null, workers: null });
  const v = await devicesView({ farmUrl: 'http://127.0.0.1:9/control?token=secret-secret-secret', redis: 'redis://:pw@127.0.0.1:9', timeoutMs: 2000 });
  assert.ok(v.farm && 'error' in v.farm && /unreachable/.test(v.farm.error), JSON.stringify(v.farm));
  assert.equal(v.farm.url, 'http://127.0.0.1:9/control?token=<secret>');
  assert.ok(v.workers && 'error' in v.workers, JSON.stringify(v.workers));
  assert.doesNotMatch(JSON.stringify(v), /secret-secret|pw@/);
});

test('devicesView: the workers a distributed search has in its Redis', { skip: existsSync(REDIS_SERVER) ? false : `no ${REDIS_SERVER}`, timeout: 60_000 }, async () => {
  const redis = await startLocalRedis();
  const client = new Redis(redis.url);
  try {
    const now = new Date().toISOString();
    const status: WorkerStatus = {
      id: 'host-a.1234',
      host: 'host-a',
      pid: 1234,
      jobs: ['train'],
      device: null,
      processes: 2,
      threads: 1,
      running: [{ job: 'run1.t7', kind: 'train', since: now }],
      done: { train: 5, measure: 0 },
      failed: { train: 0, measure: 0 },
      refused: {},
      startedAt: now,
      seenAt: now,
    };
    await publishStatus(client, status, 60_000);
    const v = await devicesView({ farmUrl: null, redis: redis.url });
    assert.ok(v.workers && 'workers' in v.workers);
    assert.deepEqual(v.workers.workers.map((w) => [w.id, w.running.length, w.done.train]), [['host-a.1234', 1, 5]]);
    assert.ok(Object.keys(v.workers.queues).length > 0);
  } finally {
    client.disconnect();
    await redis.stop();
  }
});
