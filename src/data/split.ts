/**
 * Seeded hold-out splits of the official training set: a fixed validation split (the accuracy
 * the search optimizes) and a proxy-training subset of the rest. Both are stratified by class
 * (each class contributes in proportion to its frequency) and returned as sorted Int32Array
 * indices into the training set, so no image is copied. The official test set is left alone
 * for final evaluation.
 *
 * Determinism: the validation indices depend only on (labels, seed, validationSize, stratified),
 * never on the proxy size, so proxy runs of different sizes are scored on the same images.
 */
import { Rng } from '../util/rng.js';
import type { DataSplit, Dataset, TrainTestDatasets } from './dataset.js';

export interface SplitOptions {
  /** Images held out for validation; default defaultValidationSize(train) (10,000 for Fashion-MNIST). */
  readonly validationSize?: number;
  /** Images of the remaining training set used for proxy training; default all of them. */
  readonly proxyTrainSize?: number;
  /** Default 0. */
  readonly seed?: number;
  /** Keep class proportions in both parts (default true). */
  readonly stratified?: boolean;
}

export interface TrainingSetSplit {
  /** Proxy-training indices into the training set, ascending. */
  readonly train: Int32Array;
  /** Validation indices into the training set, ascending, disjoint from `train`. */
  readonly validation: Int32Array;
}

/** 10,000 or a sixth of the training set, whichever is smaller (a sixth of Fashion-MNIST's 60,000 is 10,000). */
export function defaultValidationSize(train: Pick<Dataset, 'count'>): number {
  return Math.min(10_000, Math.floor(train.count / 6));
}

/** Splits `total` into integer parts proportional to `weights` (largest remainder, ties to the lower index). */
export function proportionalQuotas(weights: readonly number[], total: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) return weights.map(() => 0);
  const exact = weights.map((w) => (w * total) / sum);
  const quotas = exact.map(Math.floor);
  let left = total - quotas.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of byRemainder) {
    if (left === 0) break;
    quotas[i]!++;
    left--;
  }
  return quotas;
}

/**
 * Chooses `size` of `candidates` (ascending indices into `labels`) at random, stratified by
 * label if asked. Returns [chosen, rest], both ascending.
 */
function choose(candidates: Int32Array, labels: Uint8Array, classes: number, size: number, stratified: boolean, rng: Rng): [Int32Array, Int32Array] {
  const picked = new Uint8Array(labels.length);
  if (stratified) {
    const members: number[][] = Array.from({ length: classes }, () => []);
    for (const i of candidates) members[labels[i]!]!.push(i);
    const quotas = proportionalQuotas(members.map((m) => m.length), size);
    members.forEach((m, c) => {
      const order = rng.permutation(m.length);
      for (let k = 0; k < quotas[c]!; k++) picked[m[order[k]!]!] = 1;
    });
  } else {
    const order = rng.permutation(candidates.length);
    for (let k = 0; k < size; k++) picked[candidates[order[k]!]!] = 1;
  }
  const chosen = new Int32Array(size);
  const rest = new Int32Array(candidates.length - size);
  let a = 0, b = 0;
  for (const i of candidates) {
    if (picked[i]) chosen[a++] = i;
    else rest[b++] = i;
  }
  return [chosen, rest];
}

function checkSize(value: number, what: string, max: number, maxWhat: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new Error(`split.ts: ${what} must be an integer in [0, ${max}] (${maxWhat}), got ${value}`);
  }
  return value;
}

/** Splits the training set into disjoint validation and proxy-training index sets. */
export function splitTrainingSet(train: Pick<Dataset, 'labels' | 'count' | 'classes' | 'name'>, options: SplitOptions = {}): TrainingSetSplit {
  const seed = options.seed ?? 0;
  const stratified = options.stratified ?? true;
  const validationSize = checkSize(options.validationSize ?? defaultValidationSize(train), 'validationSize', train.count - 1,
    `${train.name} has ${train.count} training images and at least one must remain for training`);
  const remaining = train.count - validationSize;
  const proxyTrainSize = checkSize(options.proxyTrainSize ?? remaining, 'proxyTrainSize', remaining,
    `${train.count} training images minus ${validationSize} for validation`);
  const rng = new Rng(seed);
  const validationRng = rng.fork();
  const proxyRng = rng.fork();
  const all = new Int32Array(train.count);
  for (let i = 0; i < all.length; i++) all[i] = i;
  const [validation, rest] = choose(all, train.labels, train.classes, validationSize, stratified, validationRng);
  const [proxy] = proxyTrainSize === rest.length ? [rest] : choose(rest, train.labels, train.classes, proxyTrainSize, stratified, proxyRng);
  return { train: proxy, validation };
}

/** The split a search run uses: validation and proxy training from `train`, and `test` as is. */
export function makeDataSplit(datasets: TrainTestDatasets, options: SplitOptions = {}): DataSplit {
  const { train, validation } = splitTrainingSet(datasets.train, options);
  return { pool: datasets.train, train, validation, test: datasets.test };
}
