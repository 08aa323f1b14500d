/**
 * One entry point for every dataset mnas knows: `loadDataset({ name, dataDir?, seed? })`
 * returns the official training and test sets, each with the training set's channel stats.
 */
import type { TrainTestDatasets } from './dataset.js';
import { loadCifar10 } from './cifar10.js';
import { readDatasetCache } from './dataset-cache.js';
import { loadFashionMnist } from './fashion-mnist.js';
import { loadMnist } from './mnist.js';
import { makeSyntheticDataset, type SyntheticOptions } from './synthetic.js';

export const DATASET_NAMES = ['fashion-mnist', 'mnist', 'cifar10', 'synthetic', 'synthetic-rgb'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

export const DEFAULT_DATASET: DatasetName = 'fashion-mnist';

export interface LoadDatasetOptions {
  /** One of DATASET_NAMES. */
  readonly name: string;
  /**
   * Where the files are: optional for fashion-mnist (defaults to /usr/share/datasets/fashion-mnist),
   * required for mnist and cifar10, ignored for the synthetic sets.
   */
  readonly dataDir?: string;
  /** Seed of the synthetic sets (default 0); real datasets ignore it. */
  readonly seed?: number;
  /** Sizes and noise of the synthetic sets. */
  readonly synthetic?: Omit<SyntheticOptions, 'seed' | 'shape'>;
  /** A dataset cache file made by prepareDataset (src/data/prepare.ts): the user's own data, decoded; `name` is then only its label. */
  readonly cacheFile?: string;
}

export function isDatasetName(name: string): name is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(name);
}

function requireDir(name: DatasetName, dataDir: string | undefined): string {
  if (dataDir === undefined || dataDir === '') {
    throw new Error(`load.ts: dataset "${name}" needs a data directory (dataDir); no system package provides it`);
  }
  return dataDir;
}

export function loadDataset(options: LoadDatasetOptions): TrainTestDatasets {
  const { name, dataDir } = options;
  if (options.cacheFile !== undefined) return readDatasetCache(options.cacheFile);
  if (!isDatasetName(name)) {
    throw new Error(`load.ts: unknown dataset "${name}"; known datasets: ${DATASET_NAMES.join(', ')}`);
  }
  switch (name) {
    case 'fashion-mnist':
      return loadFashionMnist(dataDir === undefined || dataDir === '' ? {} : { dir: dataDir });
    case 'mnist':
      return loadMnist({ dir: requireDir(name, dataDir) });
    case 'cifar10':
      return loadCifar10({ dir: requireDir(name, dataDir) });
    case 'synthetic':
      return makeSyntheticDataset({ ...options.synthetic, seed: options.seed ?? 0, shape: '28x28x1' });
    case 'synthetic-rgb':
      return makeSyntheticDataset({ ...options.synthetic, seed: options.seed ?? 0, shape: '32x32x3' });
  }
}
