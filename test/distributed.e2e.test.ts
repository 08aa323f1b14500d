/**
 * A distributed search end to end on this machine, with the faults of issue 11: a worker
 * SIGKILLed mid-training, the coordinator SIGKILLed with jobs in flight and resumed, Redis
 * restarted mid-search. Every test starts its own redis-server on a free loopback port; the
 * searches are tiny (synthetic images, 100 per trial) so each takes well under a minute.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import path from 'node:path';
import { startLocalRedis } from '../src/distributed/local-redis.js';
import { assertEveryTrialOnce, inspect, MAIN, sleep, startSearch, startWorker, stopWorkers, tinyConfig, tmp, waitUntil } from '../src/distributed/testing.js';
import { ExperimentStore } from '../src/search/store.js';
import { finishedTrials, storedTrials } from '../src/search/testing.js';
import { writeMnistLayout } from '../src/data/fixture-files.js';

test('a worker SIGKILLed mid-training: its job stalls, another worker runs it, the trial is stored once', { timeout: 150_000 }, async () => {
  const redis = await startLocalRedis();
  const workers = [startWorker(redis.url), startWorker(redis.url)];
  try {
    await Promise.all(workers.map((w) => w.id));
    const dir = tmp();
    const out = path.join(dir, 'run');
    const search = startSearch(['--redis', redis.url, '--config', tinyConfig(dir), '--budget', '3', '--concurrency', '2', '--target-ms', '1', '--out', out]);
    // the first worker seen training is killed
    let victim: string | undefined;
    let job: string | undefined;
    await waitUntil('a worker trains', () =>
      inspect(redis, async ({ workers: ws }) => {
        const busy = ws.find((w) => w.running.some((r) => r.kind === 'train'));
        victim = busy?.id;
        job = busy?.running.find((r) => r.kind === 'train')?.job;
        return busy !== undefined;
      }),
    );
    const ids = await Promise.all(workers.map((w) => w.id));
    const killed = workers[ids.indexOf(victim!)]!;
    killed.child.kill('SIGKILL');
    await killed.exited;
    const r = await search.done;
    assert.equal(r.code, 0, r.stdout);
    assertEveryTrialOnce(out, 3);
    await inspect(redis, async ({ train }) => {
      const j = (await train.getJob(job!))!;
      assert.equal(await j.getState(), 'completed');
      assert.notEqual((j.returnvalue as { worker: string }).worker, victim, 'finished by the surviving worker');
      assert.ok(j.stalledCounter >= 1 || j.attemptsMade >= 1, 'detected as stalled');
    });
  } finally {
    await stopWorkers(workers);
    await redis.stop();
  }
});

test('the coordinator SIGKILLed with jobs in flight: --resume --redis re-attaches and re-submits nothing finished', { timeout: 150_000 }, async () => {
  const redis = await startLocalRedis();
  const workers = [startWorker(redis.url)];
  try {
    await workers[0]!.id;
    const dir = tmp();
    const out = path.join(dir, 'run');
    const budget = 4;
    const first = startSearch(['--redis', redis.url, '--config', tinyConfig(dir), '--budget', String(budget), '--concurrency', '2', '--target-ms', '1', '--out', out]);
    await waitUntil('a trial is stored', () => finishedTrials(out) >= 1, 90_000);
    first.child.kill('SIGKILL');
    await first.done;
    const stored = finishedTrials(out);
    assert.ok(stored < budget, 'killed before the end');
    // the workers finish what was in flight while no coordinator listens
    await waitUntil('the in-flight jobs are finished', () =>
      inspect(redis, async ({ train }) => {
        const c = await train.getJobCounts('waiting', 'active');
        return c['waiting'] === 0 && c['active'] === 0;
      }),
    );
    const inFlight = await inspect(redis, ({ train }) => train.getJobCounts('completed')).then((c) => c['completed']! - stored);
    assert.ok(inFlight >= 1, 'jobs were in flight when the coordinator died');

    const resumed = startSearch(['--resume', out, '--redis', redis.url]);
    const r = await resumed.done;
    assert.equal(r.code, 0, r.stdout);
    assertEveryTrialOnce(out, budget);
    await inspect(redis, async ({ workers: ws, train }) => {
      const c = await train.getJobCounts('completed', 'failed');
      assert.equal(c['completed'], budget, 'one train job per trial');
      assert.equal(c['failed'], 0);
      assert.equal(ws[0]!.done.train, budget, 'the worker trained each trial once: nothing finished was submitted again');
    });
  } finally {
    await stopWorkers(workers);
    await redis.stop();
  }
});

test('Redis restarted mid-search (append-only file): workers and coordinator reconnect, every trial stored once', { timeout: 150_000 }, async () => {
  const redis = await startLocalRedis({ appendOnly: true, password: 'test-secret-0123' });
  const workers = [startWorker(redis.url)];
  try {
    await workers[0]!.id;
    const dir = tmp();
    const out = path.join(dir, 'run');
    // the URL (with its password) from the config file this time
    const search = startSearch(['--config', tinyConfig(dir, { redis: redis.url }), '--budget', '4', '--concurrency', '2', '--target-ms', '1', '--out', out]);
    await waitUntil('a trial is stored', () => finishedTrials(out) >= 1, 90_000);
    await redis.stop('SIGTERM');
    await sleep(1500);
    await redis.start();
    const r = await search.done;
    assert.equal(r.code, 0, r.stdout);
    assertEveryTrialOnce(out, 4);
    // the stored config keeps the URL without its password
    const store = ExperimentStore.open(out, { readonly: true });
    try {
      const stored = JSON.stringify(store.config);
      assert.match(stored, new RegExp(`redis://127\\.0\\.0\\.1:${redis.port}`));
      assert.doesNotMatch(stored, /test-secret/);
    } finally {
      store.close();
    }
  } finally {
    await stopWorkers(workers);
    await redis.stop();
  }
});

test('Redis with a password: the URL or MNAS_REDIS_PASSWORD; a wrong or missing one is one line, exit 2', { timeout: 60_000 }, async () => {
  const redis = await startLocalRedis({ password: 'pw-0123456789' });
  try {
    const port = redis.port;
    const run = (url: string, env: Record<string, string> = {}) =>
      spawnSync(process.execPath, [MAIN, 'workers', '--redis', url, '--json'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });
    const ok = run(redis.url);
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual((JSON.parse(ok.stdout) as { workers: unknown[] }).workers, []);
    assert.equal(run(`redis://127.0.0.1:${port}`, { MNAS_REDIS_PASSWORD: 'pw-0123456789' }).status, 0);
    for (const [url, why] of [
      [`redis://:wrong@127.0.0.1:${port}`, /WRONGPASS|invalid/i],
      [`redis://127.0.0.1:${port}`, /NOAUTH|auth/i],
      [`redis://someone:pw-0123456789@127.0.0.1:${port}`, /WRONGPASS|invalid/i],
    ] as const) {
      const r = run(url);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^mnas: cannot use Redis at redis:\/\/[^\n]+\n$/);
      assert.match(r.stderr, why);
      assert.doesNotMatch(r.stderr, /wrong@|pw-0123456789/, 'the password is not printed');
    }
  } finally {
    await redis.stop();
  }
});

test('without --concurrency a distributed search queues the live workers\' training processes + 2 at once, stored with the run', { timeout: 120_000 }, async () => {
  const redis = await startLocalRedis();
  const workers = [startWorker(redis.url, ['--concurrency', '2'])];
  try {
    await workers[0]!.id;
    const dir = tmp();
    const out = path.join(dir, 'run');
    const r = await startSearch(['--redis', redis.url, '--config', tinyConfig(dir), '--budget', '4', '--target-ms', '1', '--out', out]).done;
    assert.equal(r.code, 0, r.stderr);
    assertEveryTrialOnce(out, 4);
    const store = ExperimentStore.open(out, { readonly: true });
    try {
      assert.equal((store.config as { config: { concurrency?: number } }).config.concurrency, 4, 'resumed with the width it started with');
    } finally {
      store.close();
    }
    assert.equal((JSON.parse(r.stdout) as { session: { workers: number } }).session.workers, 2);
    // the worker's two processes both trained: some train job started before another had finished
    await inspect(redis, async ({ train }) => {
      const jobs = (await train.getJobs(['completed'])).map((j) => ({ start: j.processedOn!, end: j.finishedOn! })).sort((a, b) => a.start - b.start);
      assert.equal(jobs.length, 4);
      assert.ok(jobs.some((j, i) => i > 0 && j.start < jobs[i - 1]!.end), JSON.stringify(jobs));
    });
  } finally {
    await stopWorkers(workers);
    await redis.stop();
  }
});

test('a worker without the dataset fails the job with the reason and stops taking train jobs; the search stops resumable, exit 2', { timeout: 120_000 }, async () => {
  const redis = await startLocalRedis();
  const dir = tmp();
  // the coordinator has the data (it checksums it); the worker's --data-dir is empty
  const data = mkdtempSync(path.join(dir, 'mnist-'));
  writeMnistLayout(data, 400, 100);
  const empty = mkdtempSync(path.join(dir, 'no-mnist-'));
  const workers = [startWorker(redis.url, ['--data-dir', empty])];
  try {
    await workers[0]!.id;
    const out = path.join(dir, 'run');
    const config = tinyConfig(dir, { dataset: { name: 'mnist', dataDir: data, validationImages: 100 } });
    const r = await startSearch(['--redis', redis.url, '--config', config, '--budget', '2', '--target-ms', '1', '--out', out]).done;
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /no live worker takes train jobs any more \(.*cannot load the dataset 'mnist' at .*no-mnist-/);
    await inspect(redis, async ({ workers: ws, train }) => {
      assert.match(ws[0]!.refused.train ?? '', /cannot load the dataset 'mnist' at .*no-mnist-/);
      assert.equal((await train.getJobCounts('failed'))['failed'], 1, 'failed once, not retried forever');
    });
    // nothing was scored: the trial stays in flight for --resume
    const trials = storedTrials(out);
    assert.ok(trials.every((t) => t.status === 'pending' || t.status === 'running'), JSON.stringify(trials.map((t) => t.status)));
  } finally {
    await stopWorkers(workers);
    await redis.stop();
  }
});

test('bad --redis URLs are one line, exit 2, before anything starts', { timeout: 60_000 }, () => {
  for (const args of [
    ['search', '--redis', 'http://127.0.0.1:6379', '--budget', '1'],
    ['worker', '--redis', 'redis://127.0.0.1:6379/not-a-db'],
    ['workers', '--redis', 'localhost'],
  ]) {
    const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^mnas: --redis: [^\n]+\n$/);
  }
});

test('--interleave with --redis is refused (a distributed search measures on its workers), one line, exit 2, nothing created', { timeout: 60_000 }, () => {
  const out = path.join(tmp(), 'run');
  const r = spawnSync(process.execPath, [MAIN, 'search', '--redis', 'redis://127.0.0.1:6379', '--interleave', '--budget', '1', '--out', out], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^mnas: search: search options: device\.interleave: a distributed search measures on its workers\n$/);
  assert.equal(existsSync(out), false);
});
