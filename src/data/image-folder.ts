/**
 * A dataset from a folder of images, one subfolder per class (the subfolder's name is the
 * class name; classes are numbered in name order):
 *
 *   flowers/daisy/1.jpg, flowers/rose/a.png, ...            every 10th image of each class is the test set
 *   flowers/train/daisy/..., flowers/test/daisy/...         (or val/ instead of test/) an explicit test set
 *
 * PNG and JPEG images are decoded with sharp (libvips), converted to the target's channels
 * (1: grayscale, 3: sRGB; alpha is flattened onto black) and, unless resizing is off, resized
 * to the target resolution (scaled to cover it, then centre-cropped). With resizing off every
 * image must have the same size. Hidden files (names starting with '.') are ignored; any other
 * file that is not a decodable PNG or JPEG is an error naming it, unless `skipBadFiles` is set,
 * in which case it is skipped and listed in the result.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataFileError } from './data-file-error.js';
import type { DatasetWithoutStats } from './dataset.js';
import { holdOutTestSamples } from './test-holdout.js';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;
const TEST_FOLDERS = ['test', 'val'] as const;

export interface ImageShape {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

export interface ImageFolderOptions {
  /** Output channels (1 or 3) and, when resizing, the output resolution. */
  readonly target: ImageShape;
  /** Resize every image to the target resolution (default true); off: all images must share one size. */
  readonly resize?: boolean;
  /** Skip (and list) files that are not decodable PNG/JPEG images instead of failing. */
  readonly skipBadFiles?: boolean;
  /** After each image: images decoded (or skipped) so far, and how many there are. */
  readonly onDecoded?: (done: number, total: number) => void;
}

export interface LabelledFile {
  readonly file: string;
  readonly label: number;
}

export interface SkippedFile {
  readonly file: string;
  readonly reason: string;
}

/** What an image folder holds, before decoding. */
export interface ImageFolderListing {
  readonly root: string;
  readonly classNames: readonly string[];
  readonly train: readonly LabelledFile[];
  readonly test: readonly LabelledFile[];
  /** 'split' when the folder has train/ and test/ (or val/); 'flat' when the test set is held out. */
  readonly layout: 'split' | 'flat';
  readonly skipped: readonly SkippedFile[];
}

const visible = (name: string) => !name.startsWith('.');
const isImageName = (name: string) => (IMAGE_EXTENSIONS as readonly string[]).some((e) => name.toLowerCase().endsWith(e));

