/**
 * The browser device end to end: Debian's Chromium (headless, driven by playwright-core) opens the
 * device page served by DeviceServer, loads onnxruntime-web (WASM, SIMD, 1 thread) from the server,
 * and measures a small ONNX model. Also: wrong tokens are refused, a page from another origin cannot
 * open the device socket even with the token, malformed messages close only the sender, and jobs
 * move to another device (or fail with a reason) when a device disconnects.
 *
 * Correctness only, no timing thresholds (the machine is shared). Needs /usr/bin/chromium.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BrowserDevice, DeviceServer, type BrowserLatencyResult } from '../src/latency/browser/index.js';
import { DEFAULT_CHROMIUM, launchChromium, localClientId, type LaunchedBrowser } from '../src/latency/browser/launch.js';
import { FakeDevice, tinyModel, wsUrl } from '../src/latency/browser/fakes.js';
import { layersToModel, planToModel } from '../src/latency/model.js';
import { createDevice } from '../src/latency/registry.js';
import { buildPlan } from '../src/model/plan.js';
import { presetArch } from '../src/space/presets.js';
import { runCli } from '../src/cli/testing.js';
import { ExperimentStore } from '../src/search/store.js';
import { storedTrials } from '../src/search/testing.js';
import { repoRoot } from '../src/util/paths.js';
import { tempDir } from '../src/util/testing.js';

const skip = existsSync(DEFAULT_CHROMIUM) ? false : `no Chromium at ${DEFAULT_CHROMIUM}`;
const model = tinyModel();
/** Short but real: the default precision target, capped at 3 s of timed runs. */
const PROTOCOL = { maxSeconds: 3 };

function checkStats(r: BrowserLatencyResult): void {
  for (const k of ['latency_ms', 'median_ms', 'p10_ms', 'p90_ms', 'mean_ms'] as const) assert.ok(Number.isFinite(r[k]) && r[k] > 0, `${k} = ${r[k]}`);
  assert.deepEqual([r.quantile, r.latency_ms], [0.1, r.p10_ms], 'the latency is the 10th percentile of the page\'s runs');
  assert.ok(r.p10_ms <= r.median_ms && r.median_ms <= r.p90_ms, `p10 ${r.p10_ms} <= median ${r.median_ms} <= p90 ${r.p90_ms}`);
  assert.ok(r.median_ms < 1000, `median ${r.median_ms} ms for a tiny model`);
  assert.ok(r.cv >= 0 && Number.isFinite(r.cv));
  assert.ok(r.runs >= 1 && r.runs <= 5000);
  assert.equal(r.converged, r.stop === 'converged');
  assert.ok(r.seconds > 0 && r.seconds < 10);
  assert.ok(r.browser.innerRepeats >= 1);
  // every sample kept lasted at least half the 2 ms target (static/sample-timing.js), 20 ticks of Chromium's 0.1 ms clock
  assert.ok(r.p10_ms * r.browser.innerRepeats >= 0.99, `p10 ${r.p10_ms} ms x ${r.browser.innerRepeats} inferences per sample`);
  assert.equal(r.browser.backend, 'wasm');
}

