import { test } from 'node:test';
import assert from 'node:assert/strict';
import { paretoFront, dominates, ParetoFront } from './pareto.js';
import { Rng } from '../util/rng.js';

const P = (accuracy: number, latencyMs: number, id = 0) => ({ accuracy, latencyMs, id });

test('dominates', () => {
  assert.ok(dominates(P(0.9, 10), P(0.8, 10)));
  assert.ok(dominates(P(0.9, 10), P(0.9, 11)));
  assert.ok(!dominates(P(0.9, 10), P(0.9, 10)));
  assert.ok(!dominates(P(0.9, 10), P(0.95, 20)));
});

test('front keeps non-dominated points in input order', () => {
  const pts = [P(0.5, 5, 0), P(0.7, 20, 1), P(0.6, 4, 2), P(0.7, 30, 3), P(0.9, 50, 4), P(0.65, 20, 5)];
  assert.deepEqual(paretoFront(pts).map((p) => p.id), [1, 2, 4]);
});

test('duplicates: first occurrence represents equal points', () => {
  const pts = [P(0.5, 5, 0), P(0.5, 5, 1), P(0.4, 1, 2)];
  assert.deepEqual(paretoFront(pts).map((p) => p.id), [0, 2]);
});

test('rejects non-finite points', () => {
  assert.throws(() => paretoFront([P(Number.NaN, 1)]), /finite/);
});

test('matches brute force on random points, independent of incremental order effects', () => {
  const rng = new Rng(7);
  for (let round = 0; round < 50; round++) {
    const pts = Array.from({ length: 40 }, (_, id) => P(rng.int(10) / 10, 1 + rng.int(10), id));
    const brute = pts.filter((p, i) => !pts.some((q, j) => dominates(q, p) || (j < i && q.accuracy === p.accuracy && q.latencyMs === p.latencyMs)));
    assert.deepEqual(paretoFront(pts).map((p) => p.id), brute.map((p) => p.id));
    const f = new ParetoFront<(typeof pts)[number]>();
    pts.forEach((p) => f.add(p));
    const sorted = f.byLatency();
    for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i]!.latencyMs > sorted[i - 1]!.latencyMs && sorted[i]!.accuracy > sorted[i - 1]!.accuracy);
  }
});
