import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { procStatFields, processCpuSeconds, processState } from './proc-stat.js';

test('procStatFields: the fields after the command name, even one holding spaces and parentheses', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mnas-proc-stat-'));
  try {
    const file = path.join(dir, 'stat');
    writeFileSync(file, '4242 (node (x) y) T 1 4242 4242 0 -1 4194304 10 0 0 0 250 30 0 0\n');
    const fields = procStatFields(file)!;
    assert.equal(fields[0], 'T');
    assert.equal(fields[11], '250');
    assert.equal(fields[12], '30');
    assert.equal(procStatFields(path.join(dir, 'missing')), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('processState and processCpuSeconds of this process, and of one that is gone', () => {
  assert.equal(processState(process.pid), 'R', 'this process runs while it reads its own state');
  const t = performance.now();
  while (performance.now() - t < 50);
  assert.ok(processCpuSeconds(process.pid) > 0);
  const gone = 2 ** 22 + 1; // above the kernel's largest pid
  assert.equal(processState(gone), undefined);
  assert.ok(Number.isNaN(processCpuSeconds(gone)));
});
