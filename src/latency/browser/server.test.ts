/**
 * DeviceServer with fake devices (ws clients speaking the page protocol): token checks, message
 * validation, the job lifecycle with server-side statistics, queueing, reassignment after a
 * disconnect, failure reasons, cancel. No browser here: see test/browser-device.e2e.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeReason, parseDeviceMessage } from './messages.js';
import { controlUrl, RemoteDeviceServer } from './remote.js';
import { DeviceServer, JobFailedError, tokenMatches } from './server.js';
import { controlWsUrl, FAKE_DESCRIPTION, FakeDevice, tinyModel, wsUrl } from './fakes.js';

const model = tinyModel();
/** Converges fast on steady times: >= 10 runs and no minimum duration. */
// the median, so that a dozen runs can settle a job (the 10th percentile needs 36)
const QUICK = { warmupRuns: 1, warmupSeconds: 0, minRuns: 10, minSeconds: 0, maxRuns: 200, relPrecision: 0.05, maxSeconds: 30, quantile: 0.5 };

/** Plays a well-behaved page for one job: loaded, runs of ~`ms` until stop, done. */
async function serveJob(d: FakeDevice, ms = 2): Promise<number> {
  const { job } = await d.nextJob();
  d.send({ type: 'loaded', job: job.job, backend: 'wasm', loadMs: 5, warmupMs: [ms], innerRepeats: 1 });
  for (let i = 0; i < 20 && !d.messages.some((m) => m.type === 'stop' && m.job === job.job); i++) {
    d.send({ type: 'runs', job: job.job, times: Array.from({ length: 8 }, (_, k) => ms * (1 + 0.01 * ((k % 3) - 1))) });
    await new Promise((r) => setTimeout(r, 10));
  }
  d.send({ type: 'done', job: job.job, reason: 'stopped' });
  return job.job;
}

describe('token', () => {
  it('compares tokens (constant-time helper)', () => {
    assert.equal(tokenMatches('abcdefgh', 'abcdefgh'), true);
    assert.equal(tokenMatches('abcdefgH', 'abcdefgh'), false);
    assert.equal(tokenMatches('abc', 'abcdefgh'), false);
    assert.equal(tokenMatches(null, 'abcdefgh'), false);
  });
});

describe('messages', () => {
  it('accepts a hello and rejects malformed frames with a reason', () => {
    const ok = parseDeviceMessage(Buffer.from(JSON.stringify({ type: 'hello', v: 1, clientId: 'x1', description: FAKE_DESCRIPTION })), false);
    assert.equal(ok.ok, true);
    const bad = (s: string, bin = false) => {
      const r = parseDeviceMessage(Buffer.from(s), bin);
      assert.equal(r.ok, false, s);
      return (r as { reason: string }).reason;
    };
    assert.match(bad('{nope'), /not JSON/);
    assert.match(bad('{}', true), /binary/);
    assert.match(bad(JSON.stringify({ type: 'runs', job: 1, times: [1, -2] })), /malformed message: times\.1/);
    assert.match(bad(JSON.stringify({ type: 'runs', job: 1, times: [] })), /malformed message: times/);
    assert.match(bad(JSON.stringify({ type: 'done', job: 1, reason: 'stopped', extra: 1 })), /malformed/);
    assert.match(bad(JSON.stringify({ type: 'hello', v: 1, clientId: '../x', description: FAKE_DESCRIPTION })), /clientId/);
    assert.match(bad(JSON.stringify({ type: 'launch-missiles' })), /malformed message: type/);
    assert.match(bad(JSON.stringify([1, 2])), /malformed/);
  });

  it('truncates close reasons to 123 bytes', () => {
    assert.equal(Buffer.byteLength(closeReason('é'.repeat(200))), 122);
    assert.equal(closeReason('short'), 'short');
  });
});

