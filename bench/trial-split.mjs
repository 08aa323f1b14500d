// Where the part of a proxy trial after its training loop goes: runs the steps of a proxy trial
// (train/run.ts trainArch: build, training loop, BN recalibration, evaluation on the held-out
// images) one by one for the random architectures `mnas bench proxy` samples (same space, count
// and seed), one thread, in this process, and prints each step's seconds per architecture, with
// the runtime evaluation picked. bench/trial-phases.mjs times whole trials through proxyTrain.
//
//   node bench/trial-split.mjs [SAMPLES=5] [SEED=0]
import { loadDataset } from '../dist/src/data/load.js';
import { defaultAugmentation } from '../dist/src/data/augmentation.js';
import { planEpoch } from '../dist/src/data/batches.js';
import { sampleArchitectures } from '../dist/src/bench/proxy-trials.js';
import { buildNetworkFromPlan } from '../dist/src/model/builder.js';
import { buildPlan } from '../dist/src/model/plan.js';
import { parseSearchConfig } from '../dist/src/search/config.js';
import { parseArch } from '../dist/src/space/arch-string.js';
import { withGlobal } from '../dist/src/space/arch.js';
import { manualSeed, setNumThreads } from '../dist/src/torch/index.js';
import { recalibrateBatchNorm } from '../dist/src/train/bn-calibration.js';
import { autoEvalRuntime, evaluate } from '../dist/src/train/evaluate.js';
import { PROXY_RECIPE, validateRecipe } from '../dist/src/train/recipe.js';
import { evaluationBatchSize, proxySplit } from '../dist/src/train/run.js';
import { TensorDataset } from '../dist/src/train/tensor-data.js';
import { trainLoop } from '../dist/src/train/trainer.js';

const [samplesArg = '5', seedArg = '0'] = process.argv.slice(2);
const samples = Number(samplesArg);
const seed = Number(seedArg);
if (!Number.isInteger(samples) || samples < 1 || !Number.isInteger(seed)) {
  console.error('usage: node bench/trial-split.mjs [SAMPLES >= 1] [SEED]');
  process.exit(2);
}
const defaults = parseSearchConfig({});
const split = proxySplit(loadDataset({ name: 'fashion-mnist', seed: 0 }), { subset: defaults.proxy.images, validationSize: defaults.dataset.validationImages, splitSeed: 0 });
const pool = new TensorDataset(split.pool);
setNumThreads(defaults.proxy.threads);
const recipe = validateRecipe(PROXY_RECIPE);
const a = defaultAugmentation(split.pool);
const augmentation = a.padding === 0 && !a.flip ? undefined : a;
const memoryFormat = recipe.channelsLast ? 'channels_last' : 'contiguous';
const seconds = (t) => +((performance.now() - t) / 1000).toFixed(3);
const rows = [];
for (const [i, arch] of sampleArchitectures('fmnist', samples, seed).entries()) {
  let t = performance.now();
  const overrides = { ...(recipe.bnMomentum !== undefined ? { bnMomentum: recipe.bnMomentum } : {}), ...(recipe.dropout !== undefined ? { dropout: recipe.dropout } : {}) };
  const plan = buildPlan(withGlobal(parseArch(arch), overrides));
  manualSeed(recipe.seed);
  const net = buildNetworkFromPlan(plan, { seed: recipe.seed, init: recipe.init, channelsLast: recipe.channelsLast });
  const build_s = seconds(t);
  t = performance.now();
  await trainLoop(net, pool, split.train, recipe, augmentation, {});
  const train_s = seconds(t);
  t = performance.now();
  const order = planEpoch(split.train, recipe.epochs, { batchSize: recipe.batchSize, seed: recipe.seed }).order;
  await recalibrateBatchNorm(net, pool, order.subarray(0, recipe.bnRecalibrationImages), recipe.batchSize, { memoryFormat });
  const recalibration_s = seconds(t);
  t = performance.now();
  const r = await evaluate(net, pool, split.validation, { memoryFormat, batchSize: evaluationBatchSize(net.plan, recipe.evalBatchSize) });
  const evaluation_s = seconds(t);
  net.dispose();
  rows.push({ arch: i, runtime: autoEvalRuntime(plan), build_s, train_s, recalibration_s, evaluation_s, val_accuracy: r.accuracy });
  console.error(`arch ${i + 1}/${samples}: build ${build_s} s, training ${train_s} s, BN recalibration ${recalibration_s} s, evaluation ${evaluation_s} s (${rows.at(-1).runtime})`);
}
const sum = (k) => +rows.reduce((s, r) => s + r[k], 0).toFixed(2);
console.log(JSON.stringify({ space: 'fmnist', samples, seed, build_s: sum('build_s'), train_s: sum('train_s'), recalibration_s: sum('recalibration_s'), evaluation_s: sum('evaluation_s'), rows }));
