import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrainedTable, type TrainRow, type TrainSetting } from '../trained/table.js';
import { fidelityReport } from './fidelity-analysis.js';

const base = { dataset: 'd', validation: 100, splitSeed: 0 };
const cheap: TrainSetting = { ...base, task: 'proxy', images: 100, epochs: 1 };
const dear: TrainSetting = { ...base, task: 'proxy', images: 400, epochs: 1 };
const final: TrainSetting = { ...base, task: 'final', images: 900, epochs: 15 };

function row(arch: string, s: TrainSetting, seed: number, acc: number, seconds: number): TrainRow {
  return {
    type: 'train', arch, ...s, seed, status: 'done',
    valAccuracy: acc, testAccuracy: s.task === 'final' ? acc : null,
    params: 1, macs: 1, seconds, threads: 1, host: 'h', finishedAt: 't',
  };
}

const archs = ['a', 'b', 'c', 'd', 'e'];
const finalAcc = [0.9, 0.8, 0.85, 0.7, 0.95];
// the dear proxy ranks exactly as the final recipe; the cheap one swaps b and c
const dearAcc = [0.6, 0.5, 0.55, 0.4, 0.65];
const cheapAcc = [0.3, 0.25, 0.2, 0.1, 0.35];

function table(): TrainedTable {
  const rows: TrainRow[] = [];
  archs.forEach((a, i) => {
    rows.push(row(a, final, 0, finalAcc[i]!, 1000));
    rows.push(row(a, dear, 0, dearAcc[i]!, 40));
    rows.push(row(a, cheap, 0, cheapAcc[i]!, 10));
  });
  // seed noise of the cheap proxy on two architectures: +-0.01 and +-0.02 around their seed-0 value
  rows.push(row('a', cheap, 1, 0.32, 10), row('a', cheap, 2, 0.28, 10));
  rows.push(row('b', cheap, 1, 0.27, 10));
  rows.push({ ...row('e', dear, 1, 0, 5), status: 'failed', valAccuracy: null, reason: 'diverged' });
  return new TrainedTable(undefined, rows);
}

test('Spearman per setting, cost, seed noise and the spread between architectures', () => {
  const r = fidelityReport(table(), archs, { proxies: [cheap, dear], final }, 'fmnist');
  const [c, d] = r.settings;
  assert.equal(d!.spearman, 1);
  assert.ok(Math.abs(c!.spearman! - 0.9) < 1e-12, String(c!.spearman)); // one swap of neighbours in 5: 1 - 6*2/(5*24)
  assert.equal(c!.archs, 5);
  assert.equal(c!.median_seconds, 10);
  assert.equal(c!.trials_per_hour, 360);
  // pooled: a has deviations 0, 0.02, -0.02 around 0.30 (2 dof), b 0.25/0.27 (1 dof)
  const pooled = Math.sqrt((0.02 ** 2 * 2 + 0.01 ** 2 * 2) / 3);
  assert.ok(Math.abs(c!.seed_noise_pts! - 100 * pooled) < 1e-9);
  assert.equal(c!.noise_archs, 2);
  assert.equal(d!.seed_noise_pts, null);
  assert.equal(d!.failed, 1);
  assert.equal(r.final.archs_done, 5);
  assert.equal(r.final.best_test_accuracy, 0.95);
});

test('the most faithful setting is the cheapest within the tolerance of the best correlation', () => {
  const r = fidelityReport(table(), archs, { proxies: [cheap, dear], final }, 'fmnist');
  // 0.9 is not within 0.05 of 1.0: the dearer, faithful setting wins
  assert.equal(r.most_faithful, 'd/proxy/400x1/val100/split0');
  const withoutFinals = new TrainedTable(undefined, table().trainRows().filter((x) => x.task !== 'final'));
  const none = fidelityReport(withoutFinals, archs, { proxies: [cheap, dear], final }, 'fmnist');
  assert.equal(none.most_faithful, null);
  assert.equal(none.recommended, null);
  assert.equal(none.settings[0]!.spearman, null);
  assert.equal(none.budget.pool, 0);
});

