import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fastSpeedMs } from './speed-mode.js';

test('fastSpeedMs: the quarter quantile of the reference\'s timings, whichever mode most of them ran in', () => {
  assert.equal(fastSpeedMs([1, 1, 1, 1.4, 1.4, 1.4, 1.4, 1.4]), 1);
  assert.equal(fastSpeedMs([1.4, 1.4, 1.4, 1.4, 1, 1, 1, 1.4].reverse()), 1, 'in any order');
  assert.equal(fastSpeedMs([2]), 2);
  assert.throws(() => fastSpeedMs([]), /no reference timings/);
});
