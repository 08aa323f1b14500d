import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settleFailures } from './failures.js';
import { rewardConfig } from './reward.js';
import type { EvalResult, Evaluator } from './evaluator.js';

const reward = rewardConfig('soft', 2);
const context = { trialId: 0, attempt: 1 };
const settled = (behave: () => Promise<EvalResult>, signal = new AbortController().signal) =>
  settleFailures({ evaluate: behave } as Evaluator, reward).evaluate([0], signal, context);

test('settleFailures: throws, unknown statuses and rejected metrics become failed results with a reason', async () => {
  assert.deepEqual(await settled(async () => { throw new Error('CUDA out of memory'); }), { status: 'failed', reason: 'evaluator threw: CUDA out of memory' });
  assert.deepEqual(await settled(async () => ({ status: 'failed', reason: '' })), { status: 'failed', reason: 'evaluator reported failure' });
  assert.deepEqual(await settled(async () => ({ status: 'weird' }) as unknown as EvalResult), { status: 'failed', reason: "evaluator returned an unknown status 'weird'" });
  const tooAccurate = await settled(async () => ({ status: 'done', accuracy: 1.5, latencyMs: 3 }));
  assert.equal(tooAccurate.status, 'failed');
  assert.match((tooAccurate as { reason: string }).reason, /^invalid metrics: computeReward: accuracy must be in \[0, 1\], got 1.5/);
  const badSkip = await settled(async () => ({ status: 'skipped', reason: 'slow', latencyMs: -1, assumedAccuracy: 0.1, timings: { export_ms: 4 } }));
  assert.deepEqual(badSkip, {
    status: 'failed',
    reason: 'invalid metrics: computeReward: latencyMs must be a finite number > 0, got -1',
    timings: { export_ms: 4, skipped_latency_ms: -1, assumed_accuracy: 0.1 },
  });
});

test('settleFailures: good results pass unchanged; an error after an abort is not a failure', async () => {
  const done: EvalResult = { status: 'done', accuracy: 0.5, latencyMs: 3, timings: { train_ms: 9 } };
  assert.equal(await settled(async () => done), done);
  const skipped: EvalResult = { status: 'skipped', reason: 'slow', latencyMs: 9, assumedAccuracy: 0.1 };
  assert.equal(await settled(async () => skipped), skipped);
  const ac = new AbortController();
  ac.abort(new Error('stop'));
  await assert.rejects(settled(async () => { throw new Error('interrupted by the abort'); }, ac.signal), /interrupted by the abort/);
});
