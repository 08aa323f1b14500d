import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setThreadAffinity, threadAffinity } from './thread-affinity.js';

const linux = process.platform === 'linux';

/** The main thread's cores as the kernel reports them. */
function kernelCores(): string {
  return /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${process.pid}/task/${process.pid}/status`, 'utf8'))![1]!;
}

test('setThreadAffinity pins the calling (main) thread, threadAffinity reads it back, and the thread gets its cores back', { skip: !linux && 'Linux only' }, () => {
  const cores = threadAffinity();
  assert.ok(cores && cores.length >= 1, 'the addon is built and reads the affinity');
  assert.equal(cores.join(','), kernelCores().split(',').flatMap((r) => {
    const [a, b] = r.split('-').map(Number);
    return Array.from({ length: (b ?? a!) - a! + 1 }, (_, i) => a! + i);
  }).join(','));
  const last = cores.at(-1)!;
  try {
    assert.equal(setThreadAffinity([last]), true);
    assert.deepEqual(threadAffinity(), [last]);
    assert.equal(kernelCores(), String(last));
  } finally {
    assert.equal(setThreadAffinity(cores), true);
  }
  assert.deepEqual(threadAffinity(), cores);
});

test('setThreadAffinity refuses a bad core list by name and index, and says false for cores the thread may not have', { skip: !linux && 'Linux only' }, () => {
  const before = threadAffinity();
  assert.throws(() => setThreadAffinity([]), (e: Error) => e instanceof RangeError && /cores must not be empty/.test(e.message));
  assert.throws(() => setThreadAffinity([0, -1]), (e: Error) => e instanceof RangeError && /cores\[1\] must be a core id .* got -1/.test(e.message));
  assert.throws(() => setThreadAffinity([0.5]), /cores\[0\] must be a core id/);
  assert.throws(() => setThreadAffinity([1e9]), /cores\[0\] must be a core id/);
  assert.throws(() => setThreadAffinity(['0'] as unknown as number[]), /cores\[0\] must be a core id/);
  assert.throws(() => setThreadAffinity('0' as unknown as number[]), (e: Error) => e instanceof TypeError && /cores must be an array/.test(e.message));
  // a core id the kernel accepts in a set but this machine does not have: EINVAL, reported as false
  assert.equal(setThreadAffinity([1000]), false);
  assert.deepEqual(threadAffinity(), before, 'nothing changed');
});
