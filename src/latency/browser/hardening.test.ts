/**
 * The device farm's defences, over real ws connections on 127.0.0.1: separate secrets for devices
 * and controllers, Origin checks, connection / frame / queue caps (and memory released when jobs end
 * or controllers leave), plausibility of device timings (flagging), the device-frame parser under
 * random input, and one-line errors for malformed or unreachable controller URLs.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, it } from 'node:test';
import { createBrowserDevice } from './index.js';
import { BrowserDevice } from './device.js';
import { DeviceFrameError, parseDeviceFrame } from './messages.js';
import { DEFAULT_TIMING_BOUNDS, implausibleClock, implausibleTime, inconsistentSamples, resolveTimingBounds } from './plausibility.js';
import { BrowserDeviceUrlError, controlUrl, RemoteDeviceServer } from './remote.js';
import { DeviceServer, JobFailedError, LimitError } from './server.js';
import { controlWsUrl, FAKE_DESCRIPTION, FakeDevice, tinyModel, wsUrl } from './fakes.js';

const model = tinyModel();
const QUICK = { warmupRuns: 1, warmupSeconds: 0, minRuns: 10, minSeconds: 0, maxRuns: 200, relPrecision: 0.05, maxSeconds: 30 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Plays a well-behaved page for one job: loaded, runs of ~`ms` until stop, done. */
async function serveJob(d: FakeDevice, ms = 2): Promise<number> {
  const { job } = await d.nextJob();
  d.send({ type: 'loaded', job: job.job, backend: 'wasm', loadMs: 5, warmupMs: [ms], innerRepeats: 1 });
  for (let i = 0; i < 20 && !d.messages.some((m) => m.type === 'stop' && m.job === job.job); i++) {
    d.send({ type: 'runs', job: job.job, times: Array.from({ length: 8 }, (_, k) => ms * (1 + 0.01 * ((k % 3) - 1))) });
    await sleep(10);
  }
  d.send({ type: 'done', job: job.job, reason: 'stopped' });
  return job.job;
}

function blob(bytes: number, name = 'blob'): { name: string; onnx: Uint8Array; inputShape: [number, number, number, number] } {
  return { name, onnx: new Uint8Array(bytes).fill(7), inputShape: [1, 1, 28, 28] };
}

describe('secrets: the join token and the control secret open different doors', () => {
  let s: DeviceServer;
  before(async () => {
    s = await DeviceServer.start({ queueTimeoutMs: 2000 });
  });
  after(async () => {
    await s.close();
  });

  it('are distinct, validated, and each opens only its own endpoints', async () => {
    assert.notEqual(s.token, s.controlToken);
    assert.match(s.controlToken, /^[A-Za-z0-9_-]{32}$/);
    await assert.rejects(DeviceServer.start({ token: 'same-secret-0123456789', controlToken: 'same-secret-0123456789' }), /must differ/);
    await assert.rejects(DeviceServer.start({ controlToken: 'short' }), /controlToken must be 16-128/);
    // the join token does not open /control or /status
    await assert.rejects(FakeDevice.connect(controlWsUrl(s, s.token)), /HTTP 403/);
    assert.equal((await fetch(`http://127.0.0.1:${s.port}/status?token=${s.token}`)).status, 403);
    // the control secret does not open the page or /ws
    await assert.rejects(FakeDevice.connect(wsUrl(s, s.controlToken)), /HTTP 403/);
    assert.equal((await fetch(`http://127.0.0.1:${s.port}/?token=${s.controlToken}`)).status, 403);
    // and each works where it belongs
    (await FakeDevice.connect(wsUrl(s))).terminate();
    const c = await FakeDevice.connect(controlWsUrl(s));
    const ready = await c.waitFor((m) => (m as { type: string }).type === 'ready');
    assert.deepEqual((ready as unknown as { limits: unknown }).limits, s.limits);
    await c.close();
    assert.equal((await fetch(`http://127.0.0.1:${s.port}/status?token=${s.controlToken}`)).status, 200);
  });

  it('never puts the control secret on the join page or in the page script', async () => {
    const page = await (await fetch(s.url)).text();
    const script = await (await fetch(`http://127.0.0.1:${s.port}/device.js`)).text();
    assert.ok(!page.includes(s.controlToken) && !script.includes(s.controlToken));
    assert.ok(s.urls().every((u) => !u.includes(s.controlToken)));
    assert.ok(s.controlUrl.includes(s.controlToken) && !s.controlUrl.includes(s.token));
  });
});

