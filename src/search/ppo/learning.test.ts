/**
 * The acceptance benchmark in small (`mnas bench strategies` runs the full one: fmnist-sized space,
 * 10 seeds, 2,000 samples): a 2-block synthetic problem (12 decisions, 186,624 points), 3 seeds,
 * 600 samples, PPO with its defaults against random search.
 *
 * Thresholds come from runs of this exact setup (seeded, deterministic up to libtorch float
 * rounding): PPO best / optimum 0.9974, 1.0000, 0.9900 (random: 0.9728, 0.9854, 0.9562); mean
 * reward of the last 100 samples / optimum 0.969, 0.969, 0.948 (first 100: 0.847, 0.843, 0.840).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStrategy } from '../strategy.js';
import { SyntheticProblem } from '../synthetic.js';
import { rewardConfig } from '../reward.js';
import { runCurve } from './compare.js';
import { median } from '../../util/stats.js';
import type { PpoSearch } from './strategy.js';

test('ppo learns on the synthetic problem and beats random search at equal samples (3 seeds, 600 samples)', async () => {
  const space = SyntheticProblem.mnasLikeSpace(2);
  const N = 600;
  const best: Record<'ppo' | 'random', number[]> = { ppo: [], random: [] };
  const mean = (xs: Float64Array) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (let seed = 0; seed < 3; seed++) {
    const problem = new SyntheticProblem(space, { seed: 200 + seed });
    const cfg = rewardConfig('soft', problem.suggestedTargetMs());
    const opt = problem.optimum(cfg).reward;
    for (const kind of ['ppo', 'random'] as const) {
      const s = createStrategy(kind, space, { seed });
      const c = await runCurve(s, problem, cfg, { samples: N });
      best[kind].push(c.best[N - 1]! / opt);
      if (kind === 'ppo') {
        const first = mean(c.reward.subarray(0, 100)) / opt;
        const last = mean(c.reward.subarray(N - 100)) / opt;
        // the policy moved towards good architectures: its samples got much better on average
        assert.ok(last > 0.93 && last - first > 0.08, `seed ${seed}: mean reward / optimum ${first.toFixed(4)} (first 100) -> ${last.toFixed(4)} (last 100)`);
        (s as PpoSearch).dispose();
      }
    }
  }
  assert.ok(Math.min(...best.ppo) > 0.985, `ppo best / optimum ${best.ppo}`);
  assert.ok(median(best.ppo) > median(best.random), `median ppo ${median(best.ppo)} vs random ${median(best.random)}`);
});
