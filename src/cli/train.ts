/**
 * `mnas train <preset|arch-string|file>`: trains an architecture on a dataset and reports
 * accuracy, time and throughput.
 *
 * Default (final training): the final recipe on the whole training set (minus `--validation N`
 * held-out images, 0 by default), then accuracy on the official test set. `--proxy`: the
 * search's proxy task instead (proxy recipe, `--subset` 10,000 images, 1 epoch, scored on the
 * fixed seeded validation split held out from the training set, no test set). Any flag given
 * explicitly overrides the mode's default.
 *
 * Progress (epoch, step, loss, images/s, ETA) goes to stderr: a bar on a terminal, plain lines
 * otherwise. With --json the last line of stdout is one JSON object: val_accuracy (null without
 * a validation split), test_accuracy (null when not evaluated), epochs, seconds, train_img_s and
 * the rest of the run's record. A diverged run prints its reason and exits 1 (status "failed"
 * in the JSON) and exits 1. Bad input exits 2.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { DataFileError } from '../data/data-file-error.js';
import type { DataSplit, TrainTestDatasets } from '../data/dataset.js';
import { DATASET_NAMES, loadDataset } from '../data/load.js';
import { defaultValidationSize, makeDataSplit } from '../data/split.js';
import { exportOnnx, weightsFromNetwork } from '../model/export.js';
import { checkPlanFits } from '../model/limits.js';
import { buildPlan } from '../model/plan.js';
import { withGlobal, type Arch } from '../space/arch.js';
import { printArch } from '../space/arch-string.js';
import { resolveArch } from '../space/resolve.js';
import { saveSafetensors } from '../torch/index.js';
import { DEFAULT_PROXY_SUBSET, FINAL_RECIPE, OPTIMIZER_NAMES, PROXY_RECIPE, SCHEDULE_NAMES, validateRecipe, type TrainRecipe } from '../train/recipe.js';
import { trainArch, type TrainResult } from '../train/run.js';
import { UsageError } from './errors.js';
import { choiceOption, floatOption, intOption } from './options.js';
import { Progress } from './progress.js';

export type Writer = (text: string) => void;

export interface TrainCliOptions {
  dataset: string;
  dataDir?: string;
  proxy?: boolean;
  epochs?: number;
  subset?: number;
  validation?: number;
  batch?: number;
  lr?: number;
  optimizer?: TrainRecipe['optimizer'];
  schedule?: TrainRecipe['schedule'];
  warmupEpochs?: number;
  labelSmoothing?: number;
  weightDecay?: number;
  momentum?: number;
  bnMomentum?: number;
  dropout?: number;
  augment: boolean;
  init?: TrainRecipe['init'];
  seed: number;
  splitSeed: number;
  threads?: number;
  test: boolean;
  evalEachEpoch?: boolean;
  json?: boolean;
  quiet?: boolean;
  save?: string;
  onnx?: string;
}

export interface TrainCliIo {
  stdout: Writer;
  /** Where progress goes (default process.stderr). */
  stderr?: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean; columns?: number };
}

const defaultIo = (): TrainCliIo => ({
  stdout: (text) => void process.stdout.write(text),
  stderr: process.stderr,
});

/**
 * Thrown by the command after it has printed a failed (diverged) run, so that the process
 * exits 1. Its stack is just the message: the failure is the run's, not a bug.
 */
export class TrainFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainFailedError';
    this.stack = message;
  }
}

