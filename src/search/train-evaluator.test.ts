import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeviceDescription, LatencyDevice, LatencyModel, LatencyResult } from '../latency/device.js';
import { archToModel } from '../latency/model.js';
import { OrtCpuDevice } from '../latency/ort-cpu.js';
import { fixedStats } from '../latency/testing.js';
import { resolveArch } from '../space/resolve.js';
import { buildPlan, type NetworkPlan } from '../model/plan.js';
import { getSpace } from '../space/space.js';
import type { ProxyTrainer, ProxyTrial, ProxyTrialResult } from './proxy-trainer.js';
import { TrainEvaluator } from './train-evaluator.js';
import { MIN_SEEN } from './speed-watch.js';

const DEVICE: DeviceDescription = { id: 'fake', kind: 'ort-cpu', cpu: 'test', runtime: 'fake', runtimeVersion: '0', threads: 1 };

test('a trial plans its architecture once: the latency device and the trainer get the same plan object', async () => {
  const space = getSpace('fmnist');
  const dna = space.defaultDna();
  const measured: LatencyModel[] = [];
  const trained: ProxyTrial[] = [];
  const device: LatencyDevice = {
    describe: async () => DEVICE,
    measure: async (model): Promise<LatencyResult> => {
      measured.push(model);
      return { ...fixedStats(2, 10, 0.01), device: DEVICE };
    },
    close: async () => {},
  };
  const trainer: ProxyTrainer = {
    slots: 1,
    train: async (trial): Promise<ProxyTrialResult> => {
      trained.push(trial);
      return { status: 'done', valAccuracy: 0.5, valLoss: 1, epochLoss: [1], trainImagesPerSecond: 1, seconds: 1, memory: undefined as never };
    },
    holdWhile: (fn) => fn(),
    close: async () => {},
  };
  const evaluator = new TrainEvaluator(space, trainer, { kind: 'measured', device }, { seed: 7 });
  const r = await evaluator.evaluate(dna, new AbortController().signal, { trialId: 3, attempt: 1 });
  assert.equal(r.status, 'done');
  assert.equal(measured.length, 1);
  assert.equal(trained.length, 1);
  const source = measured[0]!.source;
  assert.ok(source?.kind === 'plan');
  const plan: NetworkPlan = trained[0]!.plan;
  assert.equal(source.plan, plan, 'the measured and the trained plan are one object');
  assert.deepEqual(plan, buildPlan(space.decode(dna)));
  assert.equal(trained[0]!.seed, 10);
  if (r.status === 'done') assert.equal(r.latencyMs, 2);
});

/**
 * A device measured interleaved whose reference runs at the times given, one per measurement, and
 * whose ratio for a measurement is 1.0 at the fast speed and 1.1 when the reference ran slower.
 */
function speedModeDevice(referenceTimes: number[]): { device: LatencyDevice; calls: () => number } {
  let calls = 0;
  const device: LatencyDevice = {
    describe: async () => DEVICE,
    measure: async (): Promise<LatencyResult> => ({ ...fixedStats(1, 10, 0.01), device: DEVICE }),
    measureAgainst: async () => {
      const reference = referenceTimes[calls++];
      if (reference === undefined) throw new Error('more measurements than the test planned');
      const ratio = reference > 0.16 ? 1.1 : 1;
      return { ...fixedStats(ratio * reference, 10, 0.01), device: DEVICE, ratio, ratio_rel_half_width: 0.005, reference_ms: reference, pairs: 12, runs_per_block: 10 };
    },
    close: async () => {},
  };
  return { device, calls: () => calls };
}

function countingTrainer(): { trainer: ProxyTrainer; trained: () => number } {
  let n = 0;
  const trainer: ProxyTrainer = {
    slots: 1,
    train: async (): Promise<ProxyTrialResult> => {
      n++;
      return { status: 'done', valAccuracy: 0.5, valLoss: 1, epochLoss: [1], trainImagesPerSecond: 1, seconds: 1, memory: undefined as never };
    },
    holdWhile: (fn) => fn(),
    close: async () => {},
  };
  return { trainer, trained: () => n };
}

