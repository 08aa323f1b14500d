/**
 * The job queue without sockets: devices are fake ports that record what the queue sends them, and
 * the tests play the pages' messages. Timeouts are tens of milliseconds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LatencyModel } from '../device.js';
import { JobFailedError, LimitError } from './farm.js';
import { FAKE_DESCRIPTION } from './fakes.js';
import { JobQueue, type DevicePort, type JobQueueOptions } from './job-queue.js';
import type { Backend, ServerMessage } from './messages.js';
import { DEFAULT_TIMING_BOUNDS } from './plausibility.js';

// the median, so that a dozen runs can settle a job (the 10th percentile needs 36)
const QUICK = { warmupRuns: 1, warmupSeconds: 0, minRuns: 10, minSeconds: 0, maxRuns: 200, relPrecision: 0.05, maxSeconds: 30, quantile: 0.5 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type JobSent = Extract<ServerMessage, { type: 'job' }>;

function model(name = 'm', bytes = 100): LatencyModel {
  return { name, onnx: new Uint8Array(bytes).fill(3), inputShape: [1, 1, 28, 28] };
}

function makeQueue(o: Partial<JobQueueOptions> = {}): JobQueue {
  return new JobQueue({
    queueTimeoutMs: 60_000,
    jobGraceMs: 60_000,
    maxAttempts: 3,
    minSampleMs: 2,
    maxQueuedJobs: 64,
    maxQueuedBytes: 1 << 30,
    timing: DEFAULT_TIMING_BOUNDS,
    joinUrl: () => 'http://127.0.0.1:1/?token=t',
    ...o,
  });
}

/** A device as the queue sees it: records what it was sent; disconnecting removes it, like a real connection. */
class FakePort implements DevicePort {
  readonly sent: ServerMessage[] = [];
  readonly models: Uint8Array[] = [];
  disconnected?: { code: number; reason: string };

  constructor(
    private readonly queue: JobQueue,
    readonly id: string,
  ) {}

  send(message: ServerMessage): void {
    this.sent.push(message);
  }

  sendModel(onnx: Uint8Array): void {
    this.models.push(onnx.slice());
  }

  disconnect(code: number, reason: string): void {
    this.disconnected = { code, reason };
    this.queue.removeDevice(this.id, reason);
  }

  jobs(): JobSent[] {
    return this.sent.filter((m): m is JobSent => m.type === 'job');
  }

  lastJob(): JobSent {
    const j = this.jobs().at(-1);
    assert.ok(j, `device ${this.id} got no job`);
    return j;
  }

  got(type: ServerMessage['type'], job: number): boolean {
    return this.sent.some((m) => m.type === type && 'job' in m && m.job === job);
  }
}

function join(queue: JobQueue, id: string, o: { name?: string; backends?: Backend[] } = {}): FakePort {
  const port = new FakePort(queue, id);
  const page = { ...FAKE_DESCRIPTION, backends: o.backends ?? ['wasm'] };
  queue.addDevice(
    { id, ...(o.name ? { name: o.name } : {}), remoteAddress: '127.0.0.1', connectedAt: new Date(0).toISOString(), page, description: { id: `browser:${id}`, kind: 'browser', cpu: 'test', runtime: 'onnxruntime-web', runtimeVersion: '0', threads: 1 } },
    port,
  );
  return port;
}

