import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MeasureProtocol } from '../device.js';
import { ConvergenceTracker, resolveProtocol } from '../protocol.js';
import { JobMeasurement } from './job-measurement.js';
import { DEFAULT_TIMING_BOUNDS } from './plausibility.js';

// the median, so that a dozen runs can settle a job (the 10th percentile needs 36)
const QUICK = resolveProtocol({ warmupRuns: 1, warmupSeconds: 0, minRuns: 10, minSeconds: 0, maxRuns: 200, relPrecision: 0.05, maxSeconds: 30, quantile: 0.5 });

function measurement(protocol: MeasureProtocol = QUICK, innerRepeats = 1): JobMeasurement {
  return new JobMeasurement(protocol, DEFAULT_TIMING_BOUNDS, 12, innerRepeats, 0);
}

test('stops once the median is precise, counts nothing after, and the statistics are the protocol outcome', () => {
  const m = measurement(QUICK, 4);
  const times = [1, 1.01, 0.99, 1, 1.02, 0.98, 1, 1.01, 0.99, 1, 1, 1.01];
  assert.deepEqual(m.addRuns(times, 1000), { stopNow: true });
  assert.deepEqual(m.addRuns([50, 50, 50], 1000), { stopNow: false }, 'after the stopping point: not counted, no second stop');
  const done = m.finish('stopped');
  assert.equal(done.kind, 'measured');
  if (done.kind !== 'measured') return;
  // the same runs through the protocol's own tracker, on the page's clock (ms of counted inferences)
  const reference = new ConvergenceTracker(QUICK, 0);
  let clock = 0;
  let stop = null;
  for (const t of times) {
    clock += t * 4;
    stop = reference.push(t, clock);
    if (stop) break;
  }
  assert.equal(stop, 'converged');
  assert.deepEqual(done.stats, reference.outcome('converged', clock / 1000));
  assert.equal(done.stats.runs, 10);
  assert.equal(done.stats.median_ms, 1);
  assert.deepEqual(done.times, times.slice(0, 10));
  assert.equal(m.loadMs, 12);
  assert.equal(m.innerRepeats, 4);
});

test('a cap without precision reports the cap and converged=false', () => {
  const m = measurement({ ...QUICK, maxRuns: 12, relPrecision: 0.001 });
  assert.deepEqual(m.addRuns([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 1000), { stopNow: true });
  const done = m.finish('maxRuns');
  assert.ok(done.kind === 'measured');
  assert.equal(done.stats.stop, 'max_runs');
  assert.equal(done.stats.converged, false);
  assert.equal(done.stats.median_ms, 6.5);
});

test('the page stopping on its own: its cap, unless the interval over every run is precise enough', () => {
  // minSeconds keeps the tracker from checking while the runs arrive
  const slowToCheck = { ...QUICK, minSeconds: 10 };
  const noisy = measurement(slowToCheck);
  noisy.addRuns([1, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 3], 1000);
  const capped = noisy.finish('maxSeconds');
  assert.ok(capped.kind === 'measured');
  assert.equal(capped.stats.stop, 'max_seconds');
  assert.equal(capped.stats.converged, false);
  const steady = measurement(slowToCheck);
  assert.deepEqual(steady.addRuns(Array(20).fill(2), 1000), { stopNow: false });
  const done = steady.finish('maxRuns');
  assert.ok(done.kind === 'measured');
  assert.equal(done.stats.stop, 'converged');
  assert.equal(done.stats.converged, true);
  assert.equal(done.stats.rel_half_width, 0);
});

test('implausible: a single time, the page clock, and the spread of the whole job', () => {
  assert.match(measurement().addRuns([1, 1e-300], 1000).implausible ?? '', /below the physical floor/);
  assert.match(measurement().addRuns(Array(10).fill(1000), 100).implausible ?? '', /timed runs add up to 10000 ms but only 100 ms passed/);
  const spread = measurement({ ...QUICK, relPrecision: 0.9 });
  spread.addRuns([2, 2, 2, 2, 2, 2, 2, 2, 2, 0.01], 1000);
  const done = spread.finish('stopped');
  assert.equal(done.kind, 'implausible');
  assert.match(done.kind === 'implausible' ? done.reason : '', /inconsistent samples: fastest 0\.01 ms/);
});

test('a batch with more inferences per sample (the page grew it) counts them on the clock and in the result', () => {
  const m = measurement({ ...QUICK, relPrecision: 0.001 }, 2);
  const noisy = Array.from({ length: 10 }, (_, i) => (i % 2 ? 15 : 5));
  assert.deepEqual(m.addRuns(noisy, 1e9), { stopNow: false });
  // 10 samples of 2 x 10 ms on average, then 10 of 100 x 10 ms: 10.2 s of timed runs on the page, not the 0.4 s the loaded count gives
  assert.match(m.addRuns(noisy, 5000, 100).implausible ?? '', /timed runs add up to 10200 ms but only 5000 ms passed/);
  const grown = measurement({ ...QUICK, relPrecision: 0.001 }, 2);
  grown.addRuns([1, 3], 1e9);
  grown.addRuns([1, 3], 1e9, 50);
  assert.equal(grown.innerRepeats, 50);
  const done = grown.finish('maxSeconds');
  assert.ok(done.kind === 'measured');
  assert.equal(done.stats.seconds, (4 * 2 + 4 * 50) / 1000);
});

test('no timed runs: nothing to report', () => {
  assert.deepEqual(measurement().finish('stopped'), { kind: 'no-runs' });
});
