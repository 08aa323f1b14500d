// Where a proxy trial's time goes: proxy-trains the random architectures `mnas bench proxy`
// samples (same space, count and seed) one after the other in this process, with the search's
// default proxy settings and the proxy recipe's own seed, one thread, and prints per architecture the trial's seconds, the
// training loop's, and the rest (building, BN recalibration, evaluation on the held-out images),
// with the BN recalibration's and the evaluation's own seconds, and the rate of multiply-adds each
// phase ran at (a training image counted as 3 forward passes: the backward pass has twice the
// forward's multiply-adds). The totals line has those rates over all the architectures.
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
import { costOfPlan } from '../dist/src/model/cost.js';
import { buildPlan } from '../dist/src/model/plan.js';
import { PROXY_RECIPE } from '../dist/src/train/recipe.js';

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
  const plan = buildPlan(parseArch(arch));
  const macs = costOfPlan(plan).macs;
  const r = await proxyTrain(plan, split, { threads: defaults.proxy.threads, epochs: defaults.proxy.epochs, poolTensors: pool });
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
    // multiply-adds (G) of each phase: 3 forward passes per training image, one per recalibration and validation image
    train_gmac: (3 * macs * r.trainImagesPerSecond * r.trainSeconds) / 1e9,
    recalibration_gmac: (macs * PROXY_RECIPE.bnRecalibrationImages) / 1e9,
    evaluation_gmac: (macs * split.validation.length) / 1e9,
  });
  console.error(`arch ${i + 1}/${samples}: ${s.toFixed(1)} s, training ${r.trainSeconds.toFixed(1)} s, the rest ${(s - r.trainSeconds).toFixed(1)} s (BN recalibration ${r.recalibrationSeconds.toFixed(1)} s, evaluation ${r.evaluationSeconds.toFixed(1)} s), val ${r.valAccuracy}`);
}
const sum = (k) => +rows.reduce((a, r) => a + r[k], 0).toFixed(2);
const rate = (phase) => +(sum(`${phase}_gmac`) / sum(`${phase}_s`)).toFixed(1);
for (const r of rows) for (const phase of ['train', 'recalibration', 'evaluation']) r[`${phase}_gmac`] = +r[`${phase}_gmac`].toFixed(2);
console.log(JSON.stringify({
  space, samples, seed, seconds: sum('seconds'), train_s: sum('train_s'), rest_s: sum('rest_s'), recalibration_s: sum('recalibration_s'), evaluation_s: sum('evaluation_s'),
  g_multiply_adds_per_s: { train: rate('train'), recalibration: rate('recalibration'), evaluation: rate('evaluation') },
  rows,
}));
