/**
 * Whether a directory can be written, found out by writing: permission bits do not tell (root
 * ignores them; read-only mounts and immutable directories refuse root too).
 */
import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../util/input-error.js';

export class NotWritableError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'NotWritableError';
  }
}

/**
 * Throws NotWritableError unless `dir` (or, if it does not exist yet, the nearest existing
 * folder above it, where it would be created) is a directory this process can create files in.
 * Leaves nothing behind.
 */
export function checkWritable(dir: string): void {
  let existing = path.resolve(dir);
  while (!existsSync(existing)) {
    const parent = path.dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  if (!statSync(existing).isDirectory()) throw new NotWritableError(`${existing} is a file, not a directory`);
  const probe = path.join(existing, `.mnas-write-check-${process.pid}-${Date.now()}`);
  try {
    writeFileSync(probe, '');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new NotWritableError(`cannot write in ${existing}${existing === path.resolve(dir) ? '' : ` (to create ${dir})`}: ${code}`);
  }
  rmSync(probe, { force: true });
}
