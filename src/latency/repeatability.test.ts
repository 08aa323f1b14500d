import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArch } from '../space/arch-string.js';
import type { MeasuredArch } from './predictor.js';
import { repeatability } from './repeatability.js';

const arch = parseArch('in8x8x1_cls2_stem4s1_head8:r1_k3_s11_e1_i4_o8');
const interleaved = (ratio: number, referenceMs: number): MeasuredArch => ({ arch, measured_ms: ratio * 0.2, converged: true, ratio, raw_ms: ratio * referenceMs, reference_ms: referenceMs });

test('repeatability compares ratios, and sorts the pairs by whether the reference ran at the same speed both times', () => {
  const first = [interleaved(1, 0.2), interleaved(2, 0.2), interleaved(1.5, 0.2), interleaved(0.5, 0.2)];
  // +2% and -4% at the same speed (reference 0.2 -> 0.21); +12% and +6% after the machine slowed by 40%
  const second = [interleaved(1.02, 0.21), interleaved(1.92, 0.2), interleaved(1.68, 0.28), interleaved(0.53, 0.28)];
  const r = repeatability(first, second);
  assert.equal(r.models, 4);
  assert.equal(r.within_5pct, 0.5);
  assert.equal(r.within_10pct, 0.75);
  assert.ok(Math.abs(r.median_abs_pct_diff - 5) < 1e-9, `median of 2, 4, 6, 12: ${r.median_abs_pct_diff}`);
  assert.ok(Math.abs(r.max_abs_pct_diff - 12) < 1e-9);
  assert.equal(r.same_speed?.models, 2);
  assert.equal(r.same_speed?.within_5pct, 1);
  assert.equal(r.different_speed?.models, 2);
  assert.equal(r.different_speed?.within_10pct, 0.5);
  assert.deepEqual(r.reference_ms_range, [0.2, 0.28]);
  // the milliseconds moved with the machine; the ratios are what is compared
  assert.ok(r.max_abs_pct_diff < 40);
});

test('repeatability of measurements without a reference compares milliseconds and has no speed split', () => {
  const own = (ms: number): MeasuredArch => ({ arch, measured_ms: ms, converged: true });
  const r = repeatability([own(0.1), own(0.2)], [own(0.1), own(0.23)]);
  assert.equal(r.within_10pct, 0.5);
  assert.ok(Math.abs(r.max_abs_pct_diff - 15) < 1e-9);
  assert.equal(r.same_speed, undefined);
  assert.equal(r.reference_ms_range, undefined);
  assert.throws(() => repeatability([own(0.1)], []), /1 first measurements against 0 second ones/);
});
