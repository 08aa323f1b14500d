import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readArrayDataset } from './array-dataset.js';
import { DataFileError } from './data-file-error.js';
import { makeTempDir } from './fixture-files.js';
import { encodeNpy, parseNpy } from './npy.js';
import { readZip, writeStoredZip } from './zip.js';

const temp = makeTempDir('mnas-arrays-');
after(temp.cleanup);
let n = 0;

const images = (count: number, h: number, w: number) => Uint8Array.from({ length: count * h * w }, (_, i) => (i * 37) & 255);
const labels = (count: number, classes: number) => Array.from({ length: count }, (_, i) => i % classes);

function npz(members: Record<string, Uint8Array>): string {
  const file = join(temp.dir, `a${n++}.npz`);
  writeFileSync(file, writeStoredZip(new Map(Object.entries(members).map(([k, v]) => [`${k}.npy`, v]))));
  return file;
}

const dataFileError = (path: string, pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof DataFileError, String(e));
  assert.equal(e.path, path);
  assert.match(e.message, pattern);
  return true;
};

describe('.npy', () => {
  it('round-trips every dtype through encodeNpy and parseNpy', () => {
    for (const dtype of ['u1', 'i1', 'u2', 'i2', 'u4', 'i4', 'u8', 'i8', 'f4', 'f8'] as const) {
      const a = parseNpy(encodeNpy(dtype, [2, 3], [0, 1, 2, 3, 4, 5]), 'x.npy');
      assert.deepEqual(a.shape, [2, 3]);
      assert.equal(a.dtype, dtype);
      assert.deepEqual(Array.from({ length: 6 }, (_, i) => a.get(i)), [0, 1, 2, 3, 4, 5]);
    }
  });

  it('rejects big-endian, Fortran-order and cut-short arrays naming the file', () => {
    const good = encodeNpy('i4', [4], [1, 2, 3, 4]);
    const bigEndian = Buffer.from(Buffer.from(good).toString('latin1').replace("'<i4'", "'>i4'"), 'latin1');
    assert.throws(() => parseNpy(bigEndian, 'b.npy'), dataFileError('b.npy', /unsupported dtype '>i4'/));
    const fortran = Buffer.from(Buffer.from(good).toString('latin1').replace('False', 'True '), 'latin1');
    assert.throws(() => parseNpy(fortran, 'f.npy'), dataFileError('f.npy', /Fortran order/));
    assert.throws(() => parseNpy(good.subarray(0, good.length - 1), 'c.npy'), dataFileError('c.npy', /needs 16/));
    assert.throws(() => parseNpy(Buffer.from('hello'), 'h.npy'), dataFileError('h.npy', /not a NumPy/));
  });

  it('reads stored and deflated .npz members', () => {
    const x = encodeNpy('u1', [3], [7, 8, 9]);
    const stored = readZip(writeStoredZip(new Map([['x.npy', x]])), 's.npz');
    assert.deepEqual([...stored.get('x.npy')!], [...x]);
    // turn the stored member into a deflated one by hand
    const zip = Buffer.from(writeStoredZip(new Map([['x.npy', x]])));
    const deflated = deflateRawSync(x);
    const local = Buffer.from(zip.subarray(0, 30 + 5));
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(deflated.length, 18);
    const directory = Buffer.from(zip.subarray(30 + 5 + x.length, zip.length - 22));
    directory.writeUInt16LE(8, 10);
    directory.writeUInt32LE(deflated.length, 20);
    const end = Buffer.from(zip.subarray(zip.length - 22));
    end.writeUInt32LE(local.length + deflated.length, 16);
    const members = readZip(Buffer.concat([local, deflated, directory, end]), 'd.npz');
    assert.deepEqual([...members.get('x.npy')!], [...x]);
    // the same archive with one bit of the compressed member flipped: inflates, but to other bytes
    const flipped = Buffer.from(deflated);
    flipped[flipped.length >> 1]! ^= 0x01;
    assert.throws(() => readZip(Buffer.concat([local, flipped, directory, end]), 'd.npz'), dataFileError('d.npz', /corrupt \.npz archive|fails its CRC-32 check/));
    assert.throws(() => readZip(Buffer.from('not a zip at all, just text......'), 'z.npz'), dataFileError('z.npz', /not a zip/));
  });

  it('refuses an .npz whose member fails its CRC-32 check, naming the archive and the member', () => {
    const x = encodeNpy('u1', [4, 2, 2], images(4, 2, 2));
    const file = npz({ x_train: x, y_train: encodeNpy('i8', [4], labels(4, 2)) });
    assert.equal(readArrayDataset(file, false, 'intact').train.count, 4);
    const bytes = readFileSync(file);
    bytes[30 + 'x_train.npy'.length + x.length - 1]! ^= 0xff; // the last pixel of x_train
    writeFileSync(file, bytes);
    assert.throws(() => readArrayDataset(file, false, 'damaged'), dataFileError(file, /corrupt \.npz archive: member 'x_train\.npy' fails its CRC-32 check \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)/));
  });
});

