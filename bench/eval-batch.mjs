#!/usr/bin/env node
// The validation pass of a proxy trial (10,000 images, one thread) on onnxruntime (or, with
// `libtorch`, on libtorch) at several batch sizes, alternating, over the random fmnist-space
// architectures mnas evaluates there ('auto' picks that runtime; with `all`, every architecture).
// Prints each architecture's median seconds and minor page faults per batch size, then the sums
// and the median per-architecture ratio of each batch size to the first.
//   node bench/eval-batch.mjs [BATCHES=64,16,8] [ARCHS=12] [SEED=0] [REPEATS=3] [all] [libtorch]
import { median } from '../dist/src/util/stats.js';
import { setNumThreads } from '../dist/src/torch/index.js';
import { buildNetwork } from '../dist/src/model/builder.js';
import { parseArch } from '../dist/src/space/arch-string.js';
import { sampleArchitectures } from '../dist/src/bench/proxy-trials.js';
import { makeSyntheticDataset } from '../dist/src/data/synthetic.js';
import { autoEvalRuntime, evaluate, LIBTORCH_EVAL_MAX_BATCH } from '../dist/src/train/evaluate.js';
import { tallyOnOnnxRuntime } from '../dist/src/train/evaluate-onnx.js';
import { TensorDataset } from '../dist/src/train/tensor-data.js';

const flags = new Set(process.argv.slice(2).filter((a) => a === 'all' || a === 'libtorch'));
const args = process.argv.slice(2).filter((a) => !flags.has(a));
const every = flags.has('all');
const runtime = flags.has('libtorch') ? 'libtorch' : 'onnxruntime';
const batches = (args[0] ?? '64,16,8').split(',').map(Number);
const [archCount, seed, repeats] = [args[1] ?? '12', args[2] ?? '0', args[3] ?? '3'].map(Number);
if (args.length > 4 || batches.some((b) => !Number.isInteger(b) || b < 1) || !Number.isInteger(archCount) || archCount < 1 || !Number.isInteger(seed) || !Number.isInteger(repeats) || repeats < 1) {
  console.error('usage: node bench/eval-batch.mjs [BATCHES=64,16,8] [ARCHS >= 1] [SEED] [REPEATS >= 1] [all] [libtorch]');
  process.exit(2);
}
if (runtime === 'libtorch' && batches.some((b) => b > LIBTORCH_EVAL_MAX_BATCH)) {
  console.error(`bench/eval-batch.mjs: libtorch evaluates in batches of at most ${LIBTORCH_EVAL_MAX_BATCH}`);
  process.exit(2);
}
setNumThreads(1);
const images = 10_000;
const data = new TensorDataset(makeSyntheticDataset({ seed: 0, trainCount: images, testCount: 1 }).train);
const all = Int32Array.from({ length: images }, (_, i) => i);
const totals = batches.map(() => 0);
const ratios = batches.map(() => []);
let measured = 0;
for (const arch of sampleArchitectures('fmnist', archCount, seed)) {
  const net = buildNetwork(parseArch(arch), { seed: 0 });
  net.eval();
  if (!every && autoEvalRuntime(net.plan) !== runtime) {
    net.dispose();
    continue;
  }
  measured++;
  const runs = batches.map(() => ({ s: [], faults: [] }));
  for (let r = 0; r < repeats; r++) {
    for (let j = 0; j < batches.length; j++) {
      const k = (j + r) % batches.length; // a different batch size goes first each round
      const f0 = process.resourceUsage().minorPageFault;
      const t0 = performance.now();
      if (runtime === 'onnxruntime') await tallyOnOnnxRuntime(net, data, all, { batchSize: batches[k] }); // evaluate() would cap the batch
      else await evaluate(net, data, all, { batchSize: batches[k], runtime });
      runs[k].s.push((performance.now() - t0) / 1000);
      runs[k].faults.push(process.resourceUsage().minorPageFault - f0);
    }
  }
  const secs = runs.map((x) => median(x.s));
  secs.forEach((s, k) => {
    totals[k] += s;
    ratios[k].push(secs[0] / s);
  });
  console.log(`${arch}: ${batches.map((b, k) => `batch ${b} ${secs[k].toFixed(2)} s (${median(runs[k].faults)} faults)`).join(', ')}`);
  net.dispose();
}
data.dispose();
console.log(
  `${runtime}, ${measured} architectures, ${repeats} passes each: ${batches.map((b, k) => `batch ${b} ${totals[k].toFixed(1)} s in all${k ? ` (x${(totals[0] / totals[k]).toFixed(3)} as fast as batch ${batches[0]}, per-architecture median x${median(ratios[k]).toFixed(3)})` : ''}`).join('; ')}`,
);
