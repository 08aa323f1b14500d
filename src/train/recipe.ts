/**
 * Training recipes: every knob of a training run as one plain record, the defaults for the
 * search's proxy task and for final training, validation with messages naming the field, and
 * the optimizer / learning-rate schedule a recipe describes.
 *
 * Conventions:
 * - `lr` is the peak learning rate (reached at the end of warm-up) for `batchSize`; it is not
 *   rescaled when the batch size changes.
 * - `bnMomentum` and `dropout` override the architecture's values when given; `bnMomentum`
 *   uses the TensorFlow convention of the arch record (running = m * running + (1 - m) * batch).
 * - Weight decay is L2 on conv and linear weights only (rank >= 2); BN scales/shifts and
 *   biases are not decayed, as in the tensorflow/tpu MnasNet trainer.
 */
import type { AugmentationOptions } from '../data/augmentation.js';
import {
  constantSchedule, cosineSchedule, exponentialSchedule, RMSprop, SGD, type Optimizer, type Schedule, type Tensor,
} from '../torch/index.js';
import type { InitScheme } from '../torch/index.js';

export type OptimizerName = 'sgd' | 'rmsprop';
export type ScheduleName = 'cosine' | 'exponential' | 'constant';

export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['sgd', 'rmsprop'];
export const SCHEDULE_NAMES: readonly ScheduleName[] = ['cosine', 'exponential', 'constant'];

export interface TrainRecipe {
  readonly epochs: number;
  readonly batchSize: number;
  readonly optimizer: OptimizerName;
  /** Peak learning rate (after warm-up). */
  readonly lr: number;
  /** SGD / RMSProp momentum. */
  readonly momentum: number;
  /** Nesterov momentum (SGD only). */
  readonly nesterov: boolean;
  /** RMSProp decay of the mean square (TF's decay / rho). RMSProp is always TF-style here. */
  readonly rmspropDecay: number;
  /** RMSProp epsilon (TF-style: inside the square root). */
  readonly rmspropEps: number;
  readonly schedule: ScheduleName;
  /** Linear warm-up from 0 to lr, in epochs (fractions allowed). */
  readonly warmupEpochs: number;
  /** Exponential schedule: multiply by decayRate every decayEpochs (staircase), MnasNet's 0.97 / 2.4. */
  readonly decayRate: number;
  readonly decayEpochs: number;
  readonly weightDecay: number;
  readonly labelSmoothing: number;
  /** BN momentum, TF convention (0.99 = slow); undefined keeps the arch's. */
  readonly bnMomentum?: number;
  /** Dropout before the classifier; undefined keeps the arch's. */
  readonly dropout?: number;
  /** Random crop padding and flips; 'default' = defaultAugmentation(dataset), 'none' = off. */
  readonly augmentation: AugmentationOptions | 'default' | 'none';
  readonly seed: number;
  /** Weight initialisation of the network. */
  readonly init: InitScheme;
  /** Feed channels_last activations and weights. Slower with this libtorch on CPU, so off by default. */
  readonly channelsLast: boolean;
  /** A training loss above this (or not finite) ends the run as diverged. */
  readonly maxLoss: number;
  /** Batch size of evaluation passes (no effect on results). */
  readonly evalBatchSize: number;
  /**
   * After training, recompute BN running statistics from this many training images (0 = keep
   * the running averages). On for the proxy task, whose few steps leave stale statistics.
   */
  readonly bnRecalibrationImages: number;
}

/**
 * Final-training defaults, tuned for bench-fmnist on Fashion-MNIST on CPU: SGD with Nesterov
 * momentum, 1 warm-up epoch then cosine to 0, weight decay 5e-5 on weights, label smoothing
 * 0.1, BN momentum 0.9, random crops (3 px padding) and flips.
 */
export const FINAL_RECIPE: TrainRecipe = Object.freeze({
  epochs: 15,
  batchSize: 128,
  optimizer: 'sgd',
  lr: 0.1,
  momentum: 0.9,
  nesterov: true,
  rmspropDecay: 0.9,
  rmspropEps: 1e-3,
  schedule: 'cosine',
  warmupEpochs: 1,
  decayRate: 0.97,
  decayEpochs: 2.4,
  weightDecay: 5e-5,
  labelSmoothing: 0.1,
  bnMomentum: 0.9,
  augmentation: 'default',
  seed: 0,
  init: 'pytorch',
  channelsLast: false,
  maxLoss: 1e3,
  evalBatchSize: 500,
  bnRecalibrationImages: 0,
});

/** Proxy-task defaults (the search's inner loop): one epoch on a 10K subset, short warm-up. */
export const PROXY_RECIPE: TrainRecipe = Object.freeze({
  ...FINAL_RECIPE,
  epochs: 1,
  warmupEpochs: 0.1,
  bnRecalibrationImages: 1024,
});

export const DEFAULT_PROXY_SUBSET = 10_000;

