import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng.js';
import { parseArch, printArch } from '../space/arch-string.js';
import { getPreset, presetNames } from '../space/presets.js';
import { getSpace, spaceNames } from '../space/space.js';
import { buildPlan, convOutputSize, layersIn, planIdentity, seReducedChannels, withTrainingGlobals, type BlockLayerPlan, type NetworkPlan } from './plan.js';
import { withGlobal } from '../space/arch.js';
import { costOfPlan } from './cost.js';

function checkConsistent(plan: NetworkPlan, label: string): void {
  const names = plan.params.map((p) => p.name);
  assert.equal(new Set(names).size, names.length, `${label}: parameter names are unique`);
  for (let i = 1; i < plan.layers.length; i++) {
    const prev = plan.layers[i - 1]!;
    const cur = plan.layers[i]!;
    assert.equal(cur.inChannels, prev.outChannels, `${label}: ${cur.name} input channels`);
    assert.deepEqual(cur.inSize, prev.outSize, `${label}: ${cur.name} input size`);
  }
  for (const p of plan.params) {
    assert.ok(p.shape.every((d) => Number.isInteger(d) && d > 0), `${label}: ${p.name} shape ${p.shape}`);
    assert.equal(p.size, p.shape.reduce((a, b) => a * b, 1));
  }
  const last = plan.layers.at(-1)!;
  assert.equal(last.kind, 'classifier');
  assert.equal(last.outChannels, plan.classes);
}

test('every preset plans into a consistent layer list', () => {
  for (const name of presetNames()) checkConsistent(buildPlan(getPreset(name).arch), name);
});

for (const name of spaceNames()) {
  test(`${name}: 1000 sampled archs plan consistently`, () => {
    const space = getSpace(name);
    const rng = new Rng(21);
    for (let i = 0; i < 1000; i++) checkConsistent(buildPlan(space.decode(space.sample(rng))), `${name} sample ${i}`);
  });
}

test('mnasnet-a1: stable names, OIHW shapes, spatial sizes', () => {
  const plan = buildPlan(getPreset('mnasnet-a1').arch);
  const shape = (n: string) => plan.params.find((p) => p.name === n)?.shape;
  assert.deepEqual(shape('stem.conv.weight'), [32, 3, 3, 3]);
  assert.deepEqual(shape('stem.bn.running_var'), [32]);
  assert.deepEqual(shape('blocks.0.0.depthwise.conv.weight'), [32, 1, 3, 3]);
  assert.deepEqual(shape('blocks.0.0.project.conv.weight'), [16, 32, 1, 1]);
  assert.deepEqual(shape('blocks.2.1.expand.conv.weight'), [120, 40, 1, 1]);
  assert.deepEqual(shape('blocks.2.1.se.reduce.weight'), [10, 120, 1, 1]);
  assert.deepEqual(shape('blocks.2.1.se.reduce.bias'), [10]);
  assert.deepEqual(shape('blocks.2.0.se.reduce.weight'), [6, 72, 1, 1]); // floor(24 * 0.25) = 6
  assert.deepEqual(shape('blocks.2.1.se.expand.weight'), [120, 10, 1, 1]);
  assert.deepEqual(shape('head.conv.weight'), [1280, 320, 1, 1]);
  assert.deepEqual(shape('classifier.weight'), [1000, 1280]);
  assert.deepEqual(shape('classifier.bias'), [1000]);
  assert.equal(plan.params.find((p) => p.name === 'stem.bn.running_mean')?.trainable, false);
  const blocks = plan.layers.filter((l): l is BlockLayerPlan => l.kind === 'block');
  assert.equal(blocks.length, 1 + 2 + 3 + 4 + 2 + 3 + 1);
  assert.deepEqual(blocks.at(-1)!.outSize, { height: 7, width: 7 });
  assert.equal(blocks[0]!.shortcut, null); // noskip
  assert.equal(blocks[1]!.shortcut, null); // stride 2
  assert.equal(blocks[2]!.shortcut?.kind, 'identity');
  assert.deepEqual(plan.layers.map((l) => l.kind).slice(-3), ['head', 'pool', 'classifier']);
});

