import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareWithMnas, summarizeSide, type ProxyBenchSide, type TrialRow } from './proxy-trials.js';

const row = (seconds: number, minorFaults = 100): TrialRow => ({ arch: 'a', seconds, val_accuracy: 0.7, minor_faults: minorFaults, system_s: 0.1, peak_rss_mb: 500, status: 'done' });

test('a side trials per hour is its throughput over all its trials, not 3600 over the median', () => {
  // a skewed side: the median trial (10 s) says 360/h, the 3 trials' 130 s say about 83/h
  const s = summarizeSide('pytorch', [row(10), row(10), row(110)]);
  assert.equal(s.median_s, 10);
  assert.equal(s.total_s, 130);
  assert.equal(s.trials_per_hour, (3 * 3600) / 130);
});

test('mnas against another side: ratio of totals, median of per-architecture ratios, fault ratio', () => {
  const rows = new Map<ProxyBenchSide, TrialRow[]>([
    ['mnas', [row(5, 1000), row(5, 1000), row(10, 2000)]],
    ['pytorch', [row(10, 1e6), row(15, 2e6), row(75, 4e5)]],
  ]);
  const c = compareWithMnas(rows);
  assert.equal(c.speedup_vs['pytorch'], 3); // ratios 2, 3 and 7.5
  assert.equal(c.throughput_vs['pytorch'], 100 / 20);
  assert.equal(c.fault_ratio_vs['pytorch'], 1000); // 1000, 2000 and 200
});

test('no comparison without an mnas side, and sides of different lengths are refused', () => {
  assert.deepEqual(compareWithMnas(new Map([['pytorch', [row(1)]]])), { speedup_vs: {}, throughput_vs: {}, fault_ratio_vs: {} });
  assert.throws(() => compareWithMnas(new Map([['mnas', [row(1), row(2)]], ['pytorch', [row(1)]]])), /pytorch ran 1 trials, mnas 2/);
});