export function registerTrain(program: Command, io: TrainCliIo = defaultIo()): Command {
  return program
    .command('train')
    .description('train an architecture on a dataset (final recipe + test accuracy, or the proxy task with --proxy)')
    .argument('<arch>', 'a preset name, an arch string, or a file holding an arch string or JSON')
    .option('--dataset <name>', `dataset: ${DATASET_NAMES.join(', ')}`, choiceOption('--dataset', DATASET_NAMES), 'fashion-mnist')
    .option('--data-dir <dir>', 'directory of the dataset files (fashion-mnist defaults to /usr/share/datasets/fashion-mnist)')
    .option('--proxy', `the search's proxy task: proxy recipe, ${DEFAULT_PROXY_SUBSET} images, 1 epoch, validation accuracy, no test set`)
    .option('--epochs <n>', `epochs (default ${FINAL_RECIPE.epochs}; --proxy ${PROXY_RECIPE.epochs})`, intOption('--epochs', 1, 10_000))
    .option('--subset <n>', 'train on this many images of the training set (default all; --proxy 10000)', intOption('--subset', 1))
    .option('--validation <n>', 'hold this many training images out for validation (default 0; --proxy 10000 or a sixth)', intOption('--validation', 0))
    .option('--batch <n>', `batch size (default ${FINAL_RECIPE.batchSize})`, intOption('--batch', 1, 65_536))
    .option('--lr <x>', `peak learning rate (default ${FINAL_RECIPE.lr})`, floatOption('--lr', 0))
    .option('--optimizer <name>', `${OPTIMIZER_NAMES.join(' or ')} (rmsprop is TF-style; default ${FINAL_RECIPE.optimizer})`, choiceOption('--optimizer', OPTIMIZER_NAMES))
    .option('--schedule <name>', `learning-rate decay after warm-up: ${SCHEDULE_NAMES.join(', ')} (default ${FINAL_RECIPE.schedule})`, choiceOption('--schedule', SCHEDULE_NAMES))
    .option('--warmup-epochs <n>', `linear warm-up epochs (default ${FINAL_RECIPE.warmupEpochs}; --proxy ${PROXY_RECIPE.warmupEpochs})`, floatOption('--warmup-epochs', 0))
    .option('--label-smoothing <x>', `label smoothing (default ${FINAL_RECIPE.labelSmoothing})`, floatOption('--label-smoothing', 0, 0.999))
    .option('--weight-decay <x>', `L2 weight decay on conv/linear weights (default ${FINAL_RECIPE.weightDecay})`, floatOption('--weight-decay', 0, 1))
    .option('--momentum <x>', `optimizer momentum (default ${FINAL_RECIPE.momentum})`, floatOption('--momentum', 0, 0.999))
    .option('--bn-momentum <x>', `BN momentum, TF convention (default ${FINAL_RECIPE.bnMomentum})`, floatOption('--bn-momentum', 0, 0.9999))
    .option('--dropout <x>', "dropout before the classifier (default: the arch's)", floatOption('--dropout', 0, 0.99))
    .option('--no-augment', 'no random crops or flips')
    .option('--init <scheme>', `weight init: pytorch or tf-mnasnet (default ${FINAL_RECIPE.init})`, choiceOption('--init', ['pytorch', 'tf-mnasnet'] as const))
    .option('--seed <n>', 'seed of initialisation, shuffling, augmentation and dropout', intOption('--seed', 0, 2 ** 31 - 1), 0)
    .option('--split-seed <n>', 'seed of the validation / subset split', intOption('--split-seed', 0, 2 ** 31 - 1), 0)
    .option('--threads <n>', 'libtorch intra-op threads (default: all cores)', intOption('--threads', 1, 256))
    .option('--no-test', 'skip the test-set evaluation')
    .option('--eval-each-epoch', 'evaluate on the validation split after every epoch')
    .option('--json', 'print one JSON object on the last line of stdout')
    .option('--quiet', 'no progress output')
    .option('--save <file>', 'save the trained weights as safetensors')
    .option('--onnx <file>', 'export the trained network as ONNX (BN folded, eval mode)')
    .action(async (spec: string, o: TrainCliOptions) => {
      const code = await runTrainCommand(spec, o, io);
      // main.ts maps any error other than a UsageError to exit code 1
      if (code !== 0) throw new TrainFailedError('train: the run failed (see the reason above)');
    });
}

/** The recipe the options describe (mode defaults, then explicit flags). */
export function recipeFromOptions(o: TrainCliOptions): TrainRecipe {
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
    seed: o.seed,
  };
  if (o.warmupEpochs === undefined && r.warmupEpochs >= r.epochs) r = { ...r, warmupEpochs: r.epochs / 10 };
  if (r.warmupEpochs >= r.epochs) {
    throw new UsageError(`train: --warmup-epochs (${r.warmupEpochs}) must be less than --epochs (${r.epochs})`);
  }
  const recipe = r.nesterov && r.momentum === 0 ? { ...r, nesterov: false } : r;
  try {
    return validateRecipe(recipe);
  } catch (e) {
    throw new UsageError(`train: ${(e as Error).message}`, { cause: e });
  }
}

function loadData(o: TrainCliOptions): TrainTestDatasets {
  if (o.dataDir !== undefined) {
    if (!existsSync(o.dataDir)) throw new UsageError(`train: --data-dir '${o.dataDir}' does not exist`);
    if (!statSync(o.dataDir).isDirectory()) throw new UsageError(`train: --data-dir '${o.dataDir}' is not a directory`);
  }
  try {
    return loadDataset({ name: o.dataset, ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}), seed: o.splitSeed });
  } catch (e) {
    if (e instanceof DataFileError || /needs a data directory|unknown dataset/.test((e as Error).message)) {
      throw new UsageError(`train: ${(e as Error).message}`, { cause: e });
    }
    throw e;
  }
}

function splitFor(o: TrainCliOptions, data: TrainTestDatasets): DataSplit {
  const validationSize = o.validation ?? (o.proxy ? defaultValidationSize(data.train) : 0);
  if (validationSize > data.train.count - 1) {
    throw new UsageError(`train: --validation (${validationSize}) must leave training images (${data.train.name} has ${data.train.count})`);
  }
  const available = data.train.count - validationSize;
  const subset = o.subset ?? (o.proxy ? Math.min(DEFAULT_PROXY_SUBSET, available) : available);
  if (subset > available) {
    throw new UsageError(`train: --subset (${subset}) exceeds the ${available} training images left after ${validationSize} for validation`);
  }
  return makeDataSplit(data, { seed: o.splitSeed, validationSize, proxyTrainSize: subset });
}