describe('Origin check on WebSocket upgrades', () => {
  let s: DeviceServer;
  before(async () => {
    s = await DeviceServer.start({ allowedOrigins: ['https://proxy.example'] });
  });
  after(async () => {
    await s.close();
  });

  it('allows no Origin and the server own origin; refuses foreign or bogus origins with 403', async () => {
    const own = `http://127.0.0.1:${s.port}`;
    (await FakeDevice.connect(wsUrl(s))).terminate();
    (await FakeDevice.connect(wsUrl(s), { origin: own })).terminate();
    (await FakeDevice.connect(wsUrl(s), { origin: 'https://proxy.example' })).terminate();
    for (const origin of ['http://evil.example', `http://127.0.0.1:${s.port + 1}`, `http://localhost:${s.port}`, 'null', 'file://']) {
      await assert.rejects(FakeDevice.connect(wsUrl(s), { origin }), /HTTP 403/, origin);
      await assert.rejects(FakeDevice.connect(controlWsUrl(s), { origin }), /HTTP 403/, origin);
    }
    assert.equal(s.devices().length, 0);
  });
});

describe('connection caps', () => {
  it('refuses devices and controllers beyond their caps with 503, and takes new ones once some leave', async () => {
    const refused: string[] = [];
    const s = await DeviceServer.start({ maxDevices: 2, maxControllers: 1, log: (l) => refused.push(l) });
    try {
      const a = await FakeDevice.connect(wsUrl(s));
      const b = await FakeDevice.connect(wsUrl(s)); // not even joined yet: still counts
      await assert.rejects(FakeDevice.connect(wsUrl(s)), /HTTP 503/);
      assert.ok(refused.some((l) => /too many devices connected \(maxDevices 2\)/.test(l)));
      await a.close();
      await until(() => s.status().devices.length === 0 && (s as unknown as { conns: Set<unknown> }).conns.size === 1, 'the device to be gone');
      const c = await FakeDevice.connect(wsUrl(s));
      await c.hello('third');
      const r1 = await RemoteDeviceServer.connect(s.controlUrl);
      await assert.rejects(RemoteDeviceServer.connect(s.controlUrl), (e: Error) => e instanceof BrowserDeviceUrlError && /HTTP 503: too many controllers connected \(maxControllers 1\)/.test(e.message));
      await r1.close();
      await until(() => s.status().controllers === 0, 'the controller to be gone');
      const r2 = await RemoteDeviceServer.connect(s.controlUrl);
      assert.equal((await r2.status()).controllers, 1);
      await r2.close();
      b.terminate();
      await c.close();
    } finally {
      await s.close();
    }
  });

  it('caps TCP connections (page loads included)', async () => {
    const s = await DeviceServer.start({ maxConnections: 3 });
    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const sock = net.connect(s.port, '127.0.0.1');
        await new Promise((r) => sock.once('connect', r));
        sockets.push(sock);
      }
      await sleep(50);
      const probe = () =>
        new Promise<string>((resolve) => {
          const sock = net.connect(s.port, '127.0.0.1');
          let data = '';
          sock.on('data', (d) => (data += d.toString()));
          sock.on('error', () => {});
          sock.on('close', () => resolve(data));
          sock.on('connect', () => sock.write('GET /favicon.ico HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
        });
      assert.equal(await probe(), '', 'dropped without an answer');
      sockets.pop()?.destroy();
      await sleep(50);
      assert.match(await probe(), /^HTTP\/1\.1 204/);
    } finally {
      for (const sock of sockets) sock.destroy();
      await s.close();
    }
  });
});

describe('frame caps', () => {
  it('cuts off a device frame over maxDeviceFrameBytes (1009) and a control frame over maxModelBytes', async () => {
    const s = await DeviceServer.start({ maxDeviceFrameBytes: 64 * 1024, maxModelBytes: 2 * 1024 * 1024 });
    try {
      const d = await FakeDevice.connect(wsUrl(s));
      d.send('x'.repeat(100 * 1024));
      assert.equal((await d.closed).code, 1009);
      const c = await FakeDevice.connect(controlWsUrl(s));
      c.ws.send(Buffer.alloc(3 * 1024 * 1024), { binary: true });
      assert.equal((await c.closed).code, 1009);
    } finally {
      await s.close();
    }
  });
});

