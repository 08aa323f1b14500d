/**
 * Training an architecture end to end: build the network (seeded), put the data in libtorch,
 * run the loop, evaluate. Two entry points over one implementation:
 *
 * - `proxyTrain`: the search's inner loop. Trains on a seeded subset (default 10K images) of
 *   the official training set for a few epochs (default 1) and scores on the fixed seeded
 *   validation split held out from the TRAINING set; never touches the test set.
 * - `finalTrain`: the full recipe on the whole training set (or all but a validation hold-out,
 *   if asked), then accuracy on the official test set.
 *
 * Both resolve to a `TrainResult`: `{status: 'done', ...}` or, when training diverges,
 * `{status: 'failed', reason}`. They reject only on bad input, on an abort (with the signal's
 * reason) or on engine errors.
 */
import { defaultAugmentation, NO_AUGMENTATION, type AugmentationOptions } from '../data/augmentation.js';
import type { DataSplit, Dataset, TrainTestDatasets } from '../data/dataset.js';
import { makeDataSplit, type SplitOptions } from '../data/split.js';
import { buildNetworkFromPlan } from '../model/builder.js';
import { costOfPlan } from '../model/cost.js';
import { buildPlan, withTrainingGlobals, type NetworkPlan } from '../model/plan.js';
import type { Network } from '../model/network.js';
import { withGlobal, type Arch } from '../space/arch.js';
import { printArch } from '../space/arch-string.js';
import { manualSeed, setNumThreads, startMemoryUsage, type MemoryUsage } from '../torch/index.js';
import { planEpoch } from '../data/batches.js';
import { recalibrateBatchNorm } from './bn-calibration.js';
import { evaluate } from './evaluate.js';
import { holdPoint } from './hold-point.js';
import { DEFAULT_PROXY_SUBSET, FINAL_RECIPE, PROXY_RECIPE, validateRecipe, type TrainRecipe } from './recipe.js';
import { TensorDataset } from './tensor-data.js';
import { trainLoop, type EpochSummary, type TrainProgress } from './trainer.js';

export interface TrainRunOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: TrainProgress) => void;
  /** After each epoch; `validation` is set when `evaluateEachEpoch` is on and there is a validation split. */
  readonly onEpoch?: (e: EpochSummary & { readonly validation?: { accuracy: number; loss: number } }) => void;
  /** Evaluate on the validation split after every epoch (costs one pass over it per epoch). */
  readonly evaluateEachEpoch?: boolean;
  /** Evaluate on the official test set at the end. */
  readonly evaluateTest?: boolean;
  /** Intra-op threads of libtorch for this process (default: leave as is). */
  readonly threads?: number;
  /** Return the trained network in the result (the caller then owns and must dispose it). */
  readonly keepNetwork?: boolean;
  /** The pool (training set) already in libtorch, to reuse across runs; not disposed. */
  readonly poolTensors?: TensorDataset;
  /** Holds training and evaluation off between steps while it returns a promise (see LoopOptions.hold). */
  readonly hold?: () => Promise<void> | undefined;
  /** Milliseconds this process has stood stopped from outside so far (see LoopOptions.stoppedMs). */
  readonly stoppedMs?: () => number;
  /** Loss-curve resolution (steps per point). */
  readonly curveEvery?: number;
}