function readFolder(dir: string): string[] {
  try {
    return readdirSync(dir).filter(visible).sort();
  } catch (e) {
    throw new DataFileError(dir, `cannot read folder: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch (e) {
    throw new DataFileError(path, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Whether `dir` looks like an image folder: every visible entry is a folder. */
export function isImageFolder(dir: string): boolean {
  const entries = readFolder(dir);
  return entries.length > 0 && entries.every((e) => isFolder(join(dir, e)));
}

/** The classes and files of an image folder; a DataFileError naming the folder or file if it is not usable. */
export function listImageFolder(root: string, options: Pick<ImageFolderOptions, 'skipBadFiles'> = {}): ImageFolderListing {
  const entries = readFolder(root);
  const testFolder = TEST_FOLDERS.find((t) => entries.includes(t));
  const split = entries.includes('train') && testFolder !== undefined && entries.every((e) => e === 'train' || e === testFolder);
  const skipped: SkippedFile[] = [];
  const trainRoot = split ? join(root, 'train') : root;
  const classNames = classFolders(trainRoot);
  const train = filesOf(trainRoot, classNames, skipped, options.skipBadFiles === true);
  if (!split) {
    const { train: kept, test } = holdOutTestSamples(train.map((f) => f.label));
    if (test.length === 0) throw new DataFileError(root, `too few images to hold out a test set (every 10th of each class); add images or give train/ and test/ folders`);
    return { root, classNames, train: kept.map((i) => train[i]!), test: test.map((i) => train[i]!), layout: 'flat', skipped };
  }
  const testRoot = join(root, testFolder);
  const testClasses = classFolders(testRoot, false);
  const unknown = testClasses.find((c) => !classNames.includes(c));
  if (unknown !== undefined) throw new DataFileError(join(testRoot, unknown), `class '${unknown}' is not among the training classes (${classNames.join(', ')})`);
  const test = testClasses.length === 0 ? [] : filesOf(testRoot, classNames, skipped, options.skipBadFiles === true, testClasses);
  if (test.length === 0) throw new DataFileError(testRoot, 'no test images');
  return { root, classNames, train, test, layout: 'split', skipped };
}

function classFolders(dir: string, needTwo = true): string[] {
  const entries = readFolder(dir);
  const notFolder = entries.find((e) => !isFolder(join(dir, e)));
  if (notFolder !== undefined) throw new DataFileError(join(dir, notFolder), 'is a file where class folders are expected (an image folder holds one subfolder per class)');
  if (needTwo && entries.length < 2) {
    throw new DataFileError(dir, entries.length === 0 ? 'no class folders (an image folder holds one subfolder per class)' : `only one class folder ('${entries[0]}'); a classifier needs at least two`);
  }
  return entries;
}

function filesOf(dir: string, classNames: readonly string[], skipped: SkippedFile[], skipBad: boolean, only: readonly string[] = classNames): LabelledFile[] {
  const files: LabelledFile[] = [];
  for (const className of only) {
    const classDir = join(dir, className);
    let count = 0;
    for (const name of readFolder(classDir)) {
      const file = join(classDir, name);
      const problem = isFolder(file) ? 'is a folder inside a class folder (class folders hold images only)' : isImageName(name) ? undefined : 'is not a PNG or JPEG image (.png, .jpg, .jpeg)';
      if (problem === undefined) {
        files.push({ file, label: classNames.indexOf(className) });
        count++;
      } else if (skipBad) skipped.push({ file, reason: problem });
      else throw new DataFileError(file, `${problem}; pass --skip-bad-files to skip such files`);
    }
    if (count === 0) throw new DataFileError(classDir, 'class folder holds no images');
  }
  return files;
}

/** Decodes the listed images into training and test sets (without stats). */
export async function decodeImageFolder(listing: ImageFolderListing, options: ImageFolderOptions, name: string): Promise<{ train: DatasetWithoutStats; test: DatasetWithoutStats; skipped: SkippedFile[] }> {
  const { target } = options;
  if (target.channels !== 1 && target.channels !== 3) throw new Error(`image-folder.ts: target channels must be 1 or 3, got ${target.channels}`);
  const skipped = [...listing.skipped];
  const total = listing.train.length + listing.test.length;
  let done = 0;
  const sizeOf = { first: undefined as undefined | { file: string; height: number; width: number } };
  const decodePart = async (files: readonly LabelledFile[], partName: string): Promise<DatasetWithoutStats> => {
    const images: Uint8Array[] = [];
    const labels: number[] = [];
    let shape: ImageShape | undefined;
    for (const f of files) {
      let decoded: { pixels: Uint8Array; height: number; width: number };
      try {
        decoded = await decodeImage(f.file, options);
      } catch (e) {
        const reason = `cannot decode image: ${(e as Error).message.split('\n')[0]}`;
        if (!options.skipBadFiles) throw new DataFileError(f.file, `${reason}; pass --skip-bad-files to skip such files`);
        skipped.push({ file: f.file, reason });
        options.onDecoded?.(++done, total);
        continue;
      }
      options.onDecoded?.(++done, total);
      if (sizeOf.first === undefined) sizeOf.first = { file: f.file, height: decoded.height, width: decoded.width };
      else if (decoded.height !== sizeOf.first.height || decoded.width !== sizeOf.first.width) {
        throw new DataFileError(f.file, `is ${decoded.width}x${decoded.height} but ${sizeOf.first.file} is ${sizeOf.first.width}x${sizeOf.first.height}; with resizing off all images must have one size`);
      }
      shape = { height: decoded.height, width: decoded.width, channels: target.channels };
      images.push(decoded.pixels);
      labels.push(f.label);
    }
    const s = shape ?? { height: target.height, width: target.width, channels: target.channels };
    return {
      name: `${name}/${partName}`,
      images: Buffer.concat(images),
      labels: Uint8Array.from(labels),
      count: labels.length,
      ...s,
      classes: listing.classNames.length,
      classNames: listing.classNames,
      allowsHorizontalFlip: true,
    };
  };
  const train = await decodePart(listing.train, 'train');
  const test = await decodePart(listing.test, 'test');
  if (new Set(train.labels).size < 2) throw new DataFileError(listing.root, 'fewer than two classes have decodable training images');
  if (test.count === 0) throw new DataFileError(listing.root, 'no decodable test images');
  return { train, test, skipped };
}

/** sharp (and libvips) load on first use, not with every command that imports the data readers. */
let sharpModule: Promise<typeof import('sharp')> | undefined;
async function loadSharp(): Promise<typeof import('sharp')['default']> {
  sharpModule ??= import('sharp');
  return (await sharpModule).default;
}

async function decodeImage(file: string, options: ImageFolderOptions): Promise<{ pixels: Uint8Array; height: number; width: number }> {
  const { target } = options;
  const sharp = await loadSharp();
  let pipeline = sharp(file, { failOn: 'warning' }).flatten({ background: '#000000' });
  pipeline = target.channels === 1 ? pipeline.grayscale() : pipeline.toColourspace('srgb');
  if (options.resize !== false) pipeline = pipeline.resize(target.width, target.height, { fit: 'cover', position: 'centre' });
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== target.channels) throw new Error(`decoded to ${info.channels} channels, expected ${target.channels}`);
  return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.length), height: info.height, width: info.width };
}
