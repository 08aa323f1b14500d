import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultValidationSize, makeDataSplit, proportionalQuotas, splitTrainingSet } from './split.js';
import { classHistogram } from './dataset.js';
import { makeSyntheticDataset } from './synthetic.js';

/** A label-only training set shaped like Fashion-MNIST: 60,000 samples, 6,000 per class, shuffled. */
const fashionLike = {
  name: 'labels-only', count: 60_000, classes: 10,
  labels: Uint8Array.from({ length: 60_000 }, (_, i) => (i * 7919) % 10),
};

function assertSortedDisjointInRange(a: Int32Array, b: Int32Array, count: number): void {
  const seen = new Uint8Array(count);
  for (const arr of [a, b]) {
    for (let k = 0; k < arr.length; k++) {
      const i = arr[k]!;
      assert.ok(i >= 0 && i < count, `index ${i} in range`);
      if (k > 0) assert.ok(arr[k - 1]! < i, 'ascending without repeats');
      assert.equal(seen[i], 0, `index ${i} appears in both parts`);
      seen[i] = 1;
    }
  }
}

test('default: 10,000 stratified validation images (1,000 per class), the other 50,000 for training, disjoint', () => {
  assert.equal(defaultValidationSize(fashionLike), 10_000);
  const { train, validation } = splitTrainingSet(fashionLike, { seed: 1 });
  assert.equal(validation.length, 10_000);
  assert.equal(train.length, 50_000);
  assertSortedDisjointInRange(train, validation, 60_000);
  assert.deepEqual(classHistogram(fashionLike, validation), new Array(10).fill(1_000));
  assert.deepEqual(classHistogram(fashionLike, train), new Array(10).fill(5_000));
});

test('same seed gives the same split; another seed another; validation ignores the proxy size', () => {
  const a = splitTrainingSet(fashionLike, { seed: 7, validationSize: 5_000, proxyTrainSize: 8_000 });
  const b = splitTrainingSet(fashionLike, { seed: 7, validationSize: 5_000, proxyTrainSize: 8_000 });
  const c = splitTrainingSet(fashionLike, { seed: 8, validationSize: 5_000, proxyTrainSize: 8_000 });
  const d = splitTrainingSet(fashionLike, { seed: 7, validationSize: 5_000, proxyTrainSize: 2_000 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.validation, c.validation);
  assert.notDeepEqual(a.train, c.train);
  assert.deepEqual(d.validation, a.validation);
  assert.equal(a.train.length, 8_000);
  assertSortedDisjointInRange(a.train, a.validation, 60_000);
  assertSortedDisjointInRange(d.train, d.validation, 60_000);
  assert.deepEqual(classHistogram(fashionLike, a.train), new Array(10).fill(800));
});

test('unstratified splits are disjoint and of the asked sizes', () => {
  const { train, validation } = splitTrainingSet(fashionLike, { seed: 2, validationSize: 1234, proxyTrainSize: 4321, stratified: false });
  assert.equal(validation.length, 1234);
  assert.equal(train.length, 4321);
  assertSortedDisjointInRange(train, validation, 60_000);
});

test('uneven classes get proportional quotas summing to the size', () => {
  assert.deepEqual(proportionalQuotas([5, 3, 2], 5), [3, 1, 1]);
  assert.deepEqual(proportionalQuotas([1, 1, 1], 2), [1, 1, 0]);
  assert.deepEqual(proportionalQuotas([0, 0], 0), [0, 0]);
  const skewed = { name: 'skewed', count: 1000, classes: 3, labels: Uint8Array.from({ length: 1000 }, (_, i) => (i < 700 ? 0 : i < 900 ? 1 : 2)) };
  const { train, validation } = splitTrainingSet(skewed, { validationSize: 100 });
  assert.deepEqual(classHistogram(skewed, validation), [70, 20, 10]);
  assert.equal(train.length, 900);
  assertSortedDisjointInRange(train, validation, 1000);
});

test('impossible sizes are errors', () => {
  assert.throws(() => splitTrainingSet(fashionLike, { validationSize: 60_000 }), /split\.ts: validationSize must be an integer in \[0, 59999\]/);
  assert.throws(() => splitTrainingSet(fashionLike, { validationSize: 10_000, proxyTrainSize: 50_001 }), /proxyTrainSize must be an integer in \[0, 50000\]/);
  assert.throws(() => splitTrainingSet(fashionLike, { validationSize: 1.5 }), /validationSize must be an integer/);
});

test('makeDataSplit keeps the test set whole and indexes the training set', () => {
  const data = makeSyntheticDataset({ trainCount: 600, testCount: 100 });
  const split = makeDataSplit(data, { seed: 3, proxyTrainSize: 200 });
  assert.equal(split.pool, data.train);
  assert.equal(split.test, data.test);
  assert.equal(split.validation.length, 100);
  assert.equal(split.train.length, 200);
  assertSortedDisjointInRange(split.train, split.validation, 600);
});
