import { test } from 'node:test';
import assert from 'node:assert/strict';
import { printArch } from './arch-string.js';
import { getPreset } from './presets.js';
import { resolveArch } from './resolve.js';

test('timm arch strings and pasted timm arch_def lists resolve in timm\'s MnasNet frame (README promise)', () => {
  // timm's _gen_mnasnet_b1 arch_def, pasted from its source
  const timmB1 = "[['ds_r1_k3_s1_e1_c16_noskip'], ['ir_r3_k3_s2_e3_c24'], ['ir_r3_k5_s2_e3_c40'], ['ir_r3_k5_s2_e6_c80'], ['ir_r2_k3_s1_e6_c96'], ['ir_r4_k5_s2_e6_c192'], ['ir_r1_k3_s1_e6_c320_noskip']]";
  assert.equal(printArch(resolveArch(timmB1)), printArch(getPreset('mnasnet-b1').arch));
  const piped = 'ds_r1_k3_s1_e1_c16_noskip | ir_r3_k3_s2_e3_c24 | ir_r3_k5_s2_e3_c40 | ir_r3_k5_s2_e6_c80 | ir_r2_k3_s1_e6_c96 | ir_r4_k5_s2_e6_c192 | ir_r1_k3_s1_e6_c320_noskip';
  assert.equal(printArch(resolveArch(piped)), printArch(getPreset('mnasnet-b1').arch));
  const small = resolveArch('ds_r1_k3_s1_e1_c16 | ir_r2_k3_s2_e6_c24_se0.25', { input: { height: 32, width: 32, channels: 3 }, classes: 10 });
  assert.equal(printArch(small), 'in32x32x3_cls10_stem32s2_head1280:r1_k3_s11_e1_i32_o16,r2_k3_s22_e6_i16_o24_se0.25');
  assert.throws(() => resolveArch('ds_r1_k3_s1_e1_c16 | ir_r2_x3'), /timm arch string: block 1, token 2 'x3': unknown token/);
  assert.throws(() => resolveArch("[['ds_r1_k3_s1_e1_c16'], ['ir_r2"), /timm arch_def list: not a list of lists/);
});