/** Makes the arch's input and classes match the dataset (e.g. a 224x224x3 preset on 28x28x1 data). */
function fitArch(arch: Arch, data: TrainTestDatasets): { arch: Arch; changed: boolean } {
  const d = data.train;
  const i = arch.global.input;
  if (i.height === d.height && i.width === d.width && i.channels === d.channels && arch.global.classes === d.classes) return { arch, changed: false };
  return { arch: withGlobal(arch, { input: { height: d.height, width: d.width, channels: d.channels }, classes: d.classes }), changed: true };
}

const pct = (x: number | undefined): string => (x === undefined ? '-' : `${(100 * x).toFixed(2)}%`);

/** Runs `mnas train`; returns the exit code (0 done, 1 failed run). Throws UsageError on bad input. */
export async function runTrainCommand(spec: string, o: TrainCliOptions, io: TrainCliIo = defaultIo()): Promise<number> {
  let arch: Arch;
  try {
    arch = resolveArch(spec);
  } catch (e) {
    throw new UsageError(`train: ${(e as Error).message}`, { cause: e });
  }
  let recipe: TrainRecipe;
  try {
    recipe = recipeFromOptions(o);
  } catch (e) {
    throw e instanceof UsageError ? e : new UsageError(`train: ${(e as Error).message}`, { cause: e });
  }
  const data = loadData(o);
  const fitted = fitArch(arch, data);
  const split = splitFor(o, data);
  if (split.train.length < recipe.batchSize) {
    throw new UsageError(`train: ${split.train.length} training images are fewer than one batch of ${recipe.batchSize}; lower --batch or raise --subset`);
  }
  try {
    // the plan is cheap; the network it describes may not fit at this batch size
    checkPlanFits(buildPlan(fitted.arch), { batch: recipe.batchSize, use: 'train' });
  } catch (e) {
    throw new UsageError(`train: ${(e as Error).message}`, { cause: e });
  }
  const evaluateTest = o.test && !o.proxy;
  const progressStream = io.stderr ?? process.stderr;
  const log = (line: string): void => {
    if (!o.quiet) progressStream.write(`${line}\n`);
  };
  if (fitted.changed) log(`note: input and classes changed to fit ${o.dataset}: ${printArch(fitted.arch)}`);
  log(`train ${printArch(fitted.arch)} on ${data.train.name}: ${split.train.length} images, ${split.validation.length} validation, ${recipe.epochs} epoch(s), batch ${recipe.batchSize}, ${recipe.optimizer} lr ${recipe.lr} ${recipe.schedule}`);

  const stepsPerEpoch = Math.floor(split.train.length / recipe.batchSize);
  const progress = new Progress({ label: 'train', total: stepsPerEpoch * recipe.epochs, stream: progressStream, silent: o.quiet === true });
  const result: TrainResult = await trainArch(fitted.arch, split, recipe, {
    threads: o.threads ?? availableParallelism(),
    evaluateTest,
    evaluateEachEpoch: o.evalEachEpoch === true,
    keepNetwork: o.save !== undefined || o.onnx !== undefined,
    onProgress: (p) =>
      progress.update(p.globalStep, `epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.stepsPerEpoch} loss ${p.loss.toFixed(4)} lr ${p.lr.toPrecision(3)} ${p.imagesPerSecond.toFixed(0)} img/s`),
    onEpoch: (e) =>
      progress.log(`epoch ${e.epoch}/${e.epochs}: loss ${e.loss.toFixed(4)}, ${e.seconds.toFixed(1)} s, ${e.imagesPerSecond.toFixed(0)} img/s` +
        (e.validation ? `, val ${pct(e.validation.accuracy)} (loss ${e.validation.loss.toFixed(4)})` : '')),
  });

  try {
    if (result.status === 'done' && o.save !== undefined && result.network) {
      saveSafetensors(o.save, result.network.stateDict(), { arch: result.arch, format: 'mnas' });
      log(`saved weights to ${o.save}`);
    }
    if (result.status === 'done' && o.onnx !== undefined && result.network) {
      const bytes = exportOnnx(result.network.plan, weightsFromNetwork(result.network));
      writeFileSync(o.onnx, bytes);
      log(`exported ONNX to ${o.onnx} (${bytes.byteLength} bytes)`);
    }
  } finally {
    if (result.status === 'done') result.network?.dispose();
  }

  const record = {
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
    ...(o.save !== undefined && result.status === 'done' ? { weights: o.save } : {}),
    ...(o.onnx !== undefined && result.status === 'done' ? { onnx: o.onnx } : {}),
  };
  if (o.json) {
    io.stdout(`${JSON.stringify(record)}\n`);
  } else if (result.status === 'failed') {
    io.stdout(`failed: ${result.reason} (after ${result.steps} steps, ${result.seconds.toFixed(1)} s)\n`);
  } else {
    io.stdout(
      `${result.arch}\n` +
        `params ${result.params.toLocaleString('en-US')}, ${result.epochs} epoch(s) on ${result.trainImages} images, ` +
        `${result.seconds.toFixed(1)} s (${result.trainImagesPerSecond.toFixed(0)} train img/s)\n` +
        `validation accuracy ${pct(result.valAccuracy)}, test accuracy ${pct(result.testAccuracy)}\n`,
    );
  }
  return result.status === 'done' ? 0 : 1;
}
