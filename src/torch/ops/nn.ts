/** Neural-network ops: convolution, normalization, pooling, activations, losses, LSTM cell. */
import { native, type NativeGenerator } from '../native.js';
import { Tensor } from '../tensor.js';

const n = native;
const T = (h: number) => new Tensor(h);
const pair = (v: number | readonly [number, number]): readonly number[] => (typeof v === 'number' ? [v, v] : v);

export const relu = (x: Tensor): Tensor => T(n().relu(x.handle));
/** ReLU in place (returns x); only where autograd does not need x's old values. */
export const relu_ = (x: Tensor): Tensor => {
  n().relu_(x.handle);
  return x;
};
export const relu6 = (x: Tensor): Tensor => T(n().relu6(x.handle));
export const sigmoid = (x: Tensor): Tensor => T(n().sigmoid(x.handle));
export const tanh = (x: Tensor): Tensor => T(n().tanh(x.handle));
export const softmax = (x: Tensor, dim: number): Tensor => T(n().softmax(x.handle, dim));
export const logSoftmax = (x: Tensor, dim: number): Tensor => T(n().logSoftmax(x.handle, dim));

export interface Conv2dOptions {
  stride?: number | readonly [number, number];
  padding?: number | readonly [number, number];
  dilation?: number | readonly [number, number];
  groups?: number;
}

/** 2-D convolution, weight OIHW; groups = channels gives a depthwise convolution. */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null, o: Conv2dOptions = {}): Tensor {
  return T(n().conv2d(x.handle, weight.handle, bias?.handle ?? null, pair(o.stride ?? 1), pair(o.padding ?? 0), pair(o.dilation ?? 1), o.groups ?? 1));
}

export function linear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  return T(n().linear(x.handle, weight.handle, bias?.handle ?? null));
}

/**
 * Batch normalization. In training mode it normalizes with batch statistics and updates the
 * running statistics in place (PyTorch momentum convention: new = (1-m)*old + m*batch).
 * With `relu`, a ReLU follows; in training with weight, bias and running statistics on a 4-D
 * input the two are one native pass (native/batch_norm.cc; MNAS_BATCHNORM=aten: libtorch's).
 */
export function batchNorm(
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  training: boolean,
  momentum: number,
  eps: number,
  o: { relu?: boolean } = {},
): Tensor {
  return T(n().batchNorm(x.handle, weight?.handle ?? null, bias?.handle ?? null, runningMean?.handle ?? null, runningVar?.handle ?? null, training, momentum, eps, o.relu ?? false));
}

/**
 * Squeeze-and-excitation: x * sigmoid(linear(relu(linear(mean(x over H, W), reduceWeight, reduceBias)), expandWeight, expandBias))
 * per image and channel; reduceWeight is [r, C], expandWeight [C, r]. While gradients are recorded on a 4-D
 * input contiguous in NCHW or channels_last it is one native autograd function whose backward pass reads the
 * activation twice instead of about ten times (native/squeeze_excite.cc; MNAS_SQUEEZE_EXCITE=aten: libtorch's ops).
 */
export function squeezeExcite(x: Tensor, reduceWeight: Tensor, reduceBias: Tensor, expandWeight: Tensor, expandBias: Tensor): Tensor {
  return T(n().squeezeExcite(x.handle, reduceWeight.handle, reduceBias.handle, expandWeight.handle, expandBias.handle));
}

export interface PoolOptions {
  stride?: number | readonly [number, number];
  padding?: number | readonly [number, number];
  ceilMode?: boolean;
  countIncludePad?: boolean;
}

export function avgPool2d(x: Tensor, kernel: number | readonly [number, number], o: PoolOptions = {}): Tensor {
  return T(n().avgPool2d(x.handle, pair(kernel), pair(o.stride ?? kernel), pair(o.padding ?? 0), o.ceilMode ?? false, o.countIncludePad ?? true));
}

export function maxPool2d(x: Tensor, kernel: number | readonly [number, number], o: PoolOptions = {}): Tensor {
  return T(n().maxPool2d(x.handle, pair(kernel), pair(o.stride ?? kernel), pair(o.padding ?? 0), o.ceilMode ?? false));
}

/** Global average pooling: [N, C, H, W] -> [N, C] (keepdim gives [N, C, 1, 1]). */
export function globalAvgPool(x: Tensor, keepdim = false): Tensor {
  return T(n().mean(x.handle, [2, 3], keepdim));
}

export function adaptiveAvgPool2d(x: Tensor, outputSize: number | readonly [number, number]): Tensor {
  return T(n().adaptiveAvgPool2d(x.handle, pair(outputSize)));
}

export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  return T(n().dropout(x.handle, p, training));
}

/** Cross-entropy of logits [N, C] against int64 class indices [N], with label smoothing. */
export function crossEntropy(logits: Tensor, target: Tensor, options: { labelSmoothing?: number; reduction?: 'mean' | 'sum' | 'none' } = {}): Tensor {
  return T(n().crossEntropy(logits.handle, target.handle, options.labelSmoothing ?? 0, options.reduction ?? 'mean'));
}

/** One LSTM step (PyTorch gate order i, f, g, o): returns [h', c']. */
export function lstmCell(x: Tensor, h: Tensor, c: Tensor, weightIH: Tensor, weightHH: Tensor, biasIH: Tensor | null, biasHH: Tensor | null): [Tensor, Tensor] {
  const [h2, c2] = n().lstmCell(x.handle, h.handle, c.handle, weightIH.handle, weightHH.handle, biasIH?.handle ?? null, biasHH?.handle ?? null);
  return [T(h2), T(c2)];
}

/** Samples indices from rows of probabilities. */
export function multinomial(probs: Tensor, samples: number, replacement: boolean, generator?: { readonly id: NativeGenerator }): Tensor {
  return T(n().multinomial(probs.handle, samples, replacement, generator?.id ?? null));
}
