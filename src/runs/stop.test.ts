import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { search } from '../search/setup.js';
import { requestStop, STOP_REQUEST_FILE, STOPPED_FILE, watchStopRequest } from '../search/stop-request.js';
import { isInputError } from '../util/input-error.js';
import { stopRun } from './stop.js';
import { summarizeRun } from './summary.js';
import { makeSyntheticRun } from './testing.js';
import { tempDir } from '../util/testing.js';

const tmp = () => tempDir('mnas-stop-');
const config = { evaluator: 'synthetic' as const, strategy: { kind: 'random' as const }, budget: 400, seed: 4 };

test('a stop request aborts the watcher at the next check, and its timer finds one by itself', async () => {
  const dir = tmp();
  const w = watchStopRequest(dir, 20);
  assert.equal(w.check(), false);
  requestStop(dir);
  assert.equal(w.check(), true);
  assert.ok(w.signal.aborted);
  w.close();
  const timed = watchStopRequest(dir, 20);
  // the watcher's timer does not keep a process alive by itself
  const alive = setInterval(() => {}, 1000);
  await new Promise((resolve) => timed.signal.addEventListener('abort', resolve, { once: true }));
  clearInterval(alive);
  timed.close();
});

test('runs stop on a search in progress: it ends cleanly after its current trial, is stopped, and resumes to its budget', async () => {
  const dir = path.join(tmp(), 'run');
  let stopping: ReturnType<typeof stopRun> | undefined;
  // synthetic trials settle without yielding to timers: the stop is asked for from the progress callback, as another process would between two trials
  const result = await search({ config, out: dir, onTrial: (p) => void (p.finished === 5 && (stopping = stopRun(dir, { waitS: 60 }))) });
  assert.ok(stopping, 'asked');
  const r = await stopping;
  assert.equal(r.stopped, true);
  assert.equal(r.holder?.pid, process.pid);
  assert.equal(result.interrupted, true);
  assert.equal(result.done + result.failed, 5, 'the search saw the request after the trial it was made in, and proposed no other');
  const s = summarizeRun(dir);
  assert.equal(s.state, 'stopped');
  assert.equal(s.stopped?.reason, 'stop request');
  assert.equal(s.stopRequested, false, 'the search took the request');
  assert.ok(existsSync(path.join(dir, STOPPED_FILE)));

  const resumed = await search({ resume: dir });
  assert.equal(resumed.interrupted, false);
  assert.equal(resumed.trials, config.budget);
  const after = summarizeRun(dir);
  assert.equal(after.state, 'finished');
  assert.equal(after.stopped, undefined);
  assert.ok(!existsSync(path.join(dir, STOPPED_FILE)) && !existsSync(path.join(dir, STOP_REQUEST_FILE)));
});

test('an abort of the caller (SIGINT in the CLI) also leaves the run stopped, not interrupted', async () => {
  const dir = path.join(tmp(), 'run');
  const abort = new AbortController();
  const result = await search({ config, out: dir, signal: abort.signal, onTrial: (p) => p.finished >= 3 && abort.abort(new Error('interrupted')) });
  assert.equal(result.interrupted, true);
  const s = summarizeRun(dir);
  assert.equal(s.state, 'stopped');
  assert.equal(s.stopped?.reason, 'signal');
});

test('runs stop refuses a run that is not running, and a folder that is not a run, before writing anything', async () => {
  const dir = tmp();
  await makeSyntheticRun(dir, 5, 1);
  await assert.rejects(stopRun(dir, { waitS: 0 }), (e: unknown) => isInputError(e) && /no search is running in .* \(the run is finished\)/.test((e as Error).message));
  assert.ok(!existsSync(path.join(dir, STOP_REQUEST_FILE)));
  await assert.rejects(stopRun(tmp(), { waitS: 0 }), (e: unknown) => isInputError(e) && /not a run directory/.test((e as Error).message));
});
