import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng.js';
import { parseArch } from '../space/arch-string.js';
import { getPreset, presetNames } from '../space/presets.js';
import { getSpace, spaceNames } from '../space/space.js';
import { costOfPlan } from './cost.js';
import { buildPlan } from './plan.js';

const cost = (name: string) => costOfPlan(buildPlan(getPreset(name).arch));

test('exact reference counts at 224x224x3, 1000 classes, head 1280', () => {
  const expected: [string, number, number][] = [
    ['mnasnet-a1', 3_887_038, 311_579_072],
    ['mnasnet-b1', 4_383_312, 314_415_872],
    ['mnasnet-small', 2_030_264, 68_339_184],
    ['mobilenet-v2', 3_504_872, 300_774_272],
  ];
  for (const [name, params, macs] of expected) {
    const c = cost(name);
    assert.equal(c.params, params, `${name} params`);
    assert.equal(c.macs, macs, `${name} MACs`);
  }
  assert.equal(cost('bench-fmnist').params, 154_106);
});

test('the hand-designed 28x28 baselines sit at bench-fmnist\'s MACs (within 12%)', () => {
  const reference = cost('bench-fmnist').macs;
  for (const [name, params, macs] of [['mobilenet-v2-fmnist', 408_650, 7_517_424], ['mnasnet-a1-fmnist', 478_540, 8_006_040]] as const) {
    const c = cost(name);
    assert.equal(c.params, params, `${name} params`);
    assert.equal(c.macs, macs, `${name} MACs`);
    assert.ok(Math.abs(c.macs / reference - 1) < 0.12, `${name}: ${c.macs} MACs against ${reference}`);
  }
});

test('every preset has finite, positive totals that equal the sum of its layer table', () => {
  for (const name of presetNames()) {
    const c = cost(name);
    for (const v of [c.params, c.buffers, c.macs, c.activations, c.peakActivations]) assert.ok(Number.isSafeInteger(v) && v > 0, `${name}: ${v}`);
    assert.equal(c.params, c.layers.reduce((a, l) => a + l.params, 0));
    assert.equal(c.macs, c.layers.reduce((a, l) => a + l.macs, 0));
  }
});

test('a hand-counted net', () => {
  // stem 3x3 1->8 on 4x4 (s1); mbconv e2 k3 8->8 with SE 0.25 (2 ch) and identity skip; fc 8->3
  const c = costOfPlan(buildPlan(parseArch('in4x4x1_cls3_stem8s1_head0:r1_k3_s11_e2_o8_se0.25')));
  const stem = 8 * 9 + 16;
  const expand = 8 * 16 + 32;
  const dw = 16 * 9 + 32;
  const se = 16 * 2 + 2 + 2 * 16 + 16;
  const project = 16 * 8 + 16;
  const fc = 8 * 3 + 3;
  assert.equal(c.params, stem + expand + dw + se + project + fc);
  assert.equal(c.buffers, 2 * (8 + 16 + 16 + 8));
  const hw = 16;
  assert.equal(c.macs, hw * 8 * 9 + hw * 16 * 8 + hw * 16 * 9 + 2 * 16 * 2 + hw * 8 * 16 + 8 * 3);
  // input 16; stem 128; expand 256 + dw 256 + SE (16 + 2 + 16 + 256) + project 128; pool 8; logits 3
  assert.equal(c.activations, 16 + 128 + 256 + 256 + 290 + 128 + 8 + 3);
  assert.equal(c.peakActivations, 128 + 128);
  assert.equal(c.layers[1]!.description, 'mbconv e2 k3 s1 se2 +identity');
});

for (const name of spaceNames()) {
  test(`${name}: 1000 samples have finite positive costs`, () => {
    const space = getSpace(name);
    const rng = new Rng(99);
    for (let i = 0; i < 1000; i++) {
      const c = costOfPlan(buildPlan(space.decode(space.sample(rng))));
      assert.ok(Number.isSafeInteger(c.params) && c.params > 0 && Number.isSafeInteger(c.macs) && c.macs > 0);
    }
  });
}
