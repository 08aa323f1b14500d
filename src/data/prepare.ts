/**
 * Turns what a user names as data (`--dataset NAME|PATH`) into what a training process loads:
 * a built-in dataset (name, data folder), or the user's own data (an image folder, an .npz
 * archive, a folder of .npy arrays, or a folder of MNIST-style IDX or CIFAR-10 binary files)
 * decoded ONCE here, in the coordinating process, into a dataset cache file that every trial
 * process then reads (src/data/dataset-cache.ts). The cache file is named by a hash of the
 * source's content and the decoding settings (src/data/source-key.ts), so changed data or
 * settings make a new one; unchanged files are not read again to find that out.
 *
 * The data's shape and classes are known before anything is written: a required shape or number
 * of classes that the data does not have is a DataFileError (an InputError) naming the source.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { arrayDatasetFiles, isArrayFolder, readArrayDataset } from './array-dataset.js';
import { CIFAR10_TRAIN_FILES, CIFAR10_SUBDIR } from './cifar10.js';
import { DataFileError } from './data-file-error.js';
import { readDatasetCacheHeader, writeDatasetCache } from './dataset-cache.js';
import { withTrainingStats, type DatasetWithoutStats } from './dataset.js';
import { decodeImageFolder, listImageFolder, type ImageShape, type SkippedFile } from './image-folder.js';
import { DATASET_NAMES, isDatasetName, type DatasetName } from './load.js';
import { findMnistFile } from './mnist-format.js';
import { DEFAULT_SOURCE_KEY_IO, manifestFile, sourceKey, type SourceKeyIo } from './source-key.js';

/** Bump when the decoding changes, so old cache files are not reused. */
const CACHE_FORMAT = 1;

/** Shape and classes of the built-in datasets, known without loading them. */
const BUILTIN_SHAPES: Record<DatasetName, ImageShape & { classes: number }> = {
  'fashion-mnist': { height: 28, width: 28, channels: 1, classes: 10 },
  mnist: { height: 28, width: 28, channels: 1, classes: 10 },
  synthetic: { height: 28, width: 28, channels: 1, classes: 10 },
  cifar10: { height: 32, width: 32, channels: 3, classes: 10 },
  'synthetic-rgb': { height: 32, width: 32, channels: 3, classes: 10 },
};

export interface DataSource {
  /** A built-in dataset's name (DATASET_NAMES) or a path to the user's data. */
  readonly name: string;
  /** The built-in dataset's folder (mnist, cifar10, fashion-mnist). */
  readonly dataDir?: string;
  /** Resize images of an image folder to the target resolution (default true). */
  readonly resize?: boolean;
  /** Skip (and list) files of an image folder that are not decodable images. */
  readonly skipBadFiles?: boolean;
  /** Where cache files go (default $MNAS_CACHE_DIR, else $XDG_CACHE_HOME/mnas/datasets, else ~/.cache/mnas/datasets). */
  readonly cacheDir?: string;
}

/** What a training process passes to loadDataset: plain data, sent to worker processes as is. */
export interface DatasetRef {
  readonly name: string;
  readonly dataDir?: string;
  /** The decoded user data (then `name` is only its label). */
  readonly cacheFile?: string;
}

export interface PreparedDataset {
  readonly ref: DatasetRef;
  readonly shape: ImageShape;
  readonly classes: number;
  /** Files skipped with skipBadFiles, with why. */
  readonly skipped: readonly SkippedFile[];
  /** For status lines, e.g. "image folder ./flowers (5 classes, 32x32x3), cache reused: ...". */
  readonly description: string;
}

/** Progress of the long parts of preparing a user's data: reading new or changed files for the cache key, decoding images. */
export interface DataProgress {
  readonly phase: 'hashing' | 'decoding';
  readonly done: number;
  readonly total: number;
}

export interface PrepareOptions {
  /** How the cache key reads source files (tests count the reads). */
  readonly io?: SourceKeyIo;
  readonly onProgress?: (p: DataProgress) => void;
}

export interface PrepareTarget {
  /** Resolution and channels images of an image folder are converted to. */
  readonly shape: ImageShape;
  /** When set, data of another shape is an error naming this (e.g. "the given input (--input)"). */
  readonly requiredBy?: string;
  /** When set, data with another number of classes is an error naming `requiredBy`. */
  readonly classes?: { readonly count: number; readonly requiredBy: string };
}

export function defaultCacheDir(): string {
  if (process.env.MNAS_CACHE_DIR) return process.env.MNAS_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mnas', 'datasets');
}

const shapeText = (s: ImageShape) => `${s.height}x${s.width}x${s.channels}`;

function checkShape(where: string, shape: ImageShape, target: PrepareTarget): void {
  if (target.requiredBy === undefined) return;
  const t = target.shape;
  if (shape.height !== t.height || shape.width !== t.width || shape.channels !== t.channels) {
    throw new DataFileError(where, `images are ${shapeText(shape)} but ${target.requiredBy} is ${shapeText(t)}${shape.channels === t.channels ? '' : ' (channels differ)'}`);
  }
}

function checkClasses(where: string, classes: number, target: PrepareTarget): void {
  const required = target.classes;
  if (required === undefined || classes === required.count) return;
  throw new DataFileError(where, `the data has ${classes} classes but ${required.requiredBy} is ${required.count}`);
}

type SourceKind = { kind: 'builtin'; name: DatasetName; dataDir?: string } | { kind: 'arrays'; path: string; isFolder: boolean } | { kind: 'images'; path: string };