describe('browser device in headless Chromium', { skip }, () => {
  let server: DeviceServer;
  let chromium: LaunchedBrowser;
  const log: string[] = [];

  before(async () => {
    server = await DeviceServer.start({ host: '127.0.0.1', port: 0, queueTimeoutMs: 3000, log: (l) => log.push(l) });
    chromium = await launchChromium();
  });
  after(async () => {
    await chromium?.close();
    await server?.close();
  });

  it('opens the page with the token, measures a small model and records the device', async (t) => {
    const page = await chromium.openPage(server.url);
    const device = new BrowserDevice({ server, waitSeconds: 30 });
    const desc = await device.describe();
    assert.equal(desc.kind, 'browser');
    assert.match(desc.id, /^browser:b[0-9a-f]{12}$/);
    assert.equal(desc.runtime, 'onnxruntime-web');
    assert.equal(desc.runtimeVersion, '1.30.0');
    assert.equal(desc.threads, 1);
    assert.match(String(desc.details?.['userAgent']), /HeadlessChrome/);
    assert.equal(desc.details?.['simd'], true);
    assert.equal(desc.details?.['backends'], 'wasm');
    assert.equal(desc.details?.['ortBundle'], 'ort.wasm.min.mjs');
    assert.equal(desc.details?.['crossOriginIsolated'], true, 'COOP/COEP served');
    assert.ok(Number(desc.details?.['hardwareConcurrency']) >= 1);

    const r = await device.measure(model, PROTOCOL);
    checkStats(r);
    assert.deepEqual(r.device, desc);
    assert.equal(r.browser.attempts, 1);
    t.diagnostic(
      `tiny-cnn (${model.onnx.byteLength} B) in headless Chromium, wasm 1 thread: median ${r.median_ms.toFixed(4)} ms, p10 ${r.p10_ms.toFixed(4)}, p90 ${r.p90_ms.toFixed(4)}, ` +
        `cv ${(r.cv * 100).toFixed(1)}%, ${r.runs} samples x ${r.browser.innerRepeats} inferences, ${r.stop}, ±${(r.rel_half_width * 100).toFixed(1)}%, load ${r.browser.loadMs.toFixed(0)} ms`,
    );
    assert.match(await page.textContent('#status') ?? '', /connected as b[0-9a-f]{12}: waiting for jobs/);
    await device.close(); // shared server: stays up
    assert.equal(server.devices().length, 1);
  });

  it('times a layer of a few microseconds (the classifier) in samples long enough for the clock, alone and in turn', async (t) => {
    const device = new BrowserDevice({ server, waitSeconds: 30 });
    const plan = buildPlan(presetArch('bench-fmnist'));
    const last = plan.layers.length - 1;
    const fc = layersToModel(plan, { from: last, to: last + 1 }, 'bench-fmnist#fc');
    const block = layersToModel(plan, { from: last - 1, to: last }, 'bench-fmnist#before-fc');
    const alone = await device.measure(fc, { maxSeconds: 2 });
    checkStats(alone);
    assert.ok(alone.median_ms < 0.1, `fc median ${alone.median_ms} ms`);
    const pair = await device.measureAgainst(fc, block, { maxSeconds: 2 });
    assert.ok(pair.ratio > 0 && Number.isFinite(pair.ratio));
    assert.ok(pair.median_ms > 0 && pair.reference_ms > 0);
    t.diagnostic(`fc layer: ${alone.median_ms.toFixed(5)} ms in samples of ${alone.browser.innerRepeats}; against the layer before it: ratio ${pair.ratio.toFixed(3)}`);
    await device.close();
  });

  it('times a model in turn with a reference on the page: a network against itself is 1, a bigger one above', async (t) => {
    const device = new BrowserDevice({ server, waitSeconds: 30 });
    const small = planToModel(buildPlan(presetArch('bench-fmnist')), 'bench-fmnist');
    const big = planToModel(buildPlan(presetArch('mnasnet-a1-fmnist')), 'mnasnet-a1-fmnist');
    const self = await device.measureAgainst(small, small, { maxSeconds: 3 });
    const bigger = await device.measureAgainst(big, small, { maxSeconds: 3 });
    for (const r of [self, bigger]) {
      assert.ok(r.pairs >= 12, `${r.pairs} pairs`);
      assert.ok(r.runs_per_block >= 3);
      assert.ok(r.reference_ms > 0 && r.median_ms > 0);
      assert.equal(r.device.kind, 'browser');
    }
    assert.ok(Math.abs(self.ratio - 1) < 0.1, `bench-fmnist against itself: ${self.ratio}`);
    assert.ok(bigger.ratio > 1.05, `mnasnet-a1-fmnist (8.0M MACs) against bench-fmnist (7.2M MACs, fewer layers): ${bigger.ratio}`);
    t.diagnostic(`interleaved in headless Chromium: bench-fmnist / itself ${self.ratio.toFixed(4)}, mnasnet-a1-fmnist / bench-fmnist ${bigger.ratio.toFixed(4)} +-${(100 * bigger.ratio_rel_half_width).toFixed(1)}% (${bigger.pairs} pairs)`);
    await device.close();
  });

  it('refuses a wrong token: HTTP 403 for the page and for the WebSocket upgrade', async () => {
    const bad = server.url.replace(/token=[^&]+/, 'token=not-the-token');
    const ctx = await chromium.browser.newContext();
    try {
      const page = await ctx.newPage();
      const resp = await page.goto(bad);
      assert.equal(resp?.status(), 403);
      // the browser's own WebSocket with a wrong token is refused as well
      const outcome = await page.evaluate(
        (url) =>
          new Promise<string>((resolve) => {
            const ws = new WebSocket(url);
            ws.onopen = () => resolve('open');
            ws.onclose = (e) => resolve(`closed ${e.code}`);
          }),
        wsUrl(server, 'not-the-token'),
      );
      assert.equal(outcome, 'closed 1006');
    } finally {
      await ctx.close();
    }
    await assert.rejects(FakeDevice.connect(wsUrl(server, 'not-the-token')), /HTTP 403/);
    assert.equal(server.devices().length, 1, 'nobody joined');
    assert.ok(log.some((l) => /refused WebSocket .*bad or missing token/.test(l)));
  });

  it('refuses the device socket to a page from another origin, even with the right token', async () => {
    // another origin on this machine: same host, another port
    const foreign = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>other site</title>'));
    await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', r));
    const ctx = await chromium.browser.newContext();
    try {
      const page = await ctx.newPage();
      await page.goto(`http://127.0.0.1:${(foreign.address() as AddressInfo).port}/`);
      const attempt = (url: string) =>
        page.evaluate(
          (u) =>
            new Promise<string>((resolve) => {
              const ws = new WebSocket(u);
              ws.onopen = () => resolve('open');
              ws.onclose = (e) => resolve(`closed ${e.code}`);
            }),
          url,
        );
      assert.equal(await attempt(wsUrl(server)), 'closed 1006');
      assert.equal(await attempt(server.controlUrl.replace('http:', 'ws:')), 'closed 1006');
    } finally {
      await ctx.close();
      await new Promise<void>((r) => foreign.close(() => r()));
    }
    assert.equal(server.devices().length, 1, 'nobody joined');
    assert.ok(log.some((l) => /refused WebSocket .*foreign Origin http:\/\/127\.0\.0\.1:\d+/.test(l)));
  });

  it('closes a fake client that sends a malformed message, with a reason; the server and page keep working', async () => {
    const fake = await FakeDevice.connect(wsUrl(server));
    fake.send({ type: 'hello', v: 1, clientId: 'evil', description: { userAgent: 'x' } });
    const closed = await fake.closed;
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /^malformed message: description\./);
    const device = new BrowserDevice({ server, waitSeconds: 10 });
    checkStats(await device.measure(model, { maxSeconds: 1 }));
  });

  it('moves a job to another device when its device disconnects mid-measurement, and fails it when none is left', async () => {
    const s2 = await DeviceServer.start({ queueTimeoutMs: 2000 });
    try {
      const fake = await FakeDevice.connect(wsUrl(s2));
      await fake.hello('fake-leaver');
      const device = new BrowserDevice({ server: s2, waitSeconds: 10 });
      const measured = device.measure({ ...model, name: 'moved' }, PROTOCOL);
      const { job } = await fake.nextJob();
      fake.send({ type: 'loaded', job: job.job, backend: 'wasm', loadMs: 1, warmupMs: [], innerRepeats: 1 });
      // slow but possible within the time since the job was sent (the server checks the page clock)
      fake.send({ type: 'runs', job: job.job, times: [300, 300, 300] });
      const page = await chromium.openPage(s2.url);
      await s2.waitForDevice({}, 20_000); // the fake is listed too; wait for the page below
      while (s2.devices().length < 2) await new Promise((r) => setTimeout(r, 20));
      fake.terminate();
      const r = await measured;
      checkStats(r);
      assert.equal(r.browser.attempts, 2);
      assert.notEqual(r.device.id, 'browser:fake-leaver');
      assert.ok(r.median_ms < 300, "the fake's runs were discarded");

      // now the page leaves mid-job and no device is left: the job fails with a reason
      const started = new Promise((resolve) => s2.once('job-started', resolve));
      const orphan = device.measure({ ...model, name: 'orphan' }, { relPrecision: 0.0001, maxSeconds: 30, minRuns: 1000 });
      const failed = assert.rejects(orphan, (e: Error) => {
        assert.match(e.message, /disconnected mid-measurement/);
        assert.match(e.message, /no browser device available within 2 s to measure 'orphan'/);
        return true;
      });
      await started;
      await page.close();
      await failed;
      assert.equal(s2.devices().length, 0);
    } finally {
      await s2.close();
    }
  });
});

