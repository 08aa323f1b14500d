#!/usr/bin/env node
// Batch norm with its ReLU in training: mnas's fused pass (native/batch_norm.cc) against
// libtorch's batch norm and a separate in-place ReLU (MNAS_BATCHNORM=aten), alternating, in both
// layouts, one thread. Prints the median milliseconds of the forward pass and of the backward
// pass (the gradient of the input, weight and bias), and how far apart the two outputs are.
//   node bench/batch-norm.mjs [rounds=7]
import { add, batchNorm, manualSeed, mul, ones, rand, randn, setNumThreads, tidy, zeroGrad, zeros } from '../dist/src/torch/index.js';

setNumThreads(1);
const rounds = Number(process.argv[2] ?? 7);
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error('usage: node bench/batch-norm.mjs [ROUNDS >= 1]');
  process.exit(2);
}
// the activations of a search's largest layers: 28x28 and 14x14 expansions, a 7x7 head
const shapes = [[128, 96, 28, 28], [128, 48, 28, 28], [128, 144, 14, 14], [128, 240, 7, 7]];
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (const layout of ['contiguous', 'channels_last']) {
  for (const shape of shapes) {
    manualSeed(1);
    const c = shape[1];
    const x = tidy(() => add(mul(randn(shape), 2), 0.5).contiguous(layout));
    x.requiresGrad = true;
    const w = tidy(() => add(rand([c]), 0.5));
    w.requiresGrad = true;
    const b = zeros([c]);
    b.requiresGrad = true;
    const g = randn(shape).contiguous(layout);
    const runningMean = zeros([c]);
    const runningVar = ones([c]);
    const ms = { own: { forward: [], backward: [] }, aten: { forward: [], backward: [] } };
    const outputs = {};
    for (let i = 0; i < 2 * (rounds + 1); i++) {
      const path = i % 2 ? 'aten' : 'own';
      if (path === 'aten') process.env.MNAS_BATCHNORM = 'aten';
      else delete process.env.MNAS_BATCHNORM;
      zeroGrad([x, w, b]);
      tidy(() => {
        const t0 = performance.now();
        const y = batchNorm(x, w, b, runningMean, runningVar, true, 0.1, 1e-5, { relu: true });
        const t1 = performance.now();
        y.backward(g);
        const t2 = performance.now();
        if (i >= 2) {
          ms[path].forward.push(t1 - t0);
          ms[path].backward.push(t2 - t1);
        }
        outputs[path] = y.toFloat32Array();
      });
    }
    let diff = 0, scale = 0;
    for (let i = 0; i < outputs.own.length; i++) {
      diff = Math.max(diff, Math.abs(outputs.own[i] - outputs.aten[i]));
      scale = Math.max(scale, Math.abs(outputs.aten[i]));
    }
    const [of, ob, af, ab] = [ms.own.forward, ms.own.backward, ms.aten.forward, ms.aten.backward].map(median);
    console.log(
      `${layout.padEnd(13)} ${shape.join('x')}: forward mnas ${of.toFixed(1)} ms, libtorch ${af.toFixed(1)} ms (x${(af / of).toFixed(2)}); ` +
        `backward mnas ${ob.toFixed(1)} ms, libtorch ${ab.toFixed(1)} ms (x${(ab / ob).toFixed(2)}); outputs differ by ${(diff / scale).toExponential(1)} of the largest`,
    );
    for (const t of [x, w, b, g, runningMean, runningVar]) t.dispose();
  }
}
delete process.env.MNAS_BATCHNORM;