/** Plays a well-behaved page for the device's last job: loaded, `runs` runs of `ms`, done. */
function serve(queue: JobQueue, port: FakePort, ms = 2, runs = 10): number {
  const job = port.lastJob().job;
  queue.onDeviceMessage(port.id, { type: 'loaded', job, backend: 'wasm', loadMs: 5, warmupMs: [], innerRepeats: 1 });
  queue.onDeviceMessage(port.id, { type: 'runs', job, times: Array(runs).fill(ms) });
  queue.onDeviceMessage(port.id, { type: 'done', job, reason: 'stopped' });
  return job;
}

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('JobQueue: assignment', () => {
  it('sends a job to an idle device: the job message from the protocol, then the model', async () => {
    const q = makeQueue({ minSampleMs: 3 });
    const events: string[] = [];
    for (const e of ['device-joined', 'job-started', 'job-done']) q.on(e, () => events.push(e));
    const d = join(q, 'a');
    const result = q.submit({ model: model('tiny', 40), protocol: { ...QUICK, warmupSeconds: 0.5 } });
    assert.deepEqual(d.lastJob(), { type: 'job', job: 1, name: 'tiny', inputShape: [1, 1, 28, 28], backend: 'wasm', warmupRuns: 1, warmupSeconds: 0.5, maxRuns: 200, maxSeconds: 30, minSampleMs: 3, bytes: 40 });
    assert.deepEqual(d.models, [new Uint8Array(40).fill(3)]);
    assert.equal(q.devices()[0]?.state, 'busy');
    serve(q, d, 2);
    const r = await result;
    assert.equal(r.device.id, 'browser:a');
    assert.equal(r.attempts, 1);
    assert.equal(r.stats.median_ms, 2);
    assert.equal(r.stats.stop, 'converged');
    assert.equal(r.loadMs, 5);
    assert.deepEqual(q.devices()[0], { ...q.devices()[0], state: 'idle', jobsDone: 1 });
    assert.deepEqual(events, ['device-joined', 'job-started', 'job-done']);
    q.close(new Error('end'));
  });

  it('one job at a time per device, first in first out', async () => {
    const q = makeQueue();
    const d = join(q, 'a');
    const one = q.submit({ model: model('one'), protocol: QUICK });
    const two = q.submit({ model: model('two'), protocol: QUICK });
    assert.deepEqual(d.jobs().map((j) => j.name), ['one']);
    assert.equal(q.queued, 1);
    serve(q, d);
    assert.deepEqual(d.jobs().map((j) => j.name), ['one', 'two'], 'the next job starts once the device is done');
    serve(q, d);
    assert.equal((await one).device.id, 'browser:a');
    assert.equal((await two).device.id, 'browser:a');
    assert.equal(q.queued, 0);
    q.close(new Error('end'));
  });

  it('jobs go to the first idle device matching selector and backend; a job nobody matches does not block the others', async () => {
    const q = makeQueue();
    const a = join(q, 'a');
    const b = join(q, 'b', { name: 'phone', backends: ['wasm', 'webgpu'] });
    const gpu = q.submit({ model: model('gpu'), protocol: QUICK, backend: 'webgpu' });
    const byName = q.submit({ model: model('by-name'), protocol: QUICK, selector: { name: 'phone' } });
    const nobody = q.submit({ model: model('nobody'), protocol: QUICK, selector: { id: 'c' } });
    nobody.catch(() => {});
    const any = q.submit({ model: model('any'), protocol: QUICK });
    assert.deepEqual(b.jobs().map((j) => j.name), ['gpu']);
    assert.equal(b.lastJob().backend, 'webgpu');
    assert.deepEqual(a.jobs().map((j) => j.name), ['any'], 'a cannot run webgpu and is not named phone');
    serve(q, b);
    assert.deepEqual(b.jobs().map((j) => j.name), ['gpu', 'by-name']);
    serve(q, b);
    serve(q, a);
    assert.equal((await gpu).backend, 'webgpu');
    assert.equal((await byName).device.id, 'browser:b');
    assert.equal((await any).device.id, 'browser:a');
    assert.equal(q.queued, 1);
    q.close(new Error('end'));
    await assert.rejects(nobody, /end/);
  });

  it('gives a second device with the same client id its own id', () => {
    const q = makeQueue();
    join(q, 'x');
    assert.equal(q.uniqueDeviceId('x'), 'x-2');
    join(q, 'x-2');
    assert.equal(q.uniqueDeviceId('x'), 'x-3');
    assert.equal(q.uniqueDeviceId('y'), 'y');
    q.close(new Error('end'));
  });
});

