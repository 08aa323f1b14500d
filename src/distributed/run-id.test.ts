import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readOrCreateRunId, RUN_ID_FILE } from './run-id.js';
import { tempDir } from '../util/testing.js';

test('a run directory keeps one run id: created once, read back on resume; a damaged file is an error', () => {
  const dir = path.join(tempDir('mnas-run-id-'), 'run');
  const id = readOrCreateRunId(dir);
  assert.match(id, /^[A-Za-z0-9_-]{16}$/);
  assert.equal(readOrCreateRunId(dir), id);
  assert.equal(readFileSync(path.join(dir, RUN_ID_FILE), 'utf8').trim(), id);
  writeFileSync(path.join(dir, RUN_ID_FILE), 'a:b');
  assert.throws(() => readOrCreateRunId(dir), /not a run id/);
});
