import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalPool } from './executor.js';
import { sleep } from './evaluator.js';

test('LocalPool never exceeds its concurrency and returns results in input order', async () => {
  const pool = new LocalPool(3);
  let active = 0;
  let peak = 0;
  const tasks = Array.from({ length: 12 }, (_, i) => async () => {
    active++;
    peak = Math.max(peak, active);
    await sleep(1 + ((i * 7) % 5));
    active--;
    if (i === 5) throw new Error('task 5 failed');
    return i * 10;
  });
  const res = await pool.run(tasks);
  assert.equal(peak, 3);
  assert.deepEqual(res.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)), [0, 10, 20, 30, 40, 'task 5 failed', 60, 70, 80, 90, 100, 110]);
  assert.equal(pool.running, 0);
  assert.throws(() => new LocalPool(0), /concurrency/);
});

test('LocalPool: abort rejects queued tasks and signals running ones', async () => {
  const pool = new LocalPool(1);
  const ac = new AbortController();
  let started = 0;
  const slow = (signal: AbortSignal) => {
    started++;
    return sleep(10_000, signal).then(() => 'late');
  };
  const a = pool.submit(slow, ac.signal);
  const b = pool.submit(slow, ac.signal);
  ac.abort(new Error('stop'));
  await assert.rejects(a, /stop/);
  await assert.rejects(b, /stop/);
  assert.equal(started, 1, 'the queued task never started');
  assert.equal(await pool.submit(async () => 'next'), 'next');
});
