import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeviceDescription, LatencyDevice, LatencyModel, LatencyResult } from '../latency/device.js';
import { buildPlan, type NetworkPlan } from '../model/plan.js';
import { getSpace } from '../space/space.js';
import type { ProxyTrainer, ProxyTrial, ProxyTrialResult } from './proxy-trainer.js';
import { TrainEvaluator } from './train-evaluator.js';

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
      return { median_ms: 2, p10_ms: 2, p90_ms: 2, mean_ms: 2, cv: 0, runs: 10, converged: true, seconds: 0.01, device: DEVICE };
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
