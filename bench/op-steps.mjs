#!/usr/bin/env node
// Training steps (forward and backward at batch 128, one thread) of random fmnist-space
// architectures with one of mnas's native ops and with libtorch's in its place (the op's switch
// set to `aten`), alternating step by step; prints each architecture's median step time both ways,
// the median of the per-architecture ratios and the ratio of the summed medians. The batch has the
// strides of a real one (N, 1, 28, 1): a one-channel image batch reads as channels_last, and
// libtorch then keeps the network's activations so.
//   node bench/op-steps.mjs SWITCH [ARCHS=8] [SEED=0]
// SWITCH: MNAS_BATCHNORM (batch norm + ReLU), MNAS_SQUEEZE_EXCITE, MNAS_DEPTHWISE (depthwise weight gradients)
import { median } from '../dist/src/util/stats.js';
import { randn, setNumThreads, sum, tidy } from '../dist/src/torch/index.js';
import { buildNetwork } from '../dist/src/model/builder.js';
import { parseArch } from '../dist/src/space/arch-string.js';
import { sampleArchitectures } from '../dist/src/bench/proxy-trials.js';

const SWITCHES = ['MNAS_BATCHNORM', 'MNAS_SQUEEZE_EXCITE', 'MNAS_DEPTHWISE'];
const [name, archArg = '8', seedArg = '0'] = process.argv.slice(2);
const [archCount, seed] = [archArg, seedArg].map(Number);
if (!SWITCHES.includes(name) || process.argv.length > 5 || !Number.isInteger(archCount) || archCount < 1 || !Number.isInteger(seed)) {
  console.error(`usage: node bench/op-steps.mjs ${SWITCHES.join('|')} [ARCHS >= 1] [SEED]`);
  process.exit(2);
}
setNumThreads(1);
const ratios = [];
const totals = { own: 0, aten: 0 };
for (const arch of sampleArchitectures('fmnist', archCount, seed)) {
  const net = buildNetwork(parseArch(arch), { seed: 0 });
  net.train();
  const x = randn([128, 1, 28, 28]).restride('channels_last');
  const ms = { own: [], aten: [] };
  for (let i = 0; i < 14; i++) {
    const path = i % 2 ? 'aten' : 'own';
    if (path === 'aten') process.env[name] = 'aten';
    else delete process.env[name];
    tidy(() => {
      const t0 = performance.now();
      sum(net.forward(x)).backward();
      if (i >= 2) ms[path].push(performance.now() - t0);
    });
  }
  const own = median(ms.own), aten = median(ms.aten);
  totals.own += own;
  totals.aten += aten;
  ratios.push(aten / own);
  console.log(`${arch}: mnas ${own.toFixed(0)} ms, libtorch ${aten.toFixed(0)} ms per step (x${ratios.at(-1).toFixed(2)})`);
  x.dispose();
  net.dispose();
}
delete process.env[name];
console.log(`${name}: median of the per-architecture ratios x${median(ratios).toFixed(2)}; all ${archCount} steps x${(totals.aten / totals.own).toFixed(2)} (${totals.own.toFixed(0)} ms against ${totals.aten.toFixed(0)} ms)`);
