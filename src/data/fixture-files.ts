/**
 * Helpers for the data tests: temporary directories and byte builders for IDX and CIFAR-10
 * files, valid or deliberately broken. Not used by production code.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** A fresh directory under os.tmpdir(); call the returned cleanup when done. */
export function makeTempDir(prefix = 'mnas-data-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** IDX bytes: magic 0x0000 | dtype | dims.length, then the dims, then `data`. */
export function idxBytes(dims: readonly number[], data: Uint8Array, dtype = 0x08): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(((dtype & 0xff) << 8) | dims.length, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, data]);
}

/** `count` images of height x width whose pixel (n, y, x) is (n * 7 + y * 3 + x) & 255. */
export function patternImages(count: number, height: number, width: number): Uint8Array {
  const data = new Uint8Array(count * height * width);
  for (let n = 0; n < count; n++) for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    data[(n * height + y) * width + x] = (n * 7 + y * 3 + x) & 255;
  }
  return data;
}

/** Labels 0, 1, ..., classes-1, 0, 1, ... */
export function cyclicLabels(count: number, classes = 10): Uint8Array {
  return Uint8Array.from({ length: count }, (_, i) => i % classes);
}

export function writeFile(dir: string, name: string, bytes: Uint8Array, gzip = false): string {
  const path = join(dir, name);
  writeFileSync(path, gzip ? gzipSync(bytes) : bytes);
  return path;
}

/** Writes the four MNIST-layout files (28x28) with `trainCount` / `testCount` samples. */
export function writeMnistLayout(dir: string, trainCount: number, testCount: number, options: { gzip?: boolean; dotted?: boolean } = {}): void {
  const gzip = options.gzip ?? true;
  const name = (base: string) => (options.dotted ? base.replace(/-(idx\d-ubyte)$/, '.$1') : base) + (gzip ? '.gz' : '');
  for (const [prefix, count] of [['train', trainCount], ['t10k', testCount]] as const) {
    writeFile(dir, name(`${prefix}-images-idx3-ubyte`), idxBytes([count, 28, 28], patternImages(count, 28, 28)), gzip);
    writeFile(dir, name(`${prefix}-labels-idx1-ubyte`), idxBytes([count], cyclicLabels(count)), gzip);
  }
}

/** CIFAR-10 binary records: label, then 1024 R, 1024 G, 1024 B bytes with R=(n+p)&255, G=R^0x55, B=label*20. */
export function cifarRecords(labels: readonly number[], firstIndex = 0): Uint8Array {
  const out = new Uint8Array(labels.length * 3073);
  labels.forEach((label, r) => {
    const n = firstIndex + r;
    const at = r * 3073;
    out[at] = label;
    for (let p = 0; p < 1024; p++) {
      out[at + 1 + p] = (n + p) & 255;
      out[at + 1 + 1024 + p] = ((n + p) & 255) ^ 0x55;
      out[at + 1 + 2048 + p] = label * 20;
    }
  });
  return out;
}

/** Writes data_batch_1..5.bin (`perBatch` records each) and test_batch.bin (`testCount`). */
export function writeCifarLayout(dir: string, perBatch: number, testCount: number): void {
  for (let b = 0; b < 5; b++) {
    writeFile(dir, `data_batch_${b + 1}.bin`, cifarRecords(Array.from({ length: perBatch }, (_, i) => (b * perBatch + i) % 10), b * perBatch));
  }
  writeFile(dir, 'test_batch.bin', cifarRecords(Array.from({ length: testCount }, (_, i) => (i * 3) % 10)));
}
