/**
 * The safetensors format (huggingface/safetensors): 8-byte little-endian header length, a JSON
 * header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}}, then the raw
 * little-endian data. PyTorch users read our weights with safetensors.torch.load_file.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/write-atomic.js';
import { float64Tensor, int64Tensor, tensor, uint8Tensor } from './creation.js';
import type { Tensor } from './tensor.js';

type StDtype = 'F32' | 'F64' | 'I64' | 'U8';
const BYTES: Record<StDtype, number> = { F32: 4, F64: 8, I64: 8, U8: 1 };

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

/** Decodes safetensors bytes; every inconsistency is an error naming `source` and the entry. */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors'): SafetensorsFile {
  if (bytes.byteLength < 8) throw new Error(`${source}: file too short (${bytes.byteLength} bytes) for a safetensors header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > bytes.byteLength - 8 || n > 100_000_000) throw new Error(`${source}: header length ${n} exceeds the file size`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, n).toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${source}: header is not valid JSON (${(e as Error).message})`);
  }
  const dataStart = 8 + n;
  const dataLength = bytes.byteLength - dataStart;
  const tensors = new Map<string, Tensor>();
  let metadata: Record<string, string> = {};
  try {
    for (const [name, raw] of Object.entries(header)) {
      if (name === '__metadata__') {
        metadata = raw as Record<string, string>;
        continue;
      }
      const e = raw as Partial<Entry>;
      if (!e || typeof e !== 'object' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets) || typeof e.dtype !== 'string') {
        throw new Error(`${source}: entry '${name}' is malformed`);
      }
      const dtype = e.dtype as StDtype;
      if (!Object.prototype.hasOwnProperty.call(BYTES, dtype)) throw new Error(`${source}: entry '${name}' has unsupported dtype ${e.dtype}`);
      const [b, end] = e.data_offsets;
      if (!e.shape.every((d: unknown) => Number.isSafeInteger(d) && (d as number) >= 0)) throw new Error(`${source}: entry '${name}' has an invalid shape ${JSON.stringify(e.shape)}`);
      const count = e.shape.reduce((a: number, d: number) => a * d, 1);
      if (!Number.isSafeInteger(b) || !Number.isSafeInteger(end) || b < 0 || end > dataLength || end - b !== count * BYTES[dtype]) {
        throw new Error(`${source}: entry '${name}' has data offsets [${b}, ${end}] inconsistent with shape [${e.shape}] ${dtype} and ${dataLength} data bytes`);
      }
      // A fresh, aligned copy: Buffer#slice (readFileSync's result) returns a view into the
      // file buffer, whose .buffer starts elsewhere, so it must not be used here.
      const slice = Uint8Array.prototype.slice.call(bytes, dataStart + b, dataStart + end);
      const t =
        dtype === 'F32'
          ? tensor(new Float32Array(slice.buffer, 0, count), e.shape)
          : dtype === 'F64'
            ? float64Tensor(new Float64Array(slice.buffer, 0, count), e.shape)
          : dtype === 'I64'
            ? int64Tensor(new BigInt64Array(slice.buffer, 0, count), e.shape)
            : uint8Tensor(slice, e.shape);
      tensors.set(name, t);
    }
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return { tensors, metadata };
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
    throw new Error(`cannot read weights file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return decodeSafetensors(bytes, file);
}
