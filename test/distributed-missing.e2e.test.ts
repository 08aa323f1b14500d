/**
 * A distributed search whose workers cannot do what it needs: no worker for its latency device,
 * no worker for training, a worker whose device cannot be opened, a worker whose copy of the
 * dataset differs from the coordinator's. In each case the search ends in bounded time with one
 * line naming what is missing (exit 2), no trial is scored as a failed architecture for it, and
 * the run continues with --resume once a suitable worker is there. Each test starts its own
 * redis-server on a free loopback port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { startLocalRedis } from '../src/distributed/local-redis.js';
import { assertEveryTrialOnce, inspect, startSearch, startWorker, stopWorkers, tinyConfig, tmp } from '../src/distributed/testing.js';
import { cyclicLabels, idxBytes, writeFile, writeMnistLayout } from '../src/data/fixture-files.js';
import { storedTrials } from '../src/search/testing.js';

/** No trial finished: the ones started stay pending or running for --resume. */
function assertNothingScored(out: string): void {
  const trials = existsSync(out) ? safeTrials(out) : [];
  assert.ok(trials.every((t) => t.status === 'pending' || t.status === 'running'), JSON.stringify(trials.map((t) => t.status)));
}

function safeTrials(out: string): ReturnType<typeof storedTrials> {
  try {
    return storedTrials(out);
  } catch {
    return []; // the search stopped before it created its store
  }
}

/** The last line of stderr (the error line; progress lines come before it). */
const lastLine = (stderr: string): string => stderr.trimEnd().split('\n').at(-1) ?? '';

test('measure jobs for a device no worker has: the search waits workerWaitSeconds, then stops with one line naming the device, exit 2', { timeout: 120_000 }, async () => {
  const redis = await startLocalRedis();
  const workers = [startWorker(redis.url)]; // ort-cpu only
  try {
    await workers[0]!.id;
    const dir = tmp();
    const out = path.join(dir, 'run');
    const config = tinyConfig(dir, { device: { kind: 'browser' }, workerWaitSeconds: 3 });
    const t0 = Date.now();
    const r = await startSearch(['--redis', redis.url, '--config', config, '--budget', '2', '--target-ms', '1', '--out', out]).done;
    assert.equal(r.code, 2, r.stderr);
    assert.ok(Date.now() - t0 < 60_000, 'stopped within a minute');
    assert.match(lastLine(r.stderr), /^mnas: 1 measure jobs for the device browser waited 3 s and no live worker takes them \(1 worker\(s\) connected, none for them\); start one with `mnas worker --redis URL --device browser`$/);
    assertNothingScored(out);
    await inspect(redis, async ({ train }) => assert.equal((await train.getJobCounts('completed', 'active'))['completed'], 0, 'nothing trained'));
    // the ort-cpu worker never took the browser job: it is still waiting for a worker attached to a browser
    await inspect(redis, async ({ workers: ws, train: measure }) => {
      assert.equal(ws[0]!.done.measure + ws[0]!.failed.measure, 0);
      assert.deepEqual(await measure.getJobCounts('waiting', 'active', 'completed', 'failed'), { waiting: 1, active: 0, completed: 0, failed: 0 });
    }, 'measure-browser');
  } finally {
    await stopWorkers(workers);
    await redis.stop();
  }
});

test('train jobs with no worker that trains: the search stops resumable after workerWaitSeconds; --resume with a training worker completes it', { timeout: 150_000 }, async () => {
  const redis = await startLocalRedis();
  const workers = [startWorker(redis.url, ['--jobs', 'measure'])];
  try {
    await workers[0]!.id;
    const dir = tmp();
    const out = path.join(dir, 'run');
    const r = await startSearch(['--redis', redis.url, '--config', tinyConfig(dir, { workerWaitSeconds: 3 }), '--budget', '2', '--target-ms', '1', '--out', out]).done;
    assert.equal(r.code, 2, r.stderr);
    // with no train worker connected at the start, the queue takes 1 + 2 trials: both of the budget's
    assert.match(lastLine(r.stderr), /^mnas: search: stopped \(continue with --resume .+ once fixed\): 2 train jobs waited 3 s and no live worker takes them \(1 worker\(s\) connected, none for them\); start one with `mnas worker --redis URL`$/);
    assertNothingScored(out);

    workers.push(startWorker(redis.url, ['--jobs', 'train'], {}, null));
    await workers[1]!.id;
    const resumed = await startSearch(['--resume', out, '--redis', redis.url]).done;
    assert.equal(resumed.code, 0, resumed.stderr);
    assertEveryTrialOnce(out, 2);
  } finally {
    await stopWorkers(workers);
    await redis.stop();
  }
});

