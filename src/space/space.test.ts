import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng.js';
import { presetArch } from './presets.js';
import { roundFilters } from './round-filters.js';
import { getSpace, spaceNames } from './space.js';

test('roundFilters matches tensorflow/tpu round_filters', () => {
  const cases: [number, number][] = [[12, 16], [16, 16], [20, 24], [18, 24], [30, 32], [24, 24], [48, 48], [60, 64], [100, 104], [72, 72], [120, 120], [240, 240], [400, 400], [3, 8]];
  for (const [f, want] of cases) assert.equal(roundFilters(f), want, `roundFilters(${f})`);
});

test('ships mobilenet-v2, fmnist and cifar; unknown space lists known names', () => {
  for (const name of ['mobilenet-v2', 'fmnist', 'cifar']) assert.ok(spaceNames().includes(name));
  assert.throws(() => getSpace('nope'), /unknown search space 'nope' \(known: .*fmnist/);
});

test('432 choices per block: mobilenet-v2 has 432^7 DNAs', () => {
  assert.equal(getSpace('mobilenet-v2').size(), 432n ** 7n);
  assert.equal(getSpace('fmnist').size(), 432n ** 5n);
});

test('decisions are labelled b<block>/<kind> with their choice values', () => {
  const d = getSpace('mobilenet-v2').decisions();
  assert.equal(d.length, 42);
  assert.deepEqual(d.slice(12, 18).map((x) => x.label), ['b2/conv_op', 'b2/kernel', 'b2/se_ratio', 'b2/skip', 'b2/filters', 'b2/layers']);
  assert.deepEqual(d[12]!.choices, ['conv', 'dsconv', 'mbconv_e3', 'mbconv_e6']);
  assert.deepEqual(d.slice(12, 18).map((x) => x.count), [4, 2, 2, 3, 3, 3]);
  assert.deepEqual(d[16]!.choices, [24, 32, 40]);
  assert.deepEqual(d[17]!.choices, [2, 3, 4]);
  assert.deepEqual(d[5]!.choices, [1, 1, 2]); // b0 has 1 layer: -1 is clamped to 1
});

test('the mobilenet-v2 space default is exactly MobileNetV2', () => {
  const space = getSpace('mobilenet-v2');
  assert.deepEqual(space.decode(space.defaultDna()), presetArch('mobilenet-v2'));
});

test('the fmnist default is bench-fmnist plus a 96-filter block', () => {
  const space = getSpace('fmnist');
  const arch = space.decode(space.defaultDna());
  assert.deepEqual(arch.blocks.slice(0, 4).map((b) => ({ ...b, inputFilters: undefined })), presetArch('bench-fmnist').blocks.map((b) => ({ ...b, inputFilters: undefined })));
  assert.equal(arch.blocks[4]!.filters, 96);
});

for (const name of spaceNames()) {
  test(`${name}: 1000 samples validate, decode and encode back`, () => {
    const space = getSpace(name);
    const rng = new Rng(7);
    for (let i = 0; i < 1000; i++) {
      const dna = space.sample(rng);
      space.validate(dna);
      const arch = space.decode(dna);
      const again = space.encode(arch);
      space.validate(again);
      assert.deepEqual(space.decode(again), arch);
    }
  });
}

test('same seed, same samples; different seed, different samples', () => {
  const space = getSpace('fmnist');
  const draw = (seed: number) => {
    const rng = new Rng(seed);
    return Array.from({ length: 50 }, () => space.sample(rng));
  };
  assert.deepEqual(draw(3), draw(3));
  assert.notDeepEqual(draw(3), draw(4));
});

test('bad DNA names the decision and the value', () => {
  const space = getSpace('fmnist');
  const dna = [...space.defaultDna()];
  assert.throws(() => space.validate(dna.slice(1)), /DNA has 29 entries, expected 30/);
  dna[13] = 2;
  assert.throws(() => space.decode(dna), /decision b2\/kernel \(DNA index 13\) must be an integer in \[0, 1\], got 2/);
  dna[13] = 0.5;
  assert.throws(() => space.validate(dna), /b2\/kernel.*got 0\.5/);
});

test('encode rejects archs outside the space, naming why', () => {
  const space = getSpace('mobilenet-v2');
  assert.throws(() => space.encode(presetArch('bench-fmnist')), /global input/);
  assert.throws(() => space.encode(presetArch('mnasnet-b1')), /not in the space: b5\/filters = 192 is not one of \[120,160,200\]/);
  // mnasnet-a1 happens to be in the space except block 4's 112 filters (96 * 1.25 = 120)
  assert.throws(() => space.encode(presetArch('mnasnet-a1')), /b4\/filters = 112/);
});
