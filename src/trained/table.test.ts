import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { InputError } from '../util/input-error.js';
import { recipeText, settingKey, TrainedTable, type TrainRow, type TrainSetting } from './table.js';
import { tempDir } from '../util/testing.js';

const dir = tempDir('mnas-table-');
after(() => rmSync(dir, { recursive: true, force: true }));

const setting: TrainSetting = { dataset: 'fashion-mnist', task: 'proxy', images: 5000, epochs: 1, validation: 10000, splitSeed: 0 };

function row(arch: string, seed: number, valAccuracy: number, s: TrainSetting = setting): TrainRow {
  return { type: 'train', arch, ...s, seed, status: 'done', valAccuracy, testAccuracy: null, params: 10, macs: 100, seconds: 1.5, threads: 1, host: 'h', finishedAt: '2026-11-30T00:00:00Z' };
}

test('rows added are appended to the file and read back by a new table', () => {
  const file = path.join(dir, 'a', 'trained.jsonl');
  const t = TrainedTable.open(file);
  t.add(row('A', 0, 0.5));
  t.add(row('A', 1, 0.6));
  t.add(row('B', 0, 0.7));
  t.add({ type: 'latency', arch: 'A', device: 'ort-cpu', ms: 0.25, host: 'h', finishedAt: 'x' });
  assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 4);
  const again = TrainedTable.open(file);
  assert.deepEqual(again.seedsOf('A', setting).map((r) => r.valAccuracy), [0.5, 0.6]);
  assert.equal(again.train('B', setting, 0)?.valAccuracy, 0.7);
  assert.equal(again.train('B', setting, 1), undefined);
  assert.equal(again.latency('A', 'ort-cpu')?.ms, 0.25);
  assert.equal(again.latency('A', 'browser'), undefined);
  assert.deepEqual([...again.doneBySetting(setting).keys()], ['A', 'B']);
  assert.equal(again.doneBySetting({ ...setting, epochs: 3 }).size, 0, 'another setting is another key');
});

test('a later row of the same key replaces the earlier one', () => {
  const t = new TrainedTable(undefined, [row('A', 0, 0.5), row('A', 0, 0.55)]);
  assert.equal(t.trainRows().length, 1);
  assert.equal(t.train('A', setting, 0)?.valAccuracy, 0.55);
});

test('a last line cut short by a kill is dropped, and the file is fixed for the next append', () => {
  const file = path.join(dir, 'cut.jsonl');
  writeFileSync(file, `${JSON.stringify(row('A', 0, 0.5))}\n{"type":"train","arch":"B`);
  const t = TrainedTable.open(file);
  assert.equal(t.trainRows().length, 1);
  t.add(row('B', 0, 0.6));
  assert.equal(TrainedTable.open(file).trainRows().length, 2);
});

test('a bad line is an input error naming the file, the line and the field', () => {
  const file = path.join(dir, 'bad.jsonl');
  writeFileSync(file, `${JSON.stringify(row('A', 0, 0.5))}\n${JSON.stringify({ ...row('B', 0, 0.5), valAccuracy: 1.5 })}\n`);
  assert.throws(() => TrainedTable.open(file), (e: Error) => e instanceof InputError && /bad\.jsonl:2: valAccuracy/.test(e.message));
  const file2 = path.join(dir, 'notjson.jsonl');
  writeFileSync(file2, `garbage\n${JSON.stringify(row('A', 0, 0.5))}\n`);
  assert.throws(() => TrainedTable.open(file2), /notjson\.jsonl:1: not JSON/);
  appendFileSync(file2, '');
});

test('rows are checked before they are written', () => {
  const file = path.join(dir, 'checked.jsonl');
  const t = TrainedTable.open(file);
  assert.throws(() => t.add({ ...row('A', 0, 0.5), epochs: 0 }));
  assert.equal(TrainedTable.open(file).trainRows().length, 0);
});

