import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveArch } from '../space/resolve.js';
import type { DeviceDescription, LatencyDevice, LatencyResult } from './device.js';
import { ModelRejectedError } from './device.js';
import { archToModel } from './model.js';
import { OrtCpuDevice } from './ort-cpu.js';
import { prepareMeasure, prepareMeasureAgainst, timeQuietly, type Quiet } from './prepared.js';
import { fixedStats } from './testing.js';

/** A quiet that is granted after `waitMs` (as training processes reaching their hold points) and logs when it holds. */
function loggedQuiet(log: string[], waitMs: number): Quiet {
  return async (fn) => {
    log.push('quiet asked');
    await new Promise((r) => setTimeout(r, waitMs));
    log.push('quiet');
    try {
      return await fn();
    } finally {
      log.push('released');
    }
  };
}

test('the set-up runs while the quiet is being taken, the timing in it, and the set-up is closed after the quiet ends', async () => {
  const log: string[] = [];
  const r = await timeQuietly(
    async () => {
      log.push('prepare');
      return { close: async () => void log.push('close') };
    },
    loggedQuiet(log, 20),
    async () => {
      log.push('time');
      return 42;
    },
  );
  assert.equal(r, 42);
  assert.deepEqual(log, ['prepare', 'quiet asked', 'quiet', 'time', 'released', 'close']);
});

test('a set-up slower than the wait for quiet is awaited inside it', async () => {
  const log: string[] = [];
  await timeQuietly(
    async () => {
      await new Promise((r) => setTimeout(r, 40));
      log.push('prepared');
      return { close: async () => void log.push('close') };
    },
    loggedQuiet(log, 1),
    async () => void log.push('time'),
  );
  assert.deepEqual(log, ['quiet asked', 'quiet', 'prepared', 'time', 'released', 'close']);
});

test('a quiet that comes at once is told of the set-up and takes effect only once it is done', async () => {
  const log: string[] = [];
  // as WorkerPool.holdWhile: stopping training takes a millisecond, so it waits for the set-up first
  const stopsAtOnce: Quiet = async (fn, ready) => {
    log.push('quiet asked');
    await ready.catch(() => {});
    log.push('quiet');
    try {
      return await fn();
    } finally {
      log.push('released');
    }
  };
  await timeQuietly(
    async () => {
      await new Promise((r) => setTimeout(r, 30));
      log.push('prepared');
      return { close: async () => void log.push('close') };
    },
    stopsAtOnce,
    async () => void log.push('time'),
  );
  assert.deepEqual(log, ['quiet asked', 'prepared', 'quiet', 'time', 'released', 'close']);
  const failed: string[] = [];
  await assert.rejects(
    timeQuietly(
      async () => {
        throw new ModelRejectedError('cannot load');
      },
      async (fn, ready) => {
        await ready.catch(() => failed.push('set-up failed'));
        return fn();
      },
      async () => void failed.push('time'),
    ),
    ModelRejectedError,
  );
  assert.deepEqual(failed, ['set-up failed'], 'a failed set-up reaches fn as its error, and nothing is timed');
});

test('a failed set-up ends the quiet with its error; a failed timing still closes the set-up', async () => {
  const log: string[] = [];
  await assert.rejects(
    timeQuietly(
      async () => {
        throw new ModelRejectedError('cannot load');
      },
      loggedQuiet(log, 1),
      async () => void log.push('time'),
    ),
    ModelRejectedError,
  );
  assert.deepEqual(log, ['quiet asked', 'quiet', 'released']);
  const closed: string[] = [];
  await assert.rejects(
    timeQuietly(
      async () => ({ close: async () => void closed.push('close') }),
      loggedQuiet([], 1),
      async () => {
        throw new Error('timing failed');
      },
    ),
    /timing failed/,
  );
  assert.deepEqual(closed, ['close']);
});

test('a quiet that fails before it starts closes the set-up once it is done and leaves no rejection unhandled', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const closed: string[] = [];
    await assert.rejects(
      timeQuietly(
        async () => {
          await new Promise((r) => setTimeout(r, 20));
          return { close: async () => void closed.push('close') };
        },
        async () => {
          throw new Error('aborted while waiting for quiet');
        },
        async () => 1,
      ),
      /aborted while waiting/,
    );
    assert.deepEqual(closed, ['close'], 'the set-up finished after the quiet failed is closed');
    await assert.rejects(
      timeQuietly(
        async () => {
          await new Promise((r) => setTimeout(r, 5));
          throw new Error('set-up failed too');
        },
        async () => {
          throw new Error('no quiet');
        },
        async () => 1,
      ),
      /no quiet/,
    );
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

const DEVICE: DeviceDescription = { id: 'plain', kind: 'engine', cpu: 'test', runtime: 'test', runtimeVersion: '0', threads: 1 };

test('a device without prepare() measures as its timing, with nothing to set up; one without measureAgainst cannot prepare one', async () => {
  const calls: string[] = [];
  const device: LatencyDevice = {
    describe: async () => DEVICE,
    measure: async (model): Promise<LatencyResult> => {
      calls.push(model.name);
      return { ...fixedStats(1.5, 10, 0.01), device: DEVICE };
    },
    close: async () => {},
  };
  const model = archToModel(resolveArch('bench-fmnist'), 'm');
  const prepared = await prepareMeasure(device, model);
  assert.deepEqual(calls, [], 'nothing measured before the timing');
  assert.equal((await prepared.time()).latency_ms, 1.5);
  assert.deepEqual(calls, ['m']);
  await prepared.close();
  await assert.rejects(prepareMeasureAgainst(device, model, model), /cannot measure interleaved/);
});

test('ort-cpu: a prepared interleaved measurement has its sessions open before the timing and gives what measureAgainst gives', async () => {
  const device = new OrtCpuDevice({ threads: 1, pickCore: false });
  const small = archToModel(resolveArch('bench-fmnist'), 'small');
  const big = archToModel(resolveArch('mnasnet-a1-fmnist'), 'big');
  const prepared = await device.prepareAgainst(big, small, { sessions: 2, maxSeconds: 0.6 });
  const r = await prepared.time();
  assert.equal(r.sessions, 2);
  assert.ok(r.ratio > 1, `the bigger model runs slower than the reference: ratio ${r.ratio}`);
  assert.ok(r.pairs >= 1 && r.reference_ms > 0);
  await prepared.close();
  await prepared.close(); // twice is harmless
  const plain = await device.prepare(small, { maxSeconds: 0.2, minSeconds: 0.05 });
  try {
    const one = await plain.time();
    assert.ok(one.latency_ms > 0 && one.runs > 0);
    assert.equal(one.device.kind, 'ort-cpu');
  } finally {
    await plain.close();
  }
});

test('ort-cpu: a model that does not load fails in the set-up, before any timing, and an aborted set-up opens nothing', async () => {
  const device = new OrtCpuDevice({ threads: 1, pickCore: false });
  const broken = { name: 'broken', inputShape: [1, 1, 28, 28] as const, onnx: new Uint8Array([1, 2, 3]) };
  const small = archToModel(resolveArch('bench-fmnist'), 'small');
  await assert.rejects(device.prepare(broken), ModelRejectedError);
  await assert.rejects(device.prepareAgainst(small, broken), ModelRejectedError);
  const aborted = new AbortController();
  aborted.abort(new Error('stopped'));
  await assert.rejects(device.prepareAgainst(small, small, {}, aborted.signal), /stopped/);
});
