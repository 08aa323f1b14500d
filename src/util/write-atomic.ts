import fs from 'node:fs';
import path from 'node:path';

/**
 * Writes `data` to `file` atomically: parent directories are created, the data goes to a
 * temporary file in the same directory, which is then renamed over the target, so readers (and
 * a crash) never see a half-written file. Returns the absolute path.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): string {
  const target = path.resolve(file);
  const dir = path.dirname(target);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  return target;
}
