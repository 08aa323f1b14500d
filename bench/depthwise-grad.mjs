#!/usr/bin/env node
// The weight gradient of depthwise convolutions: mnas's own (native/depthwise_conv.cc) against
// libtorch's (MNAS_DEPTHWISE=aten), alternating, in both layouts, one thread. Prints the median
// milliseconds of a backward pass that computes only the weight gradient, and how far apart the
// two gradients are.
//   node bench/depthwise-grad.mjs [rounds=3]
import { conv2d, manualSeed, mul, noGrad, randn, setNumThreads, sum, tidy, zeroGrad } from '../dist/src/torch/index.js';

setNumThreads(1);
const rounds = Number(process.argv[2] ?? 3);
const shapes = [[128, 96, 28, 5, 1], [128, 72, 14, 5, 1], [128, 48, 28, 5, 2], [128, 96, 7, 5, 1], [128, 480, 4, 5, 1]];
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (const layout of ['channels_last', 'contiguous']) {
  for (const [n, c, h, k, stride] of shapes) {
    manualSeed(1);
    const x = randn([n, c, h, h]).contiguous(layout);
    const w = randn([c, 1, k, k]);
    w.requiresGrad = true;
    const r = noGrad(() => randn(conv2d(x, w, null, { stride, padding: k >> 1, groups: c }).shape));
    const ms = { own: [], aten: [] };
    const grads = {};
    for (let i = 0; i < 2 * rounds; i++) {
      const path = i % 2 ? 'aten' : 'own';
      if (path === 'aten') process.env.MNAS_DEPTHWISE = 'aten';
      else delete process.env.MNAS_DEPTHWISE;
      zeroGrad([w]);
      tidy(() => {
        const loss = sum(mul(conv2d(x, w, null, { stride, padding: k >> 1, groups: c }), r));
        const t0 = performance.now();
        loss.backward();
        ms[path].push(performance.now() - t0);
      });
      grads[path] = w.grad.toFloat32Array();
    }
    let diff = 0, scale = 0;
    for (let i = 0; i < grads.own.length; i++) {
      diff = Math.max(diff, Math.abs(grads.own[i] - grads.aten[i]));
      scale = Math.max(scale, Math.abs(grads.aten[i]));
    }
    console.log(`${layout.padEnd(13)} ${[n, c, h, h].join('x')} k${k} s${stride}: mnas ${median(ms.own).toFixed(1)} ms, libtorch ${median(ms.aten).toFixed(1)} ms (x${(median(ms.aten) / median(ms.own)).toFixed(2)}), max difference ${(diff / scale).toExponential(1)} of the largest`);
  }
}
delete process.env.MNAS_DEPTHWISE;
