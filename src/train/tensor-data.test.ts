import { test } from 'node:test';
import assert from 'node:assert/strict';
import { augmentBatchReference, planAugmentation, type AugmentationDecisions } from '../data/augmentation.js';
import { withStats, type Dataset } from '../data/dataset.js';
import { makeSyntheticDataset } from '../data/synthetic.js';
import { proxySplit } from './run.js';
import { TensorDataset } from './tensor-data.js';
import { liveTensors, tidy } from '../torch/index.js';
import { Rng } from '../util/rng.js';

/** Random images (every byte value occurs) with given normalization stats. */
function randomDataset(count: number, h: number, w: number, c: number, mean: number[], std: number[], seed = 1): Dataset {
  const rng = new Rng(seed);
  const images = new Uint8Array(count * h * w * c);
  for (let i = 0; i < images.length; i++) images[i] = rng.int(256);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = rng.int(10);
  return withStats({ name: `random-${h}x${w}x${c}`, images, labels, count, height: h, width: w, channels: c, classes: 10, allowsHorizontalFlip: true }, { mean, std });
}

/** The native batch (NCHW values, read back in logical order) and its labels. */
function nativeBatch(td: TensorDataset, indices: Int32Array, decisions?: AugmentationDecisions): { x: Float32Array; y: number[]; shape: readonly number[]; channelsLast: boolean } {
  return tidy(() => {
    const { x, y } = td.batch(indices, { ...(decisions ? { augmentation: decisions } : {}), memoryFormat: 'channels_last' });
    return { x: x.contiguous().toFloat32Array(), y: [...y.toInt32Array()], shape: x.shape, channelsLast: x.isContiguous('channels_last') };
  });
}

for (const [h, w, c] of [[28, 28, 1], [32, 32, 3], [7, 5, 2]] as const) {
  test(`augmentBatch reproduces augmentBatchReference's crops, flips and padding bit for bit (${h}x${w}x${c})`, () => {
    // Identity normalization (mean 0, std 1/255) makes both sides output the raw byte exactly,
    // so every pixel position (crop offset, flip, zero padding, sample index) is compared exactly
    // (IEEE equality: the native op writes the padding as the shift -0/std = -0, the reference
    // as 0 * scale + -0 = +0; the two are the same number).
    const data = randomDataset(50, h, w, c, new Array<number>(c).fill(0), new Array<number>(c).fill(1 / 255));
    const td = new TensorDataset(data);
    try {
      const rng = new Rng(7);
      for (const padding of [0, 1, 3, 4]) {
        const indices = Int32Array.from({ length: 33 }, () => rng.int(data.count));
        const decisions = planAugmentation(indices.length, { padding, flip: true }, rng);
        const got = nativeBatch(td, indices, decisions);
        const want = augmentBatchReference(data, indices, decisions);
        assert.deepEqual(got.shape, [33, c, h, w]);
        assert.ok(got.channelsLast, 'the native op writes channels_last memory');
        assert.equal(got.x.length, want.length);
        let mismatches = 0;
        for (let i = 0; i < want.length; i++) if (got.x[i] !== want[i]) mismatches++;
        assert.equal(mismatches, 0, `padding ${padding}: ${mismatches} of ${want.length} values differ`);
        assert.deepEqual(got.y, [...indices].map((i) => data.labels[i]!));
      }
      // no decisions = no augmentation
      const indices = Int32Array.from([0, 49, 3, 3]);
      assert.deepEqual([...nativeBatch(td, indices).x], [...augmentBatchReference(data, indices)]);
    } finally {
      td.dispose();
    }
  });
}

