import assert from 'node:assert/strict';
import { test } from 'node:test';
import { costOfPlan } from '../model/cost.js';
import { buildPlan } from '../model/plan.js';
import { parseArch } from '../space/arch-string.js';
import { presetArch } from '../space/presets.js';
import { layerShares, MODEL_FEATURES, modelFeatures, WEIGHT_KNEES } from './model-features.js';

test('the features of bench-fmnist: its MACs by operator kind add up to the cost model, its counts to its plan', () => {
  const plan = buildPlan(presetArch('bench-fmnist'));
  const f = modelFeatures(plan);
  assert.deepEqual(Object.keys(f), [...MODEL_FEATURES]);
  const cost = costOfPlan(plan);
  const classifier = cost.layers.filter((l) => l.kind === 'classifier' || l.kind === 'pool').reduce((a, l) => a + l.macs, 0);
  const byKind = f.pointwise_mmacs + f.depthwise_k3_mmacs + f.depthwise_k5_mmacs + f.depthwise_k7_mmacs + f.regular_mmacs + f.se_mmacs + f.stem_mmacs + f.head_mmacs;
  assert.ok(Math.abs(byKind * 1e6 - (cost.macs - classifier)) < 1, `${byKind * 1e6} against ${cost.macs - classifier}`);
  const blocks = plan.layers.filter((l) => l.kind === 'block');
  assert.equal(f.block_layers, blocks.length);
  assert.equal(f.se_layers, 2, 'r2_k5_s22_e3_i24_o40_se0.25: two layers with SE');
  assert.equal(f.shortcut_adds, blocks.filter((l) => l.kind === 'block' && l.shortcut !== null).length);
  assert.equal(f.depthwise_k7_mmacs, 0);
  assert.ok(f.depthwise_k5_mmacs > 0 && f.depthwise_k3_mmacs > 0 && f.head_mmacs === 0);
  const io = blocks.reduce((a, l) => a + l.inSize.height * l.inSize.width * l.inChannels + l.outSize.height * l.outSize.width * l.outChannels, 0);
  assert.ok(Math.abs(f.block_io_melements * 1e6 - io) < 1e-6, 'what crosses between the blocks\' layers');
  assert.ok(f.activation_melements > f.block_io_melements, 'the expanded tensors inside the blocks besides');
  assert.ok(cost.params > 0 && Math.abs(f.weights_m * 1e6 - cost.params) < 1e-6, `every layer's weights, the classifier's too: ${f.weights_m * 1e6} against ${cost.params}`);
});

test('weights_m grows with a block\'s kernel and width, not with its input\'s resolution', () => {
  const w = (tail: string, input = 'in8x8x1') => modelFeatures(buildPlan(parseArch(`${input}_cls4_stem8s1_head0:${tail}`))).weights_m;
  assert.ok(w('r1_k5_s11_e1_i8_o8') > w('r1_k3_s11_e1_i8_o8'));
  assert.ok(w('r1_k3_s11_e6_i8_o16') > w('r1_k3_s11_e1_i8_o16'));
  assert.equal(w('r1_k3_s11_e1_i8_o8', 'in16x16x1'), w('r1_k3_s11_e1_i8_o8'));
});

test('identity_add_melements counts the elements of identity shortcuts only, not pooled ones or layers without a shortcut', () => {
  const f = (tail: string) => modelFeatures(buildPlan(parseArch(`in8x8x1_cls4_stem8s1_head0:${tail}`))).identity_add_melements * 1e6;
  assert.equal(f('r2_k3_s11_e1_i8_o8'), 2 * 8 * 8 * 8);
  assert.equal(f('r2_k3_s22_e1_i8_o16'), 4 * 4 * 16, 'the first layer changes stride and width: no identity there');
  assert.equal(f('r2_k3_s11_e1_i8_o8_poolskip'), 0);
  assert.equal(f('r2_k3_s11_e1_i8_o8_noskip'), 0);
  assert.ok(modelFeatures(buildPlan(presetArch('bench-fmnist'))).identity_add_melements > 0);
});