interface RunInfo {
  /** The trained architecture (with recipe overrides of dropout / BN momentum) as an arch string. */
  readonly arch: string;
  readonly params: number;
  readonly dataset: string;
  readonly epochs: number;
  readonly batchSize: number;
  /** Training images per epoch. */
  readonly trainImages: number;
  readonly validationImages: number;
  /** Optimizer steps taken. */
  readonly steps: number;
  /** Mean training loss per `lossCurveEvery` steps. */
  readonly lossCurve: readonly number[];
  readonly lossCurveEvery: number;
  readonly epochLoss: readonly number[];
  /** Wall-clock seconds of the whole run (setup, training, evaluation). */
  readonly seconds: number;
  /** Seconds inside the training loop. */
  readonly trainSeconds: number;
  /** Seconds recalibrating BN statistics after training (0 without recipe.bnRecalibrationImages). */
  readonly recalibrationSeconds: number;
  /** Seconds scoring held-out and test images (each epoch's too with evaluateEachEpoch). */
  readonly evaluationSeconds: number;
  /** Training throughput: images / trainSeconds. */
  readonly trainImagesPerSecond: number;
  /** Peak memory, page faults and allocator cache use of the whole run. */
  readonly memory: MemoryUsage;
}

export interface TrainDone extends RunInfo {
  readonly status: 'done';
  /** On the validation split held out from the training set; absent when there is none. */
  readonly valAccuracy?: number;
  readonly valLoss?: number;
  /** On the official test set, when evaluated. */
  readonly testAccuracy?: number;
  readonly testLoss?: number;
  /** Present with keepNetwork: the trained network, owned by the caller. */
  readonly network?: Network;
}

export interface TrainFailed extends RunInfo {
  readonly status: 'failed';
  readonly reason: string;
}

export type TrainResult = TrainDone | TrainFailed;

/** Bytes of activations an evaluation batch may hold at once (see evaluationBatchSize). */
export const EVALUATION_ACTIVATION_BUDGET = 256 * 2 ** 20;

/**
 * Tensor bytes an evaluation pass holds per image, in units of the plan's peak activations
 * (widest layer input + output, float32): the block input kept for the shortcut, conv and BN
 * outputs, SE gating, and the convolution's own workspace (im2col columns of a k x k depthwise
 * conv are k^2 times its input). Measured up to about 10 on the fmnist space; 12 leaves a margin.
 */
const EVALUATION_BYTES_PER_PEAK_ACTIVATION = 12 * 4;

/**
 * The evaluation batch for `plan`: the recipe's, lowered so that the pass fits
 * EVALUATION_ACTIVATION_BUDGET. The batch size does not change results, only memory and speed.
 */
export function evaluationBatchSize(plan: NetworkPlan, requested: number): number {
  const perImage = EVALUATION_BYTES_PER_PEAK_ACTIVATION * costOfPlan(plan).peakActivations;
  return Math.max(1, Math.min(requested, Math.floor(EVALUATION_ACTIVATION_BUDGET / perImage)));
}

/** Checks that the architecture's input and classes fit the dataset. */
export function checkArchFitsData(arch: Arch, data: Pick<Dataset, 'name' | 'height' | 'width' | 'channels' | 'classes'>): void {
  const i = arch.global.input;
  if (i.height !== data.height || i.width !== data.width || i.channels !== data.channels) {
    throw new Error(`train: the architecture takes ${i.height}x${i.width}x${i.channels} images but ${data.name} has ${data.height}x${data.width}x${data.channels}`);
  }
  if (arch.global.classes !== data.classes) {
    throw new Error(`train: the architecture has ${arch.global.classes} classes but ${data.name} has ${data.classes}`);
  }
}

function resolveAugmentation(recipe: TrainRecipe, data: Dataset): AugmentationOptions | undefined {
  const a = recipe.augmentation === 'default' ? defaultAugmentation(data) : recipe.augmentation === 'none' ? NO_AUGMENTATION : recipe.augmentation;
  if (a.flip && !data.allowsHorizontalFlip) throw new Error(`train: ${data.name} does not allow horizontal flips (they change labels)`);
  return a.padding === 0 && !a.flip ? undefined : a;
}

/**
 * Trains `network` (an arch, or its plan: then it is not planned again) on `split.train` with
 * `recipe`; scores on `split.validation` (if any) and optionally the test set.
 */
