import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../util/rng.js';
import { foldConvBn, foldLinearBn } from './fold.js';
import * as ref from './reference-ops.js';

describe('batch-norm folding', () => {
  for (const [label, cin, cout, k, group, stride, withBias] of [
    ['regular 3x3 conv with bias', 6, 10, 3, 1, 1, true],
    ['depthwise 5x5 stride 2 without bias', 12, 12, 5, 12, 2, false],
    ['grouped 1x1 conv', 8, 4, 1, 2, 1, true],
  ] as const) {
    it(`conv -> BN equals the folded conv (${label})`, () => {
      const rng = new Rng(100 + cin);
      const w = ref.randn(rng, [cout, cin / group, k, k], 0.5);
      const b = withBias ? ref.randn(rng, [cout], 0.2).data : undefined;
      const bn = ref.randomBn(rng, cout, 1e-5);
      const x = ref.randn(rng, [2, cin, 9, 9]);
      const pad = (k - 1) >> 1;
      const p = { strides: [stride, stride] as [number, number], pads: [pad, pad, pad, pad] as [number, number, number, number], group };
      const expected = ref.batchNorm(ref.conv2d(x, w, b, p), bn);
      const folded = foldConvBn(w, b, bn);
      assert.deepEqual(folded.weight.shape, w.shape);
      assert.equal(folded.bias.length, cout);
      const got = ref.conv2d(x, folded.weight, folded.bias, p);
      const diff = ref.maxAbsDiff(got.data, expected.data);
      assert.ok(diff < 1e-4, `max abs diff ${diff}`);
    });
  }

  it('matches the closed form per output channel', () => {
    const w = { data: new Float32Array([1, 2, 3, 4]), shape: [2, 2, 1, 1] };
    const bn = { gamma: new Float32Array([2, 0.5]), beta: new Float32Array([1, -1]), runningMean: new Float32Array([0.5, 2]), runningVar: new Float32Array([3, 0.25]), eps: 1 };
    const f = foldConvBn(w, new Float32Array([1, 0]), bn);
    // channel 0: s = 2 / sqrt(4) = 1; channel 1: s = 0.5 / sqrt(1.25)
    const s1 = 0.5 / Math.sqrt(1.25);
    assert.deepEqual([...f.weight.data], [1, 2, Math.fround(3 * s1), Math.fround(4 * s1)]);
    assert.deepEqual([...f.bias], [1 + (1 - 0.5) * 1, Math.fround(-1 + (0 - 2) * s1)]);
    // inputs are not modified
    assert.deepEqual([...w.data], [1, 2, 3, 4]);
  });

  it('linear -> BN1d equals the folded linear', () => {
    const rng = new Rng(7);
    const w = ref.randn(rng, [5, 9], 0.4);
    const b = ref.randn(rng, [5], 0.2).data;
    const bn = ref.randomBn(rng, 5);
    const x = ref.randn(rng, [3, 9]);
    const expected = ref.batchNorm(ref.linear(x, w, b), bn);
    const folded = foldLinearBn(w, b, bn);
    const diff = ref.maxAbsDiff(ref.linear(x, folded.weight, folded.bias).data, expected.data);
    assert.ok(diff < 1e-4, `max abs diff ${diff}`);
    const noBias = foldLinearBn(w, undefined, bn);
    const diff2 = ref.maxAbsDiff(ref.linear(x, noBias.weight, noBias.bias).data, ref.batchNorm(ref.linear(x, w), bn).data);
    assert.ok(diff2 < 1e-4, `max abs diff ${diff2}`);
  });

  it('reports mismatched parameter lengths and bad layouts', () => {
    const rng = new Rng(8);
    const w = ref.randn(rng, [4, 2, 3, 3]);
    const bn = ref.randomBn(rng, 4);
    assert.throws(() => foldConvBn(w, undefined, { ...bn, gamma: new Float32Array(3) }), /foldConvBn: gamma has 3 values, expected 4/);
    assert.throws(() => foldConvBn(w, new Float32Array(5), bn), /bias has 5 values, expected 4/);
    assert.throws(() => foldConvBn({ data: w.data, shape: [4, 18] }, undefined, bn), /must be OIHW/);
    assert.throws(() => foldLinearBn(w, undefined, bn), /foldLinearBn: linear weight must be \[out, in\]/);
    assert.throws(() => foldConvBn(w, undefined, { ...bn, runningVar: new Float32Array([1, 1, 0, 1]), eps: 0 }), /must be positive, got 0 at channel 2/);
  });
});
