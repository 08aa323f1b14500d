/**
 * One process per run directory. The lock is an SQLite file (`mnas.lock`) held in exclusive
 * locking mode for the life of the process: SQLite's locks are the operating system's
 * (fcntl), so the kernel releases them when the process dies however it dies, and a kill -9
 * never leaves a stale lock. Who holds it is written beside it (`mnas.lock.holder`, JSON) for
 * the error message only; that file may be stale, the lock never is.
 *
 * Whether a run is in use is tested without taking the lock (runLockState): a read of the lock
 * database needs a shared lock, which the holder's exclusive one refuses. The probe holds its
 * shared lock for microseconds; acquire() waits a moment (ACQUIRE_WAIT_MS) for such a probe
 * instead of failing at once, so a `mnas runs list` never makes a search refuse to start.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from './sqlite.js';
import { InputError } from '../util/input-error.js';

export const LOCK_FILE = 'mnas.lock';
export const HOLDER_FILE = 'mnas.lock.holder';
/** How long acquire() waits for a lock that is briefly taken (a probe, another starting process). */
const ACQUIRE_WAIT_MS = 250;

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
  readonly command: string;
}

/** Another live process holds the run. */
export class RunLockedError extends InputError {
  constructor(
    readonly dir: string,
    readonly holder: LockHolder | undefined,
  ) {
    super(
      holder
        ? `run ${dir} is in use by process ${holder.pid} on ${holder.host} (since ${holder.since}: ${holder.command}); wait for it to finish or stop it`
        : `run ${dir} is in use by another process; wait for it to finish or stop it`,
    );
    this.name = 'RunLockedError';
  }
}

export class RunLock {
  private constructor(
    readonly dir: string,
    private db: Database | undefined,
  ) {}

  /** Takes the run's lock or throws RunLockedError naming the holder. `dir` must exist. */
  static acquire(dir: string): RunLock {
    const db = openDatabase(join(dir, LOCK_FILE), { timeout: ACQUIRE_WAIT_MS });
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      // a write transaction takes the EXCLUSIVE lock; in exclusive locking mode it is kept after COMMIT
      db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS lock (id INTEGER PRIMARY KEY); COMMIT;');
    } catch (e) {
      db.close();
      if ((e as { code?: string }).code === 'SQLITE_BUSY' || (e as { code?: string }).code === 'SQLITE_LOCKED') {
        throw new RunLockedError(dir, readHolder(dir));
      }
      throw e;
    }
    const holder: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString(), command: process.argv.slice(1).join(' ') };
    writeFileSync(join(dir, HOLDER_FILE), `${JSON.stringify(holder)}\n`);
    return new RunLock(dir, db);
  }

  get held(): boolean {
    return this.db !== undefined;
  }

  release(): void {
    this.db?.close();
    this.db = undefined;
  }
}

export type RunLockState = { readonly held: false } | { readonly held: true; readonly holder: LockHolder | undefined };

/**
 * Whether a live process (on any machine that shares the directory's file locks) holds the run's
 * lock, tested without taking it; the holder as it wrote itself down, when that file is current.
 */
export function runLockState(dir: string): RunLockState {
  const file = join(dir, LOCK_FILE);
  if (!existsSync(file)) return { held: false };
  let db: Database;
  try {
    db = openDatabase(file, { readonly: true, fileMustExist: true, timeout: 0 });
  } catch {
    return { held: false };
  }
  try {
    db.prepare('SELECT COUNT(*) FROM sqlite_master').get();
    return { held: false };
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return { held: true, holder: readHolder(dir) };
    return { held: false };
  } finally {
    db.close();
  }
}

function readHolder(dir: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(join(dir, HOLDER_FILE), 'utf8')) as LockHolder;
    if (!Number.isSafeInteger(h.pid)) return undefined;
    if (h.host !== hostname()) return h;
    try {
      process.kill(h.pid, 0);
    } catch (e) {
      // the file is from an earlier holder that has died; the live holder has not written yet
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    }
    return h;
  } catch {
    return undefined;
  }
}
