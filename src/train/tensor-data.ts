/**
 * A dataset held natively for training: all images as ONE uint8 NHWC tensor and all labels as
 * one int64 tensor, copied into libtorch once. Each batch is then built natively: the images by
 * the `augmentBatch` op (index tensor + the plan's per-sample crop offsets and flips, normalized
 * to float32 NCHW) and the labels by `indexSelect`; JavaScript only passes the batch's indices
 * and decisions, never pixels.
 */
import type { AugmentationDecisions } from '../data/augmentation.js';
import type { Dataset } from '../data/dataset.js';
import { native } from '../torch/native.js';
import { indexSelect, int64Tensor, Tensor, tidy, uint8Tensor } from '../torch/index.js';

export interface TensorBatch {
  /** float32 [n, C, H, W], normalized with the dataset's mean/std. */
  readonly x: Tensor;
  /** int64 [n] class indices. */
  readonly y: Tensor;
}

export interface BatchOptions {
  /** Crop offsets and flips, one per index (none if omitted). */
  readonly augmentation?: AugmentationDecisions;
  /**
   * Memory layout of `x`: 'channels_last' is what the native op writes (no copy);
   * 'contiguous' (default) copies the batch once into plain NCHW.
   */
  readonly memoryFormat?: 'contiguous' | 'channels_last';
}

export class TensorDataset {
  readonly name: string;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly classes: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /** uint8 [count, H, W, C]. */
  readonly images: Tensor;
  /** int64 [count]. */
  readonly labels: Tensor;
  private readonly zeroOffsets = new Map<number, number[]>();

  constructor(data: Dataset) {
    this.name = data.name;
    this.count = data.count;
    this.height = data.height;
    this.width = data.width;
    this.channels = data.channels;
    this.classes = data.classes;
    this.mean = [...data.mean];
    this.std = [...data.std];
    this.images = uint8Tensor(data.images, [data.count, data.height, data.width, data.channels]).keep();
    this.labels = tidy(() => int64Tensor(Int32Array.from(data.labels))).keep();
  }

  /**
   * The batch of samples at `indices` (in that order). Tensors belong to the current tidy scope.
   * Throws if an index is out of range or the decisions do not match the batch.
   */
  batch(indices: Int32Array, options: BatchOptions = {}): TensorBatch {
    const n = indices.length;
    if (n === 0) throw new Error(`TensorDataset ${this.name}: empty batch`);
    const a = options.augmentation;
    if (a !== undefined && a.count !== n) throw new Error(`TensorDataset ${this.name}: ${a.count} augmentation decisions for a batch of ${n}`);
    for (let k = 0; k < n; k++) {
      const i = indices[k]!;
      if (!(i >= 0 && i < this.count)) throw new Error(`TensorDataset ${this.name}: index ${i} out of range [0, ${this.count})`);
    }
    const index = int64Tensor(indices);
    let zeros: number[] | undefined;
    if (a === undefined) {
      zeros = this.zeroOffsets.get(n);
      if (!zeros) this.zeroOffsets.set(n, (zeros = new Array<number>(n).fill(0)));
    }
    const offY = a ? Array.from(a.cropY) : zeros!;
    const offX = a ? Array.from(a.cropX) : zeros!;
    const flip = a ? Array.from(a.flip) : zeros!;
    const xLast = new Tensor(native().augmentBatch(this.images.handle, index.handle, offY, offX, flip, a?.padding ?? 0, this.mean, this.std));
    let x = xLast;
    if ((options.memoryFormat ?? 'contiguous') === 'contiguous') {
      x = xLast.contiguous('contiguous');
      xLast.dispose();
    }
    const y = indexSelect(this.labels, 0, index);
    index.dispose();
    return { x, y };
  }

  dispose(): void {
    this.images.dispose();
    this.labels.dispose();
  }
}
