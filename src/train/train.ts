/**
 * The library's `train()`: trains an architecture (preset, arch string, arch file or Arch) on a
 * dataset and returns the run's record. Default (final training): the final recipe on the whole
 * training set (minus `validation` held-out images, 0 by default), then accuracy on the official
 * test set. `proxy: true`: the search's proxy task instead (proxy recipe, a 10,000-image subset,
 * 1 epoch, scored on the seeded validation split, no test set). Every option given overrides the
 * mode's default. Bad settings throw TrainSetupError (an InputError) before any data is loaded
 * into a network; a diverged run is a record with status 'failed', not an exception.
 */
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { DataFileError } from '../data/data-file-error.js';
import type { DataSplit, TrainTestDatasets } from '../data/dataset.js';
import type { ImageShape } from '../data/image-folder.js';
import { loadDataset, type DatasetName } from '../data/load.js';
import { prepareDataset, type DataProgress } from '../data/prepare.js';
import { defaultValidationSize, makeDataSplit } from '../data/split.js';
import { checkInputShape, checkPlanFits } from '../model/limits.js';
import { buildPlan } from '../model/plan.js';
import { withGlobal, type Arch } from '../space/arch.js';
import { printArch } from '../space/arch-string.js';
import { resolveArch } from '../space/resolve.js';
import { InputError } from '../util/input-error.js';
import { DEFAULT_PROXY_SUBSET, FINAL_RECIPE, PROXY_RECIPE, validateRecipe, type TrainRecipe } from './recipe.js';
import { trainArch, type TrainResult, type TrainRunOptions } from './run.js';
import { inputNormalizationOf, saveNetwork } from './save-network.js';

export class TrainSetupError extends InputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrainSetupError';
  }
}

export interface TrainOptions {
  /** A built-in dataset (default 'fashion-mnist') or a path to your own data (src/data/prepare.ts). */
  readonly dataset?: DatasetName | (string & {});
  /** Own images: resize to the arch's input resolution (default true). */
  readonly resize?: boolean;
  /** Own images: skip (and list) files that are not decodable PNG/JPEG images. */
  readonly skipBadFiles?: boolean;
  /** Own data: where the decoded cache file goes (default $MNAS_CACHE_DIR or ~/.cache/mnas/datasets). */
  readonly cacheDir?: string;
  /** The arch's input shape (overrides its own; own images are resized to it); data of another shape is an error. Omitted: the data's. */
  readonly input?: ImageShape;
  /** The arch's number of classes (overrides its own); data with another number is an error. Omitted: the data's. */
  readonly classes?: number;
  /** Directory of the dataset files (fashion-mnist defaults to Debian's package). */
  readonly dataDir?: string;
  /** The search's proxy task instead of final training. */
  readonly proxy?: boolean;
  readonly epochs?: number;
  /** Train on this many images of the training set (default all; proxy 10,000). */
  readonly subset?: number;
  /** Hold this many training images out for validation (default 0; proxy 10,000 or a sixth). */
  readonly validation?: number;
  readonly batch?: number;
  readonly lr?: number;
  readonly optimizer?: TrainRecipe['optimizer'];
  readonly schedule?: TrainRecipe['schedule'];
  readonly warmupEpochs?: number;
  readonly labelSmoothing?: number;
  readonly weightDecay?: number;
  readonly momentum?: number;
  /** BN momentum, TF convention. */
  readonly bnMomentum?: number;
  readonly dropout?: number;
  /** Random crops and flips (default true). */
  readonly augment?: boolean;
  readonly init?: TrainRecipe['init'];
  /** Seed of initialisation, shuffling, augmentation and dropout (default 0). */
  readonly seed?: number;
  /** Seed of the validation / subset split (default 0). */
  readonly splitSeed?: number;
  /** libtorch intra-op threads (default: all cores). */
  readonly threads?: number;
  /** Evaluate on the test set after final training (default true; never with proxy). */
  readonly test?: boolean;
  readonly evaluateEachEpoch?: boolean;
  /** Save the trained weights as safetensors here. */
  readonly save?: string;
  /** Export the trained network as ONNX (BN folded, eval mode) here. */
  readonly onnx?: string;
  readonly signal?: AbortSignal;
  /** Status lines (what is trained on what, files written). */
  readonly onLog?: (line: string) => void;
  /** Reading and decoding your own data (once; later runs find it in the cache). */
  readonly onDataProgress?: (p: DataProgress) => void;
  readonly onProgress?: TrainRunOptions['onProgress'];
  readonly onEpoch?: TrainRunOptions['onEpoch'];
}