export async function trainArch(network: Arch | NetworkPlan, split: DataSplit, recipeIn: TrainRecipe, options: TrainRunOptions = {}): Promise<TrainResult> {
  const started = performance.now();
  const usage = startMemoryUsage();
  const recipe = validateRecipe(recipeIn);
  const arch = 'layers' in network ? network.arch : network;
  checkArchFitsData(arch, split.pool);
  if (options.evaluateTest) checkArchFitsData(arch, split.test);
  const augmentation = resolveAugmentation(recipe, split.pool);
  const overrides = {
    ...(recipe.bnMomentum !== undefined ? { bnMomentum: recipe.bnMomentum } : {}),
    ...(recipe.dropout !== undefined ? { dropout: recipe.dropout } : {}),
  };
  const trainedArch = withGlobal(arch, overrides);
  if (options.threads !== undefined) setNumThreads(options.threads);

  await holdPoint(options); // building and initialising a large network is work too
  const plan = 'layers' in network ? withTrainingGlobals(network, overrides) : buildPlan(trainedArch);
  manualSeed(recipe.seed); // dropout draws from libtorch's global generator
  const net = buildNetworkFromPlan(plan, { seed: recipe.seed, init: recipe.init, channelsLast: recipe.channelsLast });
  const pool = options.poolTensors ?? new TensorDataset(split.pool);
  let test: TensorDataset | undefined;
  let keep = false;
  const memoryFormat = recipe.channelsLast ? 'channels_last' : 'contiguous';
  const evalOptions = {
    batchSize: evaluationBatchSize(net.plan, recipe.evalBatchSize),
    memoryFormat,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.hold ? { hold: options.hold } : {}),
  } as const;
  let lastValidation: { accuracy: number; loss: number } | undefined;
  let recalibrationSeconds = 0;
  let evaluationSeconds = 0;
  const scored = async (data: TensorDataset, indices?: Int32Array) => {
    const t = performance.now();
    try {
      return await evaluate(net, data, indices, evalOptions);
    } finally {
      evaluationSeconds += (performance.now() - t) / 1000;
    }
  };
  try {
    const loop = await trainLoop(net, pool, split.train, recipe, augmentation, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.curveEvery !== undefined ? { curveEvery: options.curveEvery } : {}),
      ...(options.hold ? { hold: options.hold } : {}),
      ...(options.stoppedMs ? { stoppedMs: options.stoppedMs } : {}),
      onEpoch: async (e) => {
        let validation: { accuracy: number; loss: number } | undefined;
        if (options.evaluateEachEpoch && split.validation.length > 0) {
          validation = await scored(pool, split.validation);
          if (e.epoch === e.epochs) lastValidation = validation;
        }
        options.onEpoch?.({ ...e, ...(validation ? { validation } : {}) });
      },
    });
    const info = (): RunInfo => ({
      arch: printArch(trainedArch),
      params: net.parameterCount(),
      dataset: split.pool.name,
      epochs: recipe.epochs,
      batchSize: recipe.batchSize,
      trainImages: split.train.length,
      validationImages: split.validation.length,
      steps: loop.steps,
      lossCurve: loop.lossCurve,
      lossCurveEvery: loop.lossCurveEvery,
      epochLoss: loop.epochLoss,
      seconds: (performance.now() - started) / 1000,
      trainSeconds: loop.trainSeconds,
      recalibrationSeconds,
      evaluationSeconds,
      trainImagesPerSecond: loop.trainSeconds > 0 ? loop.images / loop.trainSeconds : 0,
      memory: usage.end(),
    });
    if (loop.status === 'failed') return { status: 'failed', reason: loop.reason, ...info() };
    if (recipe.bnRecalibrationImages > 0) {
      const order = planEpoch(split.train, recipe.epochs, { batchSize: recipe.batchSize, seed: recipe.seed }).order;
      const t = performance.now();
      await recalibrateBatchNorm(net, pool, order.subarray(0, Math.min(order.length, recipe.bnRecalibrationImages)), recipe.batchSize, {
        memoryFormat,
        ...(options.hold ? { hold: options.hold } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      recalibrationSeconds = (performance.now() - t) / 1000;
      lastValidation = undefined;
    }
    const val = lastValidation ?? (split.validation.length > 0 ? await scored(pool, split.validation) : undefined);
    let tst: { accuracy: number; loss: number } | undefined;
    if (options.evaluateTest) {
      test = new TensorDataset(split.test);
      tst = await scored(test);
    }
    keep = options.keepNetwork === true;
    return {
      status: 'done',
      ...(val ? { valAccuracy: val.accuracy, valLoss: val.loss } : {}),
      ...(tst ? { testAccuracy: tst.accuracy, testLoss: tst.loss } : {}),
      ...info(),
      ...(keep ? { network: net } : {}),
    };
  } finally {
    test?.dispose();
    if (pool !== options.poolTensors) pool.dispose();
    if (!keep) net.dispose();
  }
}

export interface ProxyTrainOptions extends TrainRunOptions {
  /** Proxy-training images drawn from the training set minus validation (default 10,000, or all that remain if fewer). */
  readonly subset?: number;
  /** Default 1. */
  readonly epochs?: number;
  /** Validation images held out from the training set (default: split.ts's, 10,000 for Fashion-MNIST). */
  readonly validationSize?: number;
  /** Seed of the split (fixed for a whole search so every trial is scored on the same images; default 0). */
  readonly splitSeed?: number;
  /** Recipe fields to change from PROXY_RECIPE. */
  readonly recipe?: Partial<TrainRecipe>;
}

/** The split proxyTrain uses for these options. */
export function proxySplit(datasets: TrainTestDatasets, options: Pick<ProxyTrainOptions, 'subset' | 'validationSize' | 'splitSeed'> = {}): DataSplit {
  const probe = makeDataSplit(datasets, {
    seed: options.splitSeed ?? 0,
    ...(options.validationSize !== undefined ? { validationSize: options.validationSize } : {}),
    proxyTrainSize: 0,
  });
  const available = datasets.train.count - probe.validation.length;
  const subset = options.subset ?? Math.min(DEFAULT_PROXY_SUBSET, available);
  const splitOptions: SplitOptions = { seed: options.splitSeed ?? 0, validationSize: probe.validation.length, proxyTrainSize: subset };
  return makeDataSplit(datasets, splitOptions);
}

/** Proxy training: subset of the training set, few epochs, accuracy on the held-out validation split. */
export function proxyTrain(network: Arch | NetworkPlan, data: TrainTestDatasets | DataSplit, options: ProxyTrainOptions = {}): Promise<TrainResult> {
  const split = 'pool' in data ? data : proxySplit(data, options);
  if (split.validation.length === 0) throw new Error('proxyTrain: the split has no validation images to score on');
  const recipe: TrainRecipe = { ...PROXY_RECIPE, ...options.recipe, ...(options.epochs !== undefined ? { epochs: options.epochs } : {}) };
  return trainArch(network, split, recipe, { ...options, evaluateTest: false });
}

export interface FinalTrainOptions extends TrainRunOptions {
  /** Hold this many training images out for validation (default 0: train on all of them). */
  readonly validationSize?: number;
  readonly splitSeed?: number;
  /** Recipe fields to change from FINAL_RECIPE. */
  readonly recipe?: Partial<TrainRecipe>;
}

/** Final training: the full recipe on the training set, then test accuracy. */
export function finalTrain(arch: Arch, datasets: TrainTestDatasets, options: FinalTrainOptions = {}): Promise<TrainResult> {
  const split = makeDataSplit(datasets, { seed: options.splitSeed ?? 0, validationSize: options.validationSize ?? 0 });
  const recipe: TrainRecipe = { ...FINAL_RECIPE, ...options.recipe };
  return trainArch(arch, split, recipe, { evaluateTest: true, ...options });
}
