/**
 * The safetensors format (huggingface/safetensors): 8-byte little-endian header length, a JSON
 * header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}}, then the raw
 * little-endian data. PyTorch users read our weights with safetensors.torch.load_file.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/write-atomic.js';
import { float64Tensor, int64Tensor, tensor, uint8Tensor } from './creation.js';
import type { Tensor } from './tensor.js';
import { InputError } from '../util/input-error.js';

type StDtype = 'F32' | 'F64' | 'I64' | 'U8';

interface Entry {
  dtype: StDtype;
  shape: number[];
  data_offsets: [number, number];
}

export function encodeSafetensors(tensors: ReadonlyMap<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, Entry | Record<string, string>> = {};
  if (Object.keys(metadata).length) header['__metadata__'] = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of [...tensors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    let bytes: Uint8Array;
    let dtype: StDtype;
    if (t.dtype === 'float32') {
      const a = t.toFloat32Array();
      bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      dtype = 'F32';
    } else if (t.dtype === 'float64') {
      const a = t.toFloat64Array();
      bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      dtype = 'F64';
    } else if (t.dtype === 'uint8') {
      bytes = t.toUint8Array();
      dtype = 'U8';
    } else if (t.dtype === 'int64') {
      const a = t.toBigInt64Array();
      bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      dtype = 'I64';
    } else {
      throw new Error(`safetensors: tensor '${name}' has unsupported dtype ${t.dtype}`);
    }
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.byteLength;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.byteLength;
  }
  return out;
}

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** A malformed or unreadable safetensors file; the message is one line naming the file and the entry. */
export class SafetensorsError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

/** Element sizes of the format's dtypes (all of them, so any valid file's offsets can be checked). */
const DTYPE_BYTES: Readonly<Record<string, number>> = Object.freeze({
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
});

/** Headers larger than this are refused before decoding (the reference implementation's own cap). */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;

export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Elements (product of shape). */
  readonly count: number;
  /** Byte range inside the data section (after the header). */
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  /** Where the data section starts: 8 + header length. */
  readonly dataStart: number;
  readonly dataLength: number;
  readonly metadata: Record<string, string>;
  /** In header order. */
  readonly entries: readonly SafetensorsEntry[];
}

const show = (text: string, max = 60): string => {
  const cut = text.length > max ? `${text.slice(0, max)}...` : text;
  // eslint-disable-next-line no-control-regex
  return cut.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
};
const showJson = (v: unknown): string => {
  try {
    return show(JSON.stringify(v) ?? String(v));
  } catch {
    return Array.isArray(v) ? 'an array' : `a ${typeof v}`; // nested too deep to print
  }
};
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses and checks the header of safetensors `bytes` (a Buffer or any Uint8Array) without
 * touching the data: header length within the file, UTF-8 JSON object, `__metadata__` an object
 * of strings, every entry a known dtype, a shape of non-negative safe integers whose byte size
 * matches its data offsets, offsets inside the data section and no two entries overlapping.
 * Pure; throws only SafetensorsError, for any input.
 */
export function parseSafetensorsHeader(bytes: Uint8Array, source = 'safetensors'): SafetensorsHeader {
  try {
    return parseHeader(bytes, source);
  } catch (e) {
    if (e instanceof SafetensorsError) throw e;
    // not expected (the checks come first); the engine's own limits, e.g. a string too long
    throw new SafetensorsError(`${source}: unreadable header (${show(String((e as Error)?.message ?? e), 200)})`);
  }
}

