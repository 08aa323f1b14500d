import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCifar10, readCifar10Batches } from './cifar10.js';
import { DataFileError } from './data-file-error.js';
import { cifarRecords, makeTempDir, writeCifarLayout, writeFile } from './fixture-files.js';

const { dir, cleanup } = makeTempDir();
after(cleanup);

test('converts channel-planar records to NHWC and concatenates the batches in order', () => {
  const d = join(dir, 'flat');
  mkdirSync(d);
  writeCifarLayout(d, 3, 4);
  const { train, test } = loadCifar10({ dir: d });
  assert.equal(train.count, 15);
  assert.equal(test.count, 4);
  assert.equal(train.channels, 3);
  assert.equal(train.height, 32);
  assert.equal(train.allowsHorizontalFlip, true);
  assert.deepEqual([...train.labels], Array.from({ length: 15 }, (_, i) => i % 10));
  for (const n of [0, 7, 14]) {
    for (const p of [0, 1, 33, 1023]) {
      const at = (n * 1024 + p) * 3;
      const r = (n + p) & 255;
      assert.deepEqual([...train.images.subarray(at, at + 3)], [r, r ^ 0x55, train.labels[n]! * 20], `sample ${n} pixel ${p}`);
    }
  }
  assert.deepEqual(test.mean, train.mean);
  assert.equal(train.mean.length, 3);
});

test('accepts the cifar-10-batches-bin folder inside the given directory', () => {
  const d = join(dir, 'outer');
  mkdirSync(join(d, 'cifar-10-batches-bin'), { recursive: true });
  writeCifarLayout(join(d, 'cifar-10-batches-bin'), 2, 2);
  assert.equal(loadCifar10({ dir: d }).train.count, 10);
});

test('a file size that is not a multiple of 3073 is an error', () => {
  const p = writeFile(dir, 'short.bin', cifarRecords([1, 2]).subarray(0, 6000));
  assert.throws(() => readCifar10Batches([p]), (e: unknown) => {
    assert.ok(e instanceof DataFileError);
    assert.equal(e.path, p);
    assert.match(e.message, /size 6000 bytes is not a positive multiple of the 3073-byte CIFAR-10 record/);
    return true;
  });
  const empty = writeFile(dir, 'empty.bin', new Uint8Array(0));
  assert.throws(() => readCifar10Batches([empty]), /empty\.bin: size 0 bytes/);
});

test('labels of 10 or more are errors naming record and file', () => {
  const p = writeFile(dir, 'bad-label.bin', cifarRecords([3, 10, 1]));
  assert.throws(() => readCifar10Batches([p]), /bad-label\.bin: label 10 in record 1 \(byte offset 3073\) is out of range/);
});

test('missing directory, directory without batches, missing batch file', () => {
  assert.throws(() => loadCifar10({ dir: join(dir, 'absent') }), /absent: CIFAR-10 directory not found/);
  const empty = join(dir, 'empty-dir');
  mkdirSync(empty);
  assert.throws(() => loadCifar10({ dir: empty }), /empty-dir: no CIFAR-10 binary batches: expected data_batch_1\.bin/);
  const partial = join(dir, 'partial');
  mkdirSync(partial);
  writeFileSync(join(partial, 'data_batch_1.bin'), cifarRecords([0]));
  assert.throws(() => loadCifar10({ dir: partial }), /data_batch_2\.bin: file not found/);
});
