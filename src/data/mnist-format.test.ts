import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadMnist } from './mnist.js';
import { loadFashionMnist } from './fashion-mnist.js';
import { computeChannelStats } from './dataset.js';
import { DataFileError } from './data-file-error.js';
import { cyclicLabels, makeTempDir, patternImages, writeMnistLayout } from './fixture-files.js';

const { dir, cleanup } = makeTempDir();
after(cleanup);

function subdir(name: string): string {
  const d = join(dir, name);
  mkdirSync(d);
  return d;
}

test('MNIST loads gzip, uncompressed and dotted file names alike', () => {
  for (const [name, options] of [['gz', { gzip: true }], ['raw', { gzip: false }], ['dotted', { gzip: false, dotted: true }]] as const) {
    const d = subdir(name);
    writeMnistLayout(d, 12, 5, options);
    const { train, test } = loadMnist({ dir: d });
    assert.equal(train.name, 'mnist/train');
    assert.equal(test.name, 'mnist/test');
    assert.equal(train.count, 12);
    assert.equal(test.count, 5);
    assert.equal(train.channels, 1);
    assert.equal(train.allowsHorizontalFlip, false);
    assert.deepEqual(train.images, patternImages(12, 28, 28));
    assert.deepEqual(test.labels, cyclicLabels(5));
    const stats = computeChannelStats(train.images, 1);
    assert.deepEqual(train.mean, stats.mean);
    assert.deepEqual(test.mean, stats.mean, 'the test set is normalized with the training stats');
    assert.deepEqual(test.std, stats.std);
  }
});

test('Fashion-MNIST from a directory allows flips; a missing file says how to get it', () => {
  const d = subdir('fashion');
  writeMnistLayout(d, 10, 10);
  const { train } = loadFashionMnist({ dir: d });
  assert.equal(train.allowsHorizontalFlip, true);
  assert.equal(train.classNames?.[9], 'Ankle boot');
  const empty = subdir('empty');
  assert.throws(() => loadFashionMnist({ dir: empty }), (e: unknown) => {
    assert.ok(e instanceof DataFileError);
    assert.equal(e.path, join(empty, 'train-images-idx3-ubyte.gz'));
    assert.match(e.message, /file not found/);
    assert.match(e.message, /apt-get install dataset-fashion-mnist/);
    return true;
  });
  assert.throws(() => loadMnist({ dir: empty }), /train-images-idx3-ubyte\.gz: file not found; put the MNIST IDX files/);
});
