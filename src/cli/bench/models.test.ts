import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trainJobArgs } from '../../trained/train-job.js';
import { recipeChanges } from './models.js';

test('--recipe: KEY=VALUE changes of the final recipe, checked one by one', () => {
  assert.deepEqual(recipeChanges('lr=0.05, weight-decay=1e-4,label-smoothing=0,batch=64'), { lr: 0.05, weightDecay: 1e-4, labelSmoothing: 0, batchSize: 64 });
  const refused: [string, RegExp][] = [
    ['', /no change given/],
    ['lr', /'lr' is not KEY=VALUE/],
    ['momentum=0.5', /'momentum=0.5' is not KEY=VALUE with KEY one of lr, weight-decay, label-smoothing, batch/],
    ['lr=0.1=2', /is not KEY=VALUE/],
    ['lr=0.1,lr=0.2', /lr is given twice/],
    ['lr=abc', /--recipe: lr: /],
    ['lr=0', /--recipe: lr: /],
    ['batch=1.5', /--recipe: batch: /],
    ['label-smoothing=1', /--recipe: label-smoothing: /],
  ];
  for (const [value, message] of refused) assert.throws(() => recipeChanges(value), (e: Error) => e.name === 'UsageError' && message.test(e.message), value);
});

test('a tuning job trains with the changes and never evaluates the test set', () => {
  const setting = { dataset: 'fashion-mnist', task: 'final' as const, images: 50000, epochs: 15, validation: 10000, splitSeed: 0 };
  const plain = trainJobArgs({ arch: 'bench-fmnist', setting, seed: 1 }, 1);
  assert.ok(!plain.includes('--no-test') && !plain.includes('--lr'));
  const tuned = trainJobArgs({ arch: 'bench-fmnist', setting: { ...setting, recipe: { lr: 0.05, weightDecay: 1e-4, labelSmoothing: 0.05, batchSize: 64 } }, seed: 1 }, 1);
  const after = (flag: string) => tuned[tuned.indexOf(flag) + 1];
  assert.deepEqual([after('--lr'), after('--weight-decay'), after('--label-smoothing'), after('--batch'), after('--validation')], ['0.05', '0.0001', '0.05', '64', '10000']);
  assert.ok(tuned.includes('--no-test'));
});
