/**
 * Loads the libtorch addon (native/) and describes its raw functions. Tensors are numeric
 * handles into a native table; src/torch/tensor.ts wraps them with ownership rules.
 * Everything else should use the typed API, not this module.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { nativeAddonPath } from '../util/paths.js';

export type Handle = number;
export type OptHandle = Handle | null;
export type NativeDtype = 'float32' | 'float64' | 'int64' | 'uint8' | 'bool';
export type MemoryFormat = 'contiguous' | 'channels_last';
/** A libtorch Generator: an opaque native object, freed by freeGenerator or when collected. */
export type NativeGenerator = { readonly __nativeGenerator: unique symbol };

export interface NativeAllocatorStats {
  kind: 'caching' | 'system';
  allocations: number;
  smallAllocations: number;
  hits: number;
  misses: number;
  frees: number;
  released: number;
  inUseBytes: number;
  cachedBytes: number;
  reservedBytes: number;
  peakInUseBytes: number;
  peakReservedBytes: number;
  limitBytes: number;
}

export interface NativeTorch {
  fromFloat32(data: Float32Array, shape: readonly number[], requiresGrad?: boolean): Handle;
  fromFloat64(data: Float64Array, shape: readonly number[], requiresGrad?: boolean): Handle;
  fromInt64(data: BigInt64Array, shape: readonly number[]): Handle;
  fromInt32(data: Int32Array, shape: readonly number[]): Handle;
  fromUint8(data: Uint8Array, shape: readonly number[]): Handle;
  toFloat32(t: Handle): Float32Array;
  toFloat64(t: Handle): Float64Array;
  toUint8(t: Handle): Uint8Array;
  toInt64(t: Handle): BigInt64Array;
  toInt32(t: Handle): Int32Array;
  item(t: Handle): number;
  shape(t: Handle): number[];
  strides(t: Handle): number[];
  dtype(t: Handle): NativeDtype;
  requiresGrad(t: Handle): boolean;
  setRequiresGrad(t: Handle, value: boolean): void;
  isContiguous(t: Handle, format: MemoryFormat): boolean;
  contiguous(t: Handle, format: MemoryFormat): Handle;
  restride(t: Handle, format: MemoryFormat): Handle;
  clone(t: Handle): Handle;
  detach(t: Handle): Handle;
  toDtype(t: Handle, dtype: NativeDtype): Handle;
  free(t: Handle): boolean;
  freeMany(ts: readonly Handle[]): number;
  liveCount(): number;
  zeros(shape: readonly number[], dtype?: NativeDtype): Handle;
  ones(shape: readonly number[], dtype?: NativeDtype): Handle;
  full(shape: readonly number[], value: number, dtype?: NativeDtype): Handle;
  arange(end: number, dtype?: NativeDtype): Handle;
  rand(shape: readonly number[], generator?: NativeGenerator | null): Handle;
  randn(shape: readonly number[], generator?: NativeGenerator | null): Handle;
  randint(low: number, high: number, shape: readonly number[], generator?: NativeGenerator | null): Handle;
  randperm(n: number, generator?: NativeGenerator | null): Handle;
  uniform_(t: Handle, low: number, high: number, generator?: NativeGenerator | null): void;
  normal_(t: Handle, mean: number, std: number, generator?: NativeGenerator | null): void;
  manualSeed(seed: number): void;
  newGenerator(seed: number): NativeGenerator;
  /** Releases the generator now; false if it was already freed. Using it afterwards is an error. */
  freeGenerator(generator: NativeGenerator): boolean;
  liveGeneratorCount(): number;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  setGradEnabled(enabled: boolean): boolean;
  isGradEnabled(): boolean;
  backward(t: Handle, gradient?: OptHandle): void;
  grad(t: Handle): Handle;
  zeroGrad(params: readonly Handle[]): void;
  copyInto(dst: Handle, src: Handle): void;
  fill_(t: Handle, value: number): void;
  version(): { torch: string; parallel: string; config: string };
  allocatorStats(): NativeAllocatorStats;
  resetAllocatorPeaks(): void;
  setAllocatorCacheLimit(bytes: number): void;
  emptyAllocatorCache(): void;
  exitWithParent(parentPid: number): boolean;

