import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrainingHold } from './proxy-trial.js';

test('TrainingHold: the gate is open until a hold, closed while it runs, and steps resume on a later turn of the event loop', async () => {
  const hold = new TrainingHold();
  assert.equal(hold.gate(), undefined, 'open');
  let release: () => void = () => undefined;
  const during = hold.holdWhile(() => new Promise<void>((r) => (release = r)));
  const closed = hold.gate();
  assert.ok(closed, 'closed while the hold runs');
  const order: string[] = [];
  const step = closed.then(() => order.push('step'));
  await new Promise<void>((resolve) =>
    setTimeout(() => {
      // as the end of a measurement may: from an I/O callback, with other work queued behind it
      release();
      setImmediate(() => {
        order.push('queued after the release');
        resolve();
      });
    }, 1),
  );
  await during;
  await step;
  assert.deepEqual(order, ['queued after the release', 'step'], 'the step does not run straight from the release');
  assert.equal(hold.gate(), undefined, 'open again');
});
