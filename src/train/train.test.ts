import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSyntheticDataset } from '../data/synthetic.js';
import type { TrainTestDatasets } from '../data/dataset.js';
import { parseArch } from '../space/arch-string.js';
import { allocatorStats, liveTensors, resetAllocatorPeaks, setNumThreads } from '../torch/index.js';
import { EVALUATION_ACTIVATION_BUDGET, evaluationBatchSize, finalTrain, proxySplit, proxyTrain, type TrainResult } from './run.js';
import { buildPlan } from '../model/plan.js';
import { costOfPlan } from '../model/cost.js';
import { buildNetwork } from '../model/builder.js';
import { evaluate } from './evaluate.js';
import { TensorDataset } from './tensor-data.js';
import { TrainingHold } from '../search/proxy-trial.js';

// A small net (fast on CPU) for the synthetic 28x28x1 set; 10 classes, chance = 10%.
const ARCH = parseArch('in28x28x1_cls10_stem8s1_head0:r1_k3_s22_e1_i8_o16,r1_k3_s22_e3_i16_o24_se0.25,r1_k3_s22_e3_i24_o32');
const DATA: TrainTestDatasets = makeSyntheticDataset({ seed: 5, trainCount: 2600, testCount: 400 });
const SPLIT = proxySplit(DATA, { subset: 2048, validationSize: 500, splitSeed: 1 });
const RECIPE = { batchSize: 64, lr: 0.1, warmupEpochs: 0.2 };

setNumThreads(1);

function done(r: TrainResult): Extract<TrainResult, { status: 'done' }> {
  assert.equal(r.status, 'done', r.status === 'failed' ? r.reason : '');
  return r as Extract<TrainResult, { status: 'done' }>;
}

test('proxy training on the synthetic set learns: validation accuracy well above chance, loss falls', async () => {
  const before = liveTensors();
  const progress: number[] = [];
  const r = done(await proxyTrain(ARCH, SPLIT, { epochs: 3, recipe: RECIPE, onProgress: (p) => progress.push(p.globalStep) }));
  assert.ok(r.valAccuracy !== undefined && r.valAccuracy >= 0.5, `validation accuracy ${r.valAccuracy} (chance 0.1)`);
  assert.equal(r.testAccuracy, undefined, 'proxy training never evaluates the test set');
  assert.equal(r.trainImages, 2048);
  assert.equal(r.validationImages, 500);
  assert.equal(r.steps, 3 * 32);
  assert.deepEqual(progress, Array.from({ length: 96 }, (_, i) => i + 1));
  assert.equal(r.epochLoss.length, 3);
  assert.ok(r.epochLoss[2]! < r.epochLoss[0]! - 0.3, `epoch losses ${r.epochLoss}`);
  assert.ok(r.lossCurve.length > 10 && r.lossCurve.every(Number.isFinite));
  assert.ok(r.trainImagesPerSecond > 0 && r.seconds >= r.trainSeconds);
  assert.ok(r.recalibrationSeconds > 0 && r.evaluationSeconds > 0, `BN recalibration ${r.recalibrationSeconds} s, evaluation ${r.evaluationSeconds} s`);
  assert.ok(r.trainSeconds + r.recalibrationSeconds + r.evaluationSeconds <= r.seconds, 'the steps are parts of the run');
  assert.equal(liveTensors(), before, 'no native tensors leak');
});

test('the same seed gives the same run bit for bit (1 thread); another seed another run', async () => {
  const run = (seed: number) => proxyTrain(ARCH, SPLIT, { epochs: 1, recipe: { ...RECIPE, seed } });
  const a = done(await run(3));
  const b = done(await run(3));
  const c = done(await run(4));
  assert.equal(a.valAccuracy, b.valAccuracy);
  assert.equal(a.valLoss, b.valLoss);
  assert.deepEqual(a.lossCurve, b.lossCurve);
  assert.deepEqual(a.epochLoss, b.epochLoss);
  assert.notDeepEqual(a.lossCurve, c.lossCurve);
});

test('training a plan gives the same run bit for bit as training its arch (the plan is not made again)', async () => {
  const plan = buildPlan(ARCH);
  const a = done(await proxyTrain(ARCH, SPLIT, { epochs: 1, recipe: { ...RECIPE, seed: 2 } }));
  const b = done(await proxyTrain(plan, SPLIT, { epochs: 1, recipe: { ...RECIPE, seed: 2 } }));
  assert.equal(b.valAccuracy, a.valAccuracy);
  assert.equal(b.valLoss, a.valLoss);
  assert.deepEqual(b.lossCurve, a.lossCurve);
  assert.equal(b.arch, a.arch, 'the recipe overrides (BN momentum) recorded the same way');
});

test('a diverging run ends as a failed result with a reason, not an exception', async () => {
  const before = liveTensors();
  const r = await proxyTrain(ARCH, SPLIT, { epochs: 2, recipe: { ...RECIPE, lr: 1e6, warmupEpochs: 0 } });
  assert.equal(r.status, 'failed');
  assert.match((r as { reason: string }).reason, /^diverged at epoch 1 step \d+: (loss (NaN|Infinity|[\d.e+]+( > 1000)?)|.* is not finite)$/);
  assert.ok(r.steps < 64);
  assert.equal(liveTensors(), before);
  // an exploding (finite) loss counts too
  const low = await proxyTrain(ARCH, SPLIT, { epochs: 1, recipe: { ...RECIPE, maxLoss: 0.5 } });
  assert.equal(low.status, 'failed');
  assert.match((low as { reason: string }).reason, /^diverged at epoch 1 step 1: loss [\d.]+ > 0\.5$/);
});

