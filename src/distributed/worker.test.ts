/**
 * The worker's side of job validation, against a real Redis: invalid job data fails at once
 * without retries (a worker never runs what it cannot validate), an architecture that cannot be
 * built is a result (the architecture's failure), a describe job names the device.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue, QueueEvents } from 'bullmq';
import { measureQueue, MeasureOutcomeSchema, QUEUE_PREFIX } from './jobs.js';
import { parseRedisUrl, queueConnection } from './redis-url.js';
import { startLocalRedis } from './local-redis.js';
import { SearchWorker } from './worker.js';
import { printArch } from '../space/arch-string.js';
import { presetArch } from '../space/presets.js';

test('worker: invalid jobs fail without retry; an unbuildable architecture is a rejected result; describe names the device', { timeout: 60_000 }, async () => {
  const redis = await startLocalRedis();
  const target = parseRedisUrl(redis.url, {});
  const worker = await SearchWorker.start({ target, jobs: ['measure'], device: 'ort-cpu', statusMs: 200 });
  const queue = new Queue(measureQueue('ort-cpu'), { connection: queueConnection(target, 'test'), prefix: QUEUE_PREFIX });
  const events = new QueueEvents(measureQueue('ort-cpu'), { connection: queueConnection(target, 'test-events'), prefix: QUEUE_PREFIX });
  await events.waitUntilReady();
  const device = { kind: 'ort-cpu', threads: 1, joinTimeoutS: 10 };
  try {
    const bad = await queue.add('measure', { type: 'measure', runId: 'run12345', device, arch: 'x', layers: { from: 0, to: 1 }, seed: 0, name: 'n', shell: 'rm -rf /' }, { jobId: 'bad', attempts: 3 });
    await assert.rejects(bad.waitUntilFinished(events, 20_000), /invalid measure job: .*shell/);
    assert.equal((await queue.getJob('bad'))!.attemptsMade, 1, 'not retried');

    const unbuildable = await queue.add('measure', { type: 'measure', runId: 'run12345', device, arch: 'in28x28x1_cls10:nonsense', layers: { from: 0, to: 1 }, seed: 0, name: 'n' }, { jobId: 'unbuildable', attempts: 3 });
    const rejected = MeasureOutcomeSchema.parse(await unbuildable.waitUntilFinished(events, 20_000));
    assert.equal(rejected.status, 'rejected');

    const describe = await queue.add('describe', { type: 'describe', runId: 'run12345', device }, { jobId: 'describe' });
    const described = MeasureOutcomeSchema.parse(await describe.waitUntilFinished(events, 20_000));
    assert.equal(described.status === 'described' && described.description.kind, 'ort-cpu');
    assert.equal(described.worker, worker.id);

    const status = worker.status();
    assert.deepEqual([status.done.measure, status.failed.measure], [2, 1]);
  } finally {
    await events.close();
    await queue.close();
    await worker.close();
    await redis.stop();
  }
});

test('worker: a job running past --job-timeout is cancelled and failed as an infrastructure failure (retried), never returned as a result', { timeout: 60_000 }, async () => {
  const redis = await startLocalRedis();
  const target = parseRedisUrl(redis.url, {});
  const worker = await SearchWorker.start({ target, jobs: ['measure'], device: 'ort-cpu', statusMs: 200, jobTimeoutSeconds: 1 });
  const queue = new Queue(measureQueue('ort-cpu'), { connection: queueConnection(target, 'test'), prefix: QUEUE_PREFIX });
  const events = new QueueEvents(measureQueue('ort-cpu'), { connection: queueConnection(target, 'test-events'), prefix: QUEUE_PREFIX });
  await events.waitUntilReady();
  try {
    const slow = { type: 'measure', runId: 'run12345', device: { kind: 'ort-cpu', threads: 1, joinTimeoutS: 10 }, arch: printArch(presetArch('fmnist-default')), layers: { from: 0, to: 1 }, seed: 0, name: 'slow', protocol: { minSeconds: 4, maxSeconds: 6, minRuns: 100000, maxRuns: 1000000 } };
    const job = await queue.add('measure', slow, { jobId: 'slow', attempts: 2 });
    await assert.rejects(job.waitUntilFinished(events, 30_000), /timed out after 1 s/);
    assert.equal((await queue.getJob('slow'))!.attemptsMade, 2, 'retried by BullMQ');
  } finally {
    await events.close();
    await queue.close();
    await worker.close();
    await redis.stop();
  }
});