describe('JobQueue: moving jobs', () => {
  it('a device that leaves mid-job: the job goes to the front of the queue for another device, its runs discarded', async () => {
    const q = makeQueue();
    const requeued: unknown[] = [];
    q.on('job-requeued', (e) => requeued.push(e));
    const leaver = join(q, 'leaver');
    const first = q.submit({ model: model('first'), protocol: QUICK });
    const second = q.submit({ model: model('second'), protocol: QUICK });
    const job = leaver.lastJob().job;
    q.onDeviceMessage('leaver', { type: 'loaded', job, backend: 'wasm', loadMs: 1, warmupMs: [], innerRepeats: 1 });
    q.onDeviceMessage('leaver', { type: 'runs', job, times: [100, 100, 100] });
    q.removeDevice('leaver', 'connection closed (1006)');
    assert.deepEqual(requeued, [{ job, reason: 'device leaver disconnected mid-measurement (connection closed (1006))' }]);
    const stayer = join(q, 'stayer');
    assert.equal(stayer.lastJob().name, 'first', 'back at the front, before the job that waited behind it');
    serve(q, stayer, 2);
    const r = await first;
    assert.equal(r.device.id, 'browser:stayer');
    assert.equal(r.attempts, 2);
    assert.equal(r.stats.median_ms, 2);
    assert.equal(r.stats.runs, 10);
    serve(q, stayer, 2);
    await second;
    q.close(new Error('end'));
  });

  it('fails a job after maxAttempts devices, with the history', async () => {
    const q = makeQueue({ maxAttempts: 2 });
    const result = q.submit({ model: model('unlucky'), protocol: QUICK });
    join(q, 'a');
    q.removeDevice('a', 'gone');
    join(q, 'b');
    q.removeDevice('b', 'gone too');
    await assert.rejects(result, (e: Error) => {
      assert.ok(e instanceof JobFailedError);
      assert.equal(e.message, 'device a disconnected mid-measurement (gone); device b disconnected mid-measurement (gone too); gave up after 2 attempts');
      return true;
    });
    q.close(new Error('end'));
  });

  it('a device that cancels on its own: the job is tried again', async () => {
    const q = makeQueue();
    const d = join(q, 'a');
    const result = q.submit({ model: model(), protocol: QUICK });
    q.onDeviceMessage('a', { type: 'cancelled', job: d.lastJob().job });
    assert.equal(d.jobs().length, 2, 'the only device takes it again');
    serve(q, d);
    assert.equal((await result).attempts, 2);
    q.close(new Error('end'));
  });

  it('implausible run times: the device is flagged and told to cancel, the job moves to another device', async () => {
    const q = makeQueue();
    const flags: unknown[] = [];
    q.on('device-flagged', (f) => flags.push(f));
    const liar = join(q, 'liar');
    const honest = join(q, 'honest');
    const busy = q.submit({ model: model('keeps-honest-busy'), protocol: QUICK, selector: { id: 'honest' } });
    const result = q.submit({ model: model('m'), protocol: QUICK });
    const job = liar.lastJob().job;
    q.onDeviceMessage('liar', { type: 'loaded', job, backend: 'wasm', loadMs: 1, warmupMs: [], innerRepeats: 1 });
    q.onDeviceMessage('liar', { type: 'runs', job, times: [1e-300] });
    assert.ok(liar.got('cancel', job));
    assert.deepEqual(flags, [{ id: 'liar', reason: 'implausible timings: run time 1e-300 ms is below the physical floor of 0.001 ms' }]);
    assert.equal(q.devices().find((d) => d.id === 'liar')?.state, 'cancelling');
    assert.match(q.flagged()['liar'] ?? '', /below the physical floor/);
    serve(q, honest);
    await busy;
    assert.equal(honest.lastJob().name, 'm');
    serve(q, honest);
    const r = await result;
    assert.equal(r.device.id, 'browser:honest');
    assert.equal(r.attempts, 2);
    // flagged: no more jobs, also once it acknowledges the cancel
    q.onDeviceMessage('liar', { type: 'cancelled', job });
    const next = q.submit({ model: model('next'), protocol: QUICK });
    assert.equal(liar.jobs().length, 1);
    serve(q, honest);
    await next;
    q.close(new Error('end'));
  });

  it('implausible run times with no other device: the job fails with the reason', async () => {
    const q = makeQueue();
    const liar = join(q, 'liar');
    const result = q.submit({ model: model('m'), protocol: QUICK });
    const job = liar.lastJob().job;
    q.onDeviceMessage('liar', { type: 'loaded', job, backend: 'wasm', loadMs: 1, warmupMs: [], innerRepeats: 1 });
    q.onDeviceMessage('liar', { type: 'runs', job, times: [-0] });
    await assert.rejects(result, /^JobFailedError: device liar reported implausible timings for 'm' \(run time 0 ms is not positive\); device flagged; no other device to retry on$/);
    q.close(new Error('end'));
  });

  it('inconsistent samples at the end: the device is flagged but idle (it is done), the job runs elsewhere', async () => {
    const q = makeQueue();
    const bad = join(q, 'bad');
    const result = q.submit({ model: model(), protocol: { ...QUICK, relPrecision: 0.9 } });
    const good = join(q, 'good');
    const job = bad.lastJob().job;
    q.onDeviceMessage('bad', { type: 'loaded', job, backend: 'wasm', loadMs: 1, warmupMs: [], innerRepeats: 1 });
    q.onDeviceMessage('bad', { type: 'runs', job, times: [2, 2, 2, 2, 2, 2, 2, 2, 2, 0.01] });
    q.onDeviceMessage('bad', { type: 'done', job, reason: 'stopped' });
    assert.ok(!bad.got('cancel', job));
    assert.equal(q.devices().find((d) => d.id === 'bad')?.state, 'idle');
    assert.match(q.flagged()['bad'] ?? '', /inconsistent samples: fastest 0\.01 ms/);
    serve(q, good);
    assert.equal((await result).device.id, 'browser:good');
    q.close(new Error('end'));
  });
});

