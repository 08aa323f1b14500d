import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyntheticProblem } from './synthetic.js';
import { rewardConfig } from './reward.js';
import { flatSpace } from './space-like.js';

const small = flatSpace([['a', 3], ['b', 2], ['c', 4], ['d', 3], ['e', 2], ['f', 3], ['g', 4], ['h', 2]]);

test('DP optimum equals exhaustive search (separable latency), several seeds and presets', () => {
  for (let seed = 0; seed < 8; seed++) {
    const p = new SyntheticProblem(small, { seed });
    for (const cfg of [rewardConfig('soft', p.suggestedTargetMs()), rewardConfig('hard', p.suggestedTargetMs(0.3)), rewardConfig('custom', p.suggestedTargetMs(0.5), { alpha: -0.2, beta: -0.8 })]) {
      const dp = p.optimum(cfg);
      const ex = p.optimumExhaustive(cfg);
      assert.ok(Math.abs(dp.reward - ex.reward) < 1e-12, `seed ${seed}: dp ${dp.reward} vs exhaustive ${ex.reward}`);
      assert.ok(Math.abs(p.reward(cfg, dp.dna) - dp.reward) < 1e-12);
    }
  }
});

test('the reward optimum is a trade-off, not the most accurate architecture', () => {
  const space = SyntheticProblem.mnasLikeSpace(3);
  const p = new SyntheticProblem(space, { seed: 1 });
  const cfg = rewardConfig('hard', p.suggestedTargetMs());
  const opt = p.optimum(cfg);
  // maximum accuracy: the optimum of a reward that ignores latency (alpha = beta = 0)
  const maxAcc = p.optimum(rewardConfig('custom', 1, { alpha: 0, beta: 0 }));
  assert.ok(maxAcc.accuracy > opt.accuracy, `${maxAcc.accuracy} vs ${opt.accuracy}`);
  assert.ok(maxAcc.latencyMs > opt.latencyMs);
  assert.ok(opt.latencyMs <= cfg.targetMs * 1.05);
  // "max every decision" is not optimal
  const maxAll = space.decisions().map((d) => d.count - 1);
  assert.ok(p.reward(cfg, maxAll) < opt.reward);
  // decisions interact: optimising each decision alone from the optimum's neighbours is not separable
  const { min, max } = p.latencyRange();
  assert.ok(min > 0 && max > min);
});

test('custom latency function: exhaustive optimum and evaluator output', async () => {
  const p = new SyntheticProblem(small, { seed: 3, latency: { kind: 'function', latencyMs: (d) => 1 + d.reduce((a, c) => a + c * c, 0) } });
  const cfg = rewardConfig('soft', 10);
  const opt = p.optimum(cfg);
  assert.equal(opt.reward, p.reward(cfg, opt.dna));
  const ev = p.evaluator({ failWhen: (d) => (d[0] === 2 ? 'boom' : undefined) });
  const r = await ev.evaluate(opt.dna, new AbortController().signal, { trialId: 0, attempt: 1 });
  if (opt.dna[0] === 2) assert.deepEqual(r, { status: 'failed', reason: 'boom' });
  else assert.equal(r.status, 'done');
  const f = await ev.evaluate([2, 0, 0, 0, 0, 0, 0, 0], new AbortController().signal, { trialId: 1, attempt: 1 });
  assert.deepEqual(f, { status: 'failed', reason: 'boom' });
});

test('accuracy stays in range and evaluator honours abort', async () => {
  const p = new SyntheticProblem(SyntheticProblem.mnasLikeSpace(2), { seed: 9 });
  const a = p.accuracy(p.decisions().map(() => 0));
  assert.ok(a >= 0.4 && a <= 0.95);
  const ac = new AbortController();
  const pr = p.evaluator({ delayMs: 1000 }).evaluate(p.decisions().map(() => 0), ac.signal, { trialId: 0, attempt: 1 });
  ac.abort(new Error('stop'));
  await assert.rejects(pr, /stop/);
  assert.throws(() => p.accuracy([0]), /entries/);
});
