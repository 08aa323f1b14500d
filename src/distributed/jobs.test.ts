import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measureJobId, MeasureJobSchema, trainJobId, TrainJobSchema, TrainOutcomeSchema, type MeasureJob } from './jobs.js';

const settings = { dataset: { name: 'synthetic', validationImages: 100 }, images: 100, epochs: 1, threads: 1, splitSeed: 0 };

test('train jobs are plain data checked on receipt: unknown keys and bad values are refused', () => {
  const job = { runId: 'abcdefgh12', trialId: 3, arch: 'fmnist-default', seed: 3, settings, datasetChecksum: 'a'.repeat(64) };
  assert.equal(TrainJobSchema.safeParse(job).success, true);
  const { datasetChecksum: _, ...withoutChecksum } = job;
  assert.equal(TrainJobSchema.safeParse(withoutChecksum).success, false, 'the dataset checksum is required');
  assert.equal(TrainJobSchema.safeParse({ ...job, datasetChecksum: 'not-a-sha256' }).success, false);
  assert.equal(TrainJobSchema.safeParse({ ...job, code: 'process.exit()' }).success, false, 'unknown key');
  assert.equal(TrainJobSchema.safeParse({ ...job, trialId: -1 }).success, false);
  assert.equal(TrainJobSchema.safeParse({ ...job, runId: 'a:b' }).success, false, 'no ":" in ids');
  assert.equal(TrainJobSchema.safeParse({ ...job, settings: { ...settings, dataset: { ...settings.dataset, loader: 'x.js' } } }).success, false, 'unknown dataset key');
  assert.equal(TrainJobSchema.safeParse({ ...job, settings: { ...settings, dataset: { ...settings.dataset, validationImages: 0 } } }).success, false);
  assert.equal(TrainOutcomeSchema.safeParse({ status: 'done', valAccuracy: 1.5, valLoss: 0, epochLoss: [], trainImagesPerSecond: 1, seconds: 1, memory: {}, worker: 'w' }).success, false);
});

test('job ids come from the run and the trial (or the measured architecture) and the submission; never twice the same for different work', () => {
  assert.equal(trainJobId('run12345', 7, 1), 'run12345.train.7.1');
  assert.notEqual(trainJobId('run12345', 7, 2), trainJobId('run12345', 7, 1));
  const m: MeasureJob = { type: 'measure', runId: 'run12345', device: { kind: 'ort-cpu', threads: 1, joinTimeoutS: 60 }, arch: 'fmnist-default', layers: { from: 0, to: 10 }, seed: 0, name: 'trial' };
  assert.equal(MeasureJobSchema.safeParse(m).success, true);
  assert.equal(measureJobId(m, 1), measureJobId({ ...m, name: 'another name' }, 1), 'the same measurement, the same job');
  assert.notEqual(measureJobId(m, 1), measureJobId({ ...m, device: { ...m.device, threads: 2 } }, 1));
  assert.notEqual(measureJobId(m, 1), measureJobId({ ...m, arch: 'cifar-default' }, 1));
  assert.notEqual(measureJobId(m, 1), measureJobId({ ...m, layers: { from: 2, to: 3 } }, 1));
  for (const id of [trainJobId('run12345', 0, 1), measureJobId(m, 3)]) assert.doesNotMatch(id, /:/);
});