describe('JobQueue: device messages', () => {
  it('a failed job fails with the device reason; the device is free again', async () => {
    const q = makeQueue();
    const d = join(q, 'picky');
    const failed = q.submit({ model: model('odd'), protocol: QUICK });
    q.onDeviceMessage('picky', { type: 'failed', job: d.lastJob().job, error: 'unsupported op Foo' });
    await assert.rejects(failed, /device picky could not run 'odd': unsupported op Foo/);
    const next = q.submit({ model: model(), protocol: QUICK });
    serve(q, d, 1);
    assert.equal((await next).stats.median_ms, 1);
    q.close(new Error('end'));
  });

  it('done without timed runs fails the job', async () => {
    const q = makeQueue();
    const d = join(q, 'lazy');
    const result = q.submit({ model: model(), protocol: QUICK });
    const job = d.lastJob().job;
    q.onDeviceMessage('lazy', { type: 'loaded', job, backend: 'wasm', loadMs: 1, warmupMs: [], innerRepeats: 1 });
    q.onDeviceMessage('lazy', { type: 'done', job, reason: 'maxSeconds' });
    await assert.rejects(result, new RegExp(`device lazy ended job ${job} without timed runs`));
    q.close(new Error('end'));
  });

  it('protocol violations disconnect the device; messages about other jobs are ignored', async () => {
    const q = makeQueue();
    const twice = join(q, 'twice');
    const r1 = q.submit({ model: model(), protocol: QUICK, selector: { id: 'twice' } });
    r1.catch(() => {});
    const job = twice.lastJob().job;
    q.onDeviceMessage('twice', { type: 'runs', job: job + 100, times: [1] });
    q.onDeviceMessage('twice', { type: 'done', job: job + 100, reason: 'stopped' });
    assert.equal(twice.disconnected, undefined, 'another job id: ignored');
    q.onDeviceMessage('twice', { type: 'loaded', job, backend: 'wasm', loadMs: 1, warmupMs: [], innerRepeats: 1 });
    q.onDeviceMessage('twice', { type: 'loaded', job, backend: 'wasm', loadMs: 1, warmupMs: [], innerRepeats: 1 });
    assert.deepEqual(twice.disconnected, { code: 1008, reason: 'loaded sent twice' });
    const early = join(q, 'early');
    const r2 = q.submit({ model: model(), protocol: QUICK, selector: { id: 'early' } });
    r2.catch(() => {});
    q.onDeviceMessage('early', { type: 'runs', job: early.lastJob().job, times: [1] });
    assert.deepEqual(early.disconnected, { code: 1008, reason: 'runs before loaded' });
    assert.deepEqual(q.devices(), []);
    q.close(new Error('end'));
  });
});

