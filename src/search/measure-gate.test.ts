import { test } from 'node:test';
import assert from 'node:assert/strict';
import { marginOfTable, MeasureGate } from './measure-gate.js';
import { rewardConfig } from './reward.js';

test('a candidate is measured if, at its optimistic latency, it could enter the measured front or the top-k by reward', () => {
  const gate = new MeasureGate(rewardConfig('soft', 1), 0.1, 1);
  assert.deepEqual(gate.decide(0.5, 1), { measure: true, why: 'front' }, 'the first candidate enters an empty front');
  gate.record(0.8, 1);
  assert.deepEqual(gate.decide(0.9, 2), { measure: true, why: 'front' }, 'more accurate: could enter the front');
  assert.deepEqual(gate.decide(0.7, 0.95), { measure: true, why: 'front' }, '0.95 x 0.9 = 0.855 ms: faster than the member');
  assert.equal(gate.decide(0.7, 1.2).measure, false, 'slower and less accurate even 10% faster than predicted');
  assert.equal(gate.decide(0.8, 1.12).why, 'dominated', 'equal accuracy, optimistically 1.008 ms: still slower than the member, and no better reward');
});

test('the top-k lets a dominated candidate through when its optimistic reward beats the k-th best', () => {
  const gate = new MeasureGate(rewardConfig('soft', 1), 0, 2);
  gate.record(0.8, 1); // reward 0.8
  // dominated by (0.8, 1) but only one reward is known: top-2 has room
  assert.deepEqual(gate.decide(0.79, 1.01), { measure: true, why: 'top' });
  gate.record(0.5, 0.5);
  assert.equal(gate.decide(0.5, 1.5).measure, false, 'dominated by (0.8, 1) and its reward (0.486) below both');
  assert.deepEqual(gate.decide(0.6, 1.5), { measure: true, why: 'top' }, 'dominated, but its reward (0.583) beats the second best (0.525)');
  assert.deepEqual(gate.decide(0.79, 1.01), { measure: true, why: 'top' }, 'reward ~0.789 beats the second best (0.5 x 0.5^-0.07 = 0.525)');
});

test('margin: three times the calibration error, within [5%, 50%]; 10% without calibration', () => {
  assert.equal(marginOfTable(undefined), 0.1);
  assert.equal(marginOfTable({ fit_mape: 0.01 }), 0.05);
  assert.ok(Math.abs(marginOfTable({ fit_mape: 0.04 }) - 0.12) < 1e-12);
  assert.equal(marginOfTable({ fit_mape: 0.3 }), 0.5);
  assert.throws(() => new MeasureGate(rewardConfig('soft', 1), 1, 1), /margin/);
});

test('a resumed gate starts from the measured trials of earlier sessions, not the predicted or reused ones', () => {
  const base = { dna: [0], arch: 'a', macs: null, params: null, reward: 0, extra: null, timings: null, error: null, attempts: 1, proposeEvent: 0, resultEvent: 1, createdAt: '', startedAt: '', finishedAt: '' } as const;
  const gate = new MeasureGate(rewardConfig('soft', 1), 0, 1);
  gate.seed([
    { ...base, id: 0, status: 'done', accuracy: 0.8, latencyMs: 1, latencyStats: { measured: true }, reusedFrom: null },
    { ...base, id: 1, status: 'done', accuracy: 0.95, latencyMs: 0.5, latencyStats: { measured: false }, reusedFrom: null },
    { ...base, id: 2, status: 'failed', accuracy: null, latencyMs: null, latencyStats: null, reusedFrom: null },
  ]);
  assert.equal(gate.decide(0.7, 1.1).measure, false, 'dominated by the measured trial 0');
  assert.equal(gate.decide(0.9, 0.9).why, 'front', 'the predicted trial 1 is not on the measured front');
});