test('augmentBatch normalization: the reference formula evaluated in float32 (native), within float32 rounding of the double evaluation (reference)', () => {
  // The reference evaluates byte * (1 / (255 std)) + (-mean / std) in double and rounds once;
  // the native op rounds scale and shift to float32 and multiplies and adds in float32. Every
  // native value must equal that float32 evaluation exactly, and differ from the reference by at
  // most the float32 rounding of the two terms (2^-23 of |byte * scale| + |shift|).
  const mean = [0.2860405969887955, 0.5, 0.1];
  const std = [0.35302424451492254, 0.25, 0.3];
  const data = randomDataset(40, 12, 10, 3, mean, std, 3);
  const td = new TensorDataset(data);
  try {
    const rng = new Rng(11);
    const indices = Int32Array.from({ length: 40 }, (_, i) => i);
    const decisions = planAugmentation(indices.length, { padding: 2, flip: true }, rng);
    const got = nativeBatch(td, indices, decisions).x;
    const want = augmentBatchReference(data, indices, decisions);
    const bytes = augmentBatchReference({ ...data, mean: [0, 0, 0], std: [1 / 255, 1 / 255, 1 / 255] }, indices, decisions);
    const { height: H, width: W, channels: C } = data;
    for (let i = 0; i < want.length; i++) {
      const ch = Math.floor(i / (H * W)) % C;
      const f32 = Math.fround(Math.fround(bytes[i]! * Math.fround(1 / (255 * std[ch]!))) + Math.fround(-mean[ch]! / std[ch]!));
      assert.ok(Object.is(got[i], f32), `value ${i}: native ${got[i]} != float32 formula ${f32}`);
      const bound = 2 ** -23 * (Math.abs(bytes[i]! / (255 * std[ch]!)) + Math.abs(mean[ch]! / std[ch]!));
      assert.ok(Math.abs(got[i]! - want[i]!) <= bound, `value ${i}: native ${got[i]} vs reference ${want[i]}`);
    }
  } finally {
    td.dispose();
  }
});

test('TensorDataset: contiguous batches, labels via indexSelect, bad indices rejected, no leaks', () => {
  const { train } = makeSyntheticDataset({ seed: 2, trainCount: 200, testCount: 20 });
  const before = liveTensors();
  const td = new TensorDataset(train);
  const indices = Int32Array.from([5, 0, 199, 5]);
  tidy(() => {
    const { x, y } = td.batch(indices);
    assert.ok(x.isContiguous('contiguous'));
    assert.deepEqual(x.shape, [4, 1, 28, 28]);
    assert.equal(x.dtype, 'float32');
    assert.equal(y.dtype, 'int64');
    assert.deepEqual([...y.toInt32Array()], [...indices].map((i) => train.labels[i]!));
    assert.deepEqual([...x.toFloat32Array()], [...augmentBatchReference({ ...train, mean: [0], std: [1 / 255] }, indices)].map((b) => Math.fround(Math.fround(b * Math.fround(1 / (255 * train.std[0]!))) + Math.fround(-train.mean[0]! / train.std[0]!))));
  });
  assert.throws(() => tidy(() => td.batch(Int32Array.from([200]))), /index 200 out of range \[0, 200\)/);
  assert.throws(() => tidy(() => td.batch(Int32Array.from([-1]))), /out of range/);
  assert.throws(() => tidy(() => td.batch(new Int32Array(0))), /empty batch/);
  const decisions = planAugmentation(3, { padding: 1, flip: false }, new Rng(1));
  assert.throws(() => tidy(() => td.batch(indices, { augmentation: decisions })), /3 augmentation decisions for a batch of 4/);
  td.dispose();
  assert.equal(liveTensors(), before);
});

test('proxy split: validation is held out from the training set, disjoint from the subset, fixed across subset sizes', () => {
  const data = makeSyntheticDataset({ seed: 4, trainCount: 3000, testCount: 100 });
  const a = proxySplit(data, { subset: 1000, validationSize: 500, splitSeed: 9 });
  const b = proxySplit(data, { subset: 2000, validationSize: 500, splitSeed: 9 });
  for (const s of [a, b]) {
    assert.equal(s.pool, data.train, 'both parts index the official training set');
    assert.equal(s.test, data.test);
    assert.equal(s.validation.length, 500);
    const val = new Set(s.validation);
    assert.equal(val.size, 500);
    for (const i of s.train) assert.ok(!val.has(i), `training index ${i} is also a validation index`);
    assert.equal(new Set(s.train).size, s.train.length);
    for (const i of [...s.train, ...s.validation]) assert.ok(i >= 0 && i < data.train.count);
  }
  assert.equal(a.train.length, 1000);
  assert.equal(b.train.length, 2000);
  assert.deepEqual([...a.validation], [...b.validation], 'the validation split does not depend on the subset size');
  const c = proxySplit(data, { subset: 1000, validationSize: 500, splitSeed: 10 });
  assert.notDeepEqual([...a.validation], [...c.validation], 'another split seed gives another split');
  // default subset: 10K, or all that remain when fewer
  assert.equal(proxySplit(data, { validationSize: 500 }).train.length, 2500);
  assert.throws(() => proxySplit(data, { subset: 2600, validationSize: 500 }), /proxyTrainSize/);
});
