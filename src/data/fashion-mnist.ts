/**
 * Fashion-MNIST (Zalando): 60,000 training and 10,000 test 28x28 grayscale images of 10
 * clothing classes, read from the Debian package dataset-fashion-mnist's directory by default.
 * Horizontal flips are allowed: a mirrored garment or shoe keeps its class.
 */
import type { TrainTestDatasets } from './dataset.js';
import { loadMnistFormat } from './mnist-format.js';

export const FASHION_MNIST_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASS_NAMES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

export interface LoadFashionMnistOptions {
  /** Directory holding the four IDX files; defaults to FASHION_MNIST_DEFAULT_DIR. */
  readonly dir?: string;
}

export function loadFashionMnist(options: LoadFashionMnistOptions = {}): TrainTestDatasets {
  const dir = options.dir ?? FASHION_MNIST_DEFAULT_DIR;
  const missingHint = options.dir === undefined
    ? 'install it with `apt-get install dataset-fashion-mnist` or run `bash scripts/setup.sh`'
    : `put the Fashion-MNIST IDX files (train-images-idx3-ubyte.gz etc.) in ${dir}, or omit the directory to use ${FASHION_MNIST_DEFAULT_DIR} (\`apt-get install dataset-fashion-mnist\`)`;
  return loadMnistFormat(dir, {
    name: 'fashion-mnist',
    classNames: FASHION_MNIST_CLASS_NAMES,
    allowsHorizontalFlip: true,
    missingHint,
  });
}
