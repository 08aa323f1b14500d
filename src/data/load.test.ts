import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { DATASET_NAMES, isDatasetName, loadDataset } from './load.js';
import { makeTempDir, writeCifarLayout, writeMnistLayout } from './fixture-files.js';

const { dir, cleanup } = makeTempDir();
after(cleanup);

test('unknown names are errors listing the known ones', () => {
  assert.throws(() => loadDataset({ name: 'imagenet' }), /load\.ts: unknown dataset "imagenet"; known datasets: fashion-mnist, mnist, cifar10, synthetic, synthetic-rgb/);
  assert.equal(isDatasetName('mnist'), true);
  assert.equal(isDatasetName('MNIST'), false);
  assert.ok(DATASET_NAMES.includes('fashion-mnist'));
});

test('mnist and cifar10 need a directory; with one they load', () => {
  assert.throws(() => loadDataset({ name: 'mnist' }), /load\.ts: dataset "mnist" needs a data directory/);
  assert.throws(() => loadDataset({ name: 'cifar10' }), /dataset "cifar10" needs a data directory/);
  writeMnistLayout(dir, 20, 10);
  assert.equal(loadDataset({ name: 'mnist', dataDir: dir }).train.count, 20);
  assert.equal(loadDataset({ name: 'fashion-mnist', dataDir: dir }).test.count, 10);
  writeCifarLayout(dir, 2, 3);
  assert.equal(loadDataset({ name: 'cifar10', dataDir: dir }).test.count, 3);
});

test('synthetic sets follow seed and sizes', () => {
  const a = loadDataset({ name: 'synthetic', seed: 3, synthetic: { trainCount: 50, testCount: 20 } });
  const b = loadDataset({ name: 'synthetic', seed: 3, synthetic: { trainCount: 50, testCount: 20 } });
  assert.equal(a.train.count, 50);
  assert.deepEqual(a.train.images, b.train.images);
  const rgb = loadDataset({ name: 'synthetic-rgb', synthetic: { trainCount: 20, testCount: 10 } });
  assert.equal(rgb.train.channels, 3);
  assert.equal(rgb.train.name, 'synthetic/train');
});
