import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { parseSearchConfig } from '../search/config.js';
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
  assert.equal(s.properties.budget.default, 70);
  assert.equal(s.properties.dataset.additionalProperties, false);
  assert.match(s.properties.dataset.properties.name.description, /image folder/);
  assert.deepEqual(s.properties.evaluator.enum, ['train', 'synthetic']);
  const kinds = s.properties.strategy.oneOf.map((a: any) => a.properties.kind.const).sort();
  assert.deepEqual(kinds, ['evolution', 'ppo', 'random']);
  const evolution = s.properties.strategy.oneOf.find((a: any) => a.properties.kind.const === 'evolution');
  assert.deepEqual(Object.keys(evolution.properties.options.properties).sort(), ['populationSize', 'sampleSize']);
  assert.equal(evolution.properties.options.additionalProperties, false);
});

test('a config may name its schema with $schema', () => {
  assert.equal(parseSearchConfig({ $schema: './mnas-config.schema.json', budget: 3 }).budget, 3);
});
