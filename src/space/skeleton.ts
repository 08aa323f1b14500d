/**
 * Skeletons are data: the fixed frame of the factorized hierarchical space (MnasNet section 2).
 * Per block: width, layers and stride; plus stem width and stride, head width, input shape,
 * classes and, optionally, per-block default choices (what `defaultDna()` picks).
 */
import type { InputShape, OpKind, SkipKind } from './arch.js';

export interface BlockDefaults {
  readonly op: OpKind;
  /** 1 for conv/dsconv; 3 or 6 for mbconv (the space's MBConv choices). */
  readonly expand: number;
  readonly kernel: number;
  readonly seRatio: number;
  readonly skip: SkipKind;
}

export interface SkeletonBlock {
  readonly width: number;
  readonly layers: number;
  readonly stride: number;
  /** Defaults for this block; when absent the space's default (MBConv e6, k3, no SE, identity). */
  readonly defaults?: BlockDefaults;
}

export interface Skeleton {
  readonly name: string;
  readonly description: string;
  readonly input: InputShape;
  readonly classes: number;
  readonly stem: { readonly filters: number; readonly stride: number };
  readonly head: number;
  readonly blocks: readonly SkeletonBlock[];
}

export const STANDARD_BLOCK_DEFAULTS: BlockDefaults = Object.freeze({
  op: 'mbconv',
  expand: 6,
  kernel: 3,
  seRatio: 0,
  skip: 'identity',
});

const DSCONV_K3: BlockDefaults = Object.freeze({ op: 'dsconv', expand: 1, kernel: 3, seRatio: 0, skip: 'identity' });

/** MobileNetV2's 7 stages (t, c, n, s): the skeleton of the released MnasNet search. */
export const MOBILENET_V2_SKELETON: Skeleton = {
  name: 'mobilenet-v2',
  description: 'MobileNetV2 frame, 224x224x3 ImageNet: stem 32 s2, 7 blocks, head 1280 (the paper\'s search space)',
  input: { height: 224, width: 224, channels: 3 },
  classes: 1000,
  stem: { filters: 32, stride: 2 },
  head: 1280,
  blocks: [
    { width: 16, layers: 1, stride: 1, defaults: DSCONV_K3 },
    { width: 24, layers: 2, stride: 2 },
    { width: 32, layers: 3, stride: 2 },
    { width: 64, layers: 4, stride: 2 },
    { width: 96, layers: 3, stride: 1 },
    { width: 160, layers: 3, stride: 2 },
    { width: 320, layers: 1, stride: 1 },
  ],
};

/**
 * Small-image frame (28x28 Fashion-MNIST). The default arch is bench-fmnist plus a fifth
 * 80 -> 96 MBConv e6 block at 4x4: stem 16 s1 (28x28), 16 @28, 24 @14, 40 @7, 80 @4, 96 @4.
 */
function smallImageBlocks(): readonly SkeletonBlock[] {
  return [
    { width: 16, layers: 1, stride: 1, defaults: DSCONV_K3 },
    { width: 24, layers: 2, stride: 2, defaults: { op: 'mbconv', expand: 6, kernel: 3, seRatio: 0, skip: 'identity' } },
    { width: 40, layers: 2, stride: 2, defaults: { op: 'mbconv', expand: 3, kernel: 5, seRatio: 0.25, skip: 'identity' } },
    { width: 80, layers: 2, stride: 2, defaults: { op: 'mbconv', expand: 6, kernel: 3, seRatio: 0, skip: 'identity' } },
    { width: 96, layers: 1, stride: 1, defaults: { op: 'mbconv', expand: 6, kernel: 3, seRatio: 0, skip: 'identity' } },
  ];
}

export const FMNIST_SKELETON: Skeleton = {
  name: 'fmnist',
  description: 'Fashion-MNIST frame, 28x28x1, 10 classes: stem 16 s1, 5 blocks [16,24,40,80,96], no head',
  input: { height: 28, width: 28, channels: 1 },
  classes: 10,
  stem: { filters: 16, stride: 1 },
  head: 0,
  blocks: smallImageBlocks(),
};

export const CIFAR_SKELETON: Skeleton = {
  name: 'cifar',
  description: 'CIFAR-10 frame, 32x32x3, 10 classes: stem 16 s1, 5 blocks [16,24,40,80,96], no head',
  input: { height: 32, width: 32, channels: 3 },
  classes: 10,
  stem: { filters: 16, stride: 1 },
  head: 0,
  blocks: smallImageBlocks(),
};