describe('DeviceServer', () => {
  let s: DeviceServer;
  before(async () => {
    s = await DeviceServer.start({ host: '127.0.0.1', port: 0, queueTimeoutMs: 1500, helloTimeoutMs: 3000 });
  });
  after(async () => {
    await s.close();
  });

  it('serves the page only with the token, and the static files', async () => {
    const base = `http://127.0.0.1:${s.port}`;
    assert.equal((await fetch(`${base}/`)).status, 403);
    assert.equal((await fetch(`${base}/?token=wrong-token-123`)).status, 403);
    assert.equal((await fetch(`${base}/?token=${s.token}x`)).status, 403);
    const page = await fetch(s.url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script type="module" src="\/device\.js">/);
    assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp');
    const js = await fetch(`${base}/device.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    const wasm = await fetch(`${base}/ort/ort-wasm-simd-threaded.wasm`, { method: 'HEAD' });
    assert.equal(wasm.status, 200);
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    assert.equal((await fetch(`${base}/ort/ort.node.min.mjs`)).status, 404);
    assert.equal((await fetch(`${base}/ort/..%2f..%2fpackage.json`)).status, 404);
    assert.equal((await fetch(`${base}/status?token=nope1234`)).status, 403);
    assert.equal((await fetch(`${base}/status?token=${s.token}`)).status, 403, 'the join token does not open /status');
    const status = (await (await fetch(`${base}/status?token=${s.controlToken}`)).json()) as Record<string, unknown>;
    assert.deepEqual(status['devices'], []);
    assert.equal(status['queued'], 0);
    assert.deepEqual(status['held'], { jobs: 0, bytes: 0 });
    assert.equal((await fetch(`${base}/?token=${s.controlToken}`)).status, 403, 'the control secret is not a join token');
    assert.equal((await fetch(s.url, { method: 'POST' })).status, 405);
  });

  it('refuses WebSocket upgrades without the right token', async () => {
    await assert.rejects(FakeDevice.connect(wsUrl(s, 'wrong-token-123')), /HTTP 403/);
    await assert.rejects(FakeDevice.connect(`ws://127.0.0.1:${s.port}/ws`), /HTTP 403/);
    await assert.rejects(FakeDevice.connect(`ws://127.0.0.1:${s.port}/other?token=${s.token}`), /HTTP 404/);
  });

  it('closes a device that sends a malformed message, with a reason, and keeps serving others', async () => {
    const cases: Array<[unknown, RegExp]> = [
      ['not json at all', /not JSON/],
      [{ type: 'hello', v: 1, clientId: 'x', description: { ...FAKE_DESCRIPTION, threads: 0 } }, /malformed message: description\.threads/],
      [{ type: 'done', job: 1, reason: 'stopped' }, /before hello/],
      [Buffer.from([1, 2, 3]), /binary/],
      ['x'.repeat(300 * 1024), /message over 262144 bytes/],
    ];
    for (const [msg, reason] of cases) {
      const bad = await FakeDevice.connect(wsUrl(s));
      if (Buffer.isBuffer(msg)) bad.ws.send(msg, { binary: true });
      else bad.send(msg);
      const closed = await bad.closed;
      assert.ok(closed.code === 1008 || closed.code === 1009, `close code ${closed.code}`);
      assert.match(closed.reason, reason);
    }
    // a frame beyond the WebSocket layer's limit: cut off with 1009 (message too big)
    const huge = await FakeDevice.connect(wsUrl(s));
    huge.send('x'.repeat(5 * 1024 * 1024));
    assert.equal((await huge.closed).code, 1009);
    // and a hello-then-garbage device too
    const bad = await FakeDevice.connect(wsUrl(s));
    await bad.hello('garbage');
    bad.send({ type: 'runs', job: 1, times: ['fast'] });
    assert.match((await bad.closed).reason, /malformed message: times\.0/);
    // the server still works
    const good = await FakeDevice.connect(wsUrl(s));
    assert.equal(await good.hello('good1'), 'good1');
    const r = s.submit({ model, protocol: QUICK });
    await serveJob(good, 3);
    assert.equal((await r).stats.median_ms, 3);
    await good.close();
  });

  it('runs a job: sends the model, stops the page when the median is precise, computes the stats', async () => {
    const d = await FakeDevice.connect(wsUrl(s));
    assert.equal(await d.hello('fake1', 'pixel'), 'fake1');
    const listed = s.devices();
    assert.equal(listed.length, 1);
    assert.equal(listed[0]?.description.id, 'browser:fake1');
    assert.equal(listed[0]?.name, 'pixel');
    const result = s.submit({ model, protocol: QUICK });
    const { job, model: bytes } = await d.nextJob();
    assert.deepEqual(new Uint8Array(bytes), model.onnx);
    assert.equal(job.bytes, model.onnx.byteLength);
    assert.deepEqual(job.inputShape, [1, 1, 28, 28]);
    assert.equal(job.maxRuns, 200);
    d.send({ type: 'loaded', job: job.job, backend: 'wasm', loadMs: 12, warmupMs: [1.2], innerRepeats: 4 });
    const times = [1, 1.01, 0.99, 1, 1.02, 0.98, 1, 1.01, 0.99, 1, 1, 1.01];
    d.send({ type: 'runs', job: job.job, times });
    await d.waitFor((m) => m.type === 'stop' && m.job === job.job);
    d.send({ type: 'runs', job: job.job, times: [50, 50, 50] }); // after the stopping point: not counted
    d.send({ type: 'done', job: job.job, reason: 'stopped' });
    const r = await result;
    assert.equal(r.stats.converged, true);
    assert.equal(r.stats.stop, 'converged');
    assert.equal(r.stats.runs, 10); // the tracker stops at minRuns once the CI is tight
    assert.equal(r.stats.median_ms, 1);
    assert.ok(r.stats.p10_ms <= r.stats.median_ms && r.stats.median_ms <= r.stats.p90_ms);
    assert.ok(Math.abs(r.stats.seconds - (10 * 4) / 1000) < 1e-3, `seconds ${r.stats.seconds}`);
    assert.equal(r.innerRepeats, 4);
    assert.equal(r.loadMs, 12);
    assert.equal(r.attempts, 1);
    assert.equal(r.device.id, 'browser:fake1');
    assert.equal(r.device.kind, 'browser');
    assert.equal(r.device.details?.['userAgent'], 'FakeDevice/1.0');
    await d.close();
  });

  it('a cap without precision reports converged=false and the cap', async () => {
    const d = await FakeDevice.connect(wsUrl(s));
    await d.hello('fake-noisy');
    const result = s.submit({ model, protocol: { ...QUICK, maxRuns: 12, relPrecision: 0.001 } });
    const { job } = await d.nextJob();
    d.send({ type: 'loaded', job: job.job, backend: 'wasm', loadMs: 1, warmupMs: [], innerRepeats: 1 });
    d.send({ type: 'runs', job: job.job, times: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] });
    await d.waitFor((m) => m.type === 'stop');
    d.send({ type: 'done', job: job.job, reason: 'maxRuns' });
    const r = await result;
    assert.equal(r.stats.converged, false);
    assert.equal(r.stats.stop, 'max_runs');
    assert.equal(r.stats.runs, 12);
    assert.equal(r.stats.median_ms, 6.5);
    await d.close();
  });

  it('queues jobs: one at a time per device, FIFO, and by selector', async () => {
    const a = await FakeDevice.connect(wsUrl(s));
    await a.hello('qa');
    const b = await FakeDevice.connect(wsUrl(s));
    await b.hello('qb', 'second');
    const j1 = s.submit({ model: { ...model, name: 'one' }, protocol: QUICK, selector: { id: 'qa' } });
    const j2 = s.submit({ model: { ...model, name: 'two' }, protocol: QUICK, selector: { id: 'qa' } });
    const j3 = s.submit({ model: { ...model, name: 'three' }, protocol: QUICK, selector: { name: 'second' } });
    const first = await a.nextJob();
    assert.equal(first.job.name, 'one');
    const onB = await b.nextJob();
    assert.equal(onB.job.name, 'three');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(a.messages.filter((m) => m.type === 'job').length, 1, 'a device gets one job at a time');
    a.send({ type: 'loaded', job: first.job.job, backend: 'wasm', loadMs: 1, warmupMs: [], innerRepeats: 1 });
    a.send({ type: 'runs', job: first.job.job, times: Array(10).fill(2) });
    a.send({ type: 'done', job: first.job.job, reason: 'stopped' });
    assert.equal((await j1).device.id, 'browser:qa');
    await serveJob(a, 2);
    assert.equal((await j2).device.id, 'browser:qa');
    b.send({ type: 'loaded', job: onB.job.job, backend: 'wasm', loadMs: 1, warmupMs: [], innerRepeats: 1 });
    b.send({ type: 'runs', job: onB.job.job, times: Array(10).fill(2) });
    b.send({ type: 'done', job: onB.job.job, reason: 'stopped' });
    assert.equal((await j3).device.id, 'browser:qb');
    await Promise.all([a.close(), b.close()]);
  });

  it('gives the job of a device that disconnects mid-measurement to another device', async () => {
    const first = await FakeDevice.connect(wsUrl(s));
    await first.hello('leaver');
    const result = s.submit({ model, protocol: QUICK });
    const { job } = await first.nextJob();
    first.send({ type: 'loaded', job: job.job, backend: 'wasm', loadMs: 1, warmupMs: [], innerRepeats: 1 });
    first.send({ type: 'runs', job: job.job, times: [100, 100, 100] });
    await new Promise((r) => setTimeout(r, 50));
    first.terminate();
    const second = await FakeDevice.connect(wsUrl(s));
    await second.hello('stayer');
    await serveJob(second, 2);
    const r = await result;
    assert.equal(r.device.id, 'browser:stayer');
    assert.equal(r.attempts, 2);
    assert.equal(r.stats.median_ms, 2, 'runs from the device that left are discarded');
    await second.close();
  });

  it('fails the job with a reason when the device leaves and none is left', async () => {
    const d = await FakeDevice.connect(wsUrl(s));
    await d.hello('alone');
    const result = s.submit({ model: { ...model, name: 'orphan' }, protocol: QUICK });
    await d.nextJob();
    await d.close();
    await assert.rejects(result, (e: Error) => {
      assert.ok(e instanceof JobFailedError);
      assert.match(e.message, /device alone disconnected mid-measurement/);
      assert.match(e.message, /no browser device available within 2 s to measure 'orphan'/);
      return true;
    });
  });

  it('fails a job the device cannot run with the device\'s reason', async () => {
    const d = await FakeDevice.connect(wsUrl(s));
    await d.hello('picky');
    const result = s.submit({ model, protocol: QUICK });
    const { job } = await d.nextJob();
    d.send({ type: 'failed', job: job.job, error: 'unsupported op Foo' });
    await assert.rejects(result, /device picky could not run 'tiny-cnn': unsupported op Foo/);
    // the device is free again
    const next = s.submit({ model, protocol: QUICK });
    await serveJob(d, 1);
    assert.equal((await next).stats.median_ms, 1);
    await d.close();
  });

  it('cancels a running job on abort; the device is busy until it acknowledges', async () => {
    const d = await FakeDevice.connect(wsUrl(s));
    await d.hello('canceller');
    const ac = new AbortController();
    const result = s.submit({ model, protocol: QUICK }, ac.signal);
    const { job } = await d.nextJob();
    ac.abort(new Error('user gave up'));
    await assert.rejects(result, /user gave up/);
    await d.waitFor((m) => m.type === 'cancel' && m.job === job.job);
    const next = s.submit({ model, protocol: QUICK });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(d.messages.filter((m) => m.type === 'job').length, 1, 'no new job before the cancel is acknowledged');
    d.send({ type: 'runs', job: job.job, times: [1] }); // stale: ignored
    d.send({ type: 'cancelled', job: job.job });
    await serveJob(d, 4);
    assert.equal((await next).stats.median_ms, 4);
    await d.close();
  });

  it('times out waiting for a device with a reason naming the selector and the URL', async () => {
    await assert.rejects(s.waitForDevice({ id: 'nobody' }, 200), /no browser device with id 'nobody' joined within 0 s \(open http:\/\/127\.0\.0\.1:\d+\/\?token=/);
    await assert.rejects(s.submit({ model, protocol: QUICK, selector: { id: 'nobody' } }), /no browser device with id 'nobody' available within 2 s/);
  });

  it('rejects bad jobs up front', async () => {
    await assert.rejects(s.submit({ model: { ...model, inputShape: [1, 1, 0, 28] } }), /inputShape/);
    await assert.rejects(s.submit({ model, protocol: { maxRuns: 5, minRuns: 10 } }), /maxRuns/);
  });
});

describe('controllers (RemoteDeviceServer over /control)', () => {
  let s: DeviceServer;
  before(async () => {
    s = await DeviceServer.start({ queueTimeoutMs: 1500 });
  });
  after(async () => {
    await s.close();
  });

  it('maps the control URL to the control socket', () => {
    assert.equal(controlUrl('http://10.0.0.2:8765/control?token=abc_DEF-123456789'), 'ws://10.0.0.2:8765/control?token=abc_DEF-123456789');
    assert.equal(controlUrl('https://lab.example:443/control?token=abc_DEF-123456789'), 'wss://lab.example/control?token=abc_DEF-123456789');
    assert.equal(s.controlUrl, `http://127.0.0.1:${s.port}/control?token=${s.controlToken}`);
  });

  it('submits jobs to a running server, waits for devices, cancels on abort', async () => {
    await assert.rejects(RemoteDeviceServer.connect(s.controlUrl.replace(/token=.*/, 'token=wrong-token-000000')), /refused the connection \(HTTP 403: bad or missing control secret\)/);
    const remote = await RemoteDeviceServer.connect(s.controlUrl);
    assert.deepEqual(remote.limits, s.limits);
    const waiting = remote.waitForDevice({ name: 'lab-phone' }, 5000);
    const d = await FakeDevice.connect(wsUrl(s));
    await d.hello('remote-fake', 'lab-phone');
    assert.equal((await waiting).id, 'remote-fake');
    const result = remote.submit({ model, protocol: QUICK, selector: { id: 'remote-fake' } });
    const { model: bytes, job } = await (async () => {
      const j = await d.nextJob();
      return { model: j.model, job: j.job };
    })();
    assert.deepEqual(new Uint8Array(bytes), model.onnx);
    assert.equal(job.name, 'tiny-cnn');
    d.send({ type: 'loaded', job: job.job, backend: 'wasm', loadMs: 1, warmupMs: [], innerRepeats: 1 });
    d.send({ type: 'runs', job: job.job, times: Array(10).fill(1.5) });
    d.send({ type: 'done', job: job.job, reason: 'stopped' });
    const r = await result;
    assert.equal(r.stats.median_ms, 1.5);
    assert.equal(r.device.id, 'browser:remote-fake');
    // abort from the controller side reaches the device as a cancel
    const ac = new AbortController();
    const aborted = remote.submit({ model, protocol: QUICK }, ac.signal);
    const second = await d.nextJob();
    ac.abort(new Error('stop that'));
    await assert.rejects(aborted, /stop that/);
    await d.waitFor((m) => m.type === 'cancel' && m.job === second.job.job);
    d.send({ type: 'cancelled', job: second.job.job });
    // errors travel back with their reason
    await assert.rejects(remote.submit({ model, protocol: { minRuns: 10, maxRuns: 5 } }), /maxRuns/);
    // a controller that goes away takes its jobs with it
    const third = remote.submit({ model, protocol: QUICK });
    const j3 = await d.nextJob();
    await remote.close();
    await assert.rejects(third, /connection closed/);
    await d.waitFor((m) => m.type === 'cancel' && m.job === j3.job.job);
    await d.close();
  });

  it('closes a controller that sends a malformed message', async () => {
    const c = await FakeDevice.connect(controlWsUrl(s));
    c.send({ type: 'measure', id: 1, name: 'x', inputShape: [1, 2, 3], bytes: 10 });
    const closed = await c.closed;
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /malformed message: inputShape/);
  });
});

describe('DeviceServer shutdown', () => {
  it('rejects queued jobs and closes devices when closed', async () => {
    const s = await DeviceServer.start({ queueTimeoutMs: 60_000 });
    const d = await FakeDevice.connect(wsUrl(s));
    await d.hello('bye');
    const running = s.submit({ model, protocol: QUICK });
    await d.nextJob();
    const queued = s.submit({ model, protocol: QUICK });
    const checks = [assert.rejects(running, /device server closed/), assert.rejects(queued, /device server closed/)];
    await s.close();
    await Promise.all(checks);
    assert.equal((await d.closed).code, 1001);
  });
});
