#!/usr/bin/env node
// Squeeze-and-excitation in training: mnas's fused autograd function (native/squeeze_excite.cc)
// against libtorch's autograd through the layer's ops (MNAS_SQUEEZE_EXCITE=aten), alternating, in
// both layouts, one thread, squeezed to a quarter of the block's input channels as the space's
// se0.25 on an expansion of 6. Prints the median milliseconds of
// the forward pass and of the backward pass (the gradients of the input and the four weights).
//   node bench/squeeze-excite.mjs [ROUNDS=7]
import { manualSeed, randn, setNumThreads, squeezeExcite, tidy, zeroGrad } from '../dist/src/torch/index.js';
import { median } from '../dist/src/util/stats.js';

setNumThreads(1);
const rounds = Number(process.argv[2] ?? 7);
if (process.argv.length > 3 || !Number.isInteger(rounds) || rounds < 1) {
  console.error('usage: node bench/squeeze-excite.mjs [ROUNDS >= 1]');
  process.exit(2);
}
// a search's SE layers on its largest activations: 28x28 and 14x14 expansions
const shapes = [[128, 96, 28, 28], [128, 144, 14, 14], [128, 240, 7, 7]];
for (const layout of ['contiguous', 'channels_last']) {
  for (const shape of shapes) {
    manualSeed(1);
    const [, c] = shape;
    const r = Math.max(1, Math.round((c / 6) * 0.25));
    const x = randn(shape).contiguous(layout);
    const dy = randn(shape).contiguous(layout);
    const weights = [randn([r, c]), randn([r]), randn([c, r]), randn([c])];
    for (const t of [x, ...weights]) t.requiresGrad = true;
    const ms = { own: { forward: [], backward: [] }, aten: { forward: [], backward: [] } };
    for (let i = 0; i < 2 * (rounds + 1); i++) {
      const path = i % 2 ? 'aten' : 'own';
      if (path === 'aten') process.env.MNAS_SQUEEZE_EXCITE = 'aten';
      else delete process.env.MNAS_SQUEEZE_EXCITE;
      zeroGrad([x, ...weights]);
      tidy(() => {
        const t0 = performance.now();
        const y = squeezeExcite(x, ...weights);
        const t1 = performance.now();
        y.backward(dy);
        const t2 = performance.now();
        if (i >= 2) {
          ms[path].forward.push(t1 - t0);
          ms[path].backward.push(t2 - t1);
        }
      });
    }
    delete process.env.MNAS_SQUEEZE_EXCITE;
    const f = (p, k) => median(ms[p][k]).toFixed(1);
    console.log(`${shape.join('x')} ${layout}: forward ${f('own', 'forward')} ms (libtorch ${f('aten', 'forward')}), backward ${f('own', 'backward')} ms (libtorch ${f('aten', 'backward')})`);
    for (const t of [x, dy, ...weights]) t.dispose();
  }
}