  relu(x: Handle): Handle;
  relu_(x: Handle): void;
  relu6(x: Handle): Handle;
  sigmoid(x: Handle): Handle;
  tanh(x: Handle): Handle;
  exp(x: Handle): Handle;
  log(x: Handle): Handle;
  sqrt(x: Handle): Handle;
  neg(x: Handle): Handle;
  abs(x: Handle): Handle;
  sumAll(x: Handle): Handle;
  meanAll(x: Handle): Handle;
  allFinite(x: Handle): Handle;
  add(a: Handle, b: Handle): Handle;
  sub(a: Handle, b: Handle): Handle;
  mul(a: Handle, b: Handle): Handle;
  div(a: Handle, b: Handle): Handle;
  maximum(a: Handle, b: Handle): Handle;
  minimum(a: Handle, b: Handle): Handle;
  matmul(a: Handle, b: Handle): Handle;
  eq(a: Handle, b: Handle): Handle;
  gt(a: Handle, b: Handle): Handle;
  lt(a: Handle, b: Handle): Handle;
  addScalar(x: Handle, s: number): Handle;
  mulScalar(x: Handle, s: number): Handle;
  powScalar(x: Handle, e: number): Handle;
  clamp(x: Handle, min: number | null, max: number | null): Handle;
  where(cond: Handle, a: Handle, b: Handle): Handle;
  sum(x: Handle, dims: readonly number[], keepdim: boolean): Handle;
  mean(x: Handle, dims: readonly number[], keepdim: boolean): Handle;
  max(x: Handle, dim: number, keepdim: boolean): Handle;
  argmax(x: Handle, dim: number, keepdim: boolean): Handle;
  softmax(x: Handle, dim: number): Handle;
  logSoftmax(x: Handle, dim: number): Handle;
  linear(x: Handle, w: Handle, b: OptHandle): Handle;
  conv2d(x: Handle, w: Handle, b: OptHandle, stride: readonly number[], padding: readonly number[], dilation: readonly number[], groups: number): Handle;
  batchNorm(x: Handle, w: OptHandle, b: OptHandle, runningMean: OptHandle, runningVar: OptHandle, training: boolean, momentum: number, eps: number, relu: boolean): Handle;
  squeezeExcite(x: Handle, reduceWeight: Handle, reduceBias: Handle, expandWeight: Handle, expandBias: Handle): Handle;
  avgPool2d(x: Handle, kernel: readonly number[], stride: readonly number[], padding: readonly number[], ceilMode: boolean, countIncludePad: boolean): Handle;
  maxPool2d(x: Handle, kernel: readonly number[], stride: readonly number[], padding: readonly number[], ceilMode: boolean): Handle;
  adaptiveAvgPool2d(x: Handle, outputSize: readonly number[]): Handle;
  reshape(x: Handle, shape: readonly number[]): Handle;
  permute(x: Handle, dims: readonly number[]): Handle;
  transpose(x: Handle, dim0: number, dim1: number): Handle;
  flatten(x: Handle, startDim: number, endDim: number): Handle;
  unsqueeze(x: Handle, dim: number): Handle;
  squeeze(x: Handle, dim: number): Handle;
  expand(x: Handle, shape: readonly number[]): Handle;
  slice(x: Handle, dim: number, start: number, end: number, step: number): Handle;
  cat(xs: readonly Handle[], dim: number): Handle;
  stack(xs: readonly Handle[], dim: number): Handle;
  indexSelect(x: Handle, dim: number, index: Handle): Handle;
  gather(x: Handle, dim: number, index: Handle): Handle;
  pad(x: Handle, pads: readonly number[], value: number): Handle;
  flip(x: Handle, dims: readonly number[]): Handle;
  crossEntropy(logits: Handle, target: Handle, labelSmoothing: number, reduction: 'mean' | 'sum' | 'none'): Handle;
  dropout(x: Handle, p: number, training: boolean): Handle;
  lstmCell(x: Handle, h: Handle, c: Handle, wIH: Handle, wHH: Handle, bIH: OptHandle, bHH: OptHandle): [Handle, Handle];
  multinomial(probs: Handle, samples: number, replacement: boolean, generator?: NativeGenerator | null): Handle;
  augmentBatch(images: Handle, index: Handle, offsetY: readonly number[], offsetX: readonly number[], flip: readonly number[], pad: number, mean: readonly number[], std: readonly number[]): Handle;

  sgdStep(params: readonly Handle[], momentumBuffers: readonly Handle[], lr: number, momentum: number, dampening: number, weightDecay: number, nesterov: boolean, firstStep: boolean): void;
  rmspropStep(params: readonly Handle[], squareAvg: readonly Handle[], momentumBuffers: readonly Handle[], lr: number, alpha: number, eps: number, weightDecay: number, momentum: number, tfStyle: boolean): void;
  adamStep(params: readonly Handle[], expAvg: readonly Handle[], expAvgSq: readonly Handle[], step: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean): void;
  clipGradNorm(params: readonly Handle[], maxNorm: number): number;
}

let loaded: NativeTorch | undefined;

export function addonPath(): string {
  return nativeAddonPath('mnas_torch.node');
}

/** The addon, loaded once. A missing build is an error that says how to build it. */
export function native(): NativeTorch {
  if (loaded) return loaded;
  const file = addonPath();
  if (!existsSync(file)) {
    throw new Error(`the libtorch addon is not built (${file} is missing): run 'bash scripts/setup.sh' (or 'npm run build:native')`);
  }
  const require = createRequire(import.meta.url);
  loaded = require(file) as NativeTorch;
  return loaded;
}