describe('array datasets', () => {
  it('reads x_train/y_train/x_test/y_test from an .npz (N, H, W) as one channel', () => {
    const file = npz({
      x_train: encodeNpy('u1', [6, 4, 5], images(6, 4, 5)),
      y_train: encodeNpy('i8', [6], labels(6, 3)),
      x_test: encodeNpy('u1', [3, 4, 5], images(3, 4, 5)),
      y_test: encodeNpy('i8', [3], labels(3, 3)),
    });
    const { train, test } = readArrayDataset(file, false, 'mine');
    assert.deepEqual([train.count, train.height, train.width, train.channels, train.classes], [6, 4, 5, 1, 3]);
    assert.deepEqual([...train.images], [...images(6, 4, 5)]);
    assert.deepEqual([...test.labels], [0, 1, 2]);
  });

  it('reads images/labels from a folder of .npy files and holds out every 10th of each class; floats in [0, 1] become bytes', () => {
    const dir = join(temp.dir, `npy${n++}`);
    mkdirSync(dir);
    const pixels = Array.from({ length: 40 * 2 * 2 * 3 }, (_, i) => (i % 11) / 10);
    writeFileSync(join(dir, 'images.npy'), encodeNpy('f4', [40, 2, 2, 3], pixels));
    writeFileSync(join(dir, 'labels.npy'), encodeNpy('u1', [40], labels(40, 2)));
    const { train, test } = readArrayDataset(dir, true, 'mine');
    assert.equal(train.count, 36);
    assert.equal(test.count, 4);
    assert.equal(train.channels, 3);
    assert.equal(train.images[1], Math.round(0.1 * 255));
  });

  it('names the array for labels out of range, one class, bad shapes and float pixels outside [0, 1]', () => {
    const x = encodeNpy('u1', [4, 2, 2], images(4, 2, 2));
    const outOfRange = npz({ x_train: x, y_train: encodeNpy('i4', [4], [0, 1, 0, 1]), x_test: encodeNpy('u1', [1, 2, 2], images(1, 2, 2)), y_test: encodeNpy('i4', [1], [5]) });
    assert.throws(() => readArrayDataset(outOfRange, false, 'm'), dataFileError(`${outOfRange}:y_test.npy`, /label 5 at index 0 is out of range: the training labels have classes 0..1/));
    const negative = npz({ images: x, labels: encodeNpy('i4', [4], [0, -1, 0, 1]) });
    assert.throws(() => readArrayDataset(negative, false, 'm'), dataFileError(`${negative}:labels.npy`, /label -1 at index 1 is out of range/));
    const oneClass = npz({ images: x, labels: encodeNpy('i4', [4], [2, 2, 2, 2]) });
    assert.throws(() => readArrayDataset(oneClass, false, 'm'), dataFileError(`${oneClass}:labels.npy`, /only one class/));
    const chw = npz({ images: encodeNpy('u1', [2, 3, 4, 4], images(2, 12, 4)), labels: encodeNpy('i4', [2], [0, 1]) });
    assert.throws(() => readArrayDataset(chw, false, 'm'), dataFileError(`${chw}:images.npy`, /transpose\(0, 2, 3, 1\)/));
    const counts = npz({ images: x, labels: encodeNpy('i4', [3], [0, 1, 0]) });
    assert.throws(() => readArrayDataset(counts, false, 'm'), dataFileError(`${counts}:labels.npy`, /shape \(4,\) for 4 images/));
    const bright = npz({ images: encodeNpy('f8', [2, 1, 1], [0.5, 3]), labels: encodeNpy('i4', [2], [0, 1]) });
    assert.throws(() => readArrayDataset(bright, false, 'm'), dataFileError(`${bright}:images.npy`, /in \[0, 1\]; element 1 is 3/));
    const noTrain = npz({ x_test: x });
    assert.throws(() => readArrayDataset(noTrain, false, 'm'), dataFileError(noTrain, /no 'images' array/));
  });
});
