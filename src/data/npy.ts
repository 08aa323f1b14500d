/**
 * NumPy's .npy format (versions 1-3): a magic string, a header dict literal
 * `{'descr': '<u1', 'fortran_order': False, 'shape': (N, 28, 28), }` and the raw array data.
 * Reads little-endian and byte-sized booleans, integers and floats in C order; anything else is
 * a DataFileError naming the file and what to change.
 */
import { DataFileError } from './data-file-error.js';

export interface NpyArray {
  readonly shape: readonly number[];
  /** Element type: 'u1', 'i1', 'b1', 'u2', 'i2', 'u4', 'i4', 'u8', 'i8', 'f4', 'f8'. */
  readonly dtype: NpyDtype;
  /** Element i (C order) as a number. */
  get(i: number): number;
  readonly size: number;
  /** The raw bytes of a u1 array (no copy), for images. */
  readonly bytes: Uint8Array;
}

export const NPY_DTYPES = ['u1', 'i1', 'b1', 'u2', 'i2', 'u4', 'i4', 'u8', 'i8', 'f4', 'f8'] as const;
export type NpyDtype = (typeof NPY_DTYPES)[number];

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function isNpy(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b);
}

/** Parses a whole .npy file; `file` names it in errors (for an .npz member: "archive.npz:x_train.npy"). */
export function parseNpy(bytes: Uint8Array, file: string): NpyArray {
  if (!isNpy(bytes)) throw new DataFileError(file, 'not a NumPy .npy array (no \\x93NUMPY magic)');
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) { headerLength = view.getUint16(8, true); headerStart = 10; }
  else if (major === 2 || major === 3) { headerLength = view.getUint32(8, true); headerStart = 12; }
  else throw new DataFileError(file, `unsupported .npy format version ${major}`);
  const header = Buffer.from(bytes.subarray(headerStart, headerStart + headerLength)).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new DataFileError(file, `malformed .npy header: ${header.trim()}`);
  if (fortran === 'True') throw new DataFileError(file, 'array is in Fortran order; save it with np.ascontiguousarray(a)');
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new DataFileError(file, `malformed .npy shape (${shapeText})`);
  const order = descr[0];
  const dtype = descr.slice(1) as NpyDtype;
  if (!(NPY_DTYPES as readonly string[]).includes(dtype) || order === '>' || (order !== '<' && order !== '|' && order !== '=')) {
    throw new DataFileError(file, `unsupported dtype '${descr}': use uint8 images and integer labels (little-endian)`);
  }
  const itemBytes = Number(dtype.slice(1));
  const size = shape.reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLength;
  if (bytes.length - dataStart !== size * itemBytes) {
    throw new DataFileError(file, `.npy data has ${bytes.length - dataStart} bytes, shape (${shape.join(', ')}) of ${descr} needs ${size * itemBytes}`);
  }
  const data = new DataView(bytes.buffer, bytes.byteOffset + dataStart, size * itemBytes);
  const getters: Record<NpyDtype, (i: number) => number> = {
    u1: (i) => data.getUint8(i),
    b1: (i) => data.getUint8(i),
    i1: (i) => data.getInt8(i),
    u2: (i) => data.getUint16(i * 2, true),
    i2: (i) => data.getInt16(i * 2, true),
    u4: (i) => data.getUint32(i * 4, true),
    i4: (i) => data.getInt32(i * 4, true),
    u8: (i) => Number(data.getBigUint64(i * 8, true)),
    i8: (i) => Number(data.getBigInt64(i * 8, true)),
    f4: (i) => data.getFloat32(i * 4, true),
    f8: (i) => data.getFloat64(i * 8, true),
  };
  return { shape, dtype, size, get: getters[dtype], bytes: bytes.subarray(dataStart, dataStart + size * itemBytes) };
}

/** A .npy file's bytes for an array (C order, little-endian), for tests and tools. */
export function encodeNpy(dtype: NpyDtype, shape: readonly number[], values: ArrayLike<number>): Uint8Array {
  const descr = `${dtype === 'u1' || dtype === 'i1' || dtype === 'b1' ? '|' : '<'}${dtype}`;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const itemBytes = Number(dtype.slice(1));
  const out = new Uint8Array(10 + header.length + values.length * itemBytes);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  const at = 10 + header.length;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const o = at + i * itemBytes;
    switch (dtype) {
      case 'u1': case 'b1': view.setUint8(o, v); break;
      case 'i1': view.setInt8(o, v); break;
      case 'u2': view.setUint16(o, v, true); break;
      case 'i2': view.setInt16(o, v, true); break;
      case 'u4': view.setUint32(o, v, true); break;
      case 'i4': view.setInt32(o, v, true); break;
      case 'u8': view.setBigUint64(o, BigInt(v), true); break;
      case 'i8': view.setBigInt64(o, BigInt(v), true); break;
      case 'f4': view.setFloat32(o, v, true); break;
      case 'f8': view.setFloat64(o, v, true); break;
    }
  }
  return out;
}