/** What kind of data `source.name` names; a DataFileError for a path that is none. */
export function classifySource(source: DataSource): SourceKind {
  if (isDatasetName(source.name)) return { kind: 'builtin', name: source.name, ...(source.dataDir ? { dataDir: source.dataDir } : {}) };
  const path = resolve(source.name);
  if (!existsSync(path)) {
    throw new DataFileError(source.name, `not a dataset name (${DATASET_NAMES.join(', ')}) and no such file or folder (give an image folder, an .npz archive or a folder of .npy, IDX or CIFAR-10 files)`);
  }
  if (!statSync(path).isDirectory()) {
    if (path.endsWith('.npz')) return { kind: 'arrays', path, isFolder: false };
    throw new DataFileError(source.name, 'is a file but not an .npz archive; give an .npz, or a folder (of class subfolders, of .npy arrays, or of IDX / CIFAR-10 files)');
  }
  let entries: string[];
  try {
    entries = readdirSync(path);
  } catch (e) {
    throw new DataFileError(source.name, `cannot read folder: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (isArrayFolder(path, entries)) return { kind: 'arrays', path, isFolder: true };
  if (entries.includes(CIFAR10_TRAIN_FILES[0]) || existsSync(join(path, CIFAR10_SUBDIR, CIFAR10_TRAIN_FILES[0]))) return { kind: 'builtin', name: 'cifar10', dataDir: path };
  if (existsSync(findMnistFile(path, 'train-images-idx3-ubyte'))) return { kind: 'builtin', name: 'mnist', dataDir: path };
  return { kind: 'images', path };
}

/**
 * The dataset `source` names, ready for training processes: built-in ones as they are, the
 * user's own decoded into (or found in) the cache. Async because images decode in libvips threads.
 */
export async function prepareDataset(source: DataSource, target: PrepareTarget, options: PrepareOptions = {}): Promise<PreparedDataset> {
  const progress = options.onProgress;
  const kind = classifySource(source);
  if (kind.kind === 'builtin') {
    const { classes, ...shape } = BUILTIN_SHAPES[kind.name];
    checkShape(kind.dataDir ?? kind.name, shape, target);
    checkClasses(kind.dataDir ?? kind.name, classes, target);
    return { ref: { name: kind.name, ...(kind.dataDir ? { dataDir: kind.dataDir } : {}) }, shape, classes, skipped: [], description: kind.dataDir ? `${kind.name} from ${kind.dataDir}` : kind.name };
  }
  const label = basename(kind.path).replace(/\.npz$/, '');
  const listing = kind.kind === 'images' ? listImageFolder(kind.path, { skipBadFiles: source.skipBadFiles === true }) : undefined;
  if (listing) checkClasses(kind.path, listing.classNames.length, target);
  const resize = source.resize !== false;
  const files = kind.kind === 'images' ? [...listing!.train, ...listing!.test].map((f) => f.file) : arrayDatasetFiles(kind.path, kind.isFolder);
  const settings = {
    format: CACHE_FORMAT,
    kind: kind.kind,
    ...(listing ? { channels: target.shape.channels, resize, ...(resize ? { height: target.shape.height, width: target.shape.width } : {}) } : {}),
  };
  const cacheDir = source.cacheDir ?? defaultCacheDir();
  const { key, saveManifest } = sourceKey(kind.path, files, settings, manifestFile(cacheDir, kind.path), options.io ?? DEFAULT_SOURCE_KEY_IO,
    progress && ((done, total) => progress({ phase: 'hashing', done, total })));
  const cacheFile = join(cacheDir, `${label.replace(/[^A-Za-z0-9._-]/g, '_')}-${key.slice(0, 20)}.mnasdata`);
  const what = listing ? `image folder ${kind.path}` : `arrays ${kind.path}`;

  const cached = readDatasetCacheHeader(cacheFile);
  if (cached && cached.key === key) {
    const shape = { height: cached.height, width: cached.width, channels: cached.channels };
    checkShape(kind.path, shape, target);
    checkClasses(kind.path, cached.classes, target);
    saveManifest();
    return {
      ref: { name: label, cacheFile },
      shape,
      classes: cached.classes,
      skipped: cached.skipped ?? [],
      description: `${what}: ${cached.classes} classes, ${cached.trainCount} training and ${cached.testCount} test images of ${shapeText(shape)} (cache ${cacheFile})`,
    };
  }
  let parts: { train: DatasetWithoutStats; test: DatasetWithoutStats };
  let skipped: readonly SkippedFile[] = [];
  if (kind.kind === 'images') {
    const decoded = await decodeImageFolder(listing!, {
      target: target.shape,
      resize,
      skipBadFiles: source.skipBadFiles === true,
      ...(progress ? { onDecoded: (done: number, total: number) => progress({ phase: 'decoding', done, total }) } : {}),
    }, label);
    parts = decoded;
    skipped = decoded.skipped;
  } else {
    parts = readArrayDataset(kind.path, kind.isFolder, label);
  }
  const shape = { height: parts.train.height, width: parts.train.width, channels: parts.train.channels };
  checkShape(kind.path, shape, target);
  checkClasses(kind.path, parts.train.classes, target);
  let data;
  try {
    data = withTrainingStats(parts.train, parts.test);
  } catch (e) {
    throw new DataFileError(kind.path, (e as Error).message.replace(/^dataset\.ts: /, ''));
  }
  const header = writeDatasetCache(cacheFile, key, label, data, skipped);
  saveManifest();
  return {
    ref: { name: label, cacheFile },
    shape,
    classes: header.classes,
    skipped,
    description: `${what}: ${header.classes} classes, ${header.trainCount} training and ${header.testCount} test images of ${shapeText(shape)} (decoded into ${cacheFile})`,
  };
}
