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
import type { Command } from 'commander';
import type { ImageShape } from '../data/image-folder.js';
import { DATASET_NAMES } from '../data/load.js';
import { MAX_CLASSES, parseInputShapeText } from '../model/limits.js';
import { DEFAULT_PROXY_SUBSET, FINAL_RECIPE, OPTIMIZER_NAMES, PROXY_RECIPE, SCHEDULE_NAMES, type TrainRecipe } from '../train/recipe.js';
import { train, type TrainOptions } from '../train/train.js';
import { UsageError } from './errors.js';
import { choiceOption, floatOption, intOption } from './options.js';
import { dataProgress, Progress } from './progress.js';

export type Writer = (text: string) => void;

export interface TrainCliOptions {
  dataset: string;
  dataDir?: string;
  resize?: boolean;
  skipBadFiles?: boolean;
  input?: string;
  classes?: number;
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
    .option('--dataset <name|path>', `${DATASET_NAMES.join(', ')}, or your own data: an image folder (one subfolder per class), an .npz, or a folder of .npy / IDX / CIFAR-10 files`, 'fashion-mnist')
    .option('--no-resize', "own images must already have the arch's input resolution (default: resized to it)")
    .option('--skip-bad-files', 'skip (and list) files of an image folder that are not decodable PNG/JPEG images')
    .option('--input <HxWxC>', "the arch's input shape, e.g. 64x64x3 (own images are resized to it); data of another shape is refused (default: the data's)")
    .option('--classes <n>', "the arch's number of classes; data with another number is refused (default: the data's)", intOption('--classes', 1, MAX_CLASSES))
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

const pct = (x: number | undefined): string => (x === undefined ? '-' : `${(100 * x).toFixed(2)}%`);

/** Runs `mnas train`; returns the exit code (0 done, 1 failed run). Throws an InputError on bad input. */
export async function runTrainCommand(spec: string, o: TrainCliOptions, io: TrainCliIo = defaultIo()): Promise<number> {
  const progressStream = io.stderr ?? process.stderr;
  let progress: Progress | undefined;
  const result = await train(spec, {
    ...trainOptions(o),
    onLog: (line) => {
      if (!o.quiet) progressStream.write(`${line}\n`);
    },
    onDataProgress: dataProgress(o.quiet === true, progressStream),
    onProgress: (p) => {
      progress ??= new Progress({ label: 'train', total: p.stepsPerEpoch * p.epochs, stream: progressStream, silent: o.quiet === true });
      progress.update(p.globalStep, `epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.stepsPerEpoch} loss ${p.loss.toFixed(4)} lr ${p.lr.toPrecision(3)} ${p.imagesPerSecond.toFixed(0)} img/s`);
    },
    onEpoch: (e) => {
      const line = `epoch ${e.epoch}/${e.epochs}: loss ${e.loss.toFixed(4)}, ${e.seconds.toFixed(1)} s, ${e.imagesPerSecond.toFixed(0)} img/s` +
        (e.validation ? `, val ${pct(e.validation.accuracy)} (loss ${e.validation.loss.toFixed(4)})` : '');
      if (progress) progress.log(line);
      else if (!o.quiet) progressStream.write(`${line}\n`);
    },
  });
  if (o.json) {
    io.stdout(`${JSON.stringify(result)}\n`);
  } else if (result.status === 'failed') {
    io.stdout(`failed: ${result.reason} (after ${result.steps} steps, ${result.seconds.toFixed(1)} s)\n`);
  } else {
    io.stdout(
      `${result.arch}\n` +
        `params ${result.params.toLocaleString('en-US')}, ${result.epochs} epoch(s) on ${result.train_images} images, ` +
        `${result.seconds.toFixed(1)} s (${result.train_img_s.toFixed(0)} train img/s)\n` +
        `validation accuracy ${pct(result.val_accuracy ?? undefined)}, test accuracy ${pct(result.test_accuracy ?? undefined)}\n`,
    );
  }
  return result.status === 'done' ? 0 : 1;
}

/** The library options the flags describe. */
function trainOptions(o: TrainCliOptions): TrainOptions {
  const { json: _json, quiet: _quiet, evalEachEpoch, dataset, input, ...rest } = o;
  return {
    ...rest,
    dataset,
    ...(input !== undefined ? { input: parseShapeOption(input) } : {}),
    ...(evalEachEpoch !== undefined ? { evaluateEachEpoch: evalEachEpoch } : {}),
  };
}

function parseShapeOption(text: string): ImageShape {
  try {
    return parseInputShapeText(text, '--input');
  } catch (e) {
    throw new UsageError(`train: ${(e as Error).message}`, { cause: e });
  }
}
