/**
 * The coordinator's job semantics against a real Redis and real BullMQ workers: a job id is
 * submitted once and re-attached to; a finished job gives its stored value without running
 * again; a failing job is submitted again under the next id, and after the last submission the
 * search is stopped (onFatal) instead of a result being invented.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UnrecoverableError, Worker } from 'bullmq';
import { DistributedJobError, JobClient } from './job-client.js';
import { QUEUE_PREFIX } from './jobs.js';
import { parseRedisUrl, queueConnection } from './redis-url.js';
import { startLocalRedis } from './local-redis.js';

test('JobClient: one job per id, re-attached after a restart, resubmitted on failure, fatal after the last submission', { timeout: 60_000 }, async () => {
  const redis = await startLocalRedis();
  const target = parseRedisUrl(redis.url, {});
  const runs = new Map<string, number>();
  const worker = new Worker(
    'unit',
    async (job) => {
      runs.set(job.id!, (runs.get(job.id!) ?? 0) + 1);
      const data = job.data as { fail?: 'always' | 'first'; value: number };
      if (data.fail === 'always' || (data.fail === 'first' && job.id!.endsWith('.1'))) throw new UnrecoverableError(`cannot run ${job.id}`);
      await new Promise((r) => setTimeout(r, 100));
      return { value: data.value };
    },
    { connection: queueConnection(target, 'unit-worker'), prefix: QUEUE_PREFIX, concurrency: 4 },
  );
  const fatal: Error[] = [];
  const failures: string[] = [];
  const open = () =>
    JobClient.open({
      target,
      queue: 'unit',
      pollMs: 200,
      onFatal: (e) => fatal.push(e),
      onJobFailed: async (id) => {
        failures.push(id);
        return undefined;
      },
    });
  let client = await open();
  try {
    // two calls with the same ids share one job
    const [a, b] = await Promise.all([client.run((n) => `r.a.${n}`, 'x', { value: 1 }), client.run((n) => `r.a.${n}`, 'x', { value: 2 })]);
    assert.deepEqual([a, b], [{ value: 1 }, { value: 1 }]);
    assert.equal(runs.get('r.a.1'), 1);

    // a new client (a restarted coordinator) gets the finished job's value without running it again
    await client.close();
    client = await open();
    assert.deepEqual(await client.run((n) => `r.a.${n}`, 'x', { value: 3 }), { value: 1 });
    assert.equal(runs.get('r.a.1'), 1);

    // a job that fails once is submitted again under the next id
    assert.deepEqual(await client.run((n) => `r.b.${n}`, 'x', { value: 4, fail: 'first' }), { value: 4 });
    assert.deepEqual(failures, ['r.b.1']);
    assert.equal(fatal.length, 0);

    // a job that always fails stops the search after the last submission
    await assert.rejects(client.run((n) => `r.c.${n}`, 'x', { value: 5, fail: 'always' }), (e: unknown) => e instanceof DistributedJobError && /failed 3 times.*cannot run r\.c\.3/.test(e.message));
    assert.equal(fatal.length, 1);
    assert.deepEqual([runs.get('r.c.1'), runs.get('r.c.2'), runs.get('r.c.3')], [1, 1, 1], 'an unrecoverable failure is not retried by BullMQ');

    // a resumed coordinator (the workers fixed) skips the failed submissions and submits the next
    fatal.length = 0;
    await client.close();
    client = await open();
    await assert.rejects(client.run((n) => `r.c.${n}`, 'x', { value: 5, fail: 'always' }), /failed 3 times.*cannot run r\.c\.6/);
    assert.deepEqual([runs.get('r.c.1'), runs.get('r.c.4'), runs.get('r.c.6')], [1, 1, 1], 'earlier failures are not run again');

    // aborting leaves the job for a later session
    const controller = new AbortController();
    const pending = client.run((n) => `r.d.${n}`, 'x', { value: 6 }, controller.signal);
    controller.abort(new Error('interrupted'));
    await assert.rejects(pending, /interrupted/);
    assert.deepEqual(await client.run((n) => `r.d.${n}`, 'x', { value: 7 }), { value: 6 });
  } finally {
    await client.close();
    await worker.close();
    await redis.stop();
  }
});