test('a measurement interleaved with a reference is kept apart from the model\'s own, and needs both reference and ratio', () => {
  const file = path.join(dir, 'paired.jsonl');
  const t = TrainedTable.open(file);
  t.add({ type: 'latency', arch: 'A', device: 'ort-cpu', ms: 0.25, host: 'h', finishedAt: 'x' });
  t.add({ type: 'latency', arch: 'A', device: 'ort-cpu', ms: 0.3, reference: 'B', ratio: 0.8, host: 'h', finishedAt: 'x' });
  const again = TrainedTable.open(file);
  assert.equal(again.latency('A', 'ort-cpu')?.ms, 0.25);
  assert.equal(again.latency('A', 'ort-cpu', 'B')?.ratio, 0.8);
  assert.equal(again.latency('A', 'ort-cpu', 'C'), undefined);
  assert.throws(() => t.add({ type: 'latency', arch: 'A', device: 'ort-cpu', ms: 0.3, reference: 'B', host: 'h', finishedAt: 'x' }), /both reference and ratio/);
  writeFileSync(path.join(dir, 'half.jsonl'), `${JSON.stringify({ type: 'latency', arch: 'A', device: 'ort-cpu', ms: 0.3, ratio: 0.8, host: 'h', finishedAt: 'x' })}\n`);
  assert.throws(() => TrainedTable.open(path.join(dir, 'half.jsonl')), (e: Error) => e instanceof InputError && /half\.jsonl:1: ratio: a latency row has both reference and ratio or neither/.test(e.message));
});

test('a recipe-tuning setting is its own key, printed with its changes sorted; its rows read back with the recipe', () => {
  const final: TrainSetting = { dataset: 'fashion-mnist', task: 'final', images: 50000, epochs: 15, validation: 10000, splitSeed: 0 };
  const tuned: TrainSetting = { ...final, recipe: { weightDecay: 1e-4, lr: 0.05 } };
  assert.equal(settingKey(tuned), `${settingKey(final)}/recipelr=0.05,weightDecay=0.0001`);
  assert.equal(recipeText({ labelSmoothing: 0, batchSize: 64 }), 'batchSize=64,labelSmoothing=0');
  const file = path.join(dir, 'tuned.jsonl');
  const t = TrainedTable.open(file);
  t.add({ ...row('A', 0, 0.91, tuned), testAccuracy: null });
  t.add(row('A', 0, 0.9, final));
  const again = TrainedTable.open(file);
  assert.equal(again.train('A', tuned, 0)?.valAccuracy, 0.91);
  assert.deepEqual(again.train('A', tuned, 0)?.recipe, { weightDecay: 1e-4, lr: 0.05 });
  assert.equal(again.train('A', final, 0)?.valAccuracy, 0.9);
  assert.equal(again.train('A', { ...final, recipe: { lr: 0.05 } }, 0), undefined);
  assert.throws(() => t.add({ ...row('A', 1, 0.9, final), recipe: { lr: -1 } }));
  assert.throws(() => t.add({ ...row('A', 1, 0.9, final), recipe: { momentum: 0.5 } as never }));
});

test('a table that cannot be appended to is refused before anything is trained', () => {
  const blocker = path.join(dir, 'a-file');
  writeFileSync(blocker, '');
  // a path below a regular file cannot be created, whoever runs the test
  assert.throws(() => TrainedTable.open(path.join(blocker, 'trained.jsonl')).checkWritable(), (e: Error) => e instanceof InputError && /a-file is a file, not a directory/.test(e.message));
  const fine = TrainedTable.open(path.join(dir, 'new', 'deeper', 'trained.jsonl'));
  fine.checkWritable();
  const existing = path.join(dir, 'existing.jsonl');
  writeFileSync(existing, '');
  TrainedTable.open(existing).checkWritable();
  assert.equal(readFileSync(existing, 'utf8'), '', 'the check writes nothing');
});
