import assert from 'node:assert/strict';
import { test } from 'node:test';
import { median, quantileSorted } from './stats.js';

test('quantiles of sorted values interpolate between order statistics (type 7)', () => {
  const s = Float64Array.from({ length: 10 }, (_, i) => i + 1);
  assert.equal(quantileSorted(s, 0.5), 5.5);
  assert.equal(quantileSorted(s, 0), 1);
  assert.equal(quantileSorted(s, 1), 10);
  assert.ok(Math.abs(quantileSorted(s, 0.1) - 1.9) < 1e-12);
  assert.equal(quantileSorted([7], 0.9), 7);
  assert.throws(() => quantileSorted([], 0.5), /quantile of no values/);
});

test('median: middle value, mean of the two middle ones, any order, input untouched', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([5]), 5);
  assert.equal(median([-1, -3, 10, 0.5, 2]), 0.5);
  // numeric order, not string order
  assert.equal(median([10, 9, 100]), 10);
  assert.equal(median(Float64Array.from([2, 8])), 5);
  const xs = [3, 1, 2];
  median(xs);
  assert.deepEqual(xs, [3, 1, 2]);
  assert.throws(() => median([]), /median of no values/);
});
