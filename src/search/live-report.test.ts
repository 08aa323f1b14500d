import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { makeSyntheticRun } from '../runs/testing.js';
import { LiveReport } from './live-report.js';
import { rewardConfig } from './reward.js';
import { ExperimentStore } from './store.js';
import { tempDir } from '../util/testing.js';

test('refreshing after every trial rewrites the report at most a tenth of the time, whatever the number of trials', async () => {
  const dir = tempDir('mnas-live-');
  await makeSyntheticRun(dir, 1000, 2);
  const store = ExperimentStore.open(dir, { readonly: true });
  const all = store.listTrialBriefs();
  store.close();
  const live = new LiveReport(dir, { title: 't', config: {}, reward: rewardConfig('soft', 3), device: 'synthetic', state: 'running', budget: 1000 });
  // one call per finished trial, as the search makes them, a trial every millisecond or two (a synthetic search's pace)
  const start = performance.now();
  let longest = 0;
  for (let n = 1; n <= all.length; n++) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    const before = live.stats.ms;
    live.refresh(() => all.slice(0, n));
    longest = Math.max(longest, live.stats.ms - before);
  }
  const wall = performance.now() - start;
  const { writes, ms } = live.stats;
  assert.ok(writes < all.length / 10, `${writes} rewrites for ${all.length} trials`);
  // after a rewrite of d ms the next waits 9 d: rewrites take at most a tenth of the time, plus the last one
  assert.ok(ms <= wall / 9 + longest + 1, `${ms.toFixed(0)} ms of ${wall.toFixed(0)} ms rewriting`);
  assert.ok(statSync(path.join(dir, 'report.html')).size > 0);
  assert.match(readFileSync(path.join(dir, 'report.html'), 'utf8'), /<th>state<\/th><td>running<\/td>/);
});

test('a refresh right after a rewrite is skipped; write() always rewrites', async () => {
  const dir = tempDir('mnas-live-');
  await makeSyntheticRun(dir, 200, 3);
  const store = ExperimentStore.open(dir, { readonly: true });
  const trials = store.listTrialBriefs();
  store.close();
  // a share of 1e-6 waits about a million times the rewrite before the next
  const live = new LiveReport(dir, { title: 't', config: {}, reward: rewardConfig('soft', 3), device: 'synthetic' }, { share: 1e-6 });
  assert.equal(live.refresh(() => trials), true);
  assert.equal(live.refresh(() => trials), false);
  live.write(trials);
  assert.equal(live.stats.writes, 2);
  assert.throws(() => new LiveReport(dir, { title: 't', config: {}, reward: rewardConfig('soft', 3), device: 'x' }, { share: 0 }), /share must be in/);
});