describe('browser device through the registry, launching its own Chromium', { skip }, () => {
  it("createDevice('browser', { launch }) starts a server and a headless page, measures, and cleans up", async () => {
    const device = await createDevice('browser', { launch: true, waitSeconds: 30, threads: 1 });
    try {
      const r = (await device.measure(model, { maxSeconds: 1 })) as BrowserLatencyResult;
      checkStats(r);
      assert.equal(r.device.kind, 'browser');
      // this machine's Chromium, the same device at every launch (its latency tables stay its own)
      assert.equal(r.device.id, `browser:${localClientId()}`);
      assert.equal(localClientId('ci.example.org'), 'local-ci-example-org');
    } finally {
      await device.close();
    }
  });
});

describe('mnas devices serve + mnas measure --device browser (MNAS_BROWSER_URL)', { skip }, () => {
  it('a page joins the running server with the join URL; measure sends its job there with the control URL and prints the browser result', async () => {
    const main = path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
    const dir = tempDir('mnas-browser-');
    const onnxPath = path.join(dir, 'tiny.onnx');
    writeFileSync(onnxPath, model.onnx);
    const serve = spawn(process.execPath, [main, 'devices', 'serve', '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const served = new Promise<number | null>((resolve) => serve.on('exit', (code) => resolve(code)));
    let chromium: LaunchedBrowser | undefined;
    try {
      let out = '';
      serve.stdout.on('data', (b: Buffer) => (out += b.toString()));
      const deadline = Date.now() + 20_000;
      while (!out.includes('\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const { url, controlUrl } = JSON.parse(out.split('\n')[0] as string) as { url: string; controlUrl: string };
      chromium = await launchChromium();
      await chromium.openPage(url);
      const measure = spawn(process.execPath, [main, 'measure', onnxPath, '--device', 'browser', '--max-seconds', '1', '--json'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, MNAS_BROWSER_URL: controlUrl, MNAS_BROWSER_WAIT: '30' },
      });
      let mout = '';
      let merr = '';
      measure.stdout.on('data', (b: Buffer) => (mout += b.toString()));
      measure.stderr.on('data', (b: Buffer) => (merr += b.toString()));
      const code = await new Promise<number | null>((resolve) => measure.on('exit', (c) => resolve(c)));
      assert.equal(code, 0, merr);
      const r = JSON.parse(mout.trimEnd().split('\n').at(-1) as string) as BrowserLatencyResult & { model: string };
      assert.equal(r.model, 'tiny.onnx');
      checkStats(r);
      assert.equal(r.device.kind, 'browser');
      assert.match(String(r.device.details?.['userAgent']), /HeadlessChrome/);
      assert.match(out, /"event":"device-joined"/);

      // interleaved with a reference, through the control socket: both models in one frame
      const against = spawn(process.execPath, [main, 'measure', 'mnasnet-a1-fmnist', '--device', 'browser', '--against', 'bench-fmnist', '--max-seconds', '2', '--json'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, MNAS_BROWSER_URL: controlUrl, MNAS_BROWSER_WAIT: '30' },
      });
      let aout = '';
      let aerr = '';
      against.stdout.on('data', (b: Buffer) => (aout += b.toString()));
      against.stderr.on('data', (b: Buffer) => (aerr += b.toString()));
      assert.equal(await new Promise<number | null>((resolve) => against.on('exit', (c) => resolve(c))), 0, aerr);
      const a = JSON.parse(aout.trimEnd().split('\n').at(-1) as string) as { model: string; ratio: number; pairs: number; reference_ms: number; device: { kind: string } };
      assert.equal(a.model, 'mnasnet-a1-fmnist');
      assert.equal(a.device.kind, 'browser');
      assert.ok(a.ratio > 1.05 && a.pairs >= 12 && a.reference_ms > 0, JSON.stringify(a));
    } finally {
      await chromium?.close();
      serve.kill('SIGTERM');
      assert.equal(await served, 0);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mnas measure --device browser with a bad MNAS_BROWSER_URL', () => {
  const run = (url: string) =>
    new Promise<{ code: number | null; err: string }>((resolve) => {
      const main = path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
      const child = spawn(process.execPath, [main, 'measure', 'mnasnet-a1', '--device', 'browser', '--max-seconds', '1'], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, MNAS_BROWSER_URL: url, MNAS_BROWSER_WAIT: '5' },
      });
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      child.on('exit', (code) => resolve({ code, err }));
    });

  it('malformed (the join URL instead of the control URL): one line, exit 2', async () => {
    const r = await run('http://127.0.0.1:8765/?token=abcdefghijklmnop');
    assert.match(r.err, /browser device URL 'http:\/\/127\.0\.0\.1:8765\/\?token=<secret>' is the devices' join URL/);
    assert.equal(r.err.trimEnd().split('\n').length, 1, r.err);
    assert.equal(r.code, 2);
  });

  it('unreachable: one line, exit 2', async () => {
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const r = await run(`http://127.0.0.1:${port}/control?token=abcdefghijklmnop`);
    assert.match(r.err, new RegExp(`browser device server at 127\\.0\\.0\\.1:${port} is unreachable \\(connect ECONNREFUSED`));
    assert.equal(r.err.trimEnd().split('\n').length, 1, r.err);
    assert.equal(r.code, 2);
  });
});

describe('mnas measure --device browser when no device joins in time', () => {
  const main = path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
  const measure = (env: Record<string, string>) =>
    new Promise<{ code: number | null; err: string }>((resolve) => {
      const { MNAS_BROWSER_LAUNCH: _launch, MNAS_BROWSER_URL: _url, ...rest } = process.env;
      const child = spawn(process.execPath, [main, 'measure', 'bench-fmnist', '--device', 'browser', '--max-seconds', '1'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...rest, MNAS_BROWSER_WAIT: '1', ...env } });
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      child.on('exit', (code) => resolve({ code, err }));
    });

  it('its own server: the join URL is announced, then one line naming the wait, exit 2', async () => {
    const r = await measure({});
    assert.match(r.err, /^browser device: open this URL on the device to measure on \(waiting up to 1 s\):/);
    const last = r.err.trimEnd().split('\n').at(-1)!;
    assert.match(last, /^mnas: no browser device joined within 1 s \(open http:\/\/127\.0\.0\.1:\d+\/\?token=\S+\)$/);
    assert.doesNotMatch(r.err, /internal error|\n\s+at /);
    assert.equal(r.code, 2);
  });

  it('a running mnas devices serve with no page: the same one line from the server, exit 2', async () => {
    const serve = spawn(process.execPath, [main, 'devices', 'serve', '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const served = new Promise<number | null>((resolve) => serve.on('exit', (code) => resolve(code)));
    try {
      let out = '';
      serve.stdout.on('data', (b: Buffer) => (out += b.toString()));
      const deadline = Date.now() + 20_000;
      while (!out.includes('\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const { controlUrl } = JSON.parse(out.split('\n')[0] as string) as { controlUrl: string };
      const r = await measure({ MNAS_BROWSER_URL: controlUrl });
      assert.match(r.err, /^mnas: no browser device joined within 1 s \(open http:\/\/127\.0\.0\.1:\d+\/\?token=\S+\)\n$/);
      assert.equal(r.code, 2);
    } finally {
      serve.kill('SIGTERM');
      assert.equal(await served, 0);
    }
  });
});

describe('mnas search --device browser --interleave (a local headless Chromium)', { skip }, () => {
  it('measures every trial on the page in turn with the reference: LAT = ratio x the reference at the start', () => {
    const dir = tempDir('mnas-browser-search-');
    try {
      const out = path.join(dir, 'run');
      const r = runCli(
        ['search', '--device', 'browser', '--interleave', '--strategy', 'random', '--budget', '2', '--dataset', 'synthetic', '--validation-images', '300', '--proxy-images', '200', '--workers', '0', '--seed', '1', '--out', out, '--quiet', '--json'],
        300_000,
        { MNAS_BROWSER_LAUNCH: '1', MNAS_BROWSER_WAIT: '60' },
      );
      assert.equal(r.status, 0, r.stderr);
      const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { target_ms: number; trials: { done: number } };
      const trials = storedTrials(out).filter((t) => t.status === 'done');
      assert.equal(trials.length, 2);
      const store = ExperimentStore.open(out, { readonly: true });
      const startMs = store.driftChecks()[0]!.ms;
      store.close();
      for (const t of trials) {
        const s = t.latencyStats as { interleaved: boolean; ratio: number; pairs: number; device: { kind: string } };
        assert.equal(s.interleaved, true);
        assert.equal(s.device.kind, 'browser');
        assert.ok(s.pairs >= 12, `${s.pairs} pairs`);
        assert.ok(Math.abs(t.latencyMs! - s.ratio * startMs) < 1e-9 * startMs, `trial ${t.id}: ${t.latencyMs} = ${s.ratio} x ${startMs}`);
      }
      assert.ok(summary.target_ms > 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
