import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOLDER_FILE, RunLock, RunLockedError } from './run-lock.js';
import { tempDir } from '../util/testing.js';

const tmp = () => tempDir('mnas-lock-');

test('a second holder in the same process is refused with the holder named; release lets it in', () => {
  const dir = tmp();
  const a = RunLock.acquire(dir);
  const err = (() => {
    try {
      RunLock.acquire(dir);
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(err instanceof RunLockedError, String(err));
  assert.equal(err.holder?.pid, process.pid);
  assert.match(err.message, new RegExp(`in use by process ${process.pid}`));
  a.release();
  assert.equal(a.held, false);
  const b = RunLock.acquire(dir);
  assert.ok(b.held);
  b.release();
});

test('another process holding the lock is named; kill -9 of that process releases it', async () => {
  const dir = tmp();
  const lockModule = join(fileURLToPath(new URL('.', import.meta.url)), 'run-lock.js');
  const script = `import { RunLock } from ${JSON.stringify(lockModule)}; globalThis.lock = RunLock.acquire(${JSON.stringify(dir)}); console.log('held'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
    child.on('exit', (code) => reject(new Error(`lock holder exited early with ${code}`)));
  });
  assert.throws(() => RunLock.acquire(dir), (e: unknown) => e instanceof RunLockedError && e.holder?.pid === child.pid);
  const dead = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  await dead;
  const lock = RunLock.acquire(dir);
  assert.ok(lock.held);
  lock.release();
});

test('a stale holder file from a dead process is not named as the holder', () => {
  const dir = tmp();
  const a = RunLock.acquire(dir);
  // pretend the holder file was left by a process that no longer exists
  writeFileSync(join(dir, HOLDER_FILE), JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), since: 'x', command: 'y' }));
  assert.throws(() => RunLock.acquire(dir), (e: unknown) => e instanceof RunLockedError && e.holder === undefined && /in use by another process/.test(e.message));
  a.release();
});