test('the recommendation is the best pick at equal budgets: a cheap proxy that sees every candidate beats a faithful one that sees few', () => {
  const r = fidelityReport(table(), archs, { proxies: [cheap, dear], final }, 'fmnist');
  const [c, d] = r.settings;
  // budgets of 2, 4 and 8 trials of the dear setting (40 s): 80, 160, 320 s
  assert.deepEqual(r.budget.seconds, [80, 160, 320]);
  assert.equal(r.budget.trials_of, '400x1');
  assert.equal(r.budget.pool, 5);
  assert.ok(Math.abs(r.budget.pool_mean_final! - 0.84) < 1e-12);
  // the cheap proxy (10 s) pays for 8, 16, 32 trials: the whole pool each time, and it ranks e (0.95) first
  assert.deepEqual(c!.budget_trials, [5, 5, 5]);
  assert.deepEqual(c!.budget_exhausted, [true, true, true]);
  assert.deepEqual(c!.budget_pick, [0.95, 0.95, 0.95]);
  // the dear one ranks perfectly but sees 2, 4, 5 of the 5: 0.4*0.95 + 0.3*0.9 + 0.2*0.85 + 0.1*0.8, then 0.8*0.95 + 0.2*0.9, then 0.95
  assert.deepEqual(d!.budget_trials, [2, 4, 5]);
  assert.deepEqual(d!.budget_exhausted, [false, false, true]);
  [0.9, 0.94, 0.95].forEach((x, k) => assert.ok(Math.abs(d!.budget_pick[k]! - x) < 1e-12, `${k}: ${d!.budget_pick[k]}`));
  assert.ok(Math.abs(d!.mean_pick! - 0.93) < 1e-12);
  assert.equal(r.recommended, 'd/proxy/100x1/val100/split0');
  assert.match(r.why, /against the most faithful setting, 400x1, its pick gains [+-]\d/);
  assert.deepEqual(d!.gain_over_faithful_ci90, [0, 0]);
  assert.equal(c!.seconds_source, 'table');
});

test('costs measured on a quiet machine replace the table\'s', () => {
  const given = new Map([['100x1', 40], ['400x1', 10]]);
  const r = fidelityReport(table(), archs, { proxies: [cheap, dear], final }, 'fmnist', given);
  const [c, d] = r.settings;
  assert.equal(c!.seconds_per_trial, 40);
  assert.equal(c!.seconds_source, 'given');
  assert.equal(r.budget.trials_of, '100x1');
  // now the faithful setting is the cheap one too: it sees the whole pool and picks e
  assert.deepEqual(d!.budget_pick, [0.95, 0.95, 0.95]);
  assert.equal(r.recommended, 'd/proxy/400x1/val100/split0');
  assert.equal(r.most_faithful, 'd/proxy/400x1/val100/split0');
  assert.doesNotMatch(r.why, /against the most faithful/);
});

test('architectures outside the study are ignored', () => {
  const r = fidelityReport(table(), archs.slice(0, 3), { proxies: [cheap, dear], final }, 'fmnist');
  assert.equal(r.settings[0]!.archs, 3);
  assert.equal(r.final.archs_done, 3);
});

test('bootstrap intervals contain the estimate, and the choice says how often resampling keeps it', () => {
  const r = fidelityReport(table(), archs, { proxies: [cheap, dear], final }, 'fmnist');
  const [c, d] = r.settings;
  assert.deepEqual(r.bootstrap, { rounds: 2000, seed: 0 });
  // the dear proxy ranks every resample exactly as the final recipe does
  assert.deepEqual(d!.spearman_ci90, [1, 1]);
  const [lo, hi] = c!.spearman_ci90!;
  assert.ok(lo <= c!.spearman! && c!.spearman! <= hi && lo < hi, `${lo} ${hi}`);
  // the cheap proxy swaps b and c; it ties the dear one only in resamples that miss b or c:
  // it is picked then, never otherwise
  assert.ok(c!.faithful_share! > 0.2 && c!.faithful_share! < 0.8, String(c!.faithful_share));
  assert.ok(Math.abs(c!.faithful_share! + d!.faithful_share! - 1) < 1e-12);
  // at equal budgets the cheap proxy sees the whole resample: its pick is the best of it unless b and c swap at the top
  assert.ok(Math.abs(c!.picked_share! + d!.picked_share! - 1) < 1e-12);
  assert.ok(c!.picked_share! > 0.5, String(c!.picked_share));
  const [lo2, hi2] = c!.mean_pick_ci90!;
  assert.ok(lo2 <= c!.mean_pick! && c!.mean_pick! <= hi2, `${lo2} ${hi2}`);
  assert.match(r.why, /picks it in \d+% of 2000 resamples/);
  assert.deepEqual(fidelityReport(table(), archs, { proxies: [cheap, dear], final }, 'fmnist'), r, 'the same seed gives the same report');
});
