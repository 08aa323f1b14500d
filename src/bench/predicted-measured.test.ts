import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { profileSpace } from '../latency/table.js';
import { CostModelDevice } from '../latency/testing.js';
import { getSpace } from '../space/space.js';
import { runPredictedMeasuredBench } from './predicted-measured.js';

const TRAINED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../results/fashion-mnist/trained.jsonl');

test('with an exact predictor and no margin, predicted-then-measured measures fewer candidates and ends on the same fronts', async () => {
  const device = new CostModelDevice();
  const latencyTable = await profileSpace(device, getSpace('fmnist'), { passes: 1 });
  const runs: string[] = [];
  const r = await runPredictedMeasuredBench({
    trainedTable: TRAINED,
    latencyTable,
    device,
    strategy: 'random',
    budget: 24,
    seeds: [0, 1],
    margin: 0,
    onRun: (e) => {
      if (e.done === e.budget) runs.push(`${e.seed} ${e.mode}`);
    },
  });
  assert.deepEqual(runs, ['0 measured', '0 predicted-then-measured', '1 measured', '1 predicted-then-measured']);
  assert.equal(r.margin, 0);
  assert.equal(r.seeds.length, 2);
  assert.ok(r.accuracies.table + r.accuracies.synthetic >= 4 * 20, 'every evaluated trial got an accuracy');
  for (const s of r.seeds) {
    assert.equal(s.measured.measured, s.measured.trials, 'the all-measured run measures everything');
    assert.equal(s.measured.trials, 24);
    assert.equal(s.predicted_then_measured.trials, 24);
    assert.ok(s.predicted_then_measured.measured < 24, `some candidates could enter nothing (${s.predicted_then_measured.measured} measured)`);
    assert.ok(s.predicted_then_measured.measured >= s.measured.front.length, 'at least the front is measured');
    assert.equal(s.share_measured, s.predicted_then_measured.measured / 24);
    assert.ok(s.device_seconds_saved > 0);
    assert.ok(Math.abs(s.measured.device_seconds - s.predicted_then_measured.device_seconds - s.device_seconds_saved) < 1e-12);
    // random search proposes the same candidates whatever the rewards; an exact predictor then loses no front member
    assert.deepEqual(s.predicted_then_measured.front, s.measured.front);
    assert.equal(s.front_symmetric_difference, 0);
    assert.equal(s.front_jaccard, 1);
    assert.equal(s.predicted_then_measured.best_reward, s.measured.best_reward);
  }
  assert.equal(r.fronts_differ, 0);
  assert.ok(r.mean_share_measured > 0 && r.mean_share_measured < 1);
});
