/**
 * Reads a whole data file into memory, transparently gunzipping it when it starts with the
 * gzip magic bytes 1f 8b, and turns file system and zlib failures into DataFileErrors.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataFileError } from './data-file-error.js';

export interface ReadDataFileOptions {
  /** Appended to the "not found" message, e.g. how to install the dataset. */
  readonly missingHint?: string;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The file's bytes, decompressed if gzip. */
export function readDataFile(path: string, options: ReadDataFileOptions = {}): Uint8Array {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new DataFileError(path, `file not found${options.missingHint ? `; ${options.missingHint}` : ''}`);
    }
    if (code === 'EISDIR') throw new DataFileError(path, 'is a directory, expected a data file');
    throw new DataFileError(path, `cannot read: ${(e as Error).message}`);
  }
  if (!isGzip(raw)) return raw;
  try {
    return gunzipSync(raw);
  } catch (e) {
    throw new DataFileError(path, `corrupt gzip data: ${(e as Error).message}`);
  }
}
