#!/usr/bin/env node
// The validation pass of a proxy trial (10,000 images, one thread) of random fmnist-space
// architectures on onnxruntime and on libtorch, alternating; prints each architecture's median
// seconds and minor page faults both ways and which one mnas's default ('auto') picks with the
// multiply-adds per second it reaches, then the ratios of libtorch alone to auto: the median per
// architecture, and of the summed seconds.
//   node bench/eval-runtime.mjs [ARCHS=8] [SEED=0] [REPEATS=3]
import { median } from '../dist/src/util/stats.js';
import { setNumThreads } from '../dist/src/torch/index.js';
import { buildNetwork } from '../dist/src/model/builder.js';
import { parseArch } from '../dist/src/space/arch-string.js';
import { sampleArchitectures } from '../dist/src/bench/proxy-trials.js';
import { makeSyntheticDataset } from '../dist/src/data/synthetic.js';
import { autoEvalRuntime, evaluate } from '../dist/src/train/evaluate.js';
import { evaluationBatchSize } from '../dist/src/train/run.js';
import { costOfPlan } from '../dist/src/model/cost.js';
import { TensorDataset } from '../dist/src/train/tensor-data.js';

const [archCount, seed, repeats] = [process.argv[2] ?? '8', process.argv[3] ?? '0', process.argv[4] ?? '3'].map(Number);
if (process.argv.length > 5 || !Number.isInteger(archCount) || archCount < 1 || !Number.isInteger(seed) || !Number.isInteger(repeats) || repeats < 1) {
  console.error('usage: node bench/eval-runtime.mjs [ARCHS >= 1] [SEED] [REPEATS >= 1]');
  process.exit(2);
}
setNumThreads(1);
const images = 10_000;
const data = new TensorDataset(makeSyntheticDataset({ seed: 0, trainCount: images, testCount: 1 }).train);
const all = Int32Array.from({ length: images }, (_, i) => i);
const ratios = [];
const totals = { auto: 0, libtorch: 0, onnxruntime: 0 };
let totalMacs = 0;
for (const arch of sampleArchitectures('fmnist', archCount, seed)) {
  const net = buildNetwork(parseArch(arch), { seed: 0 });
  const batchSize = evaluationBatchSize(net.plan, 500); // what a proxy trial asks for
  const runs = { onnxruntime: { s: [], faults: [] }, libtorch: { s: [], faults: [] } };
  for (let i = 0; i < 2 * repeats; i++) {
    const runtime = i % 2 ? 'libtorch' : 'onnxruntime';
    const f0 = process.resourceUsage().minorPageFault;
    const t0 = performance.now();
    await evaluate(net, data, all, { batchSize, runtime });
    runs[runtime].s.push((performance.now() - t0) / 1000);
    runs[runtime].faults.push(process.resourceUsage().minorPageFault - f0);
  }
  const [o, l] = [runs.onnxruntime, runs.libtorch];
  const auto = autoEvalRuntime(net.plan);
  const autoSeconds = median(runs[auto].s);
  totals.auto += autoSeconds;
  totals.libtorch += median(l.s);
  totals.onnxruntime += median(o.s);
  ratios.push(median(l.s) / autoSeconds);
  const macs = costOfPlan(net.plan).macs * images;
  totalMacs += macs;
  console.log(`${arch}: onnxruntime ${median(o.s).toFixed(2)} s (${median(o.faults)} faults), libtorch ${median(l.s).toFixed(2)} s (${median(l.faults)} faults); auto: ${auto}, x${ratios.at(-1).toFixed(2)}, ${(macs / autoSeconds / 1e9).toFixed(0)} G multiply-adds/s`);
  net.dispose();
}
data.dispose();
console.log(`libtorch against auto: median per architecture x${median(ratios).toFixed(2)}; summed ${totals.libtorch.toFixed(1)} s against ${totals.auto.toFixed(1)} s, x${(totals.libtorch / totals.auto).toFixed(2)} (onnxruntime alone ${totals.onnxruntime.toFixed(1)} s; ${archCount} architectures, ${repeats} passes each way); auto: ${(totalMacs / totals.auto / 1e9).toFixed(0)} G multiply-adds/s over all`);