/** The record of a training run (what `mnas train --json` prints). */
export interface TrainReport {
  status: 'done' | 'failed';
  reason?: string;
  arch: string;
  dataset: string;
  params: number;
  val_accuracy: number | null;
  val_loss: number | null;
  test_accuracy: number | null;
  test_loss: number | null;
  epochs: number;
  batch: number;
  train_images: number;
  validation_images: number;
  steps: number;
  seconds: number;
  train_seconds: number;
  train_img_s: number;
  epoch_loss: readonly number[];
  loss_curve: readonly number[];
  loss_curve_every: number;
  memory: TrainResult['memory'];
  recipe: TrainRecipe;
  seed: number;
  /** Files written (absolute paths). */
  weights?: string;
  onnx?: string;
}

/** The recipe the options describe (the mode's defaults, then each option given). */
export function recipeFromOptions(o: TrainOptions): TrainRecipe {
  const base = o.proxy ? PROXY_RECIPE : FINAL_RECIPE;
  let r: TrainRecipe = {
    ...base,
    ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
    ...(o.batch !== undefined ? { batchSize: o.batch } : {}),
    ...(o.lr !== undefined ? { lr: o.lr } : {}),
    ...(o.optimizer !== undefined ? { optimizer: o.optimizer } : {}),
    ...(o.schedule !== undefined ? { schedule: o.schedule } : {}),
    ...(o.warmupEpochs !== undefined ? { warmupEpochs: o.warmupEpochs } : {}),
    ...(o.labelSmoothing !== undefined ? { labelSmoothing: o.labelSmoothing } : {}),
    ...(o.weightDecay !== undefined ? { weightDecay: o.weightDecay } : {}),
    ...(o.momentum !== undefined ? { momentum: o.momentum } : {}),
    ...(o.bnMomentum !== undefined ? { bnMomentum: o.bnMomentum } : {}),
    ...(o.dropout !== undefined ? { dropout: o.dropout } : {}),
    ...(o.init !== undefined ? { init: o.init } : {}),
    ...(o.augment === false ? { augmentation: 'none' as const } : {}),
    seed: o.seed ?? 0,
  };
  if (o.warmupEpochs === undefined && r.warmupEpochs >= r.epochs) r = { ...r, warmupEpochs: r.epochs / 10 };
  if (r.warmupEpochs >= r.epochs) {
    throw new TrainSetupError(`train: --warmup-epochs (${r.warmupEpochs}) must be less than --epochs (${r.epochs})`);
  }
  const recipe = r.nesterov && r.momentum === 0 ? { ...r, nesterov: false } : r;
  try {
    return validateRecipe(recipe);
  } catch (e) {
    throw new TrainSetupError(`train: ${(e as Error).message}`, { cause: e });
  }
}

export async function train(spec: string | Arch, o: TrainOptions = {}): Promise<TrainReport> {
  let arch: Arch;
  try {
    arch = typeof spec === 'string' ? resolveArch(spec) : spec;
    if (o.input !== undefined || o.classes !== undefined) {
      if (o.input !== undefined) checkInputShape(o.input, '--input');
      arch = withGlobal(arch, { ...(o.input !== undefined ? { input: o.input } : {}), ...(o.classes !== undefined ? { classes: o.classes } : {}) });
    }
  } catch (e) {
    throw new TrainSetupError(`train: ${(e as Error).message}`, { cause: e });
  }
  const recipe = recipeFromOptions(o);
  const data = await loadData(o, arch.global.input);
  const fitted = fitArch(arch, data);
  const split = splitFor(o, data);
  if (split.train.length < recipe.batchSize) {
    throw new TrainSetupError(`train: ${split.train.length} training images are fewer than one batch of ${recipe.batchSize}; lower --batch or raise --subset`);
  }
  const plan = (() => {
    try {
      // the plan is cheap; the network it describes may not fit at this batch size
      const p = buildPlan(fitted.arch);
      checkPlanFits(p, { batch: recipe.batchSize, use: 'train' });
      return p;
    } catch (e) {
      throw new TrainSetupError(`train: ${(e as Error).message}`, { cause: e });
    }
  })();
  const log = (line: string) => o.onLog?.(line);
  if (fitted.changed) log(`note: input and classes changed to fit ${o.dataset ?? 'fashion-mnist'}: ${printArch(plan.arch)}`);
  log(`train ${printArch(plan.arch)} on ${data.train.name}: ${split.train.length} images, ${split.validation.length} validation, ${recipe.epochs} epoch(s), batch ${recipe.batchSize}, ${recipe.optimizer} lr ${recipe.lr} ${recipe.schedule}`);

  const result = await trainArch(fitted.arch, split, recipe, {
    threads: o.threads ?? availableParallelism(),
    evaluateTest: (o.test ?? true) && !o.proxy,
    evaluateEachEpoch: o.evaluateEachEpoch === true,
    keepNetwork: o.save !== undefined || o.onnx !== undefined,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.onEpoch ? { onEpoch: o.onEpoch } : {}),
  });

  let files: { weights?: string; onnx?: string } = {};
  try {
    if (result.status === 'done' && result.network) {
      const saved = saveNetwork(result.network, { ...(o.save !== undefined ? { weights: o.save } : {}), ...(o.onnx !== undefined ? { onnx: o.onnx } : {}), inputNormalization: inputNormalizationOf(split.pool) });
      if (saved.weights) log(`saved weights to ${o.save}`);
      if (saved.onnx) log(`exported ONNX to ${o.onnx} (${saved.onnxBytes} bytes)`);
      files = { ...(saved.weights ? { weights: saved.weights } : {}), ...(saved.onnx ? { onnx: saved.onnx } : {}) };
    }
  } finally {
    if (result.status === 'done') result.network?.dispose();
  }

  return {
    status: result.status,
    ...(result.status === 'failed' ? { reason: result.reason } : {}),
    arch: result.arch,
    dataset: result.dataset,
    params: result.params,
    val_accuracy: result.status === 'done' ? result.valAccuracy ?? null : null,
    val_loss: result.status === 'done' ? result.valLoss ?? null : null,
    test_accuracy: result.status === 'done' ? result.testAccuracy ?? null : null,
    test_loss: result.status === 'done' ? result.testLoss ?? null : null,
    epochs: result.epochs,
    batch: result.batchSize,
    train_images: result.trainImages,
    validation_images: result.validationImages,
    steps: result.steps,
    seconds: result.seconds,
    train_seconds: result.trainSeconds,
    train_img_s: result.trainImagesPerSecond,
    epoch_loss: result.epochLoss,
    loss_curve: result.lossCurve,
    loss_curve_every: result.lossCurveEvery,
    memory: result.memory,
    recipe: { ...recipe },
    seed: recipe.seed,
    ...files,
  };
}