const REFERENCE = { name: 'reference' } as LatencyModel;

test('a trial measured interleaved while the machine ran in a slower mode is measured again after training, and the measurement at the fast speed is kept', async () => {
  const space = getSpace('fmnist');
  // three trials at the fast speed, then one whose reference ran 40% slower: measured again at the fast speed
  const { device, calls } = speedModeDevice([0.15, 0.151, 0.149, 0.21, 0.15]);
  const { trainer } = countingTrainer();
  const evaluator = new TrainEvaluator(space, trainer, { kind: 'measured', device }, { seed: 0, interleave: { reference: REFERENCE, referenceArch: 'ref', startMs: () => 0.2 } });
  const signal = new AbortController().signal;
  for (let trialId = 0; trialId < 3; trialId++) {
    const r = await evaluator.evaluate(space.defaultDna(), signal, { trialId, attempt: 1 });
    assert.equal(r.status, 'done');
    if (r.status === 'done') assert.equal((r.latencyStats as { speed_retry?: unknown }).speed_retry, undefined, 'a trial at speed is measured once');
  }
  assert.equal(calls(), 3);
  const r = await evaluator.evaluate(space.defaultDna(), signal, { trialId: 3, attempt: 1 });
  assert.equal(calls(), 5, 'the slow one was measured twice');
  assert.equal(r.status, 'done');
  if (r.status !== 'done') return;
  assert.ok(Math.abs(r.latencyMs - 1 * 0.2) < 1e-12, 'LAT is the fast measurement ratio x the start reference');
  const retry = (r.latencyStats as { speed_retry: { kept: string; other_ratio: number; other_reference_ms: number; first_slowdown: number; fast_reference_ms: number } }).speed_retry;
  assert.equal(retry.kept, 'second');
  assert.equal(retry.other_ratio, 1.1);
  assert.equal(retry.other_reference_ms, 0.21);
  assert.ok(retry.first_slowdown > 0.35 && retry.first_slowdown < 0.45, `slowdown ${retry.first_slowdown}`);
});

test('a trial measured again in a mode still slower keeps its first measurement, and none is measured a third time', async () => {
  const space = getSpace('fmnist');
  const { device, calls } = speedModeDevice([0.15, 0.15, 0.15, 0.2, 0.22]);
  const { trainer } = countingTrainer();
  const evaluator = new TrainEvaluator(space, trainer, { kind: 'measured', device }, { seed: 0, interleave: { reference: REFERENCE, referenceArch: 'ref', startMs: () => 0.15 } });
  const signal = new AbortController().signal;
  for (let trialId = 0; trialId < 4; trialId++) await evaluator.evaluate(space.defaultDna(), signal, { trialId, attempt: 1 });
  assert.equal(calls(), 5);
});

test('under a hard target a trial that would be skipped on a slow-mode measurement is measured again first, and trained when the fast one meets T', async () => {
  const space = getSpace('fmnist');
  // T = 0.158 ms; start reference 0.15: at the fast speed the ratio 1.0 gives 0.15 ms (meets T), in the slow mode 1.1 gives 0.165 (misses)
  const { device, calls } = speedModeDevice([0.15, 0.15, 0.15, 0.21, 0.15]);
  const { trainer, trained } = countingTrainer();
  const evaluator = new TrainEvaluator(space, trainer, { kind: 'measured', device }, { seed: 0, skipAboveMs: 0.158, interleave: { reference: REFERENCE, referenceArch: 'ref', startMs: () => 0.15 } });
  const signal = new AbortController().signal;
  for (let trialId = 0; trialId < 4; trialId++) {
    const r = await evaluator.evaluate(space.defaultDna(), signal, { trialId, attempt: 1 });
    assert.equal(r.status, 'done', `trial ${trialId}`);
  }
  assert.equal(calls(), 5);
  assert.equal(trained(), 4);
});

