import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArch } from '../space/arch-string.js';
import { fastestOfPasses } from './fastest-pair.js';
import type { MeasuredArch } from './predictor.js';

const arch = parseArch('in28x28x1_cls10_stem8s1_head0:r1_k3_s11_e1_i8_o8');
const pair = (ratio: number, reference_ms: number): MeasuredArch => ({ arch, measured_ms: ratio * reference_ms, converged: true, ratio, reference_ms });

test('fastestOfPasses keeps, per model, the lowest ratio among the pairs taken at the fast speed, in ms at that speed', () => {
  // model 0: a spell slowed it in the first pass (the default at speed); model 1: its lower ratio came in a slow mode of the default, so the pair at speed wins
  const first = [pair(2.4, 0.1), pair(1.5, 0.1), pair(3, 0.1), pair(1, 0.1)];
  const second = [pair(2.0, 0.1), pair(1.3, 0.14), pair(3.03, 0.1), pair(1.01, 0.1)];
  const { measured, referenceMs } = fastestOfPasses([first, second]);
  assert.equal(referenceMs, 0.1);
  assert.deepEqual(measured.map((m) => m.ratio), [2.0, 1.5, 3, 1]);
  assert.deepEqual(measured.map((m) => m.reference_ms), [0.1, 0.1, 0.1, 0.1]);
  assert.ok(measured.every((m) => Math.abs(m.measured_ms - m.ratio! * 0.1) < 1e-12));
  // no pair at speed for a model: the lowest ratio of all its pairs
  const slowBoth = fastestOfPasses([[pair(2, 0.1), pair(1.2, 0.15)], [pair(2, 0.1), pair(1.1, 0.16)]]);
  assert.equal(slowBoth.measured[1]!.ratio, 1.1);
});

test('fastestOfPasses on measurements that were not interleaved keeps the lowest latency; bad input is refused', () => {
  const alone = (ms: number): MeasuredArch => ({ arch, measured_ms: ms, converged: true });
  const { measured, referenceMs } = fastestOfPasses([[alone(1), alone(2)], [alone(1.1), alone(1.8)]]);
  assert.equal(referenceMs, undefined);
  assert.deepEqual(measured.map((m) => m.measured_ms), [1, 1.8]);
  assert.deepEqual(fastestOfPasses([[alone(1)]]).measured.map((m) => m.measured_ms), [1], 'one pass: as measured');
  assert.throws(() => fastestOfPasses([]), /no passes/);
  assert.throws(() => fastestOfPasses([[alone(1)], []]), /passes of 1, 0 models/);
});
