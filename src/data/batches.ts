/**
 * Batch plans: which samples go in which batch in each epoch, and how each is augmented, all
 * as plain index/decision arrays derived from a seed. An epoch's plan depends only on
 * (indices, seed, epoch, options), so any epoch can be re-planned, in any order, identically.
 */
import { Rng } from '../util/rng.js';
import { planAugmentation, type AugmentationDecisions, type AugmentationOptions } from './augmentation.js';

export interface BatchPlanOptions {
  readonly batchSize: number;
  /** Leave out the last batch if it is smaller than batchSize (default false). */
  readonly dropLast?: boolean;
  /** Shuffle the samples each epoch (default true; false keeps index order, for evaluation). */
  readonly shuffle?: boolean;
  /** Default 0. */
  readonly seed?: number;
  /** Augmentation to plan for every batch (default none). */
  readonly augmentation?: AugmentationOptions;
}

export interface Batch {
  /** Indices into the dataset, a view of the epoch's order. */
  readonly indices: Int32Array;
  /** Present when the plan has augmentation. */
  readonly augmentation?: AugmentationDecisions;
}

export interface EpochPlan {
  readonly epoch: number;
  /** The epoch's sample order (the batches are consecutive views of it). */
  readonly order: Int32Array;
  readonly batches: readonly Batch[];
}

/** Number of batches an epoch of `samples` has. */
export function batchCount(samples: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(samples / batchSize) : Math.ceil(samples / batchSize);
}

/** The Rng of one epoch: a function of (seed, epoch) only. */
export function epochRng(seed: number, epoch: number): Rng {
  if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`batches.ts: epoch must be a non-negative integer, got ${epoch}`);
  // Mix the epoch in through a separate stream so (seed, epoch) pairs do not collide.
  const mixed = (new Rng(epoch).nextUint32() ^ (seed >>> 0)) >>> 0;
  return new Rng(mixed);
}

export function planEpoch(indices: Int32Array, epoch: number, options: BatchPlanOptions): EpochPlan {
  const { batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new Error(`batches.ts: batchSize must be a positive integer, got ${batchSize}`);
  const rng = epochRng(options.seed ?? 0, epoch);
  const shuffleRng = rng.fork();
  const augmentRng = rng.fork();
  let order: Int32Array;
  if (options.shuffle ?? true) {
    const permutation = shuffleRng.permutation(indices.length);
    order = new Int32Array(indices.length);
    for (let k = 0; k < order.length; k++) order[k] = indices[permutation[k]!]!;
  } else {
    order = indices.slice();
  }
  const count = batchCount(order.length, batchSize, options.dropLast ?? false);
  const batches: Batch[] = [];
  for (let b = 0; b < count; b++) {
    const batchIndices = order.subarray(b * batchSize, Math.min((b + 1) * batchSize, order.length));
    batches.push(options.augmentation === undefined
      ? { indices: batchIndices }
      : { indices: batchIndices, augmentation: planAugmentation(batchIndices.length, options.augmentation, augmentRng) });
  }
  return { epoch, order, batches };
}