test('latencies not measured interleaved are never measured again for speed', async () => {
  const space = getSpace('fmnist');
  const { device, calls } = speedModeDevice([]);
  let measured = 0;
  const plain: LatencyDevice = { ...device, measure: async (m, p, s) => (measured++, device.measure(m, p, s)) };
  const { trainer } = countingTrainer();
  const evaluator = new TrainEvaluator(space, trainer, { kind: 'measured', device: plain }, { seed: 0 });
  for (let trialId = 0; trialId < 5; trialId++) await evaluator.evaluate(space.defaultDna(), new AbortController().signal, { trialId, attempt: 1 });
  assert.equal(measured, 5);
  assert.equal(calls(), 0);
});

test('a trial measured interleaved on ort-cpu opens its sessions while training comes to a stop and times them in the hold; the next measurement sets up after it', async () => {
  const space = getSpace('fmnist');
  const log: string[] = [];
  let held = false;
  const real = new OrtCpuDevice({ threads: 1, pickCore: false });
  const device: LatencyDevice = {
    describe: () => real.describe(),
    measure: (m, p, s) => real.measure(m, p, s),
    measureAgainst: (m, r, p, s) => real.measureAgainst(m, r, p, s),
    prepareAgainst: async (model, reference, protocol, signal) => {
      log.push(`prepare${held ? ' held' : ''}`);
      const prepared = await real.prepareAgainst(model, reference, { ...protocol, sessions: 1, maxSeconds: 0.2, minSeconds: 0.05 }, signal);
      log.push(`prepared${held ? ' held' : ''}`);
      return {
        time: async (s) => {
          log.push(`time${held ? ' held' : ''}`);
          return prepared.time(s);
        },
        close: async () => {
          log.push(`close${held ? ' held' : ''}`);
          await prepared.close();
        },
      };
    },
    close: async () => {},
  };
  const trainer: ProxyTrainer = {
    slots: 2,
    train: async (): Promise<ProxyTrialResult> => ({ status: 'done', valAccuracy: 0.5, valLoss: 1, epochLoss: [1], trainImagesPerSecond: 1, seconds: 1, memory: undefined as never }),
    // training processes take a while to reach their hold points
    holdWhile: async (fn) => {
      await new Promise((r) => setTimeout(r, 200));
      held = true;
      try {
        return await fn();
      } finally {
        held = false;
      }
    },
    close: async () => {},
  };
  const reference = archToModel(resolveArch('bench-fmnist'), 'reference');
  const evaluator = new TrainEvaluator(space, trainer, { kind: 'measured', device }, { seed: 0, interleave: { reference, referenceArch: 'bench-fmnist', startMs: () => 0.2 } });
  const signal = new AbortController().signal;
  const results = await Promise.all([0, 1].map((trialId) => evaluator.evaluate(space.defaultDna(), signal, { trialId, attempt: 1 })));
  for (const r of results) assert.equal(r.status, 'done');
  assert.deepEqual(log, ['prepare', 'prepared', 'time held', 'close', 'prepare', 'prepared', 'time held', 'close']);
});

