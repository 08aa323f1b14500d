import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeReward, rewardConfig, parseRewardConfig, FAILED_TRIAL_REWARD } from './reward.js';

test('soft constraint: 2x latency needs ~5% relative accuracy to tie', () => {
  const c = rewardConfig('soft', 75);
  assert.equal(computeReward(c, 0.8, 75), 0.8);
  const slow = computeReward(c, 0.8 * 1.0497, 150);
  assert.ok(Math.abs(slow - 0.8) < 1e-4, `${slow}`);
  // faster than the target is rewarded under the soft constraint
  assert.ok(computeReward(c, 0.8, 50) > 0.8);
});

test('hard constraint: flat below target, 1/LAT above', () => {
  const c = rewardConfig('hard', 75);
  assert.deepEqual([c.alpha, c.beta], [0, -1]);
  assert.equal(computeReward(c, 0.7, 10), 0.7);
  assert.equal(computeReward(c, 0.7, 75), 0.7);
  assert.ok(Math.abs(computeReward(c, 0.7, 150) - 0.35) < 1e-12);
});

test('custom preset and validation', () => {
  const c = rewardConfig('custom', 20, { alpha: -0.1, beta: -0.5 });
  assert.ok(Math.abs(computeReward(c, 0.5, 40) - 0.5 * Math.pow(2, -0.5)) < 1e-12);
  assert.ok(Math.abs(computeReward(c, 0.5, 10) - 0.5 * Math.pow(0.5, -0.1)) < 1e-12);
  assert.throws(() => rewardConfig('custom', 20, { alpha: -0.1 }), /beta/);
  assert.throws(() => rewardConfig('soft', 20, { alpha: -0.1 }), /custom/);
  assert.throws(() => rewardConfig('soft', 0), /targetMs/);
  assert.throws(() => rewardConfig('soft', -1), /targetMs/);
  assert.throws(() => computeReward(c, 1.01, 10), /accuracy/);
  assert.throws(() => computeReward(c, -0.01, 10), /accuracy/);
  assert.throws(() => computeReward(c, Number.NaN, 10), /accuracy/);
  assert.throws(() => computeReward(c, 0.5, 0), /latencyMs/);
  assert.throws(() => computeReward(c, 0.5, Infinity), /latencyMs/);
  assert.equal(computeReward(c, 0, 10), 0);
});

test('parseRewardConfig round-trips and rejects inconsistent presets', () => {
  const c = rewardConfig('hard', 30);
  assert.deepEqual(parseRewardConfig(JSON.parse(JSON.stringify(c))), c);
  assert.throws(() => parseRewardConfig({ ...c, beta: -2 }), /preset 'hard'/);
  assert.throws(() => parseRewardConfig({ ...c, extra: 1 }));
});

test('failed trials get the lowest valid reward', () => {
  assert.equal(FAILED_TRIAL_REWARD, 0);
});
