/**
 * A dataset from NumPy arrays: an .npz archive or a folder of .npy files holding
 * `x_train`, `y_train` (and optionally `x_test`, `y_test`) as Keras saves them, or `images` and
 * `labels` (then every 10th image of each class is the test set). Images are uint8 of shape
 * (N, H, W) or (N, H, W, C) with C 1 or 3, or floats in [0, 1]; labels are integers 0..K-1.
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DataFileError } from './data-file-error.js';
import type { Dataset, DatasetWithoutStats } from './dataset.js';
import { parseNpy, type NpyArray } from './npy.js';
import { readDataFile } from './read-data-file.js';
import { holdOutTestSamples } from './test-holdout.js';
import { readZip } from './zip.js';

export const ARRAY_NAMES = ['x_train', 'y_train', 'x_test', 'y_test', 'images', 'labels'] as const;

/** The files whose content defines an array dataset at `path` (the .npz, or the folder's .npy files). */
export function arrayDatasetFiles(path: string, isFolder: boolean): string[] {
  if (!isFolder) return [path];
  return readdirSync(path).filter((f) => f.endsWith('.npy') && (ARRAY_NAMES as readonly string[]).includes(f.slice(0, -4))).sort().map((f) => join(path, f));
}

/** Whether a folder holds arrays in the layout above. */
export function isArrayFolder(dir: string, entries: readonly string[]): boolean {
  return entries.includes('x_train.npy') || entries.includes('images.npy');
}

interface NamedArray {
  readonly array: NpyArray;
  /** For errors: "data.npz:x_train.npy" or "dir/x_train.npy". */
  readonly where: string;
}

function readArrays(path: string, isFolder: boolean): Map<string, NamedArray> {
  const arrays = new Map<string, NamedArray>();
  if (isFolder) {
    for (const file of arrayDatasetFiles(path, true)) arrays.set(basename(file, '.npy'), { array: parseNpy(readDataFile(file), file), where: file });
    return arrays;
  }
  for (const [member, bytes] of readZip(readDataFile(path), path)) {
    const key = member.endsWith('.npy') ? member.slice(0, -4) : member;
    const where = `${path}:${member}`;
    if ((ARRAY_NAMES as readonly string[]).includes(key)) arrays.set(key, { array: parseNpy(bytes, where), where });
  }
  return arrays;
}

/** The training and test parts (without stats) of the arrays at `path`. */
export function readArrayDataset(path: string, isFolder: boolean, name: string): { train: DatasetWithoutStats; test: DatasetWithoutStats } {
  const arrays = readArrays(path, isFolder);
  const need = (key: string): NamedArray => {
    const a = arrays.get(key);
    if (!a) throw new DataFileError(path, `no '${key}' array; expected x_train and y_train (optionally x_test and y_test), or images and labels`);
    return a;
  };
  if (arrays.has('x_train')) {
    const train = imagesAndLabels(need('x_train'), need('y_train'));
    const hasTest = arrays.has('x_test') || arrays.has('y_test');
    const test = hasTest ? imagesAndLabels(need('x_test'), need('y_test')) : undefined;
    if (test && (test.height !== train.height || test.width !== train.width || test.channels !== train.channels)) {
      throw new DataFileError(need('x_test').where, `test images are ${test.height}x${test.width}x${test.channels}, training images ${train.height}x${train.width}x${train.channels}`);
    }
    const classes = classCount(train.labels, need('y_train').where);
    if (test) checkLabelsBelow(test.labels, classes, need('y_test').where);
    const split = test ? undefined : holdOutTestSamples(train.labels);
    const part = (p: ReturnType<typeof imagesAndLabels>, partName: string, indices?: number[]) => toDataset(p, classes, `${name}/${partName}`, indices);
    return {
      train: part(train, 'train', split?.train),
      test: test ? part(test, 'test') : part(train, 'test', split!.test),
    };
  }
  const all = imagesAndLabels(need('images'), need('labels'));
  const classes = classCount(all.labels, need('labels').where);
  const split = holdOutTestSamples(all.labels);
  return { train: toDataset(all, classes, `${name}/train`, split.train), test: toDataset(all, classes, `${name}/test`, split.test) };
}

