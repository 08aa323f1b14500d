import { test } from 'node:test';
import assert from 'node:assert/strict';
// the kernel's view of the main thread's cores (/proc)
import { mainThreadCores } from '../latency/core-choice.js';
import { setThreadAffinity } from './thread-affinity.js';

const linux = process.platform === 'linux';

test('setThreadAffinity pins the calling (main) thread as the kernel then reports it, and the thread gets its cores back', { skip: !linux && 'Linux only' }, () => {
  const cores = mainThreadCores();
  assert.ok(cores && cores.length >= 1);
  const last = cores.at(-1)!;
  try {
    assert.equal(setThreadAffinity([last]), true, 'the addon is built and sets the affinity');
    assert.deepEqual(mainThreadCores(), [last]);
  } finally {
    assert.equal(setThreadAffinity(cores), true);
  }
  assert.deepEqual(mainThreadCores(), cores);
});

test('setThreadAffinity refuses a bad core list by name and index, and says false for cores the thread may not have', { skip: !linux && 'Linux only' }, () => {
  const before = mainThreadCores();
  assert.throws(() => setThreadAffinity([]), (e: Error) => e instanceof RangeError && /cores must not be empty/.test(e.message));
  assert.throws(() => setThreadAffinity([0, -1]), (e: Error) => e instanceof RangeError && /cores\[1\] must be a core id .* got -1/.test(e.message));
  assert.throws(() => setThreadAffinity([0.5]), /cores\[0\] must be a core id/);
  assert.throws(() => setThreadAffinity([1e9]), /cores\[0\] must be a core id/);
  assert.throws(() => setThreadAffinity(['0'] as unknown as number[]), /cores\[0\] must be a core id/);
  assert.throws(() => setThreadAffinity('0' as unknown as number[]), (e: Error) => e instanceof TypeError && /cores must be an array/.test(e.message));
  // a core id the kernel accepts in a set but this machine does not have: EINVAL, reported as false
  assert.equal(setThreadAffinity([1000]), false);
  assert.deepEqual(mainThreadCores(), before, 'nothing changed');
});
