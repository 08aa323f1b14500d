/**
 * The decoded form of a user's dataset on disk, so every trial process loads it with one read
 * instead of decoding images again. One file per dataset and settings:
 *
 *   "MNASDATA1\n" | u32 LE header length | header JSON (utf-8)
 *   | train images | train labels | test images | test labels      (uint8, NHWC, as in Dataset)
 *
 * The header holds the shape, classes, counts, the training set's channel stats and the cache
 * key (a hash of the source's content and the decoding settings); a file whose key differs from
 * the source's current key is stale and rebuilt. Files are written to a temporary name and
 * renamed, so a reader never sees half a file.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataFileError } from './data-file-error.js';
import { withStats, type TrainTestDatasets } from './dataset.js';

const MAGIC = Buffer.from('MNASDATA1\n', 'latin1');
const PREFIX_BYTES = MAGIC.length + 4;

/** What the header of a cache file records. */
export interface DatasetCacheHeader {
  readonly key: string;
  readonly name: string;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly classes: number;
  readonly classNames: readonly string[];
  readonly allowsHorizontalFlip: boolean;
  readonly trainCount: number;
  readonly testCount: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /** Source files left out when decoding (skipBadFiles), with why. */
  readonly skipped?: readonly { readonly file: string; readonly reason: string }[];
}

/** Writes `data` (stats from its training set) under `key`, atomically; creates the folder. */
export function writeDatasetCache(file: string, key: string, name: string, data: TrainTestDatasets, skipped: DatasetCacheHeader['skipped'] = []): DatasetCacheHeader {
  const { train, test } = data;
  const header: DatasetCacheHeader = {
    key,
    name,
    height: train.height,
    width: train.width,
    channels: train.channels,
    classes: train.classes,
    classNames: train.classNames ?? Array.from({ length: train.classes }, (_, k) => String(k)),
    allowsHorizontalFlip: train.allowsHorizontalFlip,
    trainCount: train.count,
    testCount: test.count,
    mean: train.mean,
    std: train.std,
    skipped,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, Buffer.concat([MAGIC, length, json, train.images, train.labels, test.images, test.labels]));
  renameSync(temporary, file);
  return header;
}

const expectedBytes = (headerBytes: number, h: DatasetCacheHeader) => PREFIX_BYTES + headerBytes + (h.trainCount + h.testCount) * (h.height * h.width * h.channels + 1);

/** The header of a cache file, or undefined if the file is missing, not a cache file or not whole (then it is rebuilt). */
export function readDatasetCacheHeader(file: string): DatasetCacheHeader | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const prefix = Buffer.alloc(PREFIX_BYTES);
    if (readSync(fd, prefix, 0, PREFIX_BYTES, 0) !== PREFIX_BYTES || !prefix.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
    const length = prefix.readUInt32LE(MAGIC.length);
    const json = Buffer.alloc(length);
    if (readSync(fd, json, 0, length, PREFIX_BYTES) !== length) return undefined;
    const header = JSON.parse(json.toString('utf8')) as DatasetCacheHeader;
    return fstatSync(fd).size === expectedBytes(length, header) ? header : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The training and test sets of a cache file; a DataFileError naming the file if it is not one or is cut short. */
export function readDatasetCache(file: string): TrainTestDatasets {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new DataFileError(file, `cannot read the dataset cache: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (bytes.length < PREFIX_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new DataFileError(file, 'not an mnas dataset cache file');
  const length = bytes.readUInt32LE(MAGIC.length);
  let h: DatasetCacheHeader;
  try {
    h = JSON.parse(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + length).toString('utf8')) as DatasetCacheHeader;
  } catch (e) {
    throw new DataFileError(file, `corrupt dataset cache header: ${(e as Error).message}`);
  }
  const imageBytes = h.height * h.width * h.channels;
  const expected = expectedBytes(length, h);
  if (bytes.length !== expected) throw new DataFileError(file, `dataset cache has ${bytes.length} bytes, its header says ${expected}; delete it to rebuild`);
  let at = PREFIX_BYTES + length;
  const take = (n: number): Uint8Array => {
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset + at, n);
    at += n;
    return view;
  };
  const part = (count: number, partName: string) => ({
    name: `${h.name}/${partName}`,
    images: take(count * imageBytes),
    labels: take(count),
    count,
    height: h.height,
    width: h.width,
    channels: h.channels,
    classes: h.classes,
    classNames: h.classNames,
    allowsHorizontalFlip: h.allowsHorizontalFlip,
  });
  const stats = { mean: [...h.mean], std: [...h.std] };
  try {
    const train = withStats(part(h.trainCount, 'train'), stats);
    const test = withStats(part(h.testCount, 'test'), stats);
    return { train, test };
  } catch (e) {
    throw new DataFileError(file, `inconsistent dataset cache: ${(e as Error).message}`);
  }
}
