import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng.js';
import { augmentBatchReference, defaultAugmentation, NO_AUGMENTATION, planAugmentation, type AugmentationDecisions, type ImageSource } from './augmentation.js';

/** Two 3x4 images with 2 channels; byte at (n, y, x, c) = n*100 + y*10 + x + c*50. */
const H = 3, W = 4, C = 2;
const source: ImageSource = {
  images: Uint8Array.from({ length: 2 * H * W * C }, (_, i) => {
    const c = i % C, x = Math.floor(i / C) % W, y = Math.floor(i / (C * W)) % H, n = Math.floor(i / (C * W * H));
    return n * 100 + y * 10 + x + c * 50;
  }),
  count: 2, height: H, width: W, channels: C, mean: [0.1, 0.2], std: [0.5, 0.25],
};
const norm = (byte: number, c: number) => (byte / 255 - source.mean[c]!) / source.std[c]!;
const byteAt = (n: number, y: number, x: number, c: number) => n * 100 + y * 10 + x + c * 50;

function decisions(padding: number, cropY: number[], cropX: number[], flip: number[]): AugmentationDecisions {
  return { count: cropY.length, padding, cropY: Uint8Array.from(cropY), cropX: Uint8Array.from(cropX), flip: Uint8Array.from(flip) };
}

function expectClose(actual: Float32Array, expected: number[]): void {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i]! - e) < 1e-5, `element ${i}: ${actual[i]} vs ${e}`));
}

test('without decisions: normalized NCHW of the chosen samples, in index order', () => {
  const out = augmentBatchReference(source, new Int32Array([1, 0]));
  const expected: number[] = [];
  for (const n of [1, 0]) for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) expected.push(norm(byteAt(n, y, x, c), c));
  expectClose(out, expected);
});

test('crop offsets shift the image and pad with black (byte 0 before normalization)', () => {
  // padding 1, offsets (2, 0): out(y, x) = src(y + 1, x - 1)
  const out = augmentBatchReference(source, new Int32Array([0]), decisions(1, [2], [0], [0]));
  const expected: number[] = [];
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const sy = y + 1, sx = x - 1;
    expected.push(norm(sy < H && sx >= 0 ? byteAt(0, sy, sx, c) : 0, c));
  }
  expectClose(out, expected);
  // offsets equal to the padding leave the image unchanged
  expectClose(augmentBatchReference(source, new Int32Array([0]), decisions(3, [3], [3], [0])), [...augmentBatchReference(source, new Int32Array([0]))]);
});

test('flip mirrors after cropping: out(y, x) = cropped(y, W-1-x)', () => {
  const out = augmentBatchReference(source, new Int32Array([1]), decisions(1, [1], [2], [1]));
  const expected: number[] = [];
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const sx = W - 1 - x + 1;
    expected.push(norm(sx < W ? byteAt(1, y, sx, c) : 0, c));
  }
  expectClose(out, expected);
});

test('decision/batch size mismatch and bad indices are errors', () => {
  assert.throws(() => augmentBatchReference(source, new Int32Array([0, 1]), decisions(1, [1], [1], [0])), /augmentation\.ts: 1 augmentation decisions for a batch of 2/);
  assert.throws(() => augmentBatchReference(source, new Int32Array([2])), /index 2 out of range \[0, 2\)/);
  assert.throws(() => planAugmentation(4, { padding: 200, flip: false }, new Rng(1)), /padding must be an integer in \[0, 127\]/);
});

test('planned decisions: offsets uniform over [0, 2p], flips about half, disabled transforms are identity', () => {
  const a = planAugmentation(9000, { padding: 2, flip: true }, new Rng(5));
  const counts = new Array(5).fill(0);
  for (const v of a.cropY) counts[v]++;
  for (const c of counts) assert.ok(Math.abs(c - 1800) < 150, `offset count ${c}`);
  const flips = a.flip.reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(flips - 4500) < 200, `flips ${flips}`);
  const none = planAugmentation(10, NO_AUGMENTATION, new Rng(5));
  assert.ok(none.cropX.every((v) => v === 0) && none.flip.every((v) => v === 0));
  assert.deepEqual(planAugmentation(50, { padding: 2, flip: true }, new Rng(8)), planAugmentation(50, { padding: 2, flip: true }, new Rng(8)));
  assert.deepEqual(defaultAugmentation({ height: 28, width: 28, allowsHorizontalFlip: false }), { padding: 3, flip: false });
  assert.deepEqual(defaultAugmentation({ height: 32, width: 32, allowsHorizontalFlip: true }), { padding: 4, flip: true });
});
