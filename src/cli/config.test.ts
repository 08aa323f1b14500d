import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Command } from 'commander';
import { parseSearchConfig } from '../search/config.js';
import { resolveSearchConfig } from '../search/run-config.js';
import { registerConfig } from './config.js';

async function schema(): Promise<Record<string, any>> {
  let out = '';
  const program = new Command('mnas').exitOverride();
  registerConfig(program, (text) => (out += text));
  await program.parseAsync(['config', 'schema'], { from: 'user' });
  return JSON.parse(out) as Record<string, any>;
}

test('config schema: the zod schema as JSON Schema, strict objects, defaults, one alternative per strategy with its options', async () => {
  const s = await schema();
  assert.equal(s.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.equal(s.additionalProperties, false);
  assert.equal(s.properties.budget.default, 60);
  assert.equal(s.properties.dataset.additionalProperties, false);
  assert.match(s.properties.dataset.properties.name.description, /image folder/);
  assert.deepEqual(s.properties.evaluator.enum, ['train', 'synthetic', 'table']);
  assert.deepEqual(s.properties.trainedTable.properties.missing.enum, ['train', 'fail']);
  assert.deepEqual(s.properties.latencySource.enum, ['measured', 'predictor', 'macs', 'predicted-then-measured']);
  assert.deepEqual(s.properties.devices.items.enum, ['ort-cpu', 'engine', 'browser']);
  assert.deepEqual(s.properties.drift.default, { everyTrials: 20, everySeconds: 600, tolerance: 0.028 });
  assert.equal(s.properties.drift.additionalProperties, false);
  const kinds = s.properties.strategy.oneOf.map((a: any) => a.properties.kind.const).sort();
  assert.deepEqual(kinds, ['evolution', 'ppo', 'random']);
  const evolution = s.properties.strategy.oneOf.find((a: any) => a.properties.kind.const === 'evolution');
  assert.deepEqual(Object.keys(evolution.properties.options.properties).sort(), ['populationSize', 'sampleSize']);
  assert.equal(evolution.properties.options.additionalProperties, false);
});

test('a config may name its schema with $schema', () => {
  assert.equal(parseSearchConfig({ $schema: './mnas-config.schema.json', budget: 3 }).budget, 3);
});

test('config schema: a JSON Schema validator (what an editor runs) accepts the configs mnas accepts and flags the ones it refuses', async () => {
  const validate = new Ajv2020({ allErrors: true, strict: false }).compile(await schema());
  const accepted = [
    {},
    { $schema: './mnas-config.schema.json', space: 'fmnist', strategy: { kind: 'ppo' }, budget: 60, workers: 2, proxy: { images: 10000, epochs: 1, threads: 1 }, device: { kind: 'ort-cpu', threads: 1 }, reward: { preset: 'soft' }, final: { epochs: 15, topK: 1 } },
    { space: 'cifar', input: '64x64x3', classes: 5, dataset: { name: './flowers', resize: true, skipBadFiles: true, cacheDir: '/tmp/c' } },
    { strategy: { kind: 'evolution', options: { populationSize: 10, sampleSize: 3 } }, space: 'cifar', dataset: { name: 'synthetic-rgb', validationImages: 500 } },
    { strategy: { kind: 'random' }, evaluator: 'synthetic', budget: 40, seed: 3 },
    { device: { kind: 'ort-cpu' }, devices: ['engine', 'browser'], drift: { everyTrials: 5, everySeconds: 120, tolerance: 0.05 } },
    { latencySource: 'predicted-then-measured', latencyTable: 'fmnist.json', predictedMargin: 0.15 },
  ];
  const refused: Array<Record<string, any>> = [
    { budgett: 3 },
    { strategy: { kind: 'evolution', options: { learningRate: 0.1 } } },
    { strategy: { kind: 'ppo', options: { bogus: 1 } } },
    { strategy: { kind: 'annealing' } },
    { input: '32x32' },
    { classes: 0 },
    { dataset: { name: 'x', resize: 'yes' } },
    { proxy: { images: 10, colour: true } },
    { budget: -1 },
    { devices: ['gpu'] },
    { drift: { tolerance: 1.5 } },
    { drift: { everyTrials: 0 } },
    { drift: { every: 3 } },
    { latencySource: 'predicted-then-measured', latencyTable: 't.json', predictedMargin: 0.95 },
  ];
  for (const config of accepted) {
    assert.doesNotThrow(() => parseSearchConfig(config), JSON.stringify(config));
    assert.ok(validate(config), `${JSON.stringify(config)}: ${JSON.stringify(validate.errors)}`);
  }
  for (const config of refused) {
    assert.ok(!validate(config), `the schema flags ${JSON.stringify(config)}`);
    // mnas refuses these too: unknown strategy options when the strategy is made, before the run folder (run-config.ts); the rest when parsed
    assert.throws(() => resolveSearchConfig(parseSearchConfig(config)), JSON.stringify(config));
  }
});