type ImagesAndLabels = Pick<Dataset, 'images' | 'labels' | 'count' | 'height' | 'width' | 'channels'>;

function imagesAndLabels(x: NamedArray, y: NamedArray): ImagesAndLabels {
  const s = x.array.shape;
  if (s.length !== 3 && s.length !== 4) throw new DataFileError(x.where, `images must have shape (N, H, W) or (N, H, W, C), got (${s.join(', ')})`);
  const channels = s.length === 4 ? s[3]! : 1;
  if (channels !== 1 && channels !== 3) throw new DataFileError(x.where, `images must have 1 or 3 channels last (N, H, W, C), got shape (${s.join(', ')}); for (N, C, H, W) use a.transpose(0, 2, 3, 1)`);
  const [count, height, width] = [s[0]!, s[1]!, s[2]!];
  if (count === 0 || height === 0 || width === 0) throw new DataFileError(x.where, `no images: shape (${s.join(', ')})`);
  const labelShape = y.array.shape;
  const flatLabels = labelShape.length === 1 || (labelShape.length === 2 && labelShape[1] === 1);
  if (!flatLabels || labelShape[0] !== count) throw new DataFileError(y.where, `labels must have shape (${count},) for ${count} images, got (${labelShape.join(', ')})`);
  if (y.array.dtype === 'f4' || y.array.dtype === 'f8') throw new DataFileError(y.where, `labels must be integers, got float ${y.array.dtype}`);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const l = y.array.get(i);
    if (l < 0 || l > 255) throw new DataFileError(y.where, `label ${l} at index ${i} is out of range: labels must be 0..255 (class indices)`);
    labels[i] = l;
  }
  return { images: imageBytes(x), labels, count, height, width, channels };
}

function imageBytes(x: NamedArray): Uint8Array {
  const a = x.array;
  if (a.dtype === 'u1') return a.bytes;
  if (a.dtype !== 'f4' && a.dtype !== 'f8') throw new DataFileError(x.where, `images must be uint8 (0..255) or floats in [0, 1], got dtype ${a.dtype}`);
  const out = new Uint8Array(a.size);
  for (let i = 0; i < a.size; i++) {
    const v = a.get(i);
    if (!(v >= 0 && v <= 1)) throw new DataFileError(x.where, `float images must be in [0, 1]; element ${i} is ${v}`);
    out[i] = Math.round(v * 255);
  }
  return out;
}

function classCount(labels: Uint8Array, where: string): number {
  let max = 0;
  for (const l of labels) max = Math.max(max, l);
  const present = new Set(labels).size;
  if (present < 2) throw new DataFileError(where, `only one class (label ${labels[0]}); a classifier needs at least two`);
  return max + 1;
}

function checkLabelsBelow(labels: Uint8Array, classes: number, where: string): void {
  const bad = labels.findIndex((l) => l >= classes);
  if (bad >= 0) throw new DataFileError(where, `label ${labels[bad]} at index ${bad} is out of range: the training labels have classes 0..${classes - 1}`);
}

function toDataset(p: ImagesAndLabels, classes: number, name: string, indices?: number[]): DatasetWithoutStats {
  const size = p.height * p.width * p.channels;
  let images = p.images;
  let labels = p.labels;
  if (indices) {
    images = new Uint8Array(indices.length * size);
    labels = new Uint8Array(indices.length);
    indices.forEach((i, k) => {
      images.set(p.images.subarray(i * size, (i + 1) * size), k * size);
      labels[k] = p.labels[i]!;
    });
  }
  return {
    name, images, labels, count: labels.length, height: p.height, width: p.width, channels: p.channels, classes,
    classNames: Array.from({ length: classes }, (_, k) => String(k)),
    allowsHorizontalFlip: true,
  };
}
