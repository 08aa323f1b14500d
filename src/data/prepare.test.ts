import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DataFileError } from './data-file-error.js';
import { readDatasetCache } from './dataset-cache.js';
import { makeTempDir } from './fixture-files.js';
import { makeImageFolder, writeImage } from './image-fixtures.js';
import { loadDataset } from './load.js';
import { encodeNpy } from './npy.js';
import { prepareDataset } from './prepare.js';
import { writeStoredZip } from './zip.js';

const temp = makeTempDir('mnas-prepare-');
after(temp.cleanup);
const cifarTarget = { shape: { height: 32, width: 32, channels: 3 }, requiredBy: "space 'cifar'" };

describe('prepareDataset', () => {
  it('decodes an image folder once into a cache file that loadDataset reads, and rebuilds it when an image or the settings change', async () => {
    const root = join(temp.dir, 'pets');
    const cacheDir = join(temp.dir, 'cache1');
    await makeImageFolder(root, { classes: ['cat', 'dog'], perClass: 10, height: 40, width: 40 });
    const first = await prepareDataset({ name: root, cacheDir }, cifarTarget);
    assert.match(first.description, /image folder .*pets: 2 classes, 18 training and 2 test images of 32x32x3 \(decoded into/);
    assert.deepEqual(first.shape, { height: 32, width: 32, channels: 3 });
    assert.equal(first.classes, 2);
    assert.ok(first.ref.cacheFile && existsSync(first.ref.cacheFile));

    const again = await prepareDataset({ name: root, cacheDir }, cifarTarget);
    assert.equal(again.ref.cacheFile, first.ref.cacheFile);
    assert.match(again.description, /\(cache /);

    const data = loadDataset({ name: again.ref.name, cacheFile: again.ref.cacheFile! });
    assert.equal(data.train.count, 18);
    assert.equal(data.test.count, 2);
    assert.deepEqual(data.train.classNames, ['cat', 'dog']);
    assert.equal(data.train.mean.length, 3);
    assert.deepEqual(data.test.mean, data.train.mean);

    await writeImage(join(root, 'dog', '0000.png'), new Uint8Array(40 * 40 * 3).fill(200), 40, 40, 3);
    const changed = await prepareDataset({ name: root, cacheDir }, cifarTarget);
    assert.notEqual(changed.ref.cacheFile, first.ref.cacheFile);
    const gray = await prepareDataset({ name: root, cacheDir }, { shape: { height: 28, width: 28, channels: 1 } });
    assert.deepEqual(gray.shape, { height: 28, width: 28, channels: 1 });
    assert.notEqual(gray.ref.cacheFile, changed.ref.cacheFile);
  });

  it('lists files skipped with skipBadFiles, also when the cache is reused', async () => {
    const root = join(temp.dir, 'skips');
    const cacheDir = join(temp.dir, 'cache2');
    await makeImageFolder(root, { classes: ['a', 'b'], perClass: 10, height: 8, width: 8 });
    writeFileSync(join(root, 'a', 'zz.png'), 'broken');
    for (let k = 0; k < 2; k++) {
      const p = await prepareDataset({ name: root, cacheDir, skipBadFiles: true }, cifarTarget);
      assert.deepEqual(p.skipped.map((s) => s.file), [join(root, 'a', 'zz.png')]);
    }
  });

  it('finds a shape mismatch with the space before writing anything', async () => {
    const file = join(temp.dir, 'digits.npz');
    writeFileSync(file, writeStoredZip(new Map([
      ['images.npy', encodeNpy('u1', [20, 28, 28], new Uint8Array(20 * 28 * 28).map((_, i) => i & 255))],
      ['labels.npy', encodeNpy('i8', [20], Array.from({ length: 20 }, (_, i) => i % 2))],
    ])));
    const cacheDir = join(temp.dir, 'never-made');
    await assert.rejects(prepareDataset({ name: file, cacheDir }, cifarTarget), (e: unknown) => {
      assert.ok(e instanceof DataFileError);
      assert.match(e.message, /digits\.npz: images are 28x28x1 but space 'cifar' takes 32x32x3 \(channels differ\)/);
      return true;
    });
    assert.equal(existsSync(cacheDir), false);
    const ok = await prepareDataset({ name: file, cacheDir }, { shape: { height: 28, width: 28, channels: 1 }, requiredBy: "space 'fmnist'" });
    assert.equal(readDatasetCache(ok.ref.cacheFile!).train.count, 18);
  });

  it('knows the built-in datasets without loading them, and rejects unknown names', async () => {
    const p = await prepareDataset({ name: 'synthetic-rgb' }, cifarTarget);
    assert.deepEqual(p.ref, { name: 'synthetic-rgb' });
    assert.equal(p.classes, 10);
    await assert.rejects(prepareDataset({ name: 'fashion-mnist' }, cifarTarget), /fashion-mnist: images are 28x28x1 but space 'cifar' takes 32x32x3/);
    await assert.rejects(prepareDataset({ name: 'imagenet' }, cifarTarget), /imagenet: not a dataset name .* and no such file or folder/);
    const mnistDir = join(temp.dir, 'idx');
    await makeImageFolder(mnistDir, { classes: ['a'], perClass: 1, height: 2, width: 2 });
    writeFileSync(join(mnistDir, 'train-images-idx3-ubyte.gz'), '');
    const idx = await prepareDataset({ name: mnistDir }, { shape: { height: 28, width: 28, channels: 1 } });
    assert.deepEqual(idx.ref, { name: 'mnist', dataDir: mnistDir });
  });
});