describe('JobQueue: timeouts', () => {
  it('a job with no matching device fails after queueTimeoutMs, naming what it needed and where devices join', async () => {
    const q = makeQueue({ queueTimeoutMs: 40 });
    await assert.rejects(
      q.submit({ model: model('lonely'), protocol: QUICK, selector: { id: 'x', name: 'y' }, backend: 'webgpu' }),
      /^NoDeviceError: no browser device with id 'x' and name 'y' supporting webgpu available within 0 s to measure 'lonely' \(open http:\/\/127\.0\.0\.1:1\/\?token=t\)$/,
    );
    // a flagged device is named
    const liar = join(q, 'liar');
    q.flag('liar', 'implausible timings: test');
    await assert.rejects(q.submit({ model: model('m'), protocol: QUICK }), /; flagged, no jobs: liar \(implausible timings: test\)$/);
    assert.equal(liar.jobs().length, 0);
    q.close(new Error('end'));
  });

  it('a job waiting for a busy matching device keeps waiting past queueTimeoutMs', async () => {
    const q = makeQueue({ queueTimeoutMs: 30 });
    const d = join(q, 'a');
    const first = q.submit({ model: model('first'), protocol: QUICK });
    const second = q.submit({ model: model('second'), protocol: QUICK });
    await sleep(120);
    serve(q, d);
    serve(q, d);
    await first;
    assert.equal((await second).device.id, 'browser:a');
    q.close(new Error('end'));
  });

  it('a job running past maxSeconds + jobGraceMs fails; the device is cancelling until it acknowledges', async () => {
    const q = makeQueue({ jobGraceMs: 20 });
    const d = join(q, 'slow');
    const result = q.submit({ model: model('slow-one'), protocol: { ...QUICK, maxSeconds: 0.01 } });
    const job = d.lastJob().job;
    await assert.rejects(result, new RegExp(`device slow did not finish 'slow-one' within 0 s`));
    assert.ok(d.got('cancel', job));
    const next = q.submit({ model: model('next'), protocol: QUICK });
    assert.equal(d.jobs().length, 1, 'no new job before the cancel is acknowledged');
    q.onDeviceMessage('slow', { type: 'runs', job, times: [1] }); // stale
    q.onDeviceMessage('slow', { type: 'cancelled', job });
    assert.equal(d.lastJob().name, 'next');
    serve(q, d);
    await next;
    q.close(new Error('end'));
  });

  it('a cancel not acknowledged within cancelAckTimeoutMs disconnects the device', async () => {
    const q = makeQueue({ cancelAckTimeoutMs: 30 });
    const d = join(q, 'deaf');
    const ac = new AbortController();
    const result = q.submit({ model: model(), protocol: QUICK }, ac.signal);
    ac.abort(new Error('user gave up'));
    await assert.rejects(result, /user gave up/);
    assert.ok(d.got('cancel', d.lastJob().job));
    await until(() => d.disconnected !== undefined, 'the disconnect');
    assert.deepEqual(d.disconnected, { code: 1008, reason: 'cancel not acknowledged' });
    assert.deepEqual(q.devices(), []);
    q.close(new Error('end'));
  });
});

describe('JobQueue: caps and cancelling', () => {
  it('refuses a job beyond maxQueuedJobs or maxQueuedBytes, counting reservations; settling releases', async () => {
    const KiB = 1024;
    const q = makeQueue({ maxQueuedJobs: 3, maxQueuedBytes: 1024 * KiB });
    const ac = new AbortController();
    const held = [q.submit({ model: model('a', 300 * KiB) }, ac.signal), q.submit({ model: model('b', 300 * KiB) }, ac.signal)].map((p) => p.catch((e: Error) => e));
    assert.deepEqual(q.heldJobs, { jobs: 2, bytes: 600 * KiB });
    assert.equal(q.overLimit(500 * KiB), 'model of 0.5 MiB on top of 0.6 MiB held exceeds maxQueuedBytes 1.0 MiB');
    const release = q.reserve(100 * KiB);
    assert.match(q.overLimit(1) ?? '', /^3 jobs already queued or running \(maxQueuedJobs 3\)$/);
    await assert.rejects(q.submit({ model: model('c', 1) }), (e: Error) => e instanceof LimitError && e.code === 'limit' && /'c' refused: 3 jobs already queued or running/.test(e.message));
    release();
    release(); // once only
    assert.equal(q.overLimit(400 * KiB), undefined);
    ac.abort(new Error('done'));
    await Promise.all(held);
    assert.deepEqual(q.heldJobs, { jobs: 0, bytes: 0 });
    assert.equal(q.queued, 0);
    q.close(new Error('end'));
  });

  it('abort: a queued job leaves the queue; a running one is cancelled on its device', async () => {
    const q = makeQueue();
    const d = join(q, 'a');
    const running = new AbortController();
    const queued = new AbortController();
    const r1 = q.submit({ model: model('running'), protocol: QUICK }, running.signal);
    const r2 = q.submit({ model: model('queued'), protocol: QUICK }, queued.signal);
    const r3 = q.submit({ model: model('third'), protocol: QUICK });
    queued.abort(new Error('not needed'));
    await assert.rejects(r2, /not needed/);
    assert.equal(q.queued, 1);
    running.abort(new Error('stop'));
    await assert.rejects(r1, /stop/);
    const job = d.jobs()[0]!.job;
    assert.ok(d.got('cancel', job));
    q.onDeviceMessage('a', { type: 'done', job, reason: 'stopped' }); // a done racing the cancel acknowledges it too
    assert.equal(d.lastJob().name, 'third');
    serve(q, d);
    await r3;
    await assert.rejects(q.submit({ model: model() }, AbortSignal.abort(new Error('already'))), /already/);
    assert.deepEqual(q.heldJobs, { jobs: 0, bytes: 0 });
    q.close(new Error('end'));
  });

  it('rejects bad jobs up front', async () => {
    const q = makeQueue();
    await assert.rejects(q.submit({ model: { ...model(), inputShape: [1, 1, 0, 28] } }), /inputShape must be 4 positive integers/);
    await assert.rejects(q.submit({ model: model(), protocol: { maxRuns: 5, minRuns: 10 } }), /maxRuns/);
    assert.deepEqual(q.heldJobs, { jobs: 0, bytes: 0 });
    q.close(new Error('end'));
  });

  it('close fails every held job, queued or running, and takes no more', async () => {
    const q = makeQueue();
    join(q, 'a');
    const running = q.submit({ model: model(), protocol: QUICK });
    const queued = q.submit({ model: model(), protocol: QUICK });
    const checks = [assert.rejects(running, /device server closed/), assert.rejects(queued, /device server closed/)];
    q.close(new JobFailedError('device server closed'));
    await Promise.all(checks);
    await assert.rejects(q.submit({ model: model() }), /device server closed/);
    assert.deepEqual(q.heldJobs, { jobs: 0, bytes: 0 });
  });
});

