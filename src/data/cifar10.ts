/**
 * CIFAR-10, binary version: data_batch_1.bin .. data_batch_5.bin (training) and test_batch.bin,
 * from a user directory or its `cifar-10-batches-bin` subdirectory. Each record is 1 label byte
 * followed by a 32x32x3 image stored channel-planar (1024 R, 1024 G, 1024 B bytes, rows in
 * order), converted here to NHWC. Horizontal flips are allowed.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataFileError } from './data-file-error.js';
import { withTrainingStats, type DatasetWithoutStats, type TrainTestDatasets } from './dataset.js';
import { readDataFile } from './read-data-file.js';

export const CIFAR10_CLASS_NAMES = [
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
] as const;

export const CIFAR10_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'] as const;
export const CIFAR10_TEST_FILE = 'test_batch.bin';
export const CIFAR10_SUBDIR = 'cifar-10-batches-bin';

const SIDE = 32;
const CHANNELS = 3;
const PLANE = SIDE * SIDE;
const IMAGE_BYTES = PLANE * CHANNELS;
const RECORD_BYTES = 1 + IMAGE_BYTES;

export interface LoadCifar10Options {
  /** Directory holding the .bin batches, or holding cifar-10-batches-bin/ with them. */
  readonly dir: string;
}

/** The directory that actually holds the batches: `dir` itself or `dir/cifar-10-batches-bin`. */
export function resolveCifar10Dir(dir: string): string {
  if (existsSync(join(dir, CIFAR10_TRAIN_FILES[0]))) return dir;
  const sub = join(dir, CIFAR10_SUBDIR);
  if (existsSync(join(sub, CIFAR10_TRAIN_FILES[0]))) return sub;
  if (!existsSync(dir)) throw new DataFileError(dir, 'CIFAR-10 directory not found');
  if (!statSync(dir).isDirectory()) throw new DataFileError(dir, 'is not a directory; give the directory holding the CIFAR-10 binary batches');
  throw new DataFileError(dir, `no CIFAR-10 binary batches: expected ${CIFAR10_TRAIN_FILES[0]} .. ${CIFAR10_TRAIN_FILES[4]} and ${CIFAR10_TEST_FILE} here or in ${CIFAR10_SUBDIR}/ (the "CIFAR-10 binary version")`);
}

/** Decodes the records of CIFAR-10 binary batch files into NHWC images and labels. */
export function readCifar10Batches(paths: readonly string[]): { images: Uint8Array; labels: Uint8Array; count: number } {
  const files = paths.map((path) => {
    const bytes = readDataFile(path, { missingHint: 'the CIFAR-10 binary version has data_batch_1.bin .. data_batch_5.bin and test_batch.bin' });
    if (bytes.length === 0 || bytes.length % RECORD_BYTES !== 0) {
      throw new DataFileError(path, `size ${bytes.length} bytes is not a positive multiple of the ${RECORD_BYTES}-byte CIFAR-10 record (1 label + ${IMAGE_BYTES} pixels)`);
    }
    return { path, bytes };
  });
  const count = files.reduce((n, f) => n + f.bytes.length / RECORD_BYTES, 0);
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  let n = 0;
  for (const { path, bytes } of files) {
    for (let r = 0; r * RECORD_BYTES < bytes.length; r++, n++) {
      const at = r * RECORD_BYTES;
      const label = bytes[at]!;
      if (label >= CIFAR10_CLASS_NAMES.length) {
        throw new DataFileError(path, `label ${label} in record ${r} (byte offset ${at}) is out of range: CIFAR-10 has 10 classes (0..9)`);
      }
      labels[n] = label;
      planarToInterleaved(bytes, at + 1, images, n * IMAGE_BYTES);
    }
  }
  return { images, labels, count };
}

/** Copies one 3-plane CHW image at `src[from..]` into HWC order at `dst[to..]`. */
function planarToInterleaved(src: Uint8Array, from: number, dst: Uint8Array, to: number): void {
  for (let p = 0; p < PLANE; p++) {
    const o = to + p * CHANNELS;
    dst[o] = src[from + p]!;
    dst[o + 1] = src[from + PLANE + p]!;
    dst[o + 2] = src[from + 2 * PLANE + p]!;
  }
}

export function loadCifar10(options: LoadCifar10Options): TrainTestDatasets {
  const dir = resolveCifar10Dir(options.dir);
  const part = (files: readonly string[], partName: string): DatasetWithoutStats => ({
    name: `cifar10/${partName}`,
    ...readCifar10Batches(files.map((f) => join(dir, f))),
    height: SIDE,
    width: SIDE,
    channels: CHANNELS,
    classes: CIFAR10_CLASS_NAMES.length,
    classNames: CIFAR10_CLASS_NAMES,
    allowsHorizontalFlip: true,
  });
  return withTrainingStats(part(CIFAR10_TRAIN_FILES, 'train'), part([CIFAR10_TEST_FILE], 'test'));
}
