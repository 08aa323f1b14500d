import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adaptSpace, checkedDecisions, dnaKey, flatSpace, parseDna, spaceSignature, spaceSize, validateDna } from './space-like.js';

test('validateDna, keys, signature and size', () => {
  const s = flatSpace([['a', 2], ['b', 3]]);
  validateDna(s, [1, 2]);
  assert.throws(() => validateDna(s, [1]), /1 entries, the space has 2/);
  assert.throws(() => validateDna(s, [1, 3]), /position 1 \('b'\)/);
  assert.throws(() => validateDna(s, [0.5, 0]), /position 0/);
  assert.deepEqual(parseDna(dnaKey([1, 2])), [1, 2]);
  assert.throws(() => parseDna('{"a":1}'), /not a DNA/);
  assert.equal(spaceSignature(s), 'a:2,b:3');
  assert.equal(spaceSize(s), 6);
  assert.throws(() => checkedDecisions(flatSpace([['a', 2], ['a', 2]]), 'x'), /duplicate/);
  assert.throws(() => checkedDecisions(flatSpace([['a', 0]]), 'x'), /choices >= 1/);
  assert.throws(() => checkedDecisions(flatSpace([]), 'x'), /no decisions/);
});

test('adaptSpace turns value lists (src/space shape) into counts', () => {
  const real = { decisions: () => [{ label: 'b0/conv', choices: ['conv', 'dsconv', 'mb3', 'mb6'], count: 4 }, { label: 'b0/kernel', choices: [3, 5], count: 2 }] };
  assert.equal(spaceSignature(adaptSpace(real)), 'b0/conv:4,b0/kernel:2');
  assert.equal(spaceSignature(adaptSpace(flatSpace([['x', 3]]))), 'x:3');
});
