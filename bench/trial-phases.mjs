// Where a proxy trial's time goes: proxy-trains the random architectures `mnas bench proxy`
// samples (same space, count and seed) one after the other in this process, with the search's
// default proxy settings and the proxy recipe's own seed, one thread, and prints per architecture the trial's seconds, the
// training loop's, and the rest (building, BN recalibration, evaluation on the held-out images),
// with the BN recalibration's and the evaluation's own seconds.
// To compare two commits, run it from a checkout of each, alternating.
//
//   node bench/trial-phases.mjs [SPACE] [SAMPLES] [SEED]
//
// e.g. node bench/trial-phases.mjs fmnist 5 0
import { loadDataset } from '../dist/src/data/load.js';
import { proxySplit, proxyTrain } from '../dist/src/train/run.js';
import { parseArch } from '../dist/src/space/arch-string.js';
import { sampleArchitectures } from '../dist/src/bench/proxy-trials.js';
import { parseSearchConfig } from '../dist/src/search/config.js';
import { TensorDataset } from '../dist/src/train/tensor-data.js';

const [space = 'fmnist', samplesArg = '5', seedArg = '0'] = process.argv.slice(2);
const samples = Number(samplesArg);
const seed = Number(seedArg);
if (space !== 'fmnist' || !Number.isInteger(samples) || samples < 1 || !Number.isInteger(seed)) {
  console.error('usage: node bench/trial-phases.mjs [fmnist] [SAMPLES >= 1] [SEED]');
  process.exit(2);
}
const defaults = parseSearchConfig({});
const split = proxySplit(loadDataset({ name: 'fashion-mnist', seed: 0 }), { subset: defaults.proxy.images, validationSize: defaults.dataset.validationImages, splitSeed: 0 });
// a search's training process converts the training set to a tensor once, not per trial
const pool = new TensorDataset(split.pool);
const rows = [];
for (const [i, arch] of sampleArchitectures(space, samples, seed).entries()) {
  const t = performance.now();
  const r = await proxyTrain(parseArch(arch), split, { threads: defaults.proxy.threads, epochs: defaults.proxy.epochs, poolTensors: pool });
  const s = (performance.now() - t) / 1000;
  rows.push({
    arch: i,
    seconds: +s.toFixed(2),
    train_s: +r.trainSeconds.toFixed(2),
    rest_s: +(s - r.trainSeconds).toFixed(2),
    recalibration_s: +r.recalibrationSeconds.toFixed(2),
    evaluation_s: +r.evaluationSeconds.toFixed(2),
    val_accuracy: r.valAccuracy,
    val_loss: r.valLoss,
  });
  console.error(`arch ${i + 1}/${samples}: ${s.toFixed(1)} s, training ${r.trainSeconds.toFixed(1)} s, the rest ${(s - r.trainSeconds).toFixed(1)} s (BN recalibration ${r.recalibrationSeconds.toFixed(1)} s, evaluation ${r.evaluationSeconds.toFixed(1)} s), val ${r.valAccuracy}`);
}
const sum = (k) => +rows.reduce((a, r) => a + r[k], 0).toFixed(2);
console.log(JSON.stringify({ space, samples, seed, seconds: sum('seconds'), train_s: sum('train_s'), rest_s: sum('rest_s'), recalibration_s: sum('recalibration_s'), evaluation_s: sum('evaluation_s'), rows }));
