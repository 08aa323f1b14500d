import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FASHION_MNIST_DEFAULT_DIR, loadFashionMnist } from './fashion-mnist.js';
import { classHistogram } from './dataset.js';

test(`real Fashion-MNIST from ${FASHION_MNIST_DEFAULT_DIR}: counts, shape, balanced classes, stats, speed`, () => {
  const start = performance.now();
  const { train, test } = loadFashionMnist();
  const seconds = (performance.now() - start) / 1000;
  assert.equal(train.count, 60_000);
  assert.equal(test.count, 10_000);
  for (const d of [train, test]) {
    assert.equal(d.height, 28);
    assert.equal(d.width, 28);
    assert.equal(d.channels, 1);
    assert.equal(d.classes, 10);
    assert.equal(d.images.length, d.count * 784);
  }
  assert.deepEqual(classHistogram(train), new Array(10).fill(6_000));
  assert.deepEqual(classHistogram(test), new Array(10).fill(1_000));
  // Published Fashion-MNIST training statistics: mean 0.2860, std 0.3530.
  assert.ok(Math.abs(train.mean[0]! - 0.286) < 0.001, `mean ${train.mean[0]}`);
  assert.ok(Math.abs(train.std[0]! - 0.353) < 0.001, `std ${train.std[0]}`);
  assert.deepEqual(test.mean, train.mean);
  // Typically ~0.5 s; generous bound so a busy CI machine does not flake.
  assert.ok(seconds < 5, `loading took ${seconds.toFixed(2)} s`);
});