async function loadData(o: TrainOptions, input: ImageShape): Promise<TrainTestDatasets> {
  if (o.dataDir !== undefined) {
    if (!existsSync(o.dataDir)) throw new TrainSetupError(`train: --data-dir '${o.dataDir}' does not exist`);
    if (!statSync(o.dataDir).isDirectory()) throw new TrainSetupError(`train: --data-dir '${o.dataDir}' is not a directory`);
  }
  try {
    // own data is decoded at the arch's input resolution (then cached); fitArch adapts the arch to anything else
    const prepared = await prepareDataset({
      name: o.dataset ?? 'fashion-mnist',
      ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
      ...(o.resize !== undefined ? { resize: o.resize } : {}),
      ...(o.skipBadFiles !== undefined ? { skipBadFiles: o.skipBadFiles } : {}),
      ...(o.cacheDir !== undefined ? { cacheDir: o.cacheDir } : {}),
    }, {
      shape: input,
      ...(o.input !== undefined ? { requiredBy: 'the input given (--input)' } : {}),
      ...(o.classes !== undefined ? { classes: { count: o.classes, requiredBy: 'the number given (--classes)' } } : {}),
    }, o.onDataProgress ? { onProgress: o.onDataProgress } : {});
    if (prepared.ref.cacheFile !== undefined) o.onLog?.(`data: ${prepared.description}`);
    for (const s of prepared.skipped) o.onLog?.(`data: skipped ${s.file}: ${s.reason}`);
    return loadDataset({ ...prepared.ref, seed: o.splitSeed ?? 0 });
  } catch (e) {
    if (e instanceof DataFileError || /needs a data directory|unknown dataset/.test((e as Error).message)) {
      throw new TrainSetupError(`train: ${(e as Error).message}`, { cause: e });
    }
    throw e;
  }
}

function splitFor(o: TrainOptions, data: TrainTestDatasets): DataSplit {
  const validationSize = o.validation ?? (o.proxy ? defaultValidationSize(data.train) : 0);
  if (validationSize > data.train.count - 1) {
    throw new TrainSetupError(`train: --validation (${validationSize}) must leave training images (${data.train.name} has ${data.train.count})`);
  }
  const available = data.train.count - validationSize;
  const subset = o.subset ?? (o.proxy ? Math.min(DEFAULT_PROXY_SUBSET, available) : available);
  if (subset > available) {
    throw new TrainSetupError(`train: --subset (${subset}) exceeds the ${available} training images left after ${validationSize} for validation`);
  }
  return makeDataSplit(data, { seed: o.splitSeed ?? 0, validationSize, proxyTrainSize: subset });
}

/** Makes the arch's input and classes match the dataset (e.g. a 224x224x3 preset on 28x28x1 data). */
function fitArch(arch: Arch, data: TrainTestDatasets): { arch: Arch; changed: boolean } {
  const d = data.train;
  const i = arch.global.input;
  if (i.height === d.height && i.width === d.width && i.channels === d.channels && arch.global.classes === d.classes) return { arch, changed: false };
  return { arch: withGlobal(arch, { input: { height: d.height, width: d.width, channels: d.channels }, classes: d.classes }), changed: true };
}
