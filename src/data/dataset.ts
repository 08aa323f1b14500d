/**
 * The in-memory form of an image classification dataset, shared by the loaders, the splits,
 * the batch plans and the libtorch side (which wraps `images` as a uint8 tensor without copying).
 *
 * Pixel layout is NHWC: the byte for sample n, row y, column x, channel c is at
 * `((n * height + y) * width + x) * channels + c`. Normalization for training is
 * `(byte / 255 - mean[c]) / std[c]`, with `mean`/`std` computed once from the official
 * training set (all of it, validation hold-out included) and copied onto the test set.
 */
export interface Dataset {
  /** Registry name plus part, e.g. "fashion-mnist/train". */
  readonly name: string;
  /** count * height * width * channels bytes, NHWC. */
  readonly images: Uint8Array;
  /** count bytes, each < classes. */
  readonly labels: Uint8Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly classes: number;
  readonly classNames?: readonly string[];
  /**
   * Whether a horizontal mirror image keeps its label, so flip augmentation is allowed:
   * true for Fashion-MNIST (a mirrored shirt or sneaker is still one) and CIFAR-10,
   * false for digits (mirrored 2, 3, 7 are not digits) and for the synthetic set
   * (its classes are orientations, which a mirror changes).
   */
  readonly allowsHorizontalFlip: boolean;
  /** Per-channel mean of pixel/255 over the training set (length = channels). */
  readonly mean: readonly number[];
  /** Per-channel standard deviation of pixel/255 over the training set (length = channels). */
  readonly std: readonly number[];
}

/** A training set and its test set, as every loader returns them. */
export interface TrainTestDatasets {
  readonly train: Dataset;
  readonly test: Dataset;
}

/**
 * How one search run uses the data: `train` (proxy training) and `validation` (the accuracy
 * the search optimizes) are disjoint index sets into `pool`, the official training set;
 * `test` is only for the final evaluation of chosen architectures.
 */
export interface DataSplit {
  readonly pool: Dataset;
  readonly train: Int32Array;
  readonly validation: Int32Array;
  readonly test: Dataset;
}

/** Per-channel mean and standard deviation of pixel/255. */
export interface ChannelStats {
  readonly mean: number[];
  readonly std: number[];
}

/**
 * Mean and standard deviation per channel of pixel/255 over NHWC bytes, via 256-bin
 * histograms (one pass over the bytes, exact, no floating-point accumulation over pixels).
 */
export function computeChannelStats(images: Uint8Array, channels: number): ChannelStats {
  if (!Number.isInteger(channels) || channels <= 0) throw new Error(`dataset.ts: channels must be a positive integer, got ${channels}`);
  if (images.length === 0 || images.length % channels !== 0) {
    throw new Error(`dataset.ts: cannot compute channel stats of ${images.length} bytes with ${channels} channels`);
  }
  const histograms = Array.from({ length: channels }, () => new Float64Array(256));
  if (channels === 1) {
    const h = histograms[0]!;
    for (let i = 0; i < images.length; i++) h[images[i]!]!++;
  } else {
    for (let c = 0; c < channels; c++) {
      const h = histograms[c]!;
      for (let i = c; i < images.length; i += channels) h[images[i]!]!++;
    }
  }
  const mean: number[] = [];
  const std: number[] = [];
  for (const h of histograms) {
    let n = 0, sum = 0;
    for (let v = 0; v < 256; v++) { n += h[v]!; sum += h[v]! * v; }
    const m = sum / n;
    let sq = 0;
    for (let v = 0; v < 256; v++) sq += h[v]! * (v - m) * (v - m);
    mean.push(m / 255);
    std.push(Math.sqrt(sq / n) / 255);
  }
  return { mean, std };
}

/** Everything a Dataset has except the normalization stats, which come from the training set. */
export type DatasetWithoutStats = Omit<Dataset, 'mean' | 'std'>;

/**
 * Validates the shapes of `data` and attaches the given stats (pass the training set's stats
 * for its test set). Throws an Error naming the dataset if sizes or labels are inconsistent.
 */
export function withStats(data: DatasetWithoutStats, stats: ChannelStats): Dataset {
  const where = `dataset.ts: ${data.name}`;
  for (const key of ['count', 'height', 'width', 'channels', 'classes'] as const) {
    const v = data[key];
    if (!Number.isInteger(v) || v < 0 || (key !== 'count' && v === 0)) throw new Error(`${where}: ${key} must be a positive integer, got ${v}`);
  }
  if (data.classes > 256) throw new Error(`${where}: at most 256 classes fit in uint8 labels, got ${data.classes}`);
  const expectedBytes = data.count * data.height * data.width * data.channels;
  if (data.images.length !== expectedBytes) {
    throw new Error(`${where}: images has ${data.images.length} bytes, expected ${data.count}x${data.height}x${data.width}x${data.channels} = ${expectedBytes}`);
  }
  if (data.labels.length !== data.count) throw new Error(`${where}: ${data.labels.length} labels for ${data.count} images`);
  const bad = data.labels.findIndex((l) => l >= data.classes);
  if (bad >= 0) throw new Error(`${where}: label ${data.labels[bad]} at index ${bad} is not < ${data.classes} classes`);
  if (data.classNames !== undefined && data.classNames.length !== data.classes) {
    throw new Error(`${where}: ${data.classNames.length} class names for ${data.classes} classes`);
  }
  if (stats.mean.length !== data.channels || stats.std.length !== data.channels) {
    throw new Error(`${where}: stats have ${stats.mean.length} means and ${stats.std.length} stds for ${data.channels} channels`);
  }
  if (stats.std.some((s) => !(s > 0))) throw new Error(`${where}: a channel has zero standard deviation (${stats.std.join(', ')}); cannot normalize`);
  return { ...data, mean: [...stats.mean], std: [...stats.std] };
}

/** A training/test pair whose stats both come from the training set. */
export function withTrainingStats(train: DatasetWithoutStats, test: DatasetWithoutStats): TrainTestDatasets {
  const stats = computeChannelStats(train.images, train.channels);
  return { train: withStats(train, stats), test: withStats(test, stats) };
}

/** Bytes in one image. */
export function imageSize(data: Pick<Dataset, 'height' | 'width' | 'channels'>): number {
  return data.height * data.width * data.channels;
}

/** Number of samples of each class among `indices` (all samples if omitted). */
export function classHistogram(data: Pick<Dataset, 'labels' | 'classes'>, indices?: Int32Array): number[] {
  const counts = new Array<number>(data.classes).fill(0);
  if (indices === undefined) for (const l of data.labels) counts[l]!++;
  else for (const i of indices) counts[data.labels[i]!]!++;
  return counts;
}

/**
 * A new contiguous dataset holding the samples at `indices` (in that order), keeping the
 * source's stats. Copies; prefer passing index arrays where the consumer accepts them.
 */
export function selectSamples(data: Dataset, indices: Int32Array, name = `${data.name}[${indices.length}]`): Dataset {
  const size = imageSize(data);
  const images = new Uint8Array(indices.length * size);
  const labels = new Uint8Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!(i >= 0 && i < data.count)) throw new Error(`dataset.ts: ${data.name}: index ${i} out of range [0, ${data.count})`);
    images.set(data.images.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = data.labels[i]!;
  }
  return { ...data, name, images, labels, count: indices.length };
}
