import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { summarizeScale, type ScaleRow } from './distributed-scale.js';

const row = (round: number, processes: number, perHour: number, ratio: number): ScaleRow => ({ round, processes, trials: 16, seconds: 3600 * (16 / perHour), trials_per_hour: perHour, ratio, load: 0 });

describe('summarizeScale', () => {
  it('gives medians per process count over alternating rounds, and both ratios', () => {
    const rows = [row(1, 1, 300, 1), row(1, 2, 570, 1.9), row(2, 1, 280, 1), row(2, 2, 700, 2.5), row(3, 1, 320, 1), row(3, 2, 560, 1.75)];
    assert.deepEqual(summarizeScale(rows), [
      { processes: 1, runs: 3, median_trials_per_hour: 300, ratio_of_medians: 1, median_ratio: 1 },
      { processes: 2, runs: 3, median_trials_per_hour: 570, ratio_of_medians: 1.9, median_ratio: 1.9 },
    ]);
  });
});
