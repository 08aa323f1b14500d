/**
 * Parity with PyTorch 1.13.1, without Python: fixtures written by tools/make_parity_fixtures.py
 * hold a small MnasNet-space network (MBConv with SE, a stride-2 layer, identity skips, a head),
 * its inputs, train- and eval-mode outputs, gradients and BN statistics, plus optimizer
 * trajectories from torch.optim (and a TF RMSProp reference formula).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { buildNetwork } from '../model/builder.js';
import { makeArch } from '../space/arch.js';
import { parseTfBlocks } from '../space/tf-block-string.js';
import { repoRoot } from '../util/paths.js';
import {
  Adam, crossEntropy, dispose, encodeSafetensors, linear, liveTensors, loadSafetensors, RMSprop, setNumThreads, SGD, slice, tidy,
  type Optimizer, type Tensor,
} from './index.js';
import { assertClose } from './testing.js';

setNumThreads(1);
const DIR = path.join(repoRoot(), 'test', 'fixtures', 'parity');
const spec = JSON.parse(readFileSync(path.join(DIR, 'parity.json'), 'utf8')) as {
  arch: { global: Parameters<typeof makeArch>[0]['global']; blocks: string[] };
  labelSmoothing: number;
  optim: { steps: number; lrs: number[]; runs: Record<string, Record<string, number | boolean | string>> };
};

function fixture(file: string): Map<string, Tensor> {
  const { tensors } = loadSafetensors(path.join(DIR, file));
  for (const t of tensors.values()) t.keep();
  return tensors;
}

function get(m: Map<string, Tensor>, key: string): Tensor {
  const t = m.get(key);
  assert.ok(t, `fixture has no '${key}'`);
  return t;
}

function withPrefix(m: Map<string, Tensor>, prefix: string): Map<string, Tensor> {
  return new Map([...m].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
}

const arch = () => makeArch({ global: spec.arch.global, blocks: parseTfBlocks(spec.arch.blocks) });

test('the fixture network has what the parity check needs (SE, stride 2, identity skip, head)', () => {
  const net = buildNetwork(arch(), { seed: 3 });
  try {
    const names = net.namedParameters().map(([n]) => n);
    assert.ok(names.includes('blocks.0.0.se.reduce.weight'));
    assert.ok(names.includes('blocks.0.1.expand.conv.weight'));
    assert.ok(names.includes('head.conv.weight'));
    const layers = net.plan.layers.filter((l) => l.kind === 'block');
    assert.ok(layers.some((l) => l.kind === 'block' && l.stride === 2));
    assert.ok(layers.some((l) => l.kind === 'block' && l.shortcut?.kind === 'identity' && l.se));
    assert.ok(layers.some((l) => l.kind === 'block' && l.shortcut?.kind === 'identity' && !l.se));
    assert.equal(net.dropoutRate, 0);
  } finally {
    net.dispose();
  }
});

for (const channelsLast of [false, true]) {
  test(`network forward (eval and train), loss, gradients and BN statistics match PyTorch${channelsLast ? ' (channels_last)' : ''}`, () => {
    const before = liveTensors();
    const fx = fixture('network.safetensors');
    const net = buildNetwork(arch(), { seed: 5, channelsLast });
    try {
      net.loadStateDict(withPrefix(fx, 'state.'));
      const layout = (t: Tensor) => (channelsLast ? t.contiguous('channels_last') : t.clone());
      tidy(() => {
        net.eval();
        const x = layout(get(fx, 'input.x'));
        if (channelsLast) assert.ok(x.isContiguous('channels_last') && !x.isContiguous());
        assertClose(net.forward(x).toFloat32Array(), get(fx, 'eval.logits').toFloat32Array(), 'eval logits', 1e-5, 1e-6);
        for (const [name, buf] of net.namedBuffers()) {
          assert.deepEqual(buf.toFloat32Array(), get(fx, `state.${name}`).toFloat32Array(), `eval mode changed ${name}`);
        }
      });
      tidy(() => {
        net.train();
        const x = layout(get(fx, 'input.x'));
        x.requiresGrad = true;
        const logits = net.forward(x);
        assertClose(logits.toFloat32Array(), get(fx, 'train.logits').toFloat32Array(), 'train logits', 1e-5, 1e-6);
        const loss = crossEntropy(logits, get(fx, 'input.y'), { labelSmoothing: spec.labelSmoothing });
        assertClose([loss.item()], get(fx, 'train.loss').toFloat32Array(), 'loss', 1e-6, 0);
        loss.backward();
        assertClose(x.grad!.toFloat32Array(), get(fx, 'grad.input').toFloat32Array(), 'grad of the input', 1e-5, 1e-7);
        let n = 0;
        for (const [name, p] of net.namedParameters()) {
          const g = p.grad;
          assert.ok(g, `${name} got no gradient`);
          const expected = get(fx, `grad.${name}`);
          assert.deepEqual(g.shape, expected.shape, name);
          assertClose(g.toFloat32Array(), expected.toFloat32Array(), `grad ${name}`, 1e-5, 1e-7);
          n++;
        }
        assert.equal(n, withPrefix(fx, 'grad.').size - 1, 'every fixture gradient was compared');
        for (const [name, buf] of net.namedBuffers()) {
          assertClose(buf.toFloat32Array(), get(fx, `after.${name}`).toFloat32Array(), `running stat ${name}`, 1e-5, 1e-7);
        }
      });
    } finally {
      net.dispose();
      dispose(fx);
    }
    assert.equal(liveTensors(), before);
  });
}

test('mnas still writes the bytes PyTorch was shown to read (mnas_written.safetensors)', () => {
  const fx = fixture('network.safetensors');
  const net = buildNetwork(arch(), { seed: 1 });
  try {
    net.loadStateDict(withPrefix(fx, 'state.'));
    const bytes = encodeSafetensors(net.stateDict(), { format: 'pt', writer: 'mnas' });
    const reference = readFileSync(path.join(DIR, 'mnas_written.safetensors'));
    assert.equal(bytes.byteLength, reference.byteLength);
    assert.ok(Buffer.from(bytes).equals(reference), 'encoded bytes differ from the file the fixture script verified');
  } finally {
    net.dispose();
    dispose(fx);
  }
});

function makeOptimizer(params: Tensor[], cfg: Record<string, number | boolean | string>): Optimizer {
  const num = (k: string) => cfg[k] as number;
  switch (cfg['kind']) {
    case 'sgd':
      return new SGD(params, { momentum: num('momentum'), nesterov: cfg['nesterov'] as boolean, weightDecay: num('weightDecay'), dampening: (cfg['dampening'] as number | undefined) ?? 0 });
    case 'rmsprop':
      return new RMSprop(params, { alpha: num('alpha'), eps: num('eps'), momentum: num('momentum'), weightDecay: num('weightDecay') });
    case 'rmsprop_tf':
      return new RMSprop(params, { alpha: num('alpha'), eps: num('eps'), momentum: num('momentum'), weightDecay: num('weightDecay'), tfStyle: true });
    case 'adam':
      return new Adam(params, { beta1: num('beta1'), beta2: num('beta2'), eps: num('eps'), weightDecay: num('weightDecay'), decoupledWeightDecay: cfg['decoupled'] as boolean });
    default:
      throw new Error(`unknown optimizer kind ${String(cfg['kind'])}`);
  }
}

test('optimizer steps match torch.optim (SGD, momentum, Nesterov, weight decay, RMSprop, Adam, AdamW) and the TF RMSProp reference', () => {
  const fx = fixture('optim.safetensors');
  const before = liveTensors();
  const runs = Object.entries(spec.optim.runs);
  assert.ok(runs.length >= 8);
  for (const [name, cfg] of runs) {
    const w = get(fx, 'init.weight').clone().keep();
    const b = get(fx, 'init.bias').clone().keep();
    w.requiresGrad = true;
    b.requiresGrad = true;
    const opt = makeOptimizer([w, b], cfg);
    try {
      for (let step = 0; step < spec.optim.steps; step++) {
        opt.zeroGrad();
        tidy(() => crossEntropy(linear(get(fx, 'data.x'), w, b), get(fx, 'data.y')).backward());
        opt.step(spec.optim.lrs[step]!);
        tidy(() => {
          const ew = slice(get(fx, `${name}.weight`), 0, step, step + 1).toFloat32Array();
          const eb = slice(get(fx, `${name}.bias`), 0, step, step + 1).toFloat32Array();
          // atol 1e-6: on a host whose GEMM sums in another order (AVX-512), a gradient near zero differs in its last
          // bits, and RMSprop's first steps divide a gradient by its own size (rmsprop, step 3: 1.5e-7 off on one weight)
          assertClose(w.toFloat32Array(), ew, `${name} step ${step + 1} weight`, 1e-5, 1e-6);
          assertClose(b.toFloat32Array(), eb, `${name} step ${step + 1} bias`, 1e-5, 1e-6);
        });
      }
      assert.equal(opt.steps, spec.optim.steps);
    } finally {
      opt.dispose();
      w.dispose();
      b.dispose();
    }
  }
  assert.equal(liveTensors(), before);
  dispose(fx);
});
