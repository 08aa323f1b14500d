#!/usr/bin/env node
// Training steps (forward and backward at batch 128, one thread) of random fmnist-space
// architectures with mnas's fused batch norm and with libtorch's (MNAS_BATCHNORM=aten),
// alternating step by step; prints each architecture's median step time both ways and the
// median of the per-architecture ratios.
//   node bench/batch-norm-steps.mjs [ARCHS=8] [SEED=0]
import { median } from '../dist/src/util/stats.js';
import { randn, setNumThreads, sum, tidy } from '../dist/src/torch/index.js';
import { buildNetwork } from '../dist/src/model/builder.js';
import { parseArch } from '../dist/src/space/arch-string.js';
import { sampleArchitectures } from '../dist/src/bench/proxy-trials.js';

const [archCount, seed] = [process.argv[2] ?? '8', process.argv[3] ?? '0'].map(Number);
if (process.argv.length > 4 || !Number.isInteger(archCount) || archCount < 1 || !Number.isInteger(seed)) {
  console.error('usage: node bench/batch-norm-steps.mjs [ARCHS >= 1] [SEED]');
  process.exit(2);
}
setNumThreads(1);
const ratios = [];
for (const arch of sampleArchitectures('fmnist', archCount, seed)) {
  const net = buildNetwork(parseArch(arch), { seed: 0 });
  net.train();
  const x = randn([128, 1, 28, 28]);
  const ms = { own: [], aten: [] };
  for (let i = 0; i < 14; i++) {
    const path = i % 2 ? 'aten' : 'own';
    if (path === 'aten') process.env.MNAS_BATCHNORM = 'aten';
    else delete process.env.MNAS_BATCHNORM;
    tidy(() => {
      const t0 = performance.now();
      sum(net.forward(x)).backward();
      if (i >= 2) ms[path].push(performance.now() - t0);
    });
  }
  ratios.push(median(ms.aten) / median(ms.own));
  console.log(`${arch}: mnas ${median(ms.own).toFixed(0)} ms, libtorch ${median(ms.aten).toFixed(0)} ms per step (x${ratios.at(-1).toFixed(2)})`);
  x.dispose();
}
delete process.env.MNAS_BATCHNORM;
console.log(`median of the per-architecture ratios: x${median(ratios).toFixed(2)}`);
