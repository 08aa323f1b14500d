import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DataFileError } from './data-file-error.js';
import { readDatasetCache } from './dataset-cache.js';
import { makeTempDir } from './fixture-files.js';
import { makeImageFolder, writeImage } from './image-fixtures.js';
import { loadDataset } from './load.js';
import { encodeNpy } from './npy.js';
import { prepareDataset, type DataProgress } from './prepare.js';
import type { SourceKeyIo } from './source-key.js';
import { writeStoredZip } from './zip.js';

const temp = makeTempDir('mnas-prepare-');
after(temp.cleanup);
const cifarTarget = { shape: { height: 32, width: 32, channels: 3 }, requiredBy: 'the input given' };

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
      assert.match(e.message, /digits\.npz: images are 28x28x1 but the input given is 32x32x3 \(channels differ\)/);
      return true;
    });
    assert.equal(existsSync(cacheDir), false);
    const ok = await prepareDataset({ name: file, cacheDir }, { shape: { height: 28, width: 28, channels: 1 }, requiredBy: 'the input given' });
    assert.equal(readDatasetCache(ok.ref.cacheFile!).train.count, 18);
  });

  it('knows the built-in datasets without loading them, and rejects unknown names', async () => {
    const p = await prepareDataset({ name: 'synthetic-rgb' }, cifarTarget);
    assert.deepEqual(p.ref, { name: 'synthetic-rgb' });
    assert.equal(p.classes, 10);
    await assert.rejects(prepareDataset({ name: 'fashion-mnist' }, cifarTarget), /fashion-mnist: images are 28x28x1 but the input given is 32x32x3/);
    await assert.rejects(prepareDataset({ name: 'imagenet' }, cifarTarget), /imagenet: not a dataset name .* and no such file or folder/);
    const mnistDir = join(temp.dir, 'idx');
    await makeImageFolder(mnistDir, { classes: ['a'], perClass: 1, height: 2, width: 2 });
    writeFileSync(join(mnistDir, 'train-images-idx3-ubyte.gz'), '');
    const idx = await prepareDataset({ name: mnistDir }, { shape: { height: 28, width: 28, channels: 1 } });
    assert.deepEqual(idx.ref, { name: 'mnist', dataDir: mnistDir });
  });

  it('takes the data\'s own shape unless one is required, and refuses a required number of classes the data lacks before decoding or writing anything', async () => {
    const file = join(temp.dir, 'digits3.npz');
    writeFileSync(file, writeStoredZip(new Map([
      ['images.npy', encodeNpy('u1', [30, 28, 28], new Uint8Array(30 * 28 * 28).map((_, i) => (i * 7) & 255))],
      ['labels.npy', encodeNpy('i8', [30], Array.from({ length: 30 }, (_, i) => i % 3))],
    ])));
    const cacheDir = join(temp.dir, 'cache-classes');
    const free = await prepareDataset({ name: file, cacheDir }, { shape: { height: 32, width: 32, channels: 3 } });
    assert.deepEqual([free.shape, free.classes], [{ height: 28, width: 28, channels: 1 }, 3]);
    // the same arrays, now from the cache, and a given number of classes they do not have
    const fiveClasses = { shape: { height: 28, width: 28, channels: 1 }, classes: { count: 5, requiredBy: 'the number given' } };
    await assert.rejects(prepareDataset({ name: file, cacheDir }, fiveClasses), /digits3\.npz: the data has 3 classes but the number given is 5/);
    const elsewhere = join(temp.dir, 'never-made-2');
    await assert.rejects(prepareDataset({ name: file, cacheDir: elsewhere }, fiveClasses), /digits3\.npz: the data has 3 classes but the number given is 5/);
    assert.equal(existsSync(elsewhere), false);

    // an image folder's classes are its subfolders: refused before any image is decoded (a broken one would fail decoding)
    const pets = join(temp.dir, 'two-pets');
    await makeImageFolder(pets, { classes: ['cat', 'dog'], perClass: 10, height: 8, width: 8 });
    writeFileSync(join(pets, 'cat', '0001.png'), 'not a png');
    await assert.rejects(prepareDataset({ name: pets, cacheDir: elsewhere }, { ...cifarTarget, classes: { count: 10, requiredBy: 'the number given' } }), /two-pets: the data has 2 classes but the number given is 10/);
    assert.equal(existsSync(elsewhere), false);
    await assert.rejects(prepareDataset({ name: 'synthetic-rgb' }, { ...cifarTarget, classes: { count: 4, requiredBy: 'the number given' } }), /synthetic-rgb: the data has 10 classes but the number given is 4/);
  });
});

/** Reads through a counter; the clock a minute ahead, so files written by the test count as settled (source-key.ts). */
function countingIo(clockAheadMs = 60_000): { io: SourceKeyIo; reads: string[] } {
  const reads: string[] = [];
  return { reads, io: { readFile: (file) => { reads.push(file); return readFileSync(file); }, now: () => Date.now() + clockAheadMs } };
}

