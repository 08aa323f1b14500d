/**
 * The id that names a run's jobs on the queues: random, made once per run directory and kept in
 * it (`distributed-run-id`), so a resumed coordinator derives the same job ids and re-attaches.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RunIdSchema } from './jobs.js';

export const RUN_ID_FILE = 'distributed-run-id';

export function readOrCreateRunId(runDir: string): string {
  const file = path.join(runDir, RUN_ID_FILE);
  if (existsSync(file)) {
    const id = readFileSync(file, 'utf8').trim();
    if (!RunIdSchema.safeParse(id).success) throw new Error(`${file}: not a run id: '${id.slice(0, 80)}'`);
    return id;
  }
  mkdirSync(runDir, { recursive: true });
  const id = randomBytes(12).toString('base64url');
  try {
    // 'wx': two coordinators starting in one directory cannot both create one (the run lock stops the second anyway)
    writeFileSync(file, `${id}\n`, { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return readOrCreateRunId(runDir);
    throw e;
  }
  return id;
}
