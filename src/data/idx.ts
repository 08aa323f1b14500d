/**
 * Reader for IDX files, the format of MNIST and Fashion-MNIST (raw or gzip-compressed):
 * a big-endian header of magic 0x0000 | dtype | ndims, then ndims uint32 sizes, then the data.
 * Only unsigned-byte data (dtype 0x08) is accepted; images have 3 dims, labels 1.
 * Everything is checked: magic, dtype, dims, that the data length matches the header exactly,
 * equal image and label counts, and label values < classes.
 */
import { DataFileError } from './data-file-error.js';
import { readDataFile, type ReadDataFileOptions } from './read-data-file.js';

const UBYTE = 0x08;
export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

export interface IdxImages {
  readonly images: Uint8Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
}

export interface IdxPair extends IdxImages {
  readonly labels: Uint8Array;
}

export interface ReadIdxImagesOptions extends ReadDataFileOptions {
  /** Required image height/width; a file with other dims is an error. */
  readonly height?: number;
  readonly width?: number;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** Parses the header of decompressed IDX bytes; returns the dims and a view of the data. */
function parseIdx(bytes: Uint8Array, path: string, expectedMagic: number, what: string): { dims: number[]; data: Uint8Array } {
  const ndims = expectedMagic & 0xff;
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < 4) throw new DataFileError(path, `too short for an IDX file (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic !== expectedMagic) {
    const dtype = (magic >>> 8) & 0xff;
    let detail = '';
    if (magic >>> 16 !== 0) detail = ' (not an IDX file)';
    else if (dtype !== UBYTE) detail = ` (data type 0x${dtype.toString(16).padStart(2, '0')}, only unsigned byte 0x08 is supported)`;
    else detail = ` (${magic & 0xff} dimensions, IDX ${what} have ${ndims})`;
    throw new DataFileError(path, `bad magic number ${hex(magic)}, expected ${hex(expectedMagic)} for IDX ${what}${detail}`);
  }
  if (bytes.length < headerBytes) {
    throw new DataFileError(path, `truncated header: IDX ${what} need ${headerBytes} header bytes, the file has ${bytes.length}`);
  }
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(4 + 4 * d));
  // A plain Uint8Array view (not a Buffer) over the same memory: no copy.
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, bytes.length - headerBytes) };
}

function checkLength(path: string, data: Uint8Array, expected: number, describe: string): void {
  if (data.length < expected) {
    throw new DataFileError(path, `truncated: header says ${describe} (${expected} bytes) but the file has ${data.length} bytes of data`);
  }
  if (data.length > expected) {
    throw new DataFileError(path, `${data.length - expected} trailing bytes: header says ${describe} (${expected} bytes) but the file has ${data.length} bytes of data`);
  }
}

/** Reads an IDX3 ubyte images file (count x height x width, one channel). */
export function readIdxImages(path: string, options: ReadIdxImagesOptions = {}): IdxImages {
  const { dims, data } = parseIdx(readDataFile(path, options), path, IDX_IMAGES_MAGIC, 'images');
  const [count, height, width] = dims as [number, number, number];
  if (height === 0 || width === 0) throw new DataFileError(path, `header says images of ${height}x${width}, which is empty`);
  if ((options.height !== undefined && height !== options.height) || (options.width !== undefined && width !== options.width)) {
    throw new DataFileError(path, `wrong image dimensions: header says ${height}x${width}, expected ${options.height ?? height}x${options.width ?? width}`);
  }
  checkLength(path, data, count * height * width, `${count} images of ${height}x${width}`);
  return { images: data, count, height, width };
}

/** Reads an IDX1 ubyte labels file; every label must be < classes. */
export function readIdxLabels(path: string, classes: number, options: ReadDataFileOptions = {}): Uint8Array {
  const { dims, data } = parseIdx(readDataFile(path, options), path, IDX_LABELS_MAGIC, 'labels');
  const count = dims[0]!;
  checkLength(path, data, count, `${count} labels`);
  const bad = data.findIndex((l) => l >= classes);
  if (bad >= 0) throw new DataFileError(path, `label ${data[bad]} at index ${bad} is out of range: there are ${classes} classes (0..${classes - 1})`);
  return data;
}

/** Reads matching images and labels files and checks that their counts agree. */
export function readIdxPair(imagesPath: string, labelsPath: string, classes: number, options: ReadIdxImagesOptions = {}): IdxPair {
  const images = readIdxImages(imagesPath, options);
  const labels = readIdxLabels(labelsPath, classes, options);
  if (labels.length !== images.count) {
    throw new DataFileError(imagesPath, `count mismatch: ${images.count} images but ${labelsPath} has ${labels.length} labels`);
  }
  return { ...images, labels };
}
