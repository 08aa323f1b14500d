import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunLock } from '../search/run-lock.js';
import { requestStop, writeStopNote } from '../search/stop-request.js';
import { storedTrials } from '../search/testing.js';
import { isInputError } from '../util/input-error.js';
import { findRunDirs, NotARunError, summarizeRun } from './summary.js';
import { makeSyntheticRun } from './testing.js';
import { tempDir } from '../util/testing.js';

const tmp = () => tempDir('mnas-runs-');

test('a finished run: settings, counts, the best trial and its time', async () => {
  const dir = path.join(tmp(), 'finished');
  const record = await makeSyntheticRun(dir, 40, 3);
  const s = summarizeRun(dir);
  const trials = storedTrials(dir);
  const best = trials.filter((t) => t.status === 'done').reduce((a, b) => ((b.reward as number) > (a.reward as number) ? b : a));
  assert.equal(s.state, 'finished');
  assert.equal(s.dir, dir);
  assert.equal(s.name, 'finished');
  assert.deepEqual([s.space, s.strategy, s.device, s.evaluator, s.seed], ['fmnist', 'random', 'synthetic', 'synthetic', 3]);
  assert.equal(s.targetMs, record.reward.targetMs);
  assert.equal(s.budget, 40);
  assert.equal(s.trialsDone + s.trialsFailed, 40);
  assert.equal(s.trialsPending, 0);
  assert.equal(s.bestReward, best.reward);
  assert.equal(s.bestTrialId, best.id);
  assert.equal(s.startedAt, trials[0]!.createdAt);
  assert.ok(s.updatedAt !== null && s.updatedAt >= s.startedAt!);
  assert.ok(s.elapsedSec !== null && s.elapsedSec >= 0 && s.elapsedSec <= (Date.parse(s.updatedAt) - Date.parse(s.startedAt!)) / 1000 + 1e-9);
  assert.equal(s.etaSec, null);
  assert.equal(s.holder, undefined);
  assert.equal(s.stopRequested, false);
});

test('a run short of its budget is interrupted, or stopped when its search left a stop note; no trial yet is empty', async () => {
  const dir = tmp();
  await makeSyntheticRun(dir, 10, 1, { budget: 30 });
  const s = summarizeRun(dir);
  assert.equal(s.state, 'interrupted');
  assert.equal(s.trialsDone + s.trialsFailed, 10);
  assert.equal(s.budget, 30);
  writeStopNote(dir, 'stop request');
  const stopped = summarizeRun(dir);
  assert.equal(stopped.state, 'stopped');
  assert.equal(stopped.stopped?.reason, 'stop request');

  const empty = tmp();
  await makeSyntheticRun(empty, 0, 1, { budget: 5 });
  const e = summarizeRun(empty);
  assert.equal(e.state, 'empty');
  assert.deepEqual([e.trialsDone, e.bestReward, e.bestTrialId, e.startedAt, e.elapsedSec], [0, null, null, null, null]);
});

test('a run whose lock is held is running, with its holder and an ETA; reading it never takes the lock', async () => {
  const dir = tmp();
  await makeSyntheticRun(dir, 12, 2, { budget: 20 });
  // summarizing a run that is not running leaves it free to start
  assert.equal(summarizeRun(dir).state, 'interrupted');
  const mine = RunLock.acquire(dir);
  const s = summarizeRun(dir);
  assert.equal(s.state, 'running');
  assert.equal(s.holder?.pid, process.pid);
  assert.ok(s.etaSec !== null && s.etaSec >= 0);
  requestStop(dir);
  assert.equal(summarizeRun(dir).stopRequested, true);
  mine.release();

  // another process holds it
  const lockModule = fileURLToPath(new URL('../search/run-lock.js', import.meta.url));
  const script = `import { RunLock } from ${JSON.stringify(lockModule)}; globalThis.lock = RunLock.acquire(${JSON.stringify(dir)}); console.log('held'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
      child.on('exit', (code) => reject(new Error(`lock holder exited early with ${code}`)));
    });
    const other = summarizeRun(dir);
    assert.equal(other.state, 'running');
    assert.equal(other.holder?.pid, child.pid);
  } finally {
    const dead = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await dead;
  }
  assert.equal(summarizeRun(dir).state, 'interrupted');
  const after = RunLock.acquire(dir);
  after.release();
});

test('findRunDirs finds runs at the root and below it, not inside runs; a missing root is an input error', async () => {
  const root = tmp();
  await makeSyntheticRun(path.join(root, 'a'), 2, 0);
  await makeSyntheticRun(path.join(root, 'group', 'b'), 2, 0);
  await makeSyntheticRun(path.join(root, 'a', 'nested'), 2, 0);
  mkdirSync(path.join(root, 'empty-folder'));
  mkdirSync(path.join(root, 'node_modules', 'x'), { recursive: true });
  assert.deepEqual(findRunDirs(root), [path.join(root, 'a'), path.join(root, 'group', 'b')]);
  assert.deepEqual(findRunDirs(path.join(root, 'a')), [path.join(root, 'a')]);
  assert.deepEqual(findRunDirs(path.join(root, 'empty-folder')), []);
  assert.throws(() => findRunDirs(path.join(root, 'missing')), (e: unknown) => isInputError(e) && /no such directory/.test((e as Error).message));
});

test('a folder that is not a run, or a database that is not a search run, is an input error naming it', () => {
  const dir = tmp();
  assert.throws(() => summarizeRun(dir), (e: unknown) => e instanceof NotARunError && e.message.includes(dir));
  writeFileSync(path.join(dir, 'mnas.db'), 'not sqlite at all');
  assert.throws(() => summarizeRun(dir), (e: unknown) => isInputError(e) && /not an SQLite database/.test((e as Error).message));
});
