import assert from 'node:assert/strict';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DataFileError } from './data-file-error.js';
import { readDatasetCache, readDatasetCacheHeader, writeDatasetCache } from './dataset-cache.js';
import { withTrainingStats, type DatasetWithoutStats } from './dataset.js';
import { makeTempDir } from './fixture-files.js';
import { makeImageFolder } from './image-fixtures.js';
import { prepareDataset } from './prepare.js';

const temp = makeTempDir('mnas-dataset-cache-');
after(temp.cleanup);

function part(name: string, count: number, offset: number): DatasetWithoutStats {
  return {
    name, count, height: 3, width: 2, channels: 3, classes: 4, classNames: ['a', 'b', 'c', 'd'], allowsHorizontalFlip: false,
    images: Uint8Array.from({ length: count * 18 }, (_, i) => (i * 13 + offset) & 255),
    labels: Uint8Array.from({ length: count }, (_, i) => i % 4),
  };
}

describe('dataset cache file', () => {
  it('reads back exactly what was written: pixels, labels, shape, class names, flip flag and the training stats', () => {
    const data = withTrainingStats(part('x/train', 7, 0), part('x/test', 3, 5));
    const file = join(temp.dir, 'sub', 'x.mnasdata');
    const header = writeDatasetCache(file, 'key-1', 'x', data, [{ file: 'bad.png', reason: 'cannot decode' }]);
    assert.deepEqual(readDatasetCacheHeader(file), header);
    const back = readDatasetCache(file);
    for (const k of ['train', 'test'] as const) {
      assert.deepEqual([...back[k].images], [...data[k].images]);
      assert.deepEqual([...back[k].labels], [...data[k].labels]);
      assert.deepEqual([back[k].count, back[k].height, back[k].width, back[k].channels, back[k].classes], [data[k].count, 3, 2, 3, 4]);
      assert.deepEqual(back[k].classNames, ['a', 'b', 'c', 'd']);
      assert.equal(back[k].allowsHorizontalFlip, false);
      assert.deepEqual(back[k].mean, data.train.mean);
      assert.deepEqual(back[k].std, data.train.std);
    }
    assert.equal(back.train.name, 'x/train');
    assert.deepEqual(header.skipped, [{ file: 'bad.png', reason: 'cannot decode' }]);
  });

  it('a cut-short or foreign file is no cache: its header is not trusted and reading it names the file', () => {
    const file = join(temp.dir, 'cut.mnasdata');
    writeDatasetCache(file, 'k', 'cut', withTrainingStats(part('cut/train', 5, 1), part('cut/test', 2, 2)));
    truncateSync(file, readFileSync(file).length - 1);
    assert.equal(readDatasetCacheHeader(file), undefined);
    assert.throws(() => readDatasetCache(file), (e: unknown) => e instanceof DataFileError && e.path === file && /has \d+ bytes, its header says \d+; delete it to rebuild/.test(e.message));
    const foreign = join(temp.dir, 'foreign.mnasdata');
    writeFileSync(foreign, 'hello');
    assert.equal(readDatasetCacheHeader(foreign), undefined);
    assert.throws(() => readDatasetCache(foreign), /foreign\.mnasdata: not an mnas dataset cache file/);
    assert.throws(() => readDatasetCache(join(temp.dir, 'none.mnasdata')), /none\.mnasdata: cannot read the dataset cache: ENOENT/);
  });

  it('prepareDataset rebuilds a cache file that was cut short', async () => {
    const root = join(temp.dir, 'images');
    const cacheDir = join(temp.dir, 'cache');
    await makeImageFolder(root, { classes: ['a', 'b'], perClass: 10, height: 8, width: 8 });
    const target = { shape: { height: 8, width: 8, channels: 3 } };
    const first = await prepareDataset({ name: root, cacheDir }, target);
    const file = first.ref.cacheFile!;
    const whole = readFileSync(file).length;
    truncateSync(file, whole - 100);
    const again = await prepareDataset({ name: root, cacheDir }, target);
    assert.equal(again.ref.cacheFile, file);
    assert.match(again.description, /decoded into/);
    assert.equal(readFileSync(file).length, whole);
    assert.equal(readDatasetCache(file).train.count, 18);
  });
});
