import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classHistogram, computeChannelStats, selectSamples, withStats, withTrainingStats, type DatasetWithoutStats } from './dataset.js';

function tiny(overrides: Partial<DatasetWithoutStats> = {}): DatasetWithoutStats {
  return {
    name: 'tiny/train', images: Uint8Array.from({ length: 4 * 2 * 2 * 3 }, (_, i) => (i * 37) & 255),
    labels: new Uint8Array([0, 1, 2, 1]), count: 4, height: 2, width: 2, channels: 3, classes: 3,
    allowsHorizontalFlip: true, ...overrides,
  };
}

test('channel stats match a direct computation, per interleaved channel', () => {
  const images = Uint8Array.from({ length: 3000 }, (_, i) => (i * 91 + (i % 3) * 50) & 255);
  const { mean, std } = computeChannelStats(images, 3);
  for (let c = 0; c < 3; c++) {
    const values = [...images].filter((_, i) => i % 3 === c).map((v) => v / 255);
    const m = values.reduce((a, b) => a + b, 0) / values.length;
    const s = Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / values.length);
    assert.ok(Math.abs(mean[c]! - m) < 1e-12);
    assert.ok(Math.abs(std[c]! - s) < 1e-12);
  }
  assert.throws(() => computeChannelStats(new Uint8Array(5), 3), /dataset\.ts: cannot compute channel stats of 5 bytes with 3 channels/);
});

test('withStats rejects inconsistent records', () => {
  const stats = { mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2] };
  assert.equal(withStats(tiny(), stats).mean.length, 3);
  assert.throws(() => withStats(tiny({ count: 5 }), stats), /tiny\/train: images has 48 bytes, expected 5x2x2x3 = 60/);
  assert.throws(() => withStats(tiny({ labels: new Uint8Array(3) }), stats), /3 labels for 4 images/);
  assert.throws(() => withStats(tiny({ labels: new Uint8Array([0, 3, 0, 0]) }), stats), /label 3 at index 1 is not < 3 classes/);
  assert.throws(() => withStats(tiny({ classNames: ['a'] }), stats), /1 class names for 3 classes/);
  assert.throws(() => withStats(tiny(), { mean: [0], std: [1] }), /1 means and 1 stds for 3 channels/);
  assert.throws(() => withStats(tiny(), { mean: [0, 0, 0], std: [1, 0, 1] }), /zero standard deviation/);
  assert.throws(() => withStats(tiny({ height: 0 }), stats), /height must be a positive integer/);
});

test('withTrainingStats copies the training stats to the test set; selectSamples gathers in order', () => {
  const { train, test } = withTrainingStats(tiny(), tiny({ name: 'tiny/test', images: new Uint8Array(48).fill(9) }));
  assert.deepEqual(test.mean, train.mean);
  assert.deepEqual(test.std, train.std);
  const picked = selectSamples(train, new Int32Array([3, 0]));
  assert.equal(picked.count, 2);
  assert.deepEqual(picked.labels, new Uint8Array([1, 0]));
  assert.deepEqual(picked.images.subarray(0, 12), train.images.subarray(36, 48));
  assert.deepEqual(picked.images.subarray(12), train.images.subarray(0, 12));
  assert.throws(() => selectSamples(train, new Int32Array([4])), /index 4 out of range \[0, 4\)/);
  assert.deepEqual(classHistogram(train), [1, 2, 1]);
  assert.deepEqual(classHistogram(train, new Int32Array([1, 3])), [0, 2, 0]);
});
