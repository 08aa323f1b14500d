import fs from 'node:fs';
import path from 'node:path';

/**
 * Writes model bytes to `file` atomically: parent directories are created, the bytes go to a
 * temporary file in the same directory, which is then renamed over the target (readers never see
 * a half-written model). Returns the absolute path.
 */
export function saveModel(file: string, bytes: Uint8Array): string {
  const target = path.resolve(file);
  const dir = path.dirname(target);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  return target;
}
