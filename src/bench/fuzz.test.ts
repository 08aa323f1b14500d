import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzInputs, mutate, runFuzz, type FuzzTarget } from './fuzz.js';
import { FUZZ_TARGETS } from './fuzz-targets.js';
import { InputError } from '../util/input-error.js';
import { Rng } from '../util/rng.js';

test('every parser target: 2,000 inputs each, none crashes, some are accepted, the seeds themselves are valid', () => {
  for (const t of FUZZ_TARGETS) for (const seed of t.seeds) t.run(seed);
  const r = runFuzz({ targets: FUZZ_TARGETS, perTarget: 2000, seed: 5 });
  assert.equal(r.inputs, 2000 * FUZZ_TARGETS.length);
  for (const t of r.targets) {
    assert.equal(t.crashed, 0, `${t.target}: ${JSON.stringify(t.crashes)}`);
    assert.ok(t.accepted > 0 && t.refused > 0, `${t.target}: ${t.accepted} accepted, ${t.refused} refused`);
    assert.equal(t.accepted + t.refused + t.crashed, 2000);
  }
});

test('the harness counts what is not an InputError as a crash, and the same seed gives the same inputs', () => {
  const target: FuzzTarget = {
    name: 'picky',
    seeds: [Buffer.from('abc')],
    tokens: ['x'],
    run(input) {
      if (input.length === 0) return;
      if (input[0] === 'a'.charCodeAt(0)) throw new InputError('refused');
      throw new TypeError('a bug');
    },
  };
  const r = runFuzz({ targets: [target], perTarget: 500, seed: 1 });
  const t = r.targets[0]!;
  assert.ok(t.refused > 0 && t.crashed > 0);
  assert.equal(r.crashed, t.crashed);
  assert.match(t.crashes[0]!.error, /TypeError: a bug/);
  const a = fuzzInputs(target, 9, 0), b = fuzzInputs(target, 9, 0);
  for (let i = 0; i < 50; i++) assert.deepEqual(a.next().value, b.next().value);
  assert.deepEqual(mutate(Buffer.from('in28x28'), ['_'], new Rng(3)), mutate(Buffer.from('in28x28'), ['_'], new Rng(3)));
});
