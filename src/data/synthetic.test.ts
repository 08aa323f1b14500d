import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSyntheticDataset, syntheticClassPattern } from './synthetic.js';
import { classHistogram, type Dataset } from './dataset.js';

test('same seed gives identical data, other seeds differ; classes are balanced', () => {
  const a = makeSyntheticDataset({ seed: 5, trainCount: 200, testCount: 50 });
  const b = makeSyntheticDataset({ seed: 5, trainCount: 200, testCount: 50 });
  const c = makeSyntheticDataset({ seed: 6, trainCount: 200, testCount: 50 });
  assert.deepEqual(a.train.images, b.train.images);
  assert.deepEqual(a.test.labels, b.test.labels);
  assert.notDeepEqual(a.train.images, c.train.images);
  assert.deepEqual(classHistogram(a.train), new Array(10).fill(20));
  assert.deepEqual(classHistogram(a.test), new Array(10).fill(5));
  assert.equal(a.train.allowsHorizontalFlip, false);
  assert.deepEqual(a.test.mean, a.train.mean);
});

test('shapes: 28x28x1 by default, 32x32x3 on request; bad options are errors', () => {
  const gray = makeSyntheticDataset({ trainCount: 10, testCount: 10 }).train;
  assert.deepEqual([gray.height, gray.width, gray.channels, gray.images.length], [28, 28, 1, 10 * 784]);
  const rgb = makeSyntheticDataset({ trainCount: 10, testCount: 10, shape: '32x32x3' }).train;
  assert.deepEqual([rgb.height, rgb.width, rgb.channels, rgb.images.length], [32, 32, 3, 10 * 3072]);
  assert.equal(rgb.mean.length, 3);
  assert.throws(() => makeSyntheticDataset({ trainCount: 0 }), /synthetic\.ts: trainCount must be a positive integer, got 0/);
  assert.throws(() => makeSyntheticDataset({ shape: '8x8x8' as never }), /synthetic\.ts: unknown shape "8x8x8"/);
  assert.throws(() => makeSyntheticDataset({ noise: -1 }), /noise must be >= 0/);
});

/**
 * Log quadrature energy of each class's 7x7 Gabor filter, summed over the image: what one conv
 * layer + square + global pooling computes, i.e. something a small CNN can learn.
 */
function gaborEnergies(data: Dataset, n: number): number[] {
  const { height: H, width: W, channels: C } = data;
  return Array.from({ length: 10 }, (_, k) => {
    const { angle, period } = syntheticClassPattern(k);
    const kx = (2 * Math.PI * Math.cos(angle)) / period, ky = (2 * Math.PI * Math.sin(angle)) / period;
    let energy = 0;
    for (let y = 3; y < H - 3; y += 3) for (let x = 3; x < W - 3; x += 3) {
      let re = 0, im = 0;
      for (let dy = -3; dy <= 3; dy++) for (let dx = -3; dx <= 3; dx++) {
        let v = 0;
        for (let c = 0; c < C; c++) v += data.images[((n * H + y + dy) * W + x + dx) * C + c]! - 127.5;
        const w = Math.exp(-(dx * dx + dy * dy) / 8);
        re += w * v * Math.cos(kx * dx + ky * dy);
        im += w * v * Math.sin(kx * dx + ky * dy);
      }
      energy += re * re + im * im;
    }
    return Math.log(energy);
  });
}

test('classes are separable by local oriented filters (well above the 10% chance level)', () => {
  for (const shape of ['28x28x1', '32x32x3'] as const) {
    const { train, test } = makeSyntheticDataset({ seed: 1, trainCount: 300, testCount: 300, shape });
    const centroids = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
    for (let n = 0; n < train.count; n++) gaborEnergies(train, n).forEach((v, i) => { centroids[train.labels[n]!]![i]! += v / 30; });
    let correct = 0;
    for (let n = 0; n < test.count; n++) {
      const f = gaborEnergies(test, n);
      const distances = centroids.map((cen) => cen.reduce((s, v, i) => s + (v - f[i]!) ** 2, 0));
      if (distances.indexOf(Math.min(...distances)) === test.labels[n]) correct++;
    }
    assert.ok(correct / test.count > 0.8, `${shape}: accuracy ${correct / test.count}`);
  }
});
