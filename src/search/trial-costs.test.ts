import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeTrialCosts, trialCosts } from './trial-costs.js';

const trained = (finishedAt: string, trialS: number, o: { cpu?: number; held?: number; latencyMs?: number } = {}) => ({
  status: 'done' as const,
  reusedFrom: null,
  finishedAt,
  timings: { trial_s: trialS, train_ms: 1000 * trialS + 5, ...(o.held !== undefined ? { held_s: o.held } : {}), ...(o.latencyMs !== undefined ? { latency_ms: o.latencyMs } : {}) },
  extra: { memory: o.cpu !== undefined ? { cpu_s: o.cpu, system_s: 0.1 } : null },
});

describe('trialCosts', () => {
  const trials = [
    trained('2026-12-06T00:00:10.000Z', 10, { cpu: 9, held: 0.5, latencyMs: 1500 }),
    trained('2026-12-06T00:00:30.000Z', 14, { cpu: 12, held: 1.5, latencyMs: 500 }),
    // reused: its timings are the original's, it did not train again
    { ...trained('2026-12-06T00:00:40.000Z', 99, { cpu: 99, held: 9, latencyMs: 9000 }), reusedFrom: 1 },
    // failed or skipped as slower than T: nothing to count
    { status: 'failed' as const, reusedFrom: null, finishedAt: '2026-12-06T00:00:50.000Z', timings: { latency_ms: 700, skipped_latency_ms: 3 }, extra: null },
    // pending
    { status: 'pending' as const, reusedFrom: null, finishedAt: null, timings: null, extra: null },
  ];

  it('averages the training process time, its CPU and held seconds and the latency seconds over the trials that trained', () => {
    assert.deepEqual(trialCosts(trials), { trained: 2, trial_s: 12, cpu_s: 10.5, held_s: 1, latency_s: 1 });
  });

  it('counts only the trials finished since a session began', () => {
    assert.deepEqual(trialCosts(trials, new Date('2026-12-06T00:00:20.000Z')), { trained: 1, trial_s: 14, cpu_s: 12, held_s: 1.5, latency_s: 0.5 });
  });

  it('says null for what no trial recorded (runs of older versions) and for a session that trained nothing', () => {
    assert.deepEqual(trialCosts([trained('2026-12-06T00:00:10.000Z', 8)]), { trained: 1, trial_s: 8, cpu_s: null, held_s: null, latency_s: null });
    assert.equal(trialCosts(trials, new Date('2026-12-06T01:00:00.000Z')), null);
    assert.equal(trialCosts([]), null);
  });
});

describe('describeTrialCosts', () => {
  it('says where a trained trial went on average, leaving out what was not recorded', () => {
    assert.equal(
      describeTrialCosts({ trained: 60, trial_s: 26.71, cpu_s: 21.6, held_s: 4.96, latency_s: 3.31 }),
      'per trained trial (mean of 60): 26.7 s training (21.6 CPU s, 5.0 s held while latency was measured), 3.3 s for its latency (waiting for the machine included)',
    );
    assert.equal(describeTrialCosts({ trained: 2, trial_s: 8, cpu_s: null, held_s: null, latency_s: null }), 'per trained trial (mean of 2): 8.0 s training');
    assert.equal(describeTrialCosts({ trained: 2, trial_s: 8, cpu_s: 7.5, held_s: null, latency_s: 0.4 }), 'per trained trial (mean of 2): 8.0 s training (7.5 CPU s), 0.4 s for its latency (waiting for the machine included)');
  });
});
