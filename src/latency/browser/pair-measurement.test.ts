import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interleavedProtocol, MIN_PAIRS } from '../interleaved.js';
import { PairMeasurement } from './pair-measurement.js';
import { DEFAULT_TIMING_BOUNDS } from './plausibility.js';

const make = (sentAtMs = 0) => new PairMeasurement(interleavedProtocol({ minSeconds: 0, maxSeconds: 30 }), DEFAULT_TIMING_BOUNDS, 3, 1, { loadMs: 4, innerRepeats: 1 }, sentAtMs);

test('pairs of blocks give the median ratio of their blocks\' p10s once the interleaved protocol is satisfied; pairs after stop are not counted', () => {
  const m = make();
  let stop = false;
  let sent = 0;
  while (!stop) {
    stop = m.addPair([2, 2.02, 1.98], [1, 1, 1], 1e9).stopNow;
    sent++;
  }
  assert.equal(sent, MIN_PAIRS, 'identical pairs converge at the first check');
  assert.deepEqual(m.addPair([50, 50, 50], [1, 1, 1], 1e9), { stopNow: false });
  const v = m.finish('stopped');
  assert.equal(v.kind, 'measured');
  if (v.kind !== 'measured') return;
  assert.ok(Math.abs((v.pair?.ratio ?? 0) - 1.984) < 1e-12, `ratio ${v.pair?.ratio}: the p10 of 1.98, 2 and 2.02 over 1`);
  assert.equal(v.pair?.pairs, MIN_PAIRS);
  assert.equal(v.stats.stop, 'converged');
  assert.equal(v.times.length, 3 * MIN_PAIRS);
  assert.deepEqual([v.pair?.referenceLoadMs, v.pair?.referenceInnerRepeats], [4, 1]);
});

test('pairs whose samples hold more inferences (the page grew them) count them on the clock and in the result', () => {
  assert.deepEqual(make(0).addPair([100], [100], 500), { stopNow: false }, '200 ms of timed runs in 500 ms');
  assert.match(make(0).addPair([100], [100], 500, { model: 20, reference: 3 }).implausible ?? '', /timed runs add up to 2300 ms but only 500 ms passed/);
  const m = make();
  m.addPair([1, 1, 1], [2, 2, 2], 1e9, { model: 6, reference: 7 });
  const v = m.finish('maxSeconds');
  assert.ok(v.kind === 'measured');
  assert.equal(m.innerRepeats, 6);
  assert.equal(v.pair?.referenceInnerRepeats, 7);
});

test('a page clock ahead of the wall clock, a bad sample, inconsistent samples and no pairs are each named', () => {
  assert.match(make(0).addPair([900], [900], 500).implausible ?? '', /timed runs add up to 1800 ms but only 500 ms passed/);
  assert.match(make().addPair([1], [Number.NaN], 1e9).implausible ?? '', /run time NaN is not a finite number/);
  const m = make();
  m.addPair([1, 1, 1], [1, 1, 1], 1e9);
  m.addPair([0.01, 1, 1], [1, 1, 1], 1e9);
  assert.deepEqual(m.finish('maxSeconds'), { kind: 'implausible', reason: 'inconsistent samples: fastest 0.01 ms is more than 20x below the median 1 ms' });
  assert.deepEqual(make().finish('maxSeconds'), { kind: 'no-runs' });
  const capped = make();
  capped.addPair([1, 1, 1], [2, 2, 2], 1e9);
  const v = capped.finish('maxRuns');
  assert.equal(v.kind === 'measured' && v.stats.stop, 'max_runs');
});
