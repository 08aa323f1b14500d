/**
 * Loads a directory in the MNIST layout (train-images-idx3-ubyte, train-labels-idx1-ubyte,
 * t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte), each gzip-compressed (.gz) or raw;
 * shared by the MNIST and Fashion-MNIST loaders.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { withTrainingStats, type TrainTestDatasets } from './dataset.js';
import { readIdxPair } from './idx.js';

export interface MnistFormatSpec {
  /** Registry name, e.g. "mnist". */
  readonly name: string;
  readonly classNames: readonly string[];
  readonly allowsHorizontalFlip: boolean;
  /** Added to "file not found" errors: how to get the files. */
  readonly missingHint: string;
}

const SIDE = 28;

/**
 * The path of one MNIST file in `dir`: the first of `<base>.gz`, `<base>` and the variant with
 * a dot before idx (`train-images.idx3-ubyte`, as some mirrors name them) that exists, else
 * the `.gz` name (so the "not found" error names the canonical file).
 */
export function findMnistFile(dir: string, base: string): string {
  const dotted = base.replace(/-(idx\d-ubyte)$/, '.$1');
  const candidates = [`${base}.gz`, base, `${dotted}.gz`, dotted].map((f) => join(dir, f));
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

export function loadMnistFormat(dir: string, spec: MnistFormatSpec): TrainTestDatasets {
  const part = (prefix: 'train' | 't10k', partName: 'train' | 'test') => {
    const idx = readIdxPair(
      findMnistFile(dir, `${prefix}-images-idx3-ubyte`),
      findMnistFile(dir, `${prefix}-labels-idx1-ubyte`),
      spec.classNames.length,
      { height: SIDE, width: SIDE, missingHint: spec.missingHint },
    );
    return {
      name: `${spec.name}/${partName}`,
      images: idx.images,
      labels: idx.labels,
      count: idx.count,
      height: idx.height,
      width: idx.width,
      channels: 1,
      classes: spec.classNames.length,
      classNames: spec.classNames,
      allowsHorizontalFlip: spec.allowsHorizontalFlip,
    };
  };
  return withTrainingStats(part('train', 'train'), part('t10k', 'test'));
}
