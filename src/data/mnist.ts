/**
 * MNIST handwritten digits: 60,000 training and 10,000 test 28x28 grayscale images, from a
 * directory the user provides (no Debian package ships it), files gzip-compressed or raw.
 * Horizontal flips are not allowed: a mirrored digit is not a digit.
 */
import type { TrainTestDatasets } from './dataset.js';
import { loadMnistFormat } from './mnist-format.js';

export const MNIST_CLASS_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

export interface LoadMnistOptions {
  /** Directory holding train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz), t10k-... */
  readonly dir: string;
}

export function loadMnist(options: LoadMnistOptions): TrainTestDatasets {
  return loadMnistFormat(options.dir, {
    name: 'mnist',
    classNames: MNIST_CLASS_NAMES,
    allowsHorizontalFlip: false,
    missingHint: `put the MNIST IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]) in ${options.dir}`,
  });
}
