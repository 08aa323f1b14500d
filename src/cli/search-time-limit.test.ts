/** `mnas search --max-minutes`: the session stops proposing at its time limit, ends normally (exit 0) and resumes to the budget. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { assertUsageExit, runCli } from './testing.js';
import { tempDir } from '../util/testing.js';

test('search --max-minutes stops at its time limit with the trials in flight stored, exit 0, resumable to the budget', () => {
  const dir = tempDir('mnas-search-time-');
  const out = path.join(dir, 'run');
  try {
    // a synthetic trial takes a few milliseconds: 0.12 s of searching cannot reach 1,000 trials
    const first = runCli(['search', '--evaluator', 'synthetic', '--strategy', 'random', '--budget', '1000', '--concurrency', '4', '--max-minutes', '0.002', '--out', out, '--json', '--quiet'], 120_000);
    assert.equal(first.status, 0, first.stderr);
    const r = JSON.parse(first.stdout.trim().split('\n').pop()!) as { trials: number; done: number; failed: number; interrupted: boolean; stop_reason: string | null };
    assert.equal(r.interrupted, true);
    assert.equal(r.stop_reason, 'time limit');
    assert.ok(r.trials > 0 && r.trials < 1000, `${r.trials} trials`);
    assert.equal(r.done + r.failed, r.trials, 'every proposed trial finished: none left in flight');
    assert.equal(JSON.parse(readFileSync(path.join(out, 'mnas.stopped'), 'utf8')).reason, 'time limit');
    const shown = runCli(['runs', 'show', out, '--json']);
    assert.deepEqual([JSON.parse(shown.stdout).summary.state, JSON.parse(shown.stdout).summary.stopped.reason], ['stopped', 'time limit']);

    const resumed = runCli(['search', '--resume', out, '--json', '--quiet'], 300_000);
    assert.equal(resumed.status, 0, resumed.stderr);
    const done = JSON.parse(resumed.stdout.trim().split('\n').pop()!) as { trials: number; interrupted: boolean; stop_reason: string | null; resumed: number };
    assert.deepEqual([done.trials, done.interrupted, done.stop_reason, done.resumed], [1000, false, null, 0]);
    assert.ok(!existsSync(path.join(out, 'mnas.stopped')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('search --max-minutes refuses what is not a positive number, before creating the run', () => {
  const dir = tempDir('mnas-search-time-');
  const out = path.join(dir, 'run');
  try {
    for (const bad of ['0', '-1', 'soon', '']) {
      assertUsageExit(runCli(['search', '--evaluator', 'synthetic', '--max-minutes', bad, '--out', out, '--quiet']), /--max-minutes: expected a number in \(0, 10000000\)/);
      assert.ok(!existsSync(out), `--max-minutes '${bad}': nothing created`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
