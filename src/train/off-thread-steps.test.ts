import { test } from 'node:test';
import assert from 'node:assert/strict';
import { offThreadStep, offThreadStepsIdle, offThreadStepsRunning } from './off-thread-steps.js';

test('off-thread steps: counted while running, idle resolves once every one has settled (rejections too)', async () => {
  assert.equal(offThreadStepsRunning(), 0);
  await offThreadStepsIdle(); // none: at once
  let finishA: () => void = () => undefined;
  let failB: (e: Error) => void = () => undefined;
  const a = offThreadStep(new Promise<void>((r) => (finishA = r)));
  const b = offThreadStep(new Promise<void>((_, j) => (failB = j)));
  b.catch(() => undefined);
  assert.equal(offThreadStepsRunning(), 2);
  let idle = false;
  const waiting = offThreadStepsIdle().then(() => (idle = true));
  finishA();
  await a;
  await new Promise((r) => setImmediate(r));
  assert.equal(idle, false, 'one still running');
  assert.equal(offThreadStepsRunning(), 1);
  failB(new Error('failed off thread'));
  await waiting;
  assert.equal(idle, true);
  assert.equal(offThreadStepsRunning(), 0);
  await assert.rejects(b, /failed off thread/, 'the step itself still rejects for its caller');
});
