import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { summarizeScale, trainingSeconds, type ScaleRow } from './distributed-scale.js';

const row = (round: number, processes: number, perHour: number, ratio: number, trainSeconds = 10, busy = 0.9, cpuSeconds = 9): ScaleRow => ({
  round,
  processes,
  trials: 16,
  seconds: 3600 * (16 / perHour),
  trials_per_hour: perHour,
  ratio,
  load: 0,
  train_seconds_per_trial: trainSeconds,
  held_seconds_per_trial: 0.5,
  busy,
  cpu_seconds_per_trial: cpuSeconds,
  gate_seconds_per_trial: 0.1 * processes,
});

describe('summarizeScale', () => {
  it('gives medians per process count over alternating rounds, both ratios, the contention in wall and CPU seconds and the busy share', () => {
    const rows = [row(1, 1, 300, 1, 10, 0.95, 8), row(1, 2, 570, 1.9, 11, 0.9, 13), row(2, 1, 280, 1, 12, 0.94, 12), row(2, 2, 700, 2.5, 10.5, 0.85, 11), row(3, 1, 320, 1, 11, 0.96, 10), row(3, 2, 560, 1.75, 12.1, 0.88, 12)];
    assert.deepEqual(summarizeScale(rows), [
      { processes: 1, runs: 3, median_trials_per_hour: 300, ratio_of_medians: 1, median_ratio: 1, median_train_seconds_per_trial: 11, contention: 1, median_busy: 0.95, median_cpu_seconds_per_trial: 10, cpu_contention: 1, median_gate_seconds_per_trial: 0.1 },
      { processes: 2, runs: 3, median_trials_per_hour: 570, ratio_of_medians: 1.9, median_ratio: 1.9, median_train_seconds_per_trial: 11, contention: 1, median_busy: 0.88, median_cpu_seconds_per_trial: 12, cpu_contention: 1.2, median_gate_seconds_per_trial: 0.2 },
    ]);
  });
});

describe('trainingSeconds', () => {
  it('adds up the jobs and the parts of their worker pauses that fall inside them', () => {
    const timelines = [
      // a pause inside the job, one straddling its start, one after it
      { start: 1000, end: 11_000, paused: [{ start: 2000, end: 2500 }, { start: 500, end: 1200 }, { start: 11_000, end: 11_400 }] },
      { start: 5000, end: 9000 },
      { start: 6000, end: 8000, paused: [] },
    ];
    const { ran, paused } = trainingSeconds(timelines);
    assert.equal(ran, 16);
    assert.ok(Math.abs(paused - 0.7) < 1e-12, `paused ${paused}`);
  });

  it('is zero for no jobs', () => {
    assert.deepEqual(trainingSeconds([]), { ran: 0, paused: 0 });
  });
});