function parseHeader(bytes: Uint8Array, source: string): SafetensorsHeader {
  const fail = (problem: string): SafetensorsError => new SafetensorsError(`${source}: ${problem}`);
  if (!(bytes instanceof Uint8Array)) throw fail('expected the file bytes');
  if (bytes.byteLength < 8) throw fail(`file too short (${bytes.byteLength} bytes) for a safetensors header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(bytes.byteLength - 8)) throw fail(`header length ${n} exceeds the file size (${bytes.byteLength} bytes)`);
  if (n > BigInt(MAX_SAFETENSORS_HEADER_BYTES)) throw fail(`header length ${n} exceeds the limit ${MAX_SAFETENSORS_HEADER_BYTES}`);
  const headerLength = Number(n);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    throw fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw fail(`header is not valid JSON (${show((e as Error).message)})`);
  }
  if (!isObject(header)) throw fail(`header must be a JSON object, got ${showJson(header)}`);
  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;
  let metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isObject(raw)) throw fail(`"__metadata__" must be an object of strings, got ${showJson(raw)}`);
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') throw fail(`"__metadata__" value '${show(k)}' must be a string, got ${showJson(v)}`);
      }
      // fromEntries defines own properties: a '__proto__' key stays data
      metadata = Object.fromEntries(Object.entries(raw as Record<string, string>));
      continue;
    }
    const bad = (problem: string): SafetensorsError => fail(`entry '${show(name)}' ${problem}`);
    if (!isObject(raw)) throw bad(`is malformed: expected an object {dtype, shape, data_offsets}, got ${showJson(raw)}`);
    const { dtype, shape, data_offsets: offsets } = raw;
    if (typeof dtype !== 'string' || !Object.prototype.hasOwnProperty.call(DTYPE_BYTES, dtype)) {
      throw bad(`has unsupported dtype ${showJson(dtype)} (safetensors dtypes: ${Object.keys(DTYPE_BYTES).join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every((d: unknown) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw bad(`has an invalid shape ${showJson(shape)} (expected an array of non-negative integers)`);
    }
    let count = 1;
    for (const d of shape as number[]) {
      count *= d;
      if (!Number.isSafeInteger(count)) throw bad(`has a shape ${showJson(shape)} with too many elements`);
    }
    const size = count * (DTYPE_BYTES[dtype] as number);
    if (!Number.isSafeInteger(size)) throw bad(`has a shape ${showJson(shape)} with too many bytes`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o: unknown) => Number.isSafeInteger(o) && (o as number) >= 0)) {
      throw bad(`has invalid data_offsets ${showJson(offsets)} (expected [begin, end] byte offsets)`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin || end > dataLength) throw bad(`has data_offsets [${begin}, ${end}] inconsistent with the ${dataLength} data bytes (out of range)`);
    if (end - begin !== size) throw bad(`has data_offsets [${begin}, ${end}] (${end - begin} bytes) inconsistent with shape [${shape.join(', ')}] ${dtype} (${size} bytes)`);
    entries.push({ name, dtype, shape: shape as number[], count, begin, end });
  }
  const sorted = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1] as SafetensorsEntry;
    const cur = sorted[i] as SafetensorsEntry;
    if (cur.begin < prev.end) {
      throw fail(`entries '${show(prev.name)}' [${prev.begin}, ${prev.end}] and '${show(cur.name)}' [${cur.begin}, ${cur.end}] overlap`);
    }
  }
  return { dataStart, dataLength, metadata, entries };
}

const LOADABLE = new Set(['F32', 'F64', 'I64', 'U8']);

/** Decodes safetensors bytes; every inconsistency is a SafetensorsError naming `source` and the entry. */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors'): SafetensorsFile {
  const header = parseSafetensorsHeader(bytes, source);
  for (const e of header.entries) {
    if (!LOADABLE.has(e.dtype)) throw new SafetensorsError(`${source}: entry '${show(e.name)}' has unsupported dtype ${e.dtype} (mnas loads ${[...LOADABLE].join(', ')})`);
  }
  const tensors = new Map<string, Tensor>();
  try {
    for (const e of header.entries) {
      // A fresh, aligned copy: Buffer#slice (readFileSync's result) returns a view into the
      // file buffer, whose .buffer starts elsewhere, so it must not be used here.
      const slice = Uint8Array.prototype.slice.call(bytes, header.dataStart + e.begin, header.dataStart + e.end);
      const shape = [...e.shape];
      const t =
        e.dtype === 'F32'
          ? tensor(new Float32Array(slice.buffer, 0, e.count), shape)
          : e.dtype === 'F64'
            ? float64Tensor(new Float64Array(slice.buffer, 0, e.count), shape)
          : e.dtype === 'I64'
            ? int64Tensor(new BigInt64Array(slice.buffer, 0, e.count), shape)
            : uint8Tensor(slice, shape);
      tensors.set(e.name, t);
    }
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return { tensors, metadata: header.metadata };
}

/** Writes atomically (temp file + rename), so a crash never leaves a half-written file. */
export function saveSafetensors(file: string, tensors: ReadonlyMap<string, Tensor>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}

export function loadSafetensors(file: string): SafetensorsFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new SafetensorsError(`cannot read weights file ${show(file, 200)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return decodeSafetensors(bytes, file);
}
