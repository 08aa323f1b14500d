/**
 * The browser device farm as the measuring side of a worker: a farm (DeviceServer) with a
 * headless Chromium page joined, a `mnas worker --device browser` given the farm's control URL
 * (MNAS_BROWSER_URL), a training worker, and a search coordinated through Redis whose every
 * candidate's latency is measured in that browser. Needs /usr/bin/chromium.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { measureQueue, MeasureOutcomeSchema } from '../src/distributed/jobs.js';
import { startLocalRedis } from '../src/distributed/local-redis.js';
import { assertEveryTrialOnce, inspect, startSearch, startWorker, stopWorkers, tinyConfig, tmp } from '../src/distributed/testing.js';
import { DeviceServer } from '../src/latency/browser/index.js';
import { DEFAULT_CHROMIUM, launchChromium, type LaunchedBrowser } from '../src/latency/browser/launch.js';
import { storedTrials } from '../src/search/testing.js';

const skip = existsSync(DEFAULT_CHROMIUM) ? false : `no Chromium at ${DEFAULT_CHROMIUM}`;

test('a worker attached to a browser device farm measures the latency of every trial of a search coordinated through Redis', { skip, timeout: 240_000 }, async () => {
  const farm = await DeviceServer.start({ host: '127.0.0.1', port: 0 });
  let chromium: LaunchedBrowser | undefined;
  const redis = await startLocalRedis();
  const workers: Array<ReturnType<typeof startWorker>> = [];
  try {
    chromium = await launchChromium();
    await chromium.openPage(farm.url);
    await farm.waitForDevice({}, 30_000);
    workers.push(startWorker(redis.url, ['--jobs', 'measure'], { MNAS_BROWSER_URL: farm.controlUrl, MNAS_BROWSER_WAIT: '30' }, 'browser'));
    workers.push(startWorker(redis.url, ['--jobs', 'train'], {}, null));
    const [measurer] = await Promise.all(workers.map((w) => w.id));

    const dir = tmp();
    const out = path.join(dir, 'run');
    const budget = 2;
    const config = tinyConfig(dir, { device: { kind: 'browser' }, latencySource: 'measured' });
    const r = await startSearch(['--redis', redis.url, '--config', config, '--budget', String(budget), '--target-ms', '1', '--out', out]).done;
    assert.equal(r.code, 0, r.stderr);
    assertEveryTrialOnce(out, budget);
    const result = JSON.parse(r.stdout.trimEnd().split('\n').at(-1)!) as { device: { kind: string; runtime: string; details?: Record<string, unknown> } };
    assert.equal(result.device.kind, 'browser');
    assert.equal(result.device.runtime, 'onnxruntime-web');
    assert.match(String(result.device.details?.['userAgent']), /HeadlessChrome/, "the search's device is the farm's browser");
    for (const t of storedTrials(out)) assert.ok(t.latencyMs !== null && t.latencyMs > 0, `trial ${t.id}: latency ${t.latencyMs}`);

    // every trial's measurement ran in the browser, by the worker attached to the farm
    const measured = await inspect(redis, async ({ train: measure }) => (await measure.getJobs(['completed'])).map((j) => MeasureOutcomeSchema.parse(j.returnvalue)), measureQueue('browser'));
    const done = measured.filter((m) => m.status === 'done');
    assert.ok(done.length >= budget, `${done.length} browser measurements for ${budget} trials`);
    for (const m of done) {
      assert.equal(m.worker, measurer);
      assert.equal(m.status === 'done' && m.result.device.kind, 'browser');
    }
    assert.ok(farm.devices()[0]!.jobsDone >= budget, 'the farm ran the jobs');
  } finally {
    await stopWorkers(workers);
    await chromium?.close();
    await farm.close();
    await redis.stop();
  }
});
