import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkWritable, NotWritableError } from './writable.js';
import { tempDir } from './testing.js';

const tmp = () => tempDir('mnas-writable-');

test('an existing or creatable directory passes and nothing is left behind', () => {
  const dir = tmp();
  checkWritable(dir);
  checkWritable(join(dir, 'a', 'b'));
  assert.deepEqual(readdirSync(dir), []);
});

test('a file, or a path below a file, is refused', () => {
  const file = join(tmp(), 'f');
  writeFileSync(file, '');
  assert.throws(() => checkWritable(file), (e: unknown) => e instanceof NotWritableError && /is a file, not a directory/.test(e.message));
  assert.throws(() => checkWritable(join(file, 'run')), /is a file, not a directory/);
});

test('a directory that refuses writes (immutable, which binds root too) is refused', (t) => {
  const dir = join(tmp(), 'ro');
  mkdirSync(dir);
  // chattr +i needs CAP_LINUX_IMMUTABLE; without it fall back to permission bits, which bind non-root users
  const immutable = spawnSync('chattr', ['+i', dir]).status === 0;
  if (!immutable) {
    if (process.getuid?.() === 0) return t.skip('neither chattr nor permission bits can make a read-only directory here');
    spawnSync('chmod', ['555', dir]);
  }
  try {
    assert.throws(() => checkWritable(dir), (e: unknown) => e instanceof NotWritableError && new RegExp(`cannot write in ${dir}: E(PERM|ACCES|ROFS)`).test(e.message));
    assert.throws(() => checkWritable(join(dir, 'run')), /cannot write in .* \(to create .*run\)/);
  } finally {
    spawnSync('chattr', ['-i', dir]);
    spawnSync('chmod', ['755', dir]);
  }
});