test('regular conv and pooling skip resolve as documented', () => {
  const plan = buildPlan(parseArch('in28x28x1_cls10_stem16s1_head0:conv_r2_k5_s22_e1_o24_se0.25_poolskip,r1_k3_s11_e6_o8_poolskip,r1_k3_s11_e6_o8_noskip'));
  const [l0, l1, l2, l3] = plan.layers.filter((l): l is BlockLayerPlan => l.kind === 'block');
  assert.ok(l0 && l0.regularConv && l0.se);
  assert.equal(l0.regularConv.prefix, 'blocks.0.0.regular');
  assert.deepEqual([l0.regularConv.inChannels, l0.regularConv.outChannels, l0.regularConv.kernel, l0.regularConv.padding], [16, 24, 5, 2]);
  assert.equal(l0.expandConv, null);
  assert.equal(l0.projectConv, null);
  assert.deepEqual([l0.se.channels, l0.se.reducedChannels], [24, 4]);
  assert.deepEqual(l0.shortcut, { kind: 'pool', downsample: true, channelChange: 'zero_pad', inChannels: 16, outChannels: 24 });
  assert.deepEqual(l0.outSize, { height: 14, width: 14 });
  assert.deepEqual(l1!.shortcut, { kind: 'pool', downsample: false, channelChange: 'none', inChannels: 24, outChannels: 24 });
  assert.deepEqual(l2!.shortcut, { kind: 'pool', downsample: false, channelChange: 'truncate', inChannels: 24, outChannels: 8 });
  assert.equal(l3!.shortcut, null);
  assert.equal(plan.layers.some((l) => l.kind === 'head'), false);
});

test('spatial sizes follow k//2 padding; tiny inputs stay at 1x1', () => {
  assert.equal(convOutputSize(224, 3, 2), 112);
  assert.equal(convOutputSize(7, 5, 2), 4);
  assert.equal(convOutputSize(1, 5, 2), 1);
  const tiny = buildPlan(parseArch('in1x1x1_cls2_stem8s2_head0:r2_k5_s22_e6_o16'));
  assert.deepEqual(tiny.layers.at(-3)!.outSize, { height: 1, width: 1 });
  assert.equal(seReducedChannels(16, 0), 0);
  assert.equal(seReducedChannels(3, 0.25), 1);
});

test('the plan is frozen', () => {
  const plan = buildPlan(getPreset('bench-fmnist').arch);
  assert.ok(Object.isFrozen(plan) && Object.isFrozen(plan.layers[1]) && Object.isFrozen(plan.params[0]!.shape));
});

test('planIdentity: single-decision changes that leave the network as it is keep the identity; those are equal networks', () => {
  const space = getSpace('fmnist');
  const decisions = space.decisions();
  const rng = new Rng(11);
  let same = 0, sameButOtherArchString = 0, mutations = 0;
  for (let i = 0; i < 60; i++) {
    const dna = [...space.sample(rng)];
    const plan = buildPlan(space.decode(dna));
    const key = planIdentity(plan);
    for (let j = 0; j < dna.length; j++) {
      for (let c = 0; c < decisions[j]!.choices.length; c++) {
        if (c === dna[j]) continue;
        const other = buildPlan(space.decode(dna.map((v, k) => (k === j ? c : v))));
        mutations++;
        const equalNetworks = JSON.stringify(other.params) === JSON.stringify(plan.params) && JSON.stringify(other.layers.map((l) => l.kind === 'block' ? l.shortcut : null)) === JSON.stringify(plan.layers.map((l) => l.kind === 'block' ? l.shortcut : null));
        if (planIdentity(other) === key) {
          same++;
          assert.ok(equalNetworks, `${printArch(plan.arch)} and ${printArch(other.arch)} share an identity but differ`);
          assert.equal(costOfPlan(other).macs, costOfPlan(plan).macs);
          if (printArch(other.arch) !== printArch(plan.arch)) sameButOtherArchString++;
        }
      }
    }
  }
  assert.ok(same > 0.02 * mutations, `some single-decision changes build the same network (${same} of ${mutations})`);
  assert.ok(sameButOtherArchString > 0, 'including some with a different architecture string (e.g. a skip that cannot apply)');
});

test('withTrainingGlobals: the plan of the arch with the new BN momentum and dropout, without planning again', () => {
  const plan = buildPlan(getPreset('fmnist-default').arch);
  for (const o of [{ bnMomentum: 0.9 }, { dropout: 0.5 }, { bnMomentum: 0.5, dropout: 0.1 }]) {
    const changed = withTrainingGlobals(plan, o);
    assert.deepEqual(changed, buildPlan(withGlobal(plan.arch, o)), JSON.stringify(o));
    assert.equal(changed.params, plan.params, 'the parameters are shared');
    assert.ok(Object.isFrozen(changed) && Object.isFrozen(changed.layers));
  }
  assert.equal(withTrainingGlobals(plan, {}), plan);
  assert.equal(withTrainingGlobals(plan, { bnMomentum: plan.bnMomentum }), plan);
  assert.throws(() => withTrainingGlobals(plan, { dropout: 2 }), /dropout/);
});

test('layersIn: ranges of at least one layer', () => {
  const plan = buildPlan(getPreset('fmnist-default').arch);
  assert.deepEqual(layersIn(plan, { from: 1, to: 3 }), plan.layers.slice(1, 3));
  for (const bad of [{ from: 2, to: 2 }, { from: -1, to: 1 }, { from: 0, to: plan.layers.length + 1 }, { from: 0.5, to: 2 }]) {
    assert.throws(() => layersIn(plan, bad), RangeError, JSON.stringify(bad));
  }
});
