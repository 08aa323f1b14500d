import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deferredStep, deferredStepsIdle, deferredStepsRunning } from './deferred-steps.js';

test('deferred steps: counted while running, idle resolves once every one has settled (rejections too)', async () => {
  assert.equal(deferredStepsRunning(), 0);
  await deferredStepsIdle(); // none: at once
  let finishA: () => void = () => undefined;
  let failB: (e: Error) => void = () => undefined;
  const a = deferredStep(new Promise<void>((r) => (finishA = r)));
  const b = deferredStep(new Promise<void>((_, j) => (failB = j)));
  b.catch(() => undefined);
  assert.equal(deferredStepsRunning(), 2);
  let idle = false;
  const waiting = deferredStepsIdle().then(() => (idle = true));
  finishA();
  await a;
  await new Promise((r) => setImmediate(r));
  assert.equal(idle, false, 'one still running');
  assert.equal(deferredStepsRunning(), 1);
  failB(new Error('the deferred call failed'));
  await waiting;
  assert.equal(idle, true);
  assert.equal(deferredStepsRunning(), 0);
  await assert.rejects(b, /the deferred call failed/, 'the step itself still rejects for its caller');
});
