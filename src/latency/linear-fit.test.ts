import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitLinear, predictLinear } from './linear-fit.js';
import { Rng } from '../util/rng.js';

test('recovers the coefficients of noiseless data in the features own units, whatever their scales', () => {
  const rng = new Rng(3);
  const truth = [0.05, 2e-7, 0.8, -0.03];
  const xs = Array.from({ length: 40 }, () => [rng.next() * 5e6, rng.next(), Math.floor(rng.next() * 12)]);
  const ys = xs.map((x) => predictLinear({ coefficients: truth }, x));
  const m = fitLinear(xs, ys, { weights: ys.map((y) => 1 / y ** 2), ridge: 0 });
  m.coefficients.forEach((c, j) => assert.ok(Math.abs(c - truth[j]!) <= 1e-9 * Math.max(1, Math.abs(truth[j]!)) + 1e-12, `coefficient ${j}: ${c} against ${truth[j]}`));
});

test('a feature that never varies gets no weight instead of a singular system; fewer than 2 points are refused', () => {
  const xs = [[1, 7], [2, 7], [3, 7], [4, 7]];
  const m = fitLinear(xs, [3, 5, 7, 9], { ridge: 1e-6 });
  assert.ok(Math.abs(m.coefficients[2]!) < 1e-9, `constant feature: ${m.coefficients[2]}`);
  assert.ok(Math.abs(predictLinear(m, [5, 7]) - 11) < 1e-4);
  assert.throws(() => fitLinear([[1]], [1]), /at least 2 points/);
  assert.throws(() => fitLinear([[1], [2]], [1]), /rows and targets differ/);
});

test('weights decide which points the fit follows', () => {
  const xs = [[0], [1], [2], [3]];
  const ys = [0, 1, 2, 30];
  const heavy = fitLinear(xs, ys, { weights: [1, 1, 1, 1e-9], ridge: 0 });
  assert.ok(Math.abs(predictLinear(heavy, [1.5]) - 1.5) < 1e-6, 'the point weighted ~0 is ignored');
});