test('a worker whose device cannot be opened (farm unreachable) refuses measure jobs with the reason; the search stops, exit 2, the job failed once', { timeout: 120_000 }, async () => {
  const redis = await startLocalRedis();
  // a port nothing listens on
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const env = { MNAS_BROWSER_URL: `http://127.0.0.1:${port}/control?token=abcdefghijklmnop`, MNAS_BROWSER_WAIT: '5' };
  const workers = [startWorker(redis.url, ['--jobs', 'measure'], env, 'browser')];
  try {
    await workers[0]!.id;
    const dir = tmp();
    const out = path.join(dir, 'run');
    const r = await startSearch(['--redis', redis.url, '--config', tinyConfig(dir, { device: { kind: 'browser' } }), '--budget', '1', '--target-ms', '1', '--out', out]).done;
    assert.equal(r.code, 2, r.stderr);
    const line = lastLine(r.stderr);
    assert.match(line, /^mnas: no live worker takes measure jobs for the device browser any more \(.*cannot open the latency device browser: .*unreachable/);
    assert.ok(!line.includes('abcdefghijklmnop'), 'the farm secret is not printed');
    assert.equal(await workers[0]!.exited, 2, 'the worker stops: it can take nothing');
    assert.ok(workers[0]!.events.some((e) => e.event === 'refused' && /cannot open the latency device browser/.test(String(e['reason']))));
    await inspect(redis, async ({ train: measure }) => assert.deepEqual(await measure.getJobCounts('failed', 'waiting', 'active'), { failed: 1, waiting: 0, active: 0 }, 'failed once, not retried forever'), 'measure-browser');
  } finally {
    await stopWorkers(workers);
    await redis.stop();
  }
});

test("jobs carry the dataset's checksum: a worker whose copy differs refuses with both checksums; one with the same content (not compressed) trains", { timeout: 150_000 }, async () => {
  const dir = tmp();
  const coordinatorData = path.join(dir, 'mnist-coordinator');
  const changedData = path.join(dir, 'mnist-changed');
  const sameData = path.join(dir, 'mnist-same');
  for (const d of [coordinatorData, changedData, sameData]) mkdirSync(d);
  writeMnistLayout(coordinatorData, 400, 100);
  writeMnistLayout(sameData, 400, 100, { gzip: false });
  writeMnistLayout(changedData, 400, 100);
  // the same files but the test labels shifted by one class
  writeFile(changedData, 't10k-labels-idx1-ubyte.gz', idxBytes([100], cyclicLabels(100).map((l) => (l + 1) % 10)), true);
  const redis = await startLocalRedis();
  const workers = [startWorker(redis.url, ['--data-dir', changedData])];
  try {
    await workers[0]!.id;
    const out = path.join(dir, 'run');
    const config = tinyConfig(dir, { dataset: { name: 'mnist', dataDir: coordinatorData, validationImages: 100 } });
    const r = await startSearch(['--redis', redis.url, '--config', config, '--budget', '2', '--target-ms', '1', '--out', out]).done;
    assert.equal(r.code, 2, r.stderr);
    const reason = /this machine's copy of the dataset 'mnist' at .*mnist-changed differs from the search's \(checksum [0-9a-f]{12}\.\.\. here, [0-9a-f]{12}\.\.\. on the coordinator\)/;
    assert.match(lastLine(r.stderr), reason);
    await inspect(redis, async ({ workers: ws, train }) => {
      assert.match(ws[0]!.refused.train ?? '', reason);
      assert.equal(ws[0]!.done.train, 0, 'it trained nothing');
      assert.equal((await train.getJobCounts('failed'))['failed'], 1, 'refused once, not retried forever');
    });
    assertNothingScored(out);

    workers.push(startWorker(redis.url, ['--jobs', 'train', '--data-dir', sameData], {}, null));
    await workers[1]!.id;
    const resumed = await startSearch(['--resume', out, '--redis', redis.url]).done;
    assert.equal(resumed.code, 0, resumed.stderr);
    assertEveryTrialOnce(out, 2);
  } finally {
    await stopWorkers(workers);
    await redis.stop();
  }
});
