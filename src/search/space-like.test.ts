import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkedDecisions, dnaKey, flatSpace, parseDna, spaceSignature, spaceSize, type DecisionSpaceLike } from './space-like.js';
import { getSpace, validateDna } from '../space/space.js';

test('validateDna, keys, signature and size', () => {
  const s = flatSpace([['a', 2], ['b', 3]]);
  validateDna(s.decisions(), [1, 2], 'x');
  assert.throws(() => validateDna(s.decisions(), [1], 'x'), /^Error: x: DNA has 1 entries, expected 2$/);
  assert.throws(() => validateDna(s.decisions(), [1, 3], 'x'), /decision b \(DNA index 1\) must be an integer in \[0, 2\], got 3/);
  assert.throws(() => validateDna(s.decisions(), [0.5, 0], 'x'), /DNA index 0/);
  assert.deepEqual(parseDna(dnaKey([1, 2])), [1, 2]);
  assert.throws(() => parseDna('{"a":1}'), /not a DNA/);
  assert.equal(spaceSignature(s), 'a:2,b:3');
  assert.equal(spaceSize(s), 6);
  assert.throws(() => checkedDecisions(flatSpace([['a', 2], ['a', 2]]), 'x'), /duplicate/);
  assert.throws(() => checkedDecisions(flatSpace([['a', 0]]), 'x'), /choices >= 1/);
  assert.throws(() => checkedDecisions(flatSpace([]), 'x'), /no decisions/);
});

test('the real search space is a DecisionSpaceLike as it is: its decisions carry their choice count', () => {
  const real: DecisionSpaceLike = getSpace('fmnist');
  assert.equal(spaceSignature(real).split(',').slice(0, 2).join(','), 'b0/conv_op:4,b0/kernel:2');
  assert.equal(spaceSize(real), 432 ** 5);
});