test('pool_adjusted_add_melements counts the Adds of pool shortcuts that pool, pad or truncate, not plain ones or identities', () => {
  const f = (tail: string) => modelFeatures(buildPlan(parseArch(`in8x8x1_cls4_stem8s1_head0:${tail}`))).pool_adjusted_add_melements * 1e6;
  assert.equal(f('r2_k3_s22_e1_i8_o16_poolskip'), 4 * 4 * 16, 'the first layer pools and pads; the second is a plain Add');
  assert.equal(f('r1_k3_s11_e1_i8_o16_poolskip'), 8 * 8 * 16, 'a width change alone');
  assert.equal(f('r1_k3_s11_e1_i8_o16_noskip,r1_k3_s11_e1_i16_o8_poolskip'), 8 * 8 * 8, 'truncated');
  assert.equal(f('r2_k3_s11_e1_i8_o8_poolskip'), 0);
  assert.equal(f('r2_k3_s11_e1_i8_o8'), 0);
  assert.equal(f('r2_k3_s22_e1_i8_o16_noskip'), 0);
});

test('a plain conv block counts as regular MACs, one conv, no depthwise', () => {
  const f = modelFeatures(buildPlan(parseArch('in8x8x1_cls4_stem8s1_head0:conv_r1_k3_s11_e1_i8_o8_noskip')));
  assert.ok(f.regular_mmacs > 0);
  assert.equal(f.convs, 1);
  assert.equal(f.depthwise_k3_mmacs + f.depthwise_melements, 0);
});

test('weights_beyond_200k and weights_beyond_500k are the network\'s weights (in millions) beyond each knee, 0 below it', () => {
  const small = modelFeatures(buildPlan(presetArch('bench-fmnist')));
  assert.ok(small.weights_m < WEIGHT_KNEES.weights_beyond_200k, `bench-fmnist holds ${small.weights_m} M weights`);
  assert.equal(small.weights_beyond_200k, 0);
  assert.equal(small.weights_beyond_500k, 0);
  const big = modelFeatures(buildPlan(presetArch('mnasnet-a1')));
  assert.ok(big.weights_m > 1);
  assert.ok(Math.abs(big.weights_beyond_200k - (big.weights_m - 0.2)) < 1e-12);
  assert.ok(Math.abs(big.weights_beyond_500k - (big.weights_m - 0.5)) < 1e-12);
  const between = modelFeatures(buildPlan(parseArch('in8x8x1_cls4_stem8s1_head0:conv_r1_k5_s11_e1_i8_o96_noskip,conv_r1_k5_s11_e1_i96_o128_noskip')));
  assert.ok(between.weights_m > 0.2 && between.weights_m < 0.5, `${between.weights_m} M weights`);
  assert.ok(between.weights_beyond_200k > 0 && between.weights_beyond_500k === 0);
});

test('layerShares add up to the network\'s features, the knees shared in proportion to each layer\'s weights', () => {
  for (const name of ['bench-fmnist', 'mnasnet-a1'] as const) {
    const plan = buildPlan(presetArch(name));
    const whole = modelFeatures(plan);
    const shares = layerShares(plan);
    assert.equal(shares.length, plan.layers.length);
    for (const k of MODEL_FEATURES) {
      const sum = shares.reduce((a, f) => a + f[k], 0);
      assert.ok(Math.abs(sum - whole[k]) <= 1e-9 * Math.max(1, Math.abs(whole[k])), `${name} ${k}: ${sum} against ${whole[k]}`);
    }
    const heaviest = shares.reduce((a, f, i) => (f.weights_m > shares[a]!.weights_m ? i : a), 0);
    if (whole.weights_beyond_200k > 0) assert.ok(shares[heaviest]!.weights_beyond_200k >= Math.max(...shares.map((f) => f.weights_beyond_200k)));
  }
});
