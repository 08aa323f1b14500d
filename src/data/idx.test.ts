import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { readIdxImages, readIdxLabels, readIdxPair } from './idx.js';
import { DataFileError } from './data-file-error.js';
import { cyclicLabels, idxBytes, makeTempDir, patternImages, writeFile } from './fixture-files.js';

const { dir, cleanup } = makeTempDir();
after(cleanup);

/** Asserts fn throws a DataFileError for `path` whose message matches every pattern. */
function assertDataError(fn: () => unknown, path: string, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DataFileError, `expected DataFileError, got ${String(e)}`);
    assert.equal(e.path, path);
    assert.ok(e.message.startsWith(`${path}: `), e.message);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

test('reads raw and gzip IDX images and labels identically, as plain Uint8Array views', () => {
  const images = patternImages(5, 28, 28);
  const labels = cyclicLabels(5);
  for (const gzip of [false, true]) {
    const ip = writeFile(dir, `ok-images-${gzip}`, idxBytes([5, 28, 28], images), gzip);
    const lp = writeFile(dir, `ok-labels-${gzip}`, idxBytes([5], labels), gzip);
    const pair = readIdxPair(ip, lp, 10, { height: 28, width: 28 });
    assert.equal(pair.count, 5);
    assert.equal(pair.height, 28);
    assert.equal(pair.width, 28);
    assert.equal(Object.getPrototypeOf(pair.images), Uint8Array.prototype);
    assert.deepEqual(pair.images, images);
    assert.deepEqual(pair.labels, labels);
  }
});

test('bad magic: labels file given as images, wrong data type, not IDX at all', () => {
  const asImages = writeFile(dir, 'labels-as-images', idxBytes([3], cyclicLabels(3)));
  assertDataError(() => readIdxImages(asImages), asImages, /bad magic number 0x00000801, expected 0x00000803/, /1 dimensions/);
  const floats = writeFile(dir, 'float-images', idxBytes([1, 2, 2], new Uint8Array(16), 0x0d));
  assertDataError(() => readIdxImages(floats), floats, /bad magic/, /data type 0x0d, only unsigned byte 0x08/);
  const junk = writeFile(dir, 'junk', Buffer.from('hello, this is not an IDX file'));
  assertDataError(() => readIdxLabels(junk, 10), junk, /bad magic number 0x68656c6c/, /not an IDX file/);
  const tiny = writeFile(dir, 'tiny', new Uint8Array([0, 0]));
  assertDataError(() => readIdxLabels(tiny, 10), tiny, /too short/);
});

test('truncated data and truncated header are errors naming sizes', () => {
  const full = idxBytes([60000, 28, 28], new Uint8Array(1234));
  const p = writeFile(dir, 'train-images-idx3-ubyte.gz', full, true);
  assertDataError(() => readIdxImages(p), p,
    /truncated: header says 60000 images of 28x28 \(47040000 bytes\) but the file has 1234 bytes of data/);
  const header = writeFile(dir, 'short-header', idxBytes([10, 28, 28], new Uint8Array(0)).subarray(0, 10));
  assertDataError(() => readIdxImages(header), header, /truncated header: IDX images need 16 header bytes, the file has 10/);
  const labels = writeFile(dir, 'short-labels', idxBytes([10], cyclicLabels(9)));
  assertDataError(() => readIdxLabels(labels, 10), labels, /truncated: header says 10 labels \(10 bytes\) but the file has 9/);
});

test('trailing bytes are errors', () => {
  const p = writeFile(dir, 'trailing-images', idxBytes([2, 28, 28], patternImages(3, 28, 28)));
  assertDataError(() => readIdxImages(p), p, /784 trailing bytes: header says 2 images of 28x28 \(1568 bytes\)/);
  const l = writeFile(dir, 'trailing-labels.gz', idxBytes([2], cyclicLabels(3)), true);
  assertDataError(() => readIdxLabels(l, 10), l, /1 trailing bytes/);
});

test('image and label counts must match', () => {
  const ip = writeFile(dir, 'mismatch-images', idxBytes([4, 28, 28], patternImages(4, 28, 28)));
  const lp = writeFile(dir, 'mismatch-labels', idxBytes([3], cyclicLabels(3)));
  assertDataError(() => readIdxPair(ip, lp, 10), ip, /count mismatch: 4 images but .*mismatch-labels has 3 labels/);
});

test('wrong dimensions are errors', () => {
  const p = writeFile(dir, 'wrong-dims', idxBytes([2, 27, 28], patternImages(2, 27, 28)));
  assertDataError(() => readIdxImages(p, { height: 28, width: 28 }), p, /wrong image dimensions: header says 27x28, expected 28x28/);
  const empty = writeFile(dir, 'empty-dims', idxBytes([2, 0, 28], new Uint8Array(0)));
  assertDataError(() => readIdxImages(empty), empty, /images of 0x28, which is empty/);
});

test('labels must be below the class count', () => {
  const p = writeFile(dir, 'bad-label', idxBytes([4], new Uint8Array([1, 2, 10, 3])));
  assertDataError(() => readIdxLabels(p, 10), p, /label 10 at index 2 is out of range: there are 10 classes \(0\.\.9\)/);
});

test('corrupt and truncated gzip are errors naming the file', () => {
  const gz = gzipSync(idxBytes([3], cyclicLabels(3)));
  const corrupt = Buffer.from(gz);
  corrupt.fill(0xaa, 10, corrupt.length - 8);
  const p = writeFile(dir, 'corrupt.gz', corrupt);
  assertDataError(() => readIdxLabels(p, 10), p, /corrupt gzip data/);
  const cut = writeFile(dir, 'cut.gz', gz.subarray(0, gz.length - 6));
  assertDataError(() => readIdxLabels(cut, 10), cut, /corrupt gzip data/);
});

test('missing file names the path and the hint', () => {
  const p = join(dir, 'nope', 'train-images-idx3-ubyte.gz');
  assertDataError(() => readIdxImages(p, { missingHint: 'install it with X' }), p, /file not found; install it with X/);
  assertDataError(() => readIdxImages(dir), dir, /is a directory/);
});