test('a hold taken while a run builds its network is seen before the first step; every step and batch passes it', async () => {
  const hold = new TrainingHold();
  let steps = 0;
  let stepsWhenHeld = -1;
  let holdPasses = 0;
  const run = proxyTrain(ARCH, SPLIT, {
    epochs: 1,
    recipe: RECIPE,
    hold: () => {
      holdPasses++;
      return hold.gate();
    },
    onProgress: (p) => {
      if (p.phase === 'train') steps++;
    },
  });
  // as a worker's 'hold' message does: handled on the first turn of the event loop after the run started
  const held = new Promise<void>((resolve) => setImmediate(() => void hold.holdWhile(async () => { stepsWhenHeld = steps; resolve(); })));
  const r = await run;
  await held;
  assert.equal(r.status, 'done');
  assert.equal(stepsWhenHeld, 0, 'no step ran before the hold');
  assert.ok(holdPasses > r.steps, `${holdPasses} hold passes for ${r.steps} steps and the evaluation`);
});

test('an AbortSignal stops training promptly (rejects with its reason) without leaking tensors', async () => {
  const before = liveTensors();
  const controller = new AbortController();
  let steps = 0;
  await assert.rejects(
    proxyTrain(ARCH, SPLIT, {
      epochs: 5,
      recipe: RECIPE,
      signal: controller.signal,
      onProgress: (p) => {
        steps = p.globalStep;
        if (p.globalStep === 3) setTimeout(() => controller.abort(new Error('trial cancelled')), 0);
      },
    }),
    /trial cancelled/,
  );
  assert.ok(steps >= 3 && steps <= 5, `stopped after ${steps} steps`);
  assert.equal(liveTensors(), before);
  const aborted = AbortSignal.abort();
  await assert.rejects(proxyTrain(ARCH, SPLIT, { signal: aborted }), { name: 'AbortError' });
});

test('final training uses the whole training set and reports test accuracy; keepNetwork hands the network over', async () => {
  const data = makeSyntheticDataset({ seed: 6, trainCount: 1024, testCount: 300 });
  // 32 steps are too few for BN running averages: recalibrate them (the final recipe's default is off)
  const r = done(await finalTrain(ARCH, data, { recipe: { ...RECIPE, epochs: 2, bnRecalibrationImages: 1024 }, keepNetwork: true }));
  assert.equal(r.trainImages, 1024);
  assert.equal(r.validationImages, 0);
  assert.equal(r.valAccuracy, undefined);
  assert.ok(r.testAccuracy !== undefined && r.testAccuracy > 0.25, `test accuracy ${r.testAccuracy}`);
  assert.ok(r.evaluationSeconds > 0 && r.recalibrationSeconds > 0, 'scoring the test set and recalibrating are timed');
  assert.ok(r.network, 'the trained network');
  assert.equal(r.network.training, true);
  r.network.dispose();
});

test('proxy training never reads the test set, reuses a pool tensor, and rejects misfit architectures', async () => {
  // a test set of another shape would make any use of it fail
  const poisoned = { ...SPLIT, test: makeSyntheticDataset({ seed: 1, trainCount: 10, testCount: 10, shape: '32x32x3' }).test };
  const pool = new TensorDataset(SPLIT.pool);
  try {
    const r = done(await proxyTrain(ARCH, poisoned, { epochs: 1, recipe: RECIPE, poolTensors: pool }));
    assert.ok(r.valAccuracy !== undefined);
    assert.ok(!pool.images.isDisposed, 'a given pool is not disposed');
  } finally {
    pool.dispose();
  }
  const wide = parseArch('in32x32x3_cls10_stem8s1_head0:r1_k3_s22_e1_i8_o16');
  await assert.rejects(proxyTrain(wide, SPLIT), /takes 32x32x3 images but synthetic\/train has 28x28x1/);
  await assert.rejects(proxyTrain(ARCH, SPLIT, { recipe: { batchSize: 4096 } }), /fewer than one batch of 4096/);
  await assert.rejects(proxyTrain(ARCH, SPLIT, { recipe: { lr: -1 } }), /recipe: lr must be/);
  await assert.rejects(proxyTrain(ARCH, SPLIT, { recipe: { augmentation: { padding: 2, flip: true } } }), /does not allow horizontal flips/);
});

test('evaluation on libtorch: batches sized to the activation budget; an evaluation pass holds about one layer at a time', async () => {
  const wide = parseArch('in28x28x1_cls10_stem32s1_head0:r2_k5_s11_e6_i32_o48,r1_k3_s22_e6_i48_o64');
  const plan = buildPlan(wide);
  const batch = evaluationBatchSize(plan, 500);
  assert.ok(batch < 500, `a wide network evaluates in smaller batches (${batch})`);
  assert.ok(12 * costOfPlan(plan).peakActivations * 4 * batch <= EVALUATION_ACTIVATION_BUDGET);
  assert.equal(evaluationBatchSize(buildPlan(ARCH), 500), 500, 'a narrow one keeps the recipe batch');
  const net = buildNetwork(wide, { seed: 0 });
  const pool = new TensorDataset(SPLIT.pool);
  try {
    resetAllocatorPeaks();
    const before = allocatorStats().inUseBytes;
    await evaluate(net, pool, SPLIT.validation, { batchSize: batch, runtime: 'libtorch' });
    const peak = allocatorStats().peakInUseBytes - before;
    const allActivations = costOfPlan(plan).activations * 4 * batch;
    assert.ok(peak <= EVALUATION_ACTIVATION_BUDGET, `evaluation peak ${(peak / 2 ** 20).toFixed(0)} MB`);
    // held to the end of the pass, the layer outputs alone would be allActivations
    assert.ok(peak < allActivations, `intermediates are released (peak ${peak}, all activations ${allActivations})`);
  } finally {
    pool.dispose();
    net.dispose();
  }
});
