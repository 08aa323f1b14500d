import { test } from 'node:test';
import assert from 'node:assert/strict';
import { datasetChecksum } from './checksum.js';
import { makeSyntheticDataset } from './synthetic.js';

test('datasetChecksum: equal for the same data, different when one label or one pixel changes', () => {
  const a = makeSyntheticDataset({ seed: 1, shape: '28x28x1' });
  const b = makeSyntheticDataset({ seed: 1, shape: '28x28x1' });
  const sum = datasetChecksum(a);
  assert.match(sum, /^[0-9a-f]{64}$/);
  assert.equal(datasetChecksum(b), sum);
  assert.notEqual(datasetChecksum(makeSyntheticDataset({ seed: 2, shape: '28x28x1' })), sum);
  const label = { ...b, test: { ...b.test, labels: Uint8Array.from(b.test.labels, (l, i) => (i === 0 ? (l + 1) % b.test.classes : l)) } };
  assert.notEqual(datasetChecksum(label), sum);
  const pixel = { ...b, train: { ...b.train, images: Uint8Array.from(b.train.images, (p, i) => (i === 5 ? p ^ 1 : p)) } };
  assert.notEqual(datasetChecksum(pixel), sum);
});