/** Throws an Error naming the first bad field. Returns the recipe. */
export function validateRecipe(r: TrainRecipe): TrainRecipe {
  const fail = (field: string, want: string, got: unknown): never => {
    throw new Error(`recipe: ${field} must be ${want}, got ${typeof got === 'string' ? `'${got}'` : String(got)}`);
  };
  const int = (field: keyof TrainRecipe, min: number) => {
    const v = r[field] as number;
    if (!Number.isSafeInteger(v) || v < min) fail(field, `an integer >= ${min}`, v);
  };
  const num = (field: keyof TrainRecipe, min: number, max: number, minOpen = false, maxOpen = false) => {
    const v = r[field] as number;
    const ok = typeof v === 'number' && Number.isFinite(v) && (minOpen ? v > min : v >= min) && (maxOpen ? v < max : v <= max);
    if (!ok) fail(field, `a number in ${minOpen ? '(' : '['}${min}, ${max}${maxOpen ? ')' : ']'}`, v);
  };
  int('epochs', 1);
  int('batchSize', 1);
  int('evalBatchSize', 1);
  int('seed', 0);
  int('bnRecalibrationImages', 0);
  if (!OPTIMIZER_NAMES.includes(r.optimizer)) fail('optimizer', `one of ${OPTIMIZER_NAMES.join(', ')}`, r.optimizer);
  if (!SCHEDULE_NAMES.includes(r.schedule)) fail('schedule', `one of ${SCHEDULE_NAMES.join(', ')}`, r.schedule);
  num('lr', 0, Number.MAX_VALUE, true);
  num('momentum', 0, 1, false, true);
  num('rmspropDecay', 0, 1, false, true);
  num('rmspropEps', 0, Number.MAX_VALUE, true);
  num('warmupEpochs', 0, r.epochs, false, true);
  num('decayRate', 0, 1, true);
  num('decayEpochs', 0, Number.MAX_VALUE, true);
  num('weightDecay', 0, 1);
  num('labelSmoothing', 0, 1, false, true);
  if (r.bnMomentum !== undefined) num('bnMomentum', 0, 1, false, true);
  if (r.dropout !== undefined) num('dropout', 0, 1, false, true);
  num('maxLoss', 0, Infinity, true);
  if (r.nesterov && r.optimizer === 'sgd' && !(r.momentum > 0)) fail('momentum', '> 0 with nesterov', r.momentum);
  if (r.init !== 'pytorch' && r.init !== 'tf-mnasnet') fail('init', "'pytorch' or 'tf-mnasnet'", r.init);
  const a = r.augmentation;
  if (a !== 'default' && a !== 'none') {
    if (typeof a !== 'object' || a === null || !Number.isInteger(a.padding) || a.padding < 0 || a.padding > 127 || typeof a.flip !== 'boolean') {
      fail('augmentation', "'default', 'none' or {padding: 0..127, flip: boolean}", JSON.stringify(a));
    }
  }
  return r;
}

/** One optimizer step over two parameter groups: weights (decayed) and the rest (not decayed). */
export class GroupedOptimizer {
  private readonly groups: Optimizer[];

  constructor(params: readonly Tensor[], recipe: TrainRecipe) {
    const decayed = params.filter((p) => p.rank >= 2);
    const plain = params.filter((p) => p.rank < 2);
    const make = (ps: readonly Tensor[], weightDecay: number): Optimizer =>
      recipe.optimizer === 'sgd'
        ? new SGD(ps, { momentum: recipe.momentum, nesterov: recipe.nesterov && recipe.momentum > 0, weightDecay })
        : new RMSprop(ps, { tfStyle: true, alpha: recipe.rmspropDecay, eps: recipe.rmspropEps, momentum: recipe.momentum, weightDecay });
    this.groups = [];
    if (decayed.length) this.groups.push(make(decayed, recipe.weightDecay));
    if (plain.length) this.groups.push(make(plain, 0));
    if (this.groups.length === 0) throw new Error('optimizer: the network has no parameters');
  }

  zeroGrad(): void {
    for (const g of this.groups) g.zeroGrad();
  }

  step(lr: number): void {
    for (const g of this.groups) g.step(lr);
  }

  dispose(): void {
    for (const g of this.groups) g.dispose();
  }
}

/** The learning rate at each global step for a run of `stepsPerEpoch * recipe.epochs` steps. */
export function makeSchedule(recipe: TrainRecipe, stepsPerEpoch: number): Schedule {
  const totalSteps = stepsPerEpoch * recipe.epochs;
  const warmupSteps = Math.min(totalSteps - 1, Math.round(recipe.warmupEpochs * stepsPerEpoch));
  const base = { baseLr: recipe.lr, totalSteps, warmupSteps };
  switch (recipe.schedule) {
    case 'cosine':
      return cosineSchedule(base);
    case 'exponential':
      return exponentialSchedule({ ...base, rate: recipe.decayRate, decaySteps: recipe.decayEpochs * stepsPerEpoch, staircase: true });
    case 'constant':
      return constantSchedule(base);
  }
}
