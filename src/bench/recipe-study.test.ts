import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrainedTable, type TrainRow, type TrainSetting } from '../trained/table.js';
import { recipeFigures, recipeStudyJobs } from './recipe-study.js';

const base: TrainSetting = { dataset: 'd', task: 'final', images: 900, epochs: 15, validation: 100, splitSeed: 0, recipe: {} };
const slow: TrainSetting = { ...base, recipe: { lr: 0.05 } };
const smooth: TrainSetting = { ...base, recipe: { labelSmoothing: 0 } };
const models = [
  { name: 'm1', arch: 'a1', description: '' },
  { name: 'm2', arch: 'a2', description: '' },
];

function row(arch: string, s: TrainSetting, seed: number, val: number): TrainRow {
  return {
    type: 'train', arch, ...s, seed, status: 'done', valAccuracy: val, testAccuracy: null,
    params: 1, macs: 1, seconds: 10, threads: 1, host: 'h', finishedAt: 't',
  };
}

/** Seeds differ by +-0.002 around each cell's mean, so the pooled seed std is sqrt(2) * 0.002. */
function table(cells: { [key: string]: [TrainSetting, number] }): TrainedTable {
  const rows: TrainRow[] = [];
  for (const [key, [s, m]] of Object.entries(cells)) {
    const arch = key.split('/')[0]!;
    rows.push(row(arch, s, 0, m - 0.002), row(arch, s, 1, m + 0.002));
  }
  return new TrainedTable(undefined, rows);
}

test('trainings run seed-major, the base first, so a stopped study has every recipe at its first seed', () => {
  const jobs = recipeStudyJobs(models, [base, slow], 2);
  assert.deepEqual(jobs.map((j) => `${j.seed}${j.setting.recipe!.lr ?? '-'}${j.arch}`), ['0-a1', '0-a2', '00.05a1', '00.05a2', '1-a1', '1-a2', '10.05a1', '10.05a2']);
});

test('a variant replaces the base only when its gain is more than two standard errors', () => {
  const std = Math.sqrt(2) * 0.002;
  // se of a gain averaged over 2 models with 2 seeds a side: std / 2 * sqrt(2 * (1/2 + 1/2)) = 0.002
  const clear = recipeFigures(table({ 'a1/b': [base, 0.9], 'a2/b': [base, 0.8], 'a1/s': [slow, 0.91], 'a2/s': [slow, 0.81], 'a1/l': [smooth, 0.9], 'a2/l': [smooth, 0.802] }), models, [base, slow, smooth]);
  assert.ok(Math.abs(clear.seed_std! - std) < 1e-12);
  const [b, s, l] = clear.variants;
  assert.equal(b!.recipe, 'base');
  assert.equal(b!.gain, null);
  assert.equal(s!.recipe, 'lr=0.05');
  assert.ok(Math.abs(s!.gain! - 0.01) < 1e-12 && Math.abs(s!.gain_se! - 0.002) < 1e-12);
  assert.ok(Math.abs(l!.gain! - 0.001) < 1e-12);
  assert.ok(Math.abs(s!.mean_val! - 0.86) < 1e-12);
  assert.equal(clear.choice, 'lr=0.05');
  assert.match(clear.why, /lr=0\.05 gains \+1\.00 points/);
  // a gain of 0.25 points against an se of 0.20: under two standard errors, the base stays
  const close = recipeFigures(table({ 'a1/b': [base, 0.9], 'a2/b': [base, 0.8], 'a1/s': [slow, 0.904], 'a2/s': [slow, 0.801] }), models, [base, slow]);
  assert.equal(close.choice, 'base');
  assert.match(close.why, /no variant gains more than 2 standard errors over the base recipe \(best: lr=0\.05, \+0\.25 \+- 0\.20 points\)/);
});

test('until every model has the base and the variant, nothing is judged', () => {
  const partial = recipeFigures(table({ 'a1/b': [base, 0.9], 'a2/b': [base, 0.8], 'a1/s': [slow, 0.95] }), models, [base, slow]);
  assert.equal(partial.variants[1]!.gain, null);
  assert.equal(partial.variants[1]!.mean_val, null);
  assert.equal(partial.variants[1]!.cells[1]!.seeds_done, 0);
  assert.equal(partial.choice, 'base');
  assert.match(partial.why, /not enough trained yet/);
});
