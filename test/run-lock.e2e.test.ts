/**
 * One process per run: while a search holds its run directory, a second `mnas search --resume`
 * of it is refused (exit 2, one line naming the holder's PID) instead of re-training the
 * in-flight trials; a holder killed with SIGKILL leaves no stale lock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../src/util/paths.js';
import { ExperimentStore } from '../src/search/store.js';
import { finishedTrials } from '../src/search/testing.js';
import { tempDir } from '../src/util/testing.js';

const MAIN = path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js');

interface Run {
  pid: number;
  done: Promise<{ code: number | null; stderr: string }>;
  kill: () => void;
}

function start(args: string[]): Run {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  return { pid: child.pid!, done, kill: () => child.kill('SIGKILL') };
}

async function until(condition: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('two concurrent resumes: one runs, the other exits 2 naming it; a SIGKILLed holder leaves no lock', { timeout: 240_000 }, async () => {
  const dir = path.join(tempDir('mnas-lock-e2e-'), 'run');
  // the synthetic evaluator takes ~15 ms a trial (one fsync each): 600 trials run for seconds
  const first = start(['search', '--evaluator', 'synthetic', '--strategy', 'random', '--budget', '600', '--seed', '1', '--out', dir, '--quiet']);
  await until(() => finishedTrials(dir) >= 20, 'the first trials');
  first.kill();
  const killed = await first.done;
  assert.equal(killed.code, null, 'the first search ended before it was killed');
  const before = finishedTrials(dir);

  const a = start(['search', '--resume', dir, '--quiet']);
  const b = start(['search', '--resume', dir, '--quiet']);
  const [ra, rb] = await Promise.all([a.done, b.done]);
  const [winner, loser, winnerPid] = ra.code === 0 ? [ra, rb, a.pid] : [rb, ra, b.pid];
  assert.equal(winner.code, 0, winner.stderr);
  assert.equal(loser.code, 2, `the second resume must be refused, got ${loser.code}: ${loser.stderr}`);
  assert.match(loser.stderr, new RegExp(`^mnas: search: run ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by process ${winnerPid} `));
  assert.equal(loser.stderr.trim().split('\n').length, 1, loser.stderr);
  assert.doesNotMatch(loser.stderr, /\n\s+at /);

  const store = ExperimentStore.open(dir, { readonly: true });
  try {
    const trials = store.listTrials();
    assert.equal(trials.length, 600);
    assert.ok(trials.every((t) => t.status === 'done'));
    assert.ok(trials.every((t) => t.attempts <= 2), 'no trial was evaluated by both resumes');
    assert.ok(before < 600);
    assert.equal(store.integrityCheck(), 'ok');
  } finally {
    store.close();
  }
});
