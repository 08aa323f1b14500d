import { writeFileAtomic } from '../../util/write-atomic.js';

/** Writes model bytes to `file` atomically (see writeFileAtomic). Returns the absolute path. */
export function saveModel(file: string, bytes: Uint8Array): string {
  return writeFileAtomic(file, bytes);
}
