import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSyntheticDataset } from '../data/synthetic.js';
import { buildNetwork } from '../model/builder.js';
import type { Network } from '../model/network.js';
import { parseArch } from '../space/arch-string.js';
import { BatchNorm2d, liveTensors, setNumThreads, type Module } from '../torch/index.js';
import { recalibrateBatchNorm } from './bn-calibration.js';
import { TensorDataset } from './tensor-data.js';

setNumThreads(1);

const ARCH = parseArch('in28x28x1_cls10_stem8s1_head0:r1_k3_s22_e3_i8_o16_se0.25,conv_r1_k3_s22_e1_i16_o24');

function batchNorms(m: Module, into: BatchNorm2d[] = []): BatchNorm2d[] {
  if (m instanceof BatchNorm2d) into.push(m);
  for (const [, child] of m.children()) batchNorms(child, into);
  return into;
}

const stats = (net: Network): number[] => batchNorms(net).flatMap((bn) => [...bn.runningMean.toFloat32Array(), ...bn.runningVar.toFloat32Array()]);

function setup() {
  const data = new TensorDataset(makeSyntheticDataset({ seed: 5, trainCount: 96, testCount: 1 }).train);
  const net = buildNetwork(ARCH, { seed: 0 });
  return { data, net };
}

test('recalibration sets running statistics to the plain average over the batches: the same whatever their order; momenta and mode restored', async () => {
  const { data, net } = setup();
  try {
    const before = stats(net);
    const momenta = batchNorms(net).map((bn) => bn.momentum);
    net.eval();
    const batches = [0, 1, 2].map((b) => Int32Array.from({ length: 32 }, (_, i) => b * 32 + i));
    await recalibrateBatchNorm(net, data, Int32Array.from([...batches[0]!, ...batches[1]!, ...batches[2]!]), 32);
    const forward = stats(net);
    await recalibrateBatchNorm(net, data, Int32Array.from([...batches[2]!, ...batches[0]!, ...batches[1]!]), 32);
    const permuted = stats(net);
    assert.ok(forward.some((v, i) => Math.abs(v - before[i]!) > 1e-3), 'the statistics changed');
    // a fixed momentum would weight the last batch most, and the two orders would differ
    const worst = Math.max(...forward.map((v, i) => Math.abs(v - permuted[i]!) / Math.max(1, Math.abs(v))));
    assert.ok(worst < 1e-4, `order changed the statistics by ${worst}`);
    assert.deepEqual(batchNorms(net).map((bn) => bn.momentum), momenta);
    assert.equal(net.training, false);
  } finally {
    net.dispose();
    data.dispose();
  }
});

test('recalibration passes a hold before each batch and waits while it is closed; an abort stops it without leaking tensors', async () => {
  const { data, net } = setup();
  try {
    const indices = Int32Array.from({ length: 96 }, (_, i) => i);
    let holds = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let finished = false;
    const pass = recalibrateBatchNorm(net, data, indices, 32, { hold: () => (++holds === 2 ? gate : undefined) }).then(() => (finished = true));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    assert.equal(holds, 2);
    assert.equal(finished, false, 'waits at the closed hold');
    const held = stats(net);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(stats(net), held, 'no batch runs while held');
    release();
    await pass;
    assert.equal(holds, 3, 'one hold before each of the 3 batches');

    const momenta = batchNorms(net).map((bn) => bn.momentum);
    const live = liveTensors();
    const controller = new AbortController();
    let batches = 0;
    const aborted = recalibrateBatchNorm(net, data, indices, 32, {
      signal: controller.signal,
      hold: () => {
        if (++batches === 2) controller.abort(new Error('stop'));
        return undefined;
      },
    });
    await assert.rejects(aborted, /stop/);
    assert.equal(batches, 2);
    assert.equal(liveTensors(), live);
    assert.deepEqual(batchNorms(net).map((bn) => bn.momentum), momenta);
  } finally {
    net.dispose();
    data.dispose();
  }
});