describe('the dataset cache key', () => {
  it('does not reread an unchanged image folder, rereads only a new or changed file, and rebuilds the cache for it', async () => {
    const root = join(temp.dir, 'birds');
    const cacheDir = join(temp.dir, 'cache-key');
    await makeImageFolder(root, { classes: ['crow', 'wren'], perClass: 10, height: 12, width: 12 });
    const first = countingIo();
    const events: string[] = [];
    const onProgress = (p: DataProgress) => events.push(`${p.phase} ${p.done}/${p.total}`);
    const built = await prepareDataset({ name: root, cacheDir }, cifarTarget, { io: first.io, onProgress });
    assert.equal(first.reads.length, 20);
    assert.match(built.description, /decoded into/);
    const steps = (phase: string) => Array.from({ length: 20 }, (_, i) => `${phase} ${i + 1}/20`);
    assert.deepEqual(events, [...steps('hashing'), ...steps('decoding')]);

    const second = countingIo();
    events.length = 0;
    const reused = await prepareDataset({ name: root, cacheDir }, cifarTarget, { io: second.io, onProgress });
    assert.deepEqual(second.reads, []);
    assert.deepEqual(events, [], 'nothing read or decoded, nothing to show');
    assert.equal(reused.ref.cacheFile, built.ref.cacheFile);
    assert.match(reused.description, /\(cache /);

    await writeImage(join(root, 'wren', '0000.png'), new Uint8Array(12 * 12 * 3).fill(90), 12, 12, 3);
    const third = countingIo();
    const rebuilt = await prepareDataset({ name: root, cacheDir }, cifarTarget, { io: third.io });
    assert.deepEqual(third.reads, [join(root, 'wren', '0000.png')]);
    assert.notEqual(rebuilt.ref.cacheFile, built.ref.cacheFile);
    assert.match(rebuilt.description, /decoded into/);

    await writeImage(join(root, 'crow', 'new.png'), new Uint8Array(12 * 12 * 3).fill(10), 12, 12, 3);
    const fourth = countingIo();
    const grown = await prepareDataset({ name: root, cacheDir }, cifarTarget, { io: fourth.io });
    assert.deepEqual(fourth.reads, [join(root, 'crow', 'new.png')]);
    assert.equal(readDatasetCache(grown.ref.cacheFile!).train.count + readDatasetCache(grown.ref.cacheFile!).test.count, 21);
  });

  it('keys arrays by content: a file rewritten with the same size but other bytes is reread and makes a new cache', async () => {
    const dir = join(temp.dir, 'arrays-key');
    mkdirSync(dir);
    const cacheDir = join(temp.dir, 'cache-arrays');
    const pixels = (v: number) => encodeNpy('u1', [20, 4, 4], new Uint8Array(20 * 16).map((_, i) => (i * 7 + v) & 255));
    writeFileSync(join(dir, 'images.npy'), pixels(1));
    writeFileSync(join(dir, 'labels.npy'), encodeNpy('i8', [20], Array.from({ length: 20 }, (_, i) => i % 2)));
    const target = { shape: { height: 4, width: 4, channels: 1 } };
    const before = await prepareDataset({ name: dir, cacheDir }, target, { io: countingIo().io });
    assert.equal(readDatasetCache(before.ref.cacheFile!).train.images[0], 1);
    writeFileSync(join(dir, 'images.npy'), pixels(2));
    const after = countingIo();
    const changed = await prepareDataset({ name: dir, cacheDir }, target, { io: after.io });
    assert.deepEqual(after.reads, [join(dir, 'images.npy')]);
    assert.notEqual(changed.ref.cacheFile, before.ref.cacheFile);
    assert.equal(readDatasetCache(changed.ref.cacheFile!).train.images[0], 2);
  });

  it('hashes again files written just before the last load (their mtime may not show a change), and every file without a usable manifest', async () => {
    const root = join(temp.dir, 'fresh');
    const cacheDir = join(temp.dir, 'cache-fresh');
    await makeImageFolder(root, { classes: ['a', 'b'], perClass: 10, height: 8, width: 8 });
    const realClock = () => countingIo(0);
    await prepareDataset({ name: root, cacheDir }, cifarTarget, { io: realClock().io });
    const again = realClock();
    await prepareDataset({ name: root, cacheDir }, cifarTarget, { io: again.io });
    assert.equal(again.reads.length, 20);

    await prepareDataset({ name: root, cacheDir }, cifarTarget, { io: countingIo().io });
    const manifests = join(cacheDir, 'manifests');
    for (const f of readdirSync(manifests)) writeFileSync(join(manifests, f), '{ broken');
    const noManifest = countingIo();
    const p = await prepareDataset({ name: root, cacheDir }, cifarTarget, { io: noManifest.io });
    assert.equal(noManifest.reads.length, 20);
    assert.match(p.description, /\(cache /);
  });
});
