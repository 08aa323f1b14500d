/**
 * The builder over the whole registry and the whole spaces: every preset and 1,000 random
 * samples of every shipped space build on the engine, run forward and backward, and give finite
 * outputs and gradients; the built network has exactly the cost model's parameter count.
 * 224x224 architectures run at 32x32 here (the layers are the same; only the spatial size,
 * which the plan test checks separately, differs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withGlobal, type Arch } from '../space/arch.js';
import { presetArch, presetNames } from '../space/presets.js';
import { getSpace, spaceNames } from '../space/space.js';
import { allFinite, crossEntropy, int64Tensor, noGrad, rand, setNumThreads, tidy, Generator, liveTensors } from '../torch/index.js';
import { Rng } from '../util/rng.js';
import { buildNetwork } from './builder.js';
import { costOfPlan } from './cost.js';
import { buildPlan } from './plan.js';

setNumThreads(1);

function small(arch: Arch): Arch {
  const i = arch.global.input;
  return i.height > 32 ? withGlobal(arch, { input: { height: 32, width: 32, channels: i.channels }, classes: Math.min(arch.global.classes, 10) }) : arch;
}

/** Builds, runs a train-mode forward and backward on a batch of 2, and checks everything is finite. */
function check(arch: Arch, what: string, seed: number): void {
  const net = buildNetwork(arch, { seed, init: 'pytorch' });
  try {
    assert.equal(net.parameterCount(), costOfPlan(buildPlan(arch)).params, `${what}: parameter count`);
    tidy(() => {
      const { height, width, channels } = arch.global.input;
      const x = rand([2, channels, height, width], new Generator(seed));
      const logits = net.forward(x);
      assert.deepEqual(logits.shape, [2, arch.global.classes], `${what}: logits shape`);
      assert.ok(allFinite(logits), `${what}: non-finite logits`);
      const loss = crossEntropy(logits, int64Tensor([0, 1].map((c) => c % arch.global.classes)));
      loss.backward();
      for (const [name, p] of net.namedParameters()) {
        const g = p.grad;
        assert.ok(g !== null, `${what}: no gradient for ${name}`);
        assert.ok(allFinite(g), `${what}: non-finite gradient for ${name}`);
      }
    });
  } finally {
    net.dispose();
  }
}

test('every preset builds, runs forward and backward with finite outputs and gradients', () => {
  for (const name of presetNames()) check(small(presetArch(name)), name, 1);
});

for (const spaceName of spaceNames()) {
  test(`${spaceName}: 1,000 random samples build and train a step with finite values`, () => {
    const space = getSpace(spaceName);
    const rng = new Rng(2024);
    const before = liveTensors();
    for (let i = 0; i < 1000; i++) check(small(space.decode(space.sample(rng))), `${spaceName} sample ${i}`, i);
    assert.equal(liveTensors(), before, 'no tensors leaked');
  });
}

test('eval without gradients folds each BN into its conv: the same logits as the unfolded eval forward, no tensors left behind', () => {
  for (const name of ['bench-fmnist', 'mnasnet-a1-fmnist']) {
    const arch = small(presetArch(name));
    const net = buildNetwork(arch, { seed: 3, init: 'pytorch' });
    try {
      const { height, width, channels } = arch.global.input;
      // train-mode passes move every BN's running statistics away from 0 and 1
      for (let i = 0; i < 3; i++) tidy(() => void net.forward(rand([8, channels, height, width], new Generator(i))));
      net.eval();
      const before = liveTensors();
      const [folded, unfolded] = tidy(() => {
        const x = rand([4, channels, height, width], new Generator(9));
        return [noGrad(() => net.forward(x)).toFloat32Array(), net.forward(x).toFloat32Array()];
      });
      assert.equal(liveTensors(), before, `${name}: tensors leaked`);
      const scale = Math.max(...unfolded!.map(Math.abs));
      const worst = Math.max(...folded!.map((v, i) => Math.abs(v - unfolded![i]!)));
      assert.ok(worst <= 1e-4 * scale, `${name}: folded logits differ by ${worst} (largest logit ${scale})`);
      // folding rounds differently: identical logits would mean the folded path did not run
      assert.ok(worst > 0, `${name}: the eval forward without gradients gave bit-identical logits`);
    } finally {
      net.dispose();
    }
  }
});
