/**
 * Data augmentation as data: per-sample decisions (random-crop offsets for crop-with-padding,
 * horizontal flips) drawn from an Rng, which the libtorch side applies to tensors, plus
 * `augmentBatchReference`, a plain-JS implementation of exactly those semantics that tests and
 * the native fast path are checked against.
 *
 * Semantics, for an image of H x W x C bytes, padding p, offsets (oy, ox) in [0, 2p], flip f:
 *   src(y, x)     = image byte at (y, x), or 0 (black, before normalization) outside the image
 *   cropped(y, x) = src(y + oy - p, x + ox - p)             (oy = ox = p leaves the image as is)
 *   out(y, x)     = f ? cropped(y, W - 1 - x) : cropped(y, x)
 *   value         = (out / 255 - mean[c]) / std[c], written NCHW as float32.
 */
import type { Rng } from '../util/rng.js';
import type { Dataset } from './dataset.js';

export interface AugmentationOptions {
  /** Pixels of zero padding for random crops (0 = no crop). At most 127. */
  readonly padding: number;
  /** Flip horizontally with probability 1/2 (only if the dataset allows it). */
  readonly flip: boolean;
}

export interface AugmentationDecisions {
  readonly count: number;
  readonly padding: number;
  /** Crop offsets in [0, 2 * padding], one per sample; `padding` means no shift. */
  readonly cropY: Uint8Array;
  readonly cropX: Uint8Array;
  /** 1 = mirror horizontally, 0 = keep. */
  readonly flip: Uint8Array;
}

/** What pixels augmentBatchReference reads: the images and how to normalize them. */
export type ImageSource = Pick<Dataset, 'images' | 'count' | 'height' | 'width' | 'channels' | 'mean' | 'std'>;

/** Standard training augmentation: pad by an eighth of the side (4 px at 32, 3 px at 28), flip where allowed. */
export function defaultAugmentation(data: Pick<Dataset, 'height' | 'width' | 'allowsHorizontalFlip'>): AugmentationOptions {
  return { padding: Math.floor(Math.min(data.height, data.width) / 8), flip: data.allowsHorizontalFlip };
}

export const NO_AUGMENTATION: AugmentationOptions = { padding: 0, flip: false };

/** Draws the decisions for `count` samples. Consumes the Rng only for enabled transforms. */
export function planAugmentation(count: number, options: AugmentationOptions, rng: Rng): AugmentationDecisions {
  const { padding } = options;
  if (!Number.isInteger(padding) || padding < 0 || padding > 127) {
    throw new Error(`augmentation.ts: padding must be an integer in [0, 127], got ${padding}`);
  }
  if (!Number.isInteger(count) || count < 0) throw new Error(`augmentation.ts: count must be a non-negative integer, got ${count}`);
  const cropY = new Uint8Array(count).fill(padding);
  const cropX = new Uint8Array(count).fill(padding);
  const flip = new Uint8Array(count);
  for (let k = 0; k < count; k++) {
    if (padding > 0) {
      cropY[k] = rng.int(2 * padding + 1);
      cropX[k] = rng.int(2 * padding + 1);
    }
    if (options.flip) flip[k] = rng.int(2);
  }
  return { count, padding, cropY, cropX, flip };
}

/**
 * The batch of images at `indices`, augmented per `decisions` (none if omitted), normalized
 * with the dataset's mean/std, as float32 NCHW (indices.length x C x H x W).
 */
export function augmentBatchReference(data: ImageSource, indices: Int32Array, decisions?: AugmentationDecisions): Float32Array {
  const { height: H, width: W, channels: C } = data;
  if (decisions !== undefined && decisions.count !== indices.length) {
    throw new Error(`augmentation.ts: ${decisions.count} augmentation decisions for a batch of ${indices.length}`);
  }
  if (data.mean.length !== C || data.std.length !== C) {
    throw new Error(`augmentation.ts: mean/std have ${data.mean.length}/${data.std.length} entries for ${C} channels`);
  }
  const scale = data.std.map((s) => 1 / (255 * s));
  const shift = data.mean.map((m, c) => -m / data.std[c]!);
  const out = new Float32Array(indices.length * C * H * W);
  const imageBytes = H * W * C;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!(i >= 0 && i < data.count)) throw new Error(`augmentation.ts: index ${i} out of range [0, ${data.count})`);
    const pad = decisions?.padding ?? 0;
    const dy = (decisions?.cropY[k] ?? pad) - pad;
    const dx = (decisions?.cropX[k] ?? pad) - pad;
    const flip = decisions?.flip[k] === 1;
    const base = i * imageBytes;
    for (let c = 0; c < C; c++) {
      const a = scale[c]!, b = shift[c]!;
      let o = ((k * C + c) * H) * W;
      for (let y = 0; y < H; y++) {
        const sy = y + dy;
        const rowInside = sy >= 0 && sy < H;
        for (let x = 0; x < W; x++, o++) {
          const sx = (flip ? W - 1 - x : x) + dx;
          const byte = rowInside && sx >= 0 && sx < W ? data.images[base + (sy * W + sx) * C + c]! : 0;
          out[o] = byte * a + b;
        }
      }
    }
  }
  return out;
}
