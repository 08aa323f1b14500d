/**
 * Training-loop properties of the engine: resident memory and live tensors stay flat over
 * 5,000 steps, and the same seed gives the same losses bit for bit in one thread.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Activation, BatchNorm2d, Conv2d, crossEntropy, Generator, globalAvgPool, int64Tensor, Layer, Linear, liveTensors, manualSeed,
  randn, relu, RMSprop, Sequential, setNumThreads, SGD, tidy, dropout, type Optimizer, type Tensor,
} from './index.js';

setNumThreads(1);

class Pool extends Layer {
  forward(x: Tensor): Tensor {
    return globalAvgPool(x);
  }
}

class Drop extends Layer {
  forward(x: Tensor): Tensor {
    return dropout(x, 0.2, this.training);
  }
}

function tinyNet(seed: number): Sequential {
  const generator = new Generator(seed);
  return new Sequential([
    new Conv2d({ inChannels: 1, outChannels: 4, kernel: 3, stride: 2, generator }),
    new BatchNorm2d({ channels: 4 }),
    new Activation(relu),
    new Conv2d({ inChannels: 4, outChannels: 4, kernel: 3, groups: 4, generator }),
    new Pool(),
    new Drop(),
    new Linear({ inFeatures: 4, outFeatures: 3, generator }),
  ]);
}

function batch(seed: number): { x: Tensor; y: Tensor } {
  const x = randn([4, 1, 6, 6], new Generator(seed)).keep();
  const y = int64Tensor([0, 1, 2, 1]).keep();
  return { x, y };
}

function trainStep(net: Sequential, opt: Optimizer, x: Tensor, y: Tensor, lr: number): number {
  return tidy(() => {
    opt.zeroGrad();
    const loss = crossEntropy(net.forward(x), y, { labelSmoothing: 0.1 });
    loss.backward();
    opt.step(lr);
    return loss.item();
  });
}

test('resident memory and live tensors stay flat over 5,000 training steps', () => {
  const net = tinyNet(1);
  const opt = new SGD(net.parameters(), { momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
  const { x, y } = batch(2);
  manualSeed(3);
  let live500 = 0, rss500 = 0;
  const t0 = Date.now();
  let loss = 0;
  for (let step = 1; step <= 5000; step++) {
    loss = trainStep(net, opt, x, y, 0.05);
    if (step === 500) {
      global.gc?.();
      live500 = liveTensors();
      rss500 = process.memoryUsage().rss;
    }
  }
  global.gc?.();
  const rss5000 = process.memoryUsage().rss;
  assert.equal(liveTensors(), live500, 'live tensors after step 500 and step 5000');
  const growth = rss5000 - rss500;
  assert.ok(growth < 8 * 2 ** 20, `RSS grew by ${(growth / 2 ** 20).toFixed(1)} MB between step 500 and step 5000`);
  assert.ok(Number.isFinite(loss) && loss < 1.2, `the net trains (final loss ${loss})`);
  assert.ok(Date.now() - t0 < 20000, 'fast enough for the suite');
  opt.dispose();
  net.dispose();
  x.dispose();
  y.dispose();
});

function run(seed: number, steps: number, makeOpt: (p: Tensor[]) => Optimizer): number[] {
  const before = liveTensors();
  const net = tinyNet(seed);
  const opt = makeOpt(net.parameters());
  const { x, y } = batch(seed + 100);
  manualSeed(seed); // dropout masks
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) losses.push(trainStep(net, opt, x, y, 0.02));
  net.eval();
  const evalLoss = tidy(() => crossEntropy(net.forward(x), y).item());
  opt.dispose();
  net.dispose();
  x.dispose();
  y.dispose();
  assert.equal(liveTensors(), before);
  return [...losses, evalLoss];
}

test('same seed, same losses bit for bit (one thread); another seed differs', () => {
  const rms = (p: Tensor[]) => new RMSprop(p, { tfStyle: true, momentum: 0.9 });
  const a = run(11, 40, rms);
  const b = run(11, 40, rms);
  assert.deepEqual(a, b);
  assert.ok(a.every(Number.isFinite));
  assert.notDeepEqual(run(12, 40, rms), a);
  const sgd = (p: Tensor[]) => new SGD(p, { momentum: 0.9 });
  assert.deepEqual(run(5, 20, sgd), run(5, 20, sgd));
});
