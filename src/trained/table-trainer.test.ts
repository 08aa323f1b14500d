import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { buildPlan } from '../model/plan.js';
import { InProcessTrainer } from '../search/proxy-trial.js';
import { printArch } from '../space/arch-string.js';
import { getSpace } from '../space/space.js';
import { TrainedTable, type TrainRow, type TrainSetting } from './table.js';
import { TableTrainer } from './table-trainer.js';
import { tempDir } from '../util/testing.js';

const dir = tempDir('mnas-table-trainer-');
after(() => rmSync(dir, { recursive: true, force: true }));

const plan = buildPlan(getSpace('fmnist').decode(getSpace('fmnist').defaultDna()));
const arch = printArch(plan.arch);
const setting: TrainSetting = { dataset: 'synthetic', task: 'proxy', images: 200, epochs: 1, validation: 500, splitSeed: 0 };

function row(seed: number, valAccuracy: number): TrainRow {
  return { type: 'train', arch, ...setting, seed, status: 'done', valAccuracy, testAccuracy: null, params: 1, macs: 1, seconds: 3, threads: 1, host: 'h', finishedAt: 't' };
}

test('answers from the table, seed s by the (s mod n)-th seed it holds, without training', async () => {
  const trainer = new TableTrainer(new TrainedTable(undefined, [row(0, 0.5), row(3, 0.6)]), setting, undefined);
  const accuracies = [];
  for (const seed of [0, 1, 2, 7]) {
    const r = await trainer.train({ plan, seed });
    assert.equal(r.status, 'done');
    accuracies.push(r.status === 'done' ? r.valAccuracy : null);
  }
  assert.deepEqual(accuracies, [0.5, 0.6, 0.5, 0.6]);
  assert.equal(trainer.answered, 4);
});

test('with nothing to train with, an architecture not in the table fails and says why', async () => {
  const trainer = new TableTrainer(new TrainedTable(undefined, [row(0, 0.5)]), { ...setting, epochs: 2 }, undefined);
  const r = await trainer.train({ plan, seed: 0 });
  assert.equal(r.status, 'failed');
  assert.match(r.status === 'failed' ? r.reason : '', /not in the trained table .*proxy 200x2/);
});

test('what the table lacks is trained for real, added to it, and answered from it the next time', async () => {
  const file = path.join(dir, 'trained.jsonl');
  const inner = InProcessTrainer.create({ dataset: { name: 'synthetic', validationImages: 500 }, images: 200, epochs: 1, threads: 1, splitSeed: 0 });
  const trainer = new TableTrainer(TrainedTable.open(file), setting, inner);
  try {
    const first = await trainer.train({ plan, seed: 4 });
    assert.equal(first.status, 'done');
    assert.equal(trainer.trained, 1);
    const rows = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TrainRow);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.arch, arch);
    assert.equal(rows[0]!.seed, 4);
    assert.equal(rows[0]!.valAccuracy, first.status === 'done' ? first.valAccuracy : -1);
    const again = new TableTrainer(TrainedTable.open(file), setting, inner);
    const second = await again.train({ plan, seed: 9 });
    assert.equal(again.trained, 0, 'answered from the table');
    assert.deepEqual(second.status === 'done' ? second.valAccuracy : -1, first.status === 'done' ? first.valAccuracy : -2);
  } finally {
    await trainer.close();
  }
});
