import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachResample, percentileInterval } from './bootstrap.js';

function collect(n: number, rounds: number, seed: number): number[][] {
  const out: number[][] = [];
  forEachResample(n, rounds, seed, (indices) => out.push([...indices]));
  return out;
}

test('resamples draw n indices in range, with replacement, the same for the same seed', () => {
  const a = collect(10, 200, 3);
  assert.equal(a.length, 200);
  for (const r of a) {
    assert.equal(r.length, 10);
    assert.ok(r.every((i) => Number.isInteger(i) && i >= 0 && i < 10));
  }
  assert.ok(a.some((r) => new Set(r).size < 10), 'some resample repeats an item');
  assert.deepEqual(collect(10, 200, 3), a);
  assert.notDeepEqual(collect(10, 200, 4), a);
  // every item is about equally likely: 2,000 draws of 10 items, each expected 200 times
  const counts = new Array<number>(10).fill(0);
  for (const r of a) for (const i of r) counts[i]!++;
  assert.ok(counts.every((c) => c > 140 && c < 260), String(counts));
});

test('bad sizes are refused', () => {
  assert.throws(() => forEachResample(0, 10, 0, () => {}), /at least one item/);
  assert.throws(() => forEachResample(5, 0, 0, () => {}), /rounds/);
  assert.throws(() => percentileInterval([1], 1), /level/);
});

test('the percentile interval cuts equal tails', () => {
  const values = Array.from({ length: 101 }, (_, i) => 100 - i);
  const [lo, hi] = percentileInterval(values, 0.9)!;
  assert.ok(Math.abs(lo - 5) < 1e-9 && Math.abs(hi - 95) < 1e-9, `${lo} ${hi}`);
  assert.deepEqual(percentileInterval([2], 0.9), [2, 2]);
  assert.equal(percentileInterval([], 0.9), null);
});