describe('JobQueue: waiting for a device', () => {
  it('resolves when a matching unflagged device joins; times out naming the selector; aborts; fails on close', async () => {
    const q = makeQueue();
    const waiting = q.waitForDevice({ name: 'phone' }, 5000);
    join(q, 'other');
    join(q, 'p1', { name: 'phone' });
    assert.equal((await waiting).id, 'p1');
    q.flag('p1', 'test');
    await assert.rejects(q.waitForDevice({ name: 'phone' }, 20), /^NoDeviceError: no browser device with name 'phone' joined within 0 s \(open http:\/\/127\.0\.0\.1:1\/\?token=t\); flagged, no jobs: p1 \(test\)$/);
    const ac = new AbortController();
    const aborted = q.waitForDevice({ id: 'nobody' }, 5000, ac.signal);
    ac.abort(new Error('never mind'));
    await assert.rejects(aborted, /never mind/);
    const pending = q.waitForDevice({ id: 'nobody' }, 5000);
    q.close(new JobFailedError('device server closed'));
    await assert.rejects(pending, /device server closed/);
  });
});

describe('JobQueue: interleaved jobs (a model timed in turn with a reference)', () => {
  /** Plays a page timing pairs of blocks: the model at `modelMs`, the reference at `referenceMs`, until told to stop. */
  function servePairs(queue: JobQueue, port: FakePort, modelMs: number, referenceMs: number, maxPairs = 200): number {
    const job = port.lastJob().job;
    queue.onDeviceMessage(port.id, { type: 'loaded', job, backend: 'wasm', loadMs: 5, warmupMs: [], innerRepeats: 1, reference: { loadMs: 7, innerRepeats: 2 } });
    let pairs = 0;
    // a little spread, so the median ratio's interval narrows as pairs come in
    while (!port.got('stop', job) && pairs < maxPairs) {
      const wobble = 1 + 0.01 * ((pairs % 5) - 2);
      queue.onDeviceMessage(port.id, { type: 'pair', job, model: [modelMs * wobble, modelMs, modelMs], reference: [referenceMs * wobble, referenceMs, referenceMs] });
      pairs++;
    }
    queue.onDeviceMessage(port.id, { type: 'done', job, reason: 'stopped' });
    return pairs;
  }

  it('sends both models in one frame with the reference named, stops at the interleaved protocol, and returns the ratio', async () => {
    const q = makeQueue();
    const d = join(q, 'a');
    const result = q.submit({ model: model('fast', 40), reference: { ...model('base', 60), onnx: new Uint8Array(60).fill(7) }, protocol: { maxSeconds: 30, minSeconds: 0 } });
    const sent = d.lastJob();
    assert.deepEqual(sent.reference, { name: 'base', inputShape: [1, 1, 28, 28], bytes: 60 });
    assert.equal(sent.bytes, 40);
    assert.equal(sent.blockMs, 10);
    assert.deepEqual(d.models, [Uint8Array.from([...new Uint8Array(40).fill(3), ...new Uint8Array(60).fill(7)])]);
    const pairs = servePairs(q, d, 0.75, 1);
    const r = await result;
    assert.ok(pairs >= 12 && pairs < 200, `stopped after the protocol's pairs (${pairs})`);
    assert.ok(r.pair, 'the result carries the pair');
    assert.ok(Math.abs(r.pair.ratio - 0.75) < 1e-9, `ratio ${r.pair.ratio}`);
    assert.equal(r.pair.pairs, pairs);
    assert.equal(r.pair.runs_per_block, 3);
    assert.equal(r.pair.reference.median_ms, 1);
    assert.deepEqual([r.pair.referenceInnerRepeats, r.pair.referenceLoadMs], [2, 7]);
    assert.equal(r.stats.median_ms, 0.75);
    assert.equal(r.stats.stop, 'converged');
    assert.equal(r.times.length, 3 * pairs, "the model's own run times");
    assert.deepEqual(q.heldJobs, { jobs: 0, bytes: 0 });
    q.close(new Error('end'));
  });

  it('counts both models against the byte cap', async () => {
    const q = makeQueue({ maxQueuedBytes: 120 });
    await assert.rejects(q.submit({ model: model('m', 70), reference: model('r', 70), protocol: QUICK }), /'m' refused: model of 0\.0 MiB on top of 0\.0 MiB held exceeds maxQueuedBytes/);
    q.close(new Error('end'));
  });

  it('a page that answers an interleaved job as a plain one, or the other way round, is disconnected', async () => {
    const q = makeQueue();
    const plain = join(q, 'plain');
    const r1 = q.submit({ model: model(), reference: model('r'), protocol: QUICK, selector: { id: 'plain' } });
    r1.catch(() => {});
    q.onDeviceMessage('plain', { type: 'loaded', job: plain.lastJob().job, backend: 'wasm', loadMs: 1, warmupMs: [], innerRepeats: 1 });
    assert.deepEqual(plain.disconnected, { code: 1008, reason: 'loaded without the reference of an interleaved job' });
    const runs = join(q, 'runs');
    const r2 = q.submit({ model: model(), reference: model('r'), protocol: QUICK, selector: { id: 'runs' } });
    r2.catch(() => {});
    const job = runs.lastJob().job;
    q.onDeviceMessage('runs', { type: 'loaded', job, backend: 'wasm', loadMs: 1, warmupMs: [], innerRepeats: 1, reference: { loadMs: 1, innerRepeats: 1 } });
    q.onDeviceMessage('runs', { type: 'runs', job, times: [1] });
    assert.deepEqual(runs.disconnected, { code: 1008, reason: 'runs in an interleaved job' });
    const pairs = join(q, 'pairs');
    const r3 = q.submit({ model: model(), protocol: QUICK, selector: { id: 'pairs' } });
    r3.catch(() => {});
    const job3 = pairs.lastJob().job;
    q.onDeviceMessage('pairs', { type: 'loaded', job: job3, backend: 'wasm', loadMs: 1, warmupMs: [], innerRepeats: 1 });
    q.onDeviceMessage('pairs', { type: 'pair', job: job3, model: [1], reference: [1] });
    assert.deepEqual(pairs.disconnected, { code: 1008, reason: 'pair in a plain job' });
    q.close(new Error('end'));
  });

  it('implausible pair timings flag the device like plain runs do', async () => {
    const q = makeQueue();
    const liar = join(q, 'liar');
    const result = q.submit({ model: model(), reference: model('r'), protocol: QUICK });
    const job = liar.lastJob().job;
    q.onDeviceMessage('liar', { type: 'loaded', job, backend: 'wasm', loadMs: 1, warmupMs: [], innerRepeats: 1, reference: { loadMs: 1, innerRepeats: 1 } });
    q.onDeviceMessage('liar', { type: 'pair', job, model: [1e-9], reference: [1] });
    await assert.rejects(result, /implausible timings for 'm' \(run time 1e-9 ms is below the physical floor of 0\.001 ms\); device flagged; no other device to retry on/);
    assert.match(q.flagged()['liar'] ?? '', /^implausible timings/);
    q.close(new Error('end'));
  });
});
