import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchCount, planEpoch } from './batches.js';

const indices = Int32Array.from({ length: 103 }, (_, i) => i * 2 + 1); // a subset: odd indices

test('each epoch visits every index exactly once, in batches of batchSize with a short last one', () => {
  const plan = planEpoch(indices, 0, { batchSize: 10, seed: 4 });
  assert.equal(plan.batches.length, 11);
  assert.equal(batchCount(103, 10), 11);
  assert.deepEqual(plan.batches.map((b) => b.indices.length), [...new Array(10).fill(10), 3]);
  const visited = plan.batches.flatMap((b) => [...b.indices]).sort((a, b) => a - b);
  assert.deepEqual(visited, [...indices]);
  assert.notDeepEqual([...plan.order], [...indices], 'shuffled');
  assert.equal(plan.batches[0]!.augmentation, undefined);
});

test('dropLast leaves out the short batch', () => {
  const plan = planEpoch(indices, 0, { batchSize: 10, seed: 4, dropLast: true });
  assert.equal(plan.batches.length, 10);
  assert.equal(batchCount(103, 10, true), 10);
  assert.ok(plan.batches.every((b) => b.indices.length === 10));
});

test('plans depend only on (seed, epoch): re-planning in any order matches, epochs and seeds differ', () => {
  const options = { batchSize: 16, seed: 9, augmentation: { padding: 2, flip: true } };
  const e2 = planEpoch(indices, 2, options);
  planEpoch(indices, 0, options);
  const e2again = planEpoch(indices, 2, options);
  assert.deepEqual(e2, e2again);
  assert.notDeepEqual(planEpoch(indices, 3, options).order, e2.order);
  assert.notDeepEqual(planEpoch(indices, 2, { ...options, seed: 10 }).order, e2.order);
});

test('shuffle: false keeps order (for evaluation); bad sizes are errors', () => {
  const plan = planEpoch(indices, 5, { batchSize: 50, shuffle: false });
  assert.deepEqual([...plan.order], [...indices]);
  assert.deepEqual([...plan.batches[2]!.indices], [...indices.subarray(100)]);
  assert.throws(() => planEpoch(indices, 0, { batchSize: 0 }), /batches\.ts: batchSize must be a positive integer, got 0/);
  assert.throws(() => planEpoch(indices, -1, { batchSize: 4 }), /epoch must be a non-negative integer/);
});

test('augmentation decisions come with every batch, sized to it, within range', () => {
  const plan = planEpoch(indices, 1, { batchSize: 32, seed: 1, augmentation: { padding: 4, flip: true } });
  for (const b of plan.batches) {
    const a = b.augmentation!;
    assert.equal(a.count, b.indices.length);
    assert.equal(a.padding, 4);
    assert.ok(a.cropY.every((v) => v <= 8) && a.cropX.every((v) => v <= 8));
    assert.ok(a.flip.every((v) => v === 0 || v === 1));
  }
});
