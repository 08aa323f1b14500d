/**
 * Just enough of the zip format to read NumPy's .npz archives: the central directory (with
 * zip64 sizes, which np.savez writes), stored and deflated members, each checked against its
 * CRC-32. Errors name the archive and the member.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { DataFileError } from './data-file-error.js';

const END_OF_DIRECTORY = 0x06054b50;
const DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;

/** Member name -> uncompressed bytes. */
export function readZip(bytes: Uint8Array, file: string): Map<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65_535); i--) {
    if (view.getUint32(i, true) === END_OF_DIRECTORY) { end = i; break; }
  }
  if (end < 0) throw new DataFileError(file, 'not a zip (.npz) archive: no end of central directory');
  const entries = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const members = new Map<string, Uint8Array>();
  try {
    for (let k = 0; k < entries; k++) {
      if (view.getUint32(at, true) !== DIRECTORY_ENTRY) throw new Error(`bad central directory entry ${k}`);
      const method = view.getUint16(at + 10, true);
      const storedCrc = view.getUint32(at + 16, true);
      let compressedSize = view.getUint32(at + 20, true);
      let size = view.getUint32(at + 24, true);
      const nameLength = view.getUint16(at + 28, true);
      const extraLength = view.getUint16(at + 30, true);
      const commentLength = view.getUint16(at + 32, true);
      let localOffset = view.getUint32(at + 42, true);
      const name = Buffer.from(bytes.subarray(at + 46, at + 46 + nameLength)).toString('utf8');
      // zip64: the 0xffffffff fields are in the extra field 0x0001, in this order
      for (let e = at + 46 + nameLength; e < at + 46 + nameLength + extraLength; ) {
        const id = view.getUint16(e, true);
        const length = view.getUint16(e + 2, true);
        if (id === 0x0001) {
          let f = e + 4;
          if (size === 0xffffffff) { size = Number(view.getBigUint64(f, true)); f += 8; }
          if (compressedSize === 0xffffffff) { compressedSize = Number(view.getBigUint64(f, true)); f += 8; }
          if (localOffset === 0xffffffff) { localOffset = Number(view.getBigUint64(f, true)); }
        }
        e += 4 + length;
      }
      at += 46 + nameLength + extraLength + commentLength;
      if (view.getUint32(localOffset, true) !== LOCAL_HEADER) throw new Error(`bad local header of '${name}'`);
      const dataStart = localOffset + 30 + view.getUint16(localOffset + 26, true) + view.getUint16(localOffset + 28, true);
      const raw = bytes.subarray(dataStart, dataStart + compressedSize);
      if (raw.length !== compressedSize) throw new Error(`'${name}' is cut short`);
      let data: Uint8Array;
      if (method === 0) data = raw;
      else if (method === 8) data = inflateRawSync(raw);
      else throw new Error(`'${name}' uses compression method ${method}; np.savez and np.savez_compressed use 0 and 8`);
      if (data.length !== size) throw new Error(`'${name}' has ${data.length} bytes, the directory says ${size}`);
      const crc = crc32(data) >>> 0;
      if (crc !== storedCrc) throw new Error(`member '${name}' fails its CRC-32 check (stored ${hex(storedCrc)}, computed ${hex(crc)}): the file is damaged; copy or save it again`);
      members.set(name, data);
    }
  } catch (e) {
    throw new DataFileError(file, `corrupt .npz archive: ${(e as Error).message}`);
  }
  return members;
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

/** A zip archive of stored (uncompressed) members, as np.savez writes them; for tests and tools. */
export function writeStoredZip(members: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const locals: Buffer[] = [];
  const directory: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of members) {
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL_HEADER, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(DIRECTORY_ENTRY, 0);
    entry.writeUInt16LE(20, 4);
    entry.writeUInt16LE(20, 6);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(data.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(nameBytes.length, 28);
    entry.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, Buffer.from(data));
    directory.push(entry, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const dir = Buffer.concat(directory);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END_OF_DIRECTORY, 0);
  end.writeUInt16LE(members.size, 8);
  end.writeUInt16LE(members.size, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}
