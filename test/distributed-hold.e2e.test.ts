/**
 * "A latency job for device D ... never runs while that worker's machine trains", across
 * processes: one `mnas worker` measures (ort-cpu) and another trains, both on this machine, for a
 * search that measures every candidate while others train. Each measure job records when its
 * measurement ran; each train job records when it ran and the intervals in which its training
 * processes were paused. Every measurement that falls in a training job's time must lie inside
 * one of that job's pauses, and measurements never overlap each other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { measureQueue, type JobTimeline } from '../src/distributed/jobs.js';
import { startLocalRedis } from '../src/distributed/local-redis.js';
import type { DistributedStatus } from '../src/distributed/status.js';
import { assertEveryTrialOnce, inspect, MAIN, startSearch, startWorker, stopWorkers, tinyConfig, tmp } from '../src/distributed/testing.js';

interface Ran {
  readonly worker: string;
  readonly timeline: JobTimeline;
}

const overlap = (a: { start: number; end: number }, b: { start: number; end: number }) => a.start < b.end && b.start < a.end;

test('two worker processes on one machine: no measurement overlaps a training step of the other, and measurements never overlap each other', { timeout: 240_000 }, async () => {
  const redis = await startLocalRedis();
  const measurer = startWorker(redis.url, ['--jobs', 'measure']);
  const trainer = startWorker(redis.url, ['--jobs', 'train'], {}, null);
  const workers = [measurer, trainer];
  try {
    const [measurerId, trainerId] = await Promise.all([measurer.id, trainer.id]);
    await inspect(redis, async ({ workers: ws }) => {
      assert.equal(ws.length, 2);
      assert.ok(ws.every((w) => w.host === os.hostname()), 'both on this machine');
    });
    const dir = tmp();
    const out = path.join(dir, 'run');
    const budget = 6;
    // every candidate is measured (latencySource measured) while up to two others train
    const config = tinyConfig(dir, { latencySource: 'measured', proxy: { images: 400, epochs: 1, batch: 50, threads: 1 } });
    const r = await startSearch(['--redis', redis.url, '--config', config, '--budget', String(budget), '--concurrency', '3', '--target-ms', '1', '--out', out]).done;
    assert.equal(r.code, 0, r.stderr);
    assertEveryTrialOnce(out, budget);

    const ran = (jobs: Array<{ returnvalue: unknown }>) => jobs.map((j) => j.returnvalue as Ran).filter((v) => v.timeline !== undefined);
    const trains = await inspect(redis, async ({ train }) => ran(await train.getJobs(['completed'])));
    const measures = await inspect(redis, async ({ train: measure }) => ran(await measure.getJobs(['completed'])), measureQueue('ort-cpu'));
    const measureJobs = await inspect(redis, async ({ train: measure }) => (await measure.getJobCounts('completed'))['completed']!, measureQueue('ort-cpu'));
    assert.equal(trains.length, budget);
    assert.ok(measures.length >= budget, `${measures.length} measurements`);
    assert.ok(trains.every((t) => t.worker === trainerId) && measures.every((m) => m.worker === measurerId));

    let during = 0;
    for (const m of measures) {
      for (const t of trains) {
        if (!overlap(m.timeline, t.timeline)) continue;
        during++;
        const inPause = (t.timeline.paused ?? []).some((p) => p.start <= m.timeline.start && m.timeline.end <= p.end);
        assert.ok(inPause, `measurement ${JSON.stringify(m.timeline)} during training ${JSON.stringify(t.timeline)} outside its pauses`);
      }
    }
    assert.ok(during >= 1, 'at least one measurement ran while a trial was training (else the test shows nothing)');
    const sorted = measures.map((m) => m.timeline).sort((a, b) => a.start - b.start);
    for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i]!.start >= sorted[i - 1]!.end, 'one measurement at a time');

    // `mnas workers` lists both, with their devices and the jobs they did
    const listed = spawnSync(process.execPath, [MAIN, 'workers', '--redis', redis.url, '--json'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(listed.status, 0, listed.stderr);
    const status = JSON.parse(listed.stdout) as DistributedStatus;
    const byId = new Map(status.workers.map((w) => [w.id, w]));
    assert.deepEqual([byId.get(measurerId)?.device, byId.get(measurerId)?.jobs], ['ort-cpu', ['measure']]);
    assert.deepEqual([byId.get(trainerId)?.device, byId.get(trainerId)?.jobs], [null, ['train']]);
    assert.equal(byId.get(trainerId)?.done.train, budget);
    assert.equal(byId.get(measurerId)?.done.measure, measureJobs, 'every measurement and the describe job');
    assert.deepEqual(byId.get(trainerId)?.running, []);
    assert.equal(status.queues['train']?.['completed'], budget);
    const text = spawnSync(process.execPath, [MAIN, 'workers', '--redis', redis.url], { encoding: 'utf8', timeout: 30_000 });
    assert.match(text.stdout, /^workers: 2$/m);
    assert.match(text.stdout, new RegExp(`${measurerId}  jobs measure  device ort-cpu .* done train 0 measure ${measureJobs} .* running: idle`));
  } finally {
    await stopWorkers(workers);
    await redis.stop();
  }
});