describe('job caps: refused with a clear error, not accepted and held', () => {
  let s: DeviceServer;
  before(async () => {
    s = await DeviceServer.start({ queueTimeoutMs: 60_000, maxQueuedJobs: 3, maxQueuedBytes: 1024 * 1024, maxModelBytes: 600 * 1024 });
  });
  after(async () => {
    await s.close();
  });

  it('in process: a job beyond maxQueuedJobs or maxQueuedBytes is refused', async () => {
    const ac = new AbortController();
    const held = [s.submit({ model: blob(1000, 'a') }, ac.signal), s.submit({ model: blob(1000, 'b') }, ac.signal), s.submit({ model: blob(1000, 'c') }, ac.signal)];
    const caught = held.map((p) => p.catch((e: Error) => e));
    await assert.rejects(s.submit({ model: blob(1000, 'd') }), (e: Error) => e instanceof LimitError && /'d' refused: 3 jobs already queued or running \(maxQueuedJobs 3\)/.test(e.message));
    assert.deepEqual(s.status().held, { jobs: 3, bytes: 3000 });
    ac.abort(new Error('done'));
    await Promise.all(caught);
    assert.deepEqual(s.status().held, { jobs: 0, bytes: 0 });
    const ac2 = new AbortController();
    const big = s.submit({ model: blob(700 * 1024, 'big') }, ac2.signal).catch((e: Error) => e);
    await assert.rejects(s.submit({ model: blob(400 * 1024, 'more') }), /model of 0\.4 MiB on top of 0\.7 MiB held exceeds maxQueuedBytes 1\.0 MiB/);
    ac2.abort(new Error('done'));
    assert.ok((await big) instanceof Error);
    assert.deepEqual(s.status().held, { jobs: 0, bytes: 0 });
  });

  it('over /control: size checked before sending, caps refused with code limit, the refused model frame is discarded', async () => {
    const remote = await RemoteDeviceServer.connect(s.controlUrl);
    try {
      assert.equal(remote.limits.maxModelBytes, 600 * 1024);
      await assert.rejects(remote.submit({ model: blob(700 * 1024, 'huge') }), (e: Error) => e instanceof LimitError && /exceeds the device server's maxModelBytes 0\.6 MiB/.test(e.message));
      // an interleaved job sends both models in one frame: together they must fit
      await assert.rejects(remote.submit({ model: blob(400 * 1024, 'pair'), reference: blob(400 * 1024, 'ref') }), (e: Error) => e instanceof LimitError && /'pair' refused: model and reference of 0\.8 MiB exceed the device server's maxModelBytes 0\.6 MiB/.test(e.message));
      const ac = new AbortController();
      const jobs = [remote.submit({ model: blob(500 * 1024, 'one') }, ac.signal), remote.submit({ model: blob(500 * 1024, 'two') }, ac.signal)].map((p) => p.catch((e: Error) => e));
      await assert.rejects(remote.submit({ model: blob(500 * 1024, 'three') }), (e: Error) => e instanceof LimitError && /'three' refused: .*exceeds maxQueuedBytes/.test(e.message));
      // the connection is still in sync after the discarded frame
      const st = await remote.status();
      assert.deepEqual(st.held, { jobs: 2, bytes: 1000 * 1024 });
      ac.abort(new Error('enough'));
      await Promise.all(jobs);
      await until(() => s.status().held.jobs === 0, 'jobs released after cancel');
    } finally {
      await remote.close();
    }
    // a raw controller announcing more than maxModelBytes: refused by id, connection kept
    const raw = await FakeDevice.connect(controlWsUrl(s));
    raw.send({ type: 'measure', id: 9, name: 'x', inputShape: [1, 1, 28, 28], bytes: 700 * 1024 });
    const err = (await raw.waitFor((m) => (m as { type: string }).type === 'error')) as unknown as { id: number; code: string; message: string };
    assert.equal(err.id, 9);
    assert.equal(err.code, 'limit');
    assert.match(err.message, /exceeds maxModelBytes/);
    raw.ws.send(Buffer.alloc(700 * 1024), { binary: true });
    raw.send({ type: 'status', id: 10 });
    await raw.waitFor((m) => (m as { type: string; id?: number }).type === 'status');
    // the same for a model and its reference that fit one by one but not together
    raw.send({ type: 'measure', id: 12, name: 'y', inputShape: [1, 1, 28, 28], bytes: 400 * 1024, reference: { name: 'r', inputShape: [1, 1, 28, 28], bytes: 400 * 1024 } });
    const both = (await raw.waitFor((m) => (m as { type: string; id?: number }).type === 'error' && (m as { id?: number }).id === 12)) as unknown as { code: string; message: string };
    assert.deepEqual([both.code, both.message], ['limit', "'y' refused: model and reference of 0.8 MiB exceed maxModelBytes 0.6 MiB"]);
    raw.ws.send(Buffer.alloc(800 * 1024), { binary: true });
    raw.send({ type: 'status', id: 13 });
    await raw.waitFor((m) => (m as { type: string; id?: number }).type === 'status' && (m as { id?: number }).id === 13);
    // a protocol that would make the server allocate run buffers beyond reason is malformed
    raw.send({ type: 'measure', id: 11, name: 'x', inputShape: [1, 1, 28, 28], protocol: { maxRuns: 1e9 }, bytes: 10 });
    assert.match((await raw.closed).reason, /malformed message: protocol\.maxRuns/);
  });
});

describe('memory: queued jobs are released when their controller disconnects or they finish', () => {
  it('drops a disconnected controller\'s queued jobs and frees their bytes', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const s = await DeviceServer.start({ queueTimeoutMs: 60_000 });
    try {
      const MB = 1024 * 1024;
      const settle = async () => {
        for (let i = 0; i < 3; i++) {
          gc();
          await sleep(20);
        }
        return process.memoryUsage().arrayBuffers;
      };
      const base = await settle();
      const remote = await RemoteDeviceServer.connect(s.controlUrl);
      const onnx = new Uint8Array(6 * MB).fill(1);
      const jobs = Array.from({ length: 8 }, (_, i) => remote.submit({ model: { name: `m${i}`, onnx, inputShape: [1, 1, 28, 28] } }).catch((e: Error) => e));
      await until(() => s.status().held.jobs === 8, '8 jobs held');
      const full = await settle();
      assert.ok(full - base > 40 * MB, `held ${((full - base) / MB).toFixed(1)} MiB`);
      await remote.close();
      for (const e of await Promise.all(jobs)) assert.match((e as Error).message, /connection closed/);
      await until(() => s.status().held.jobs === 0 && s.status().queued === 0, 'queue emptied');
      assert.deepEqual(s.status().held, { jobs: 0, bytes: 0 });
      const released = await settle();
      assert.ok(released - base < 12 * MB, `still ${((released - base) / MB).toFixed(1)} MiB after the controller left`);
    } finally {
      await s.close();
    }
  });

  it('releases a finished job', async () => {
    const s = await DeviceServer.start();
    try {
      const d = await FakeDevice.connect(wsUrl(s));
      await d.hello('finisher');
      const r = s.submit({ model, protocol: QUICK });
      assert.deepEqual(s.status().held, { jobs: 1, bytes: model.onnx.byteLength }, 'held while running');
      await serveJob(d, 2);
      await r;
      assert.deepEqual(s.status().held, { jobs: 0, bytes: 0 });
      await d.close();
    } finally {
      await s.close();
    }
  });
});

describe('plausibility of device timings', () => {
  it('checks single times, the page clock and the spread (pure)', () => {
    const b = DEFAULT_TIMING_BOUNDS;
    assert.equal(implausibleTime(1.5, b), undefined);
    assert.match(implausibleTime(Number.NaN, b) ?? '', /not a finite number/);
    assert.match(implausibleTime(Infinity, b) ?? '', /not a finite number/);
    assert.match(implausibleTime(0, b) ?? '', /not positive/);
    assert.match(implausibleTime(-1, b) ?? '', /not positive/);
    assert.match(implausibleTime(1e-300, b) ?? '', /below the physical floor of 0\.001 ms/);
    assert.match(implausibleTime(1e9, b) ?? '', /above the ceiling/);
    assert.equal(implausibleClock(900, 1000), undefined);
    assert.match(implausibleClock(1e6, 500) ?? '', /add up to 1000000 ms but only 500 ms/);
    assert.equal(inconsistentSamples([1, 1.1, 0.9, 3, 1], b), undefined);
    assert.match(inconsistentSamples([1, 1, 1, 1, 0.01], b) ?? '', /fastest 0\.01 ms is more than 20x below the median 1 ms/);
    assert.match(inconsistentSamples([1, 1, 1, 1, 5000], b) ?? '', /slowest 5000 ms/);
    assert.throws(() => resolveTimingBounds({ floorMs: 0 }), /floorMs must be a positive number/);
    assert.throws(() => resolveTimingBounds({ ceilingMs: 0.0001 }), /must exceed floorMs/);
  });

  it('a device reporting 1e-300 ms: the job fails with the reason, the device is flagged and gets no more jobs', async () => {
    const flags: unknown[] = [];
    const s = await DeviceServer.start({ queueTimeoutMs: 800 });
    s.on('device-flagged', (f) => flags.push(f));
    try {
      const d = await FakeDevice.connect(wsUrl(s));
      await d.hello('liar');
      const r = s.submit({ model, protocol: QUICK });
      const { job } = await d.nextJob();
      d.send({ type: 'loaded', job: job.job, backend: 'wasm', loadMs: 1, warmupMs: [], innerRepeats: 1 });
      d.send({ type: 'runs', job: job.job, times: [1e-300, 1e-300] });
      await assert.rejects(r, (e: Error) => e instanceof JobFailedError && /device liar reported implausible timings for 'tiny-cnn' \(run time 1e-300 ms is below the physical floor of 0\.001 ms\); device flagged; no other device to retry on/.test(e.message));
      await d.waitFor((m) => m.type === 'cancel' && m.job === job.job);
      d.send({ type: 'cancelled', job: job.job });
      assert.deepEqual(flags, [{ id: 'liar', reason: 'implausible timings: run time 1e-300 ms is below the physical floor of 0.001 ms' }]);
      const status = (await (await fetch(`http://127.0.0.1:${s.port}/status?token=${s.controlToken}`)).json()) as { devices: Array<{ id: string; flagged?: string }>; flagged: Record<string, string> };
      assert.match(status.devices[0]?.flagged ?? '', /below the physical floor/);
      assert.match(status.flagged['liar'] ?? '', /below the physical floor/);
      // no more jobs for it, also after reconnecting under the same id
      await assert.rejects(s.submit({ model, protocol: QUICK }), /no browser device available within 1 s .*; flagged, no jobs: liar \(implausible timings/);
      await d.close();
      const again = await FakeDevice.connect(wsUrl(s));
      await again.hello('liar');
      await assert.rejects(s.waitForDevice({}, 200), /flagged, no jobs: liar/);
      await assert.rejects(s.submit({ model, protocol: QUICK }), /flagged/);
      assert.equal(again.messages.filter((m) => m.type === 'job').length, 0);
      await again.close();
    } finally {
      await s.close();
    }
  });

  it('retries on another device; inconsistent samples and an impossible page clock are caught too', async () => {
    const s = await DeviceServer.start({ queueTimeoutMs: 2000 });
    try {
      const bad = await FakeDevice.connect(wsUrl(s));
      await bad.hello('inconsistent');
      const r = s.submit({ model, protocol: { ...QUICK, relPrecision: 0.9 }, selector: {} });
      const { job } = await bad.nextJob();
      const good = await FakeDevice.connect(wsUrl(s));
      await good.hello('honest');
      bad.send({ type: 'loaded', job: job.job, backend: 'wasm', loadMs: 1, warmupMs: [], innerRepeats: 1 });
      bad.send({ type: 'runs', job: job.job, times: [2, 2, 2, 2, 2, 2, 2, 2, 2, 0.01] });
      bad.send({ type: 'done', job: job.job, reason: 'stopped' });
      await serveJob(good, 2);
      const res = await r;
      assert.equal(res.device.id, 'browser:honest');
      assert.equal(res.attempts, 2);
      assert.match(s.devices().find((d) => d.id === 'inconsistent')?.flagged ?? '', /inconsistent samples: fastest 0\.01 ms/);
      // the page clock: 50 s runs reported right after the job was sent
      const clock = await FakeDevice.connect(wsUrl(s));
      await clock.hello('fast-clock');
      const r2 = s.submit({ model, protocol: QUICK, selector: { id: 'fast-clock' } });
      const j2 = await clock.nextJob();
      clock.send({ type: 'loaded', job: j2.job.job, backend: 'wasm', loadMs: 1, warmupMs: [], innerRepeats: 1 });
      clock.send({ type: 'runs', job: j2.job.job, times: Array(10).fill(50_000) });
      await assert.rejects(r2, /timed runs add up to \d+ ms but only \d+ ms passed since the job was sent/);
      // a run time JSON cannot carry as a number (1e999 parses to Infinity): malformed, closed, flagged
      const inf = await FakeDevice.connect(wsUrl(s));
      await inf.hello('infinite');
      const r3 = s.submit({ model, protocol: QUICK, selector: { id: 'infinite' } });
      const j3 = await inf.nextJob();
      inf.send({ type: 'loaded', job: j3.job.job, backend: 'wasm', loadMs: 1, warmupMs: [], innerRepeats: 1 });
      inf.send(`{"type":"runs","job":${j3.job.job},"times":[1e999]}`);
      assert.equal((await inf.closed).code, 1008);
      await assert.rejects(r3, /device infinite disconnected mid-measurement/);
      assert.match(s.status().flagged['infinite'] ?? '', /malformed message: times\.0/);
      await Promise.all([bad.close(), good.close(), clock.close()]);
    } finally {
      await s.close();
    }
  });

  it('the controller sees the reason and the flag', async () => {
    const s = await DeviceServer.start({ queueTimeoutMs: 2000 });
    const remote = await RemoteDeviceServer.connect(s.controlUrl);
    try {
      const d = await FakeDevice.connect(wsUrl(s));
      await d.hello('remote-liar');
      const r = remote.submit({ model, protocol: QUICK });
      const { job } = await d.nextJob();
      d.send({ type: 'loaded', job: job.job, backend: 'wasm', loadMs: 1, warmupMs: [], innerRepeats: 1 });
      d.send({ type: 'runs', job: job.job, times: [-0] });
      await assert.rejects(r, /remote-liar reported implausible timings .*not positive.*device flagged/);
      const st = await remote.status();
      assert.match(st.devices.find((x) => x.id === 'remote-liar')?.flagged ?? '', /not positive/);
      await d.close();
    } finally {
      await remote.close();
      await s.close();
    }
  });
});

describe('parseDeviceFrame (the fuzz entry point)', () => {
  const valid = [
    { type: 'hello', v: 1, clientId: 'x1', name: 'p 7', description: FAKE_DESCRIPTION },
    { type: 'loaded', job: 3, backend: 'wasm', loadMs: 1.5, warmupMs: [2, 3], innerRepeats: 4 },
    { type: 'runs', job: 3, times: [1.25, 1.5] },
    { type: 'runs', job: 3, times: [0.01], innerRepeats: 400 },
    { type: 'pair', job: 3, model: [1], reference: [2], innerRepeats: 2, referenceRepeats: 1 },
    { type: 'done', job: 3, reason: 'stopped' },
    { type: 'failed', job: 3, error: 'nope' },
    { type: 'cancelled', job: 3 },
  ];

  it('accepts strings, Buffers, Uint8Arrays and ArrayBuffers; refuses the rest with DeviceFrameError', () => {
    for (const m of valid) {
      const text = JSON.stringify(m);
      assert.deepEqual(parseDeviceFrame(text), m);
      const buf = Buffer.from(text);
      assert.deepEqual(parseDeviceFrame(buf), m);
      assert.deepEqual(parseDeviceFrame(new Uint8Array(buf)), m);
      assert.deepEqual(parseDeviceFrame(new Uint8Array(buf).buffer), m);
    }
    const bad: Array<[unknown, RegExp]> = [
      [42, /not text/],
      [null, /not text/],
      ['', /not JSON/],
      ['x'.repeat(300 * 1024), /message over 262144 bytes/],
      ['é'.repeat(140 * 1024), /message over 262144 bytes/],
      ['{"type":"runs","job":1,"times":[1e999]}', /malformed message: times\.0/],
      ['{"type":"runs","job":1,"times":[1],"innerRepeats":0}', /malformed message: innerRepeats/],
      ['{"type":"pair","job":1,"model":[1],"reference":[1],"referenceRepeats":1.5}', /malformed message: referenceRepeats/],
      ['{"type":"hello","__proto__":{"v":1}}', /malformed/],
      ['[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]', /^malformed message: message: .*expected object/],
      [`${'['.repeat(100_000)}${']'.repeat(100_000)}`, /malformed|not JSON/],
    ];
    for (const [frame, re] of bad) assert.throws(() => parseDeviceFrame(frame as string), (e: Error) => e instanceof DeviceFrameError && re.test(e.message), String(frame).slice(0, 40));
  });

  it('never throws anything but DeviceFrameError on random and mutated frames (bounded)', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const pieces = ['{', '}', '[', ']', '"', ':', ',', 'null', 'true', '1e999', '-0', '"type"', '"runs"', '"__proto__"', '\\u0000', '\uD800', '9'.repeat(400)];
    let accepted = 0;
    for (let i = 0; i < 4000; i++) {
      const base = JSON.stringify(valid[i % valid.length]);
      let frame: string | Uint8Array;
      const kind = i % 4;
      if (kind === 0) {
        frame = Uint8Array.from({ length: Math.floor(rnd() * 200) }, () => Math.floor(rnd() * 256));
      } else {
        const chars = base.split('');
        for (let k = 0, n = 1 + Math.floor(rnd() * 4); k < n; k++) {
          const at = Math.floor(rnd() * chars.length);
          if (kind === 1) chars.splice(at, 1);
          else if (kind === 2) chars.splice(at, 0, pieces[Math.floor(rnd() * pieces.length)] as string);
          else chars[at] = String.fromCharCode(Math.floor(rnd() * 128));
        }
        frame = chars.join('');
      }
      try {
        parseDeviceFrame(frame);
        accepted++;
      } catch (e) {
        assert.ok(e instanceof DeviceFrameError, `${(e as Error).name}: ${(e as Error).message} for ${String(frame).slice(0, 80)}`);
      }
    }
    assert.ok(accepted < 4000);
  });
});

describe('controller URL errors: one line naming the problem', () => {
  it('malformed: not a URL, bad scheme, the join URL, no token; the secret is not echoed', () => {
    const cases: Array<[string, RegExp]> = [
      ['nope', /^browser device URL 'nope' is not a URL \(expected the control URL/],
      ['ftp://127.0.0.1:8765/control?token=abcdefghijklmnop', /has scheme ftp: /],
      ['localhost:8765/control?token=abcdefghijklmnop', /has scheme localhost: /],
      ['http://127.0.0.1:8765/?token=abcdefghijklmnop', /is the devices' join URL; controllers need the control URL/],
      ['http://127.0.0.1:8765/control', /has no token/],
      ['http://127.0.0.1:8765/control?token=', /has no token/],
      ['http://127.0.0.1:8765/control?token=a%20b', /the token is not a control secret/],
      ['http://127.0.0.1:8765/other?token=abcdefghijklmnop', /has path \/other, not \/control/],
    ];
    for (const [url, re] of cases) {
      assert.throws(
        () => controlUrl(url),
        (e: Error) => e instanceof BrowserDeviceUrlError && e.reason === 'malformed' && re.test(e.message) && !e.message.includes('\n') && !e.message.includes('abcdefghijklmnop'),
        url,
      );
    }
    assert.throws(() => createBrowserDevice({ url: 'http://127.0.0.1:8765/?token=abcdefghijklmnop' }), BrowserDeviceUrlError);
  });

  it('unreachable or refused: BrowserDeviceUrlError from connect and from the device', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const url = `http://127.0.0.1:${port}/control?token=abcdefghijklmnop`;
    await assert.rejects(RemoteDeviceServer.connect(url), (e: Error) => e instanceof BrowserDeviceUrlError && e.reason === 'unreachable' && /^browser device server at 127\.0\.0\.1:\d+ is unreachable \(connect ECONNREFUSED/.test(e.message) && !e.message.includes('\n'));
    const device = new BrowserDevice({ url });
    await assert.rejects(device.measure(model), BrowserDeviceUrlError);
    await device.close();
    // a wrong secret
    const s = await DeviceServer.start();
    try {
      await assert.rejects(RemoteDeviceServer.connect(s.controlUrl.replace(/token=.*/, 'token=wrong-secret-0000000')), (e: Error) => e instanceof BrowserDeviceUrlError && e.reason === 'refused' && /HTTP 403: bad or missing control secret/.test(e.message));
    } finally {
      await s.close();
    }
  });
});