/** A device whose measurement ends when the test calls finish() (or after 2 s, so that a wrong order fails instead of hanging); finishedByTest tells which. */
function gatedMeasurement(fail = false): { device: LatencyDevice; finish: () => void; started: Promise<void>; finishedByTest: () => boolean } {
  let byTest = false;
  let endedByTest = false;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = () => {
    byTest = true;
    resolve();
  }));
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const device: LatencyDevice = {
    describe: async () => DEVICE,
    measure: async (): Promise<LatencyResult> => {
      markStarted();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([finished, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
      clearTimeout(timer);
      endedByTest = byTest;
      if (fail) throw new Error('device lost');
      return { ...fixedStats(2, 10, 0.01), device: DEVICE };
    },
    close: async () => {},
  };
  return { device, finish, started, finishedByTest: () => endedByTest };
}

test('without a hard target a trial trains while its latency is measured', async () => {
  const space = getSpace('fmnist');
  const { device, finish, finishedByTest } = gatedMeasurement();
  let trainingStarted = false;
  const trainer: ProxyTrainer = {
    slots: 1,
    train: async (): Promise<ProxyTrialResult> => {
      trainingStarted = true;
      // the measurement is still running: it ends only now
      finish();
      return { status: 'done', valAccuracy: 0.5, valLoss: 1, epochLoss: [1], trainImagesPerSecond: 1, seconds: 1 };
    },
    holdWhile: (fn) => fn(),
    close: async () => {},
  };
  const evaluator = new TrainEvaluator(space, trainer, { kind: 'measured', device }, { seed: 7 });
  const r = await evaluator.evaluate(space.defaultDna(), new AbortController().signal, { trialId: 0, attempt: 1 });
  assert.ok(trainingStarted);
  assert.ok(finishedByTest(), 'training began before the measurement ended');
  assert.equal(r.status, 'done');
  if (r.status === 'done') assert.equal(r.latencyMs, 2);
});

test('under a hard target training starts only after the measurement, which may skip it', async () => {
  const space = getSpace('fmnist');
  const { device, finish, started } = gatedMeasurement();
  const { trainer, trained } = countingTrainer();
  const evaluator = new TrainEvaluator(space, trainer, { kind: 'measured', device }, { seed: 7, skipAboveMs: 1 });
  const r = evaluator.evaluate(space.defaultDna(), new AbortController().signal, { trialId: 0, attempt: 1 });
  await started;
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(trained(), 0, 'nothing trains while the measurement that decides the skip runs');
  finish();
  assert.equal((await r).status, 'skipped');
  assert.equal(trained(), 0);
});

test('a measurement that fails while its trial trains aborts the training and fails the trial with the measurement\'s error', async () => {
  const space = getSpace('fmnist');
  const { device, finish } = gatedMeasurement(true);
  let aborted = false;
  const trainer: ProxyTrainer = {
    slots: 1,
    train: (_trial, signal): Promise<ProxyTrialResult> =>
      new Promise((_resolve, reject) => {
        setTimeout(finish, 5);
        signal?.addEventListener('abort', () => {
          aborted = true;
          reject(new Error('training aborted'));
        });
      }),
    holdWhile: (fn) => fn(),
    close: async () => {},
  };
  const evaluator = new TrainEvaluator(space, trainer, { kind: 'measured', device }, { seed: 7 });
  await assert.rejects(evaluator.evaluate(space.defaultDna(), new AbortController().signal, { trialId: 0, attempt: 1 }), /device lost/);
  assert.ok(aborted, 'the training was aborted');
});

test('a start reference measured in another speed mode than the trials is reported once, after MIN_SEEN measurements; one at their speed is not', async () => {
  const space = getSpace('fmnist');
  const signal = new AbortController().signal;
  for (const [startMs, expectCall] of [
    [0.2, true], // the start ran 33% slower than the trials' 0.15 ms
    [0.12, true], // 20% faster
    [0.155, false], // within the tolerance
  ] as const) {
    const { device } = speedModeDevice([0.15, 0.151, 0.149, 0.15, 0.15]);
    const told: [number, number][] = [];
    const evaluator = new TrainEvaluator(space, countingTrainer().trainer, { kind: 'measured', device }, {
      seed: 0,
      interleave: { reference: REFERENCE, referenceArch: 'ref', startMs: () => startMs, onStartOffSpeed: (s, t) => void told.push([s, t]) },
    });
    for (let trialId = 0; trialId < 2; trialId++) await evaluator.evaluate(space.defaultDna(), signal, { trialId, attempt: 1 });
    assert.equal(told.length, 0, `nothing said before ${MIN_SEEN} measurements (start ${startMs})`);
    for (let trialId = 2; trialId < 5; trialId++) await evaluator.evaluate(space.defaultDna(), signal, { trialId, attempt: 1 });
    if (!expectCall) {
      assert.equal(told.length, 0, `start ${startMs}`);
      continue;
    }
    assert.equal(told.length, 1, `told once (start ${startMs})`);
    assert.equal(told[0]![0], startMs);
    assert.ok(told[0]![1] >= 0.149 && told[0]![1] <= 0.151, `the trials' fast speed, got ${told[0]![1]}`);
  }
});
