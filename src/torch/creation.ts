/** Creating tensors: from typed arrays, constants, and seeded random generators. */
import { native, type NativeGenerator } from './native.js';
import { Tensor, type Dtype, type Shape } from './tensor.js';

function shapeOf(n: number, shape?: Shape): Shape {
  return shape ?? [n];
}

/** A float32 tensor copied from data (a Float32Array or a plain array of numbers). */
export function tensor(data: Float32Array | readonly number[], shape?: Shape, options: { requiresGrad?: boolean } = {}): Tensor {
  const arr = data instanceof Float32Array ? data : Float32Array.from(data);
  return new Tensor(native().fromFloat32(arr, shapeOf(arr.length, shape), options.requiresGrad ?? false));
}

/** A float64 tensor copied from data (for precise numerics, e.g. gradient checks). */
export function float64Tensor(data: Float64Array | readonly number[], shape?: Shape, options: { requiresGrad?: boolean } = {}): Tensor {
  const arr = data instanceof Float64Array ? data : Float64Array.from(data);
  return new Tensor(native().fromFloat64(arr, shapeOf(arr.length, shape), options.requiresGrad ?? false));
}

/** An int64 tensor from Int32Array / BigInt64Array / plain integers. */
export function int64Tensor(data: Int32Array | BigInt64Array | readonly number[], shape?: Shape): Tensor {
  if (data instanceof BigInt64Array) return new Tensor(native().fromInt64(data, shapeOf(data.length, shape)));
  const arr = data instanceof Int32Array ? data : Int32Array.from(data);
  return new Tensor(native().fromInt32(arr, shapeOf(arr.length, shape)));
}

export function uint8Tensor(data: Uint8Array, shape?: Shape): Tensor {
  return new Tensor(native().fromUint8(data, shapeOf(data.length, shape)));
}

export function zeros(shape: Shape, dtype: Dtype = 'float32'): Tensor {
  return new Tensor(native().zeros(shape, dtype));
}

export function ones(shape: Shape, dtype: Dtype = 'float32'): Tensor {
  return new Tensor(native().ones(shape, dtype));
}

export function full(shape: Shape, value: number, dtype: Dtype = 'float32'): Tensor {
  return new Tensor(native().full(shape, value, dtype));
}

export function arange(end: number, dtype: Dtype = 'int64'): Tensor {
  return new Tensor(native().arange(end, dtype));
}

/**
 * A seeded random stream inside libtorch. Every random tensor in mnas comes from one of these
 * (or from the global generator seeded with manualSeed), so a seed fixes the result.
 * The native generator is released by dispose(), or else when this object is garbage collected.
 */
export class Generator {
  private nativeValue: NativeGenerator | undefined;
  constructor(readonly seed: number) {
    if (!Number.isInteger(seed) || seed < 0) throw new Error(`Generator: seed must be a non-negative integer, got ${seed}`);
    this.nativeValue = native().newGenerator(seed);
  }

  /** The native generator; throws once disposed. */
  get id(): NativeGenerator {
    if (this.nativeValue === undefined) throw new Error(`Generator(${this.seed}): generator was disposed`);
    return this.nativeValue;
  }

  get isDisposed(): boolean {
    return this.nativeValue === undefined;
  }

  dispose(): void {
    if (this.nativeValue === undefined) return;
    native().freeGenerator(this.nativeValue);
    this.nativeValue = undefined;
  }
}

/** Native generators alive (not disposed and not yet collected). */
export function liveGenerators(): number {
  return native().liveGeneratorCount();
}

export function rand(shape: Shape, generator?: Generator): Tensor {
  return new Tensor(native().rand(shape, generator?.id ?? null));
}

export function randn(shape: Shape, generator?: Generator): Tensor {
  return new Tensor(native().randn(shape, generator?.id ?? null));
}

export function randint(low: number, high: number, shape: Shape, generator?: Generator): Tensor {
  return new Tensor(native().randint(low, high, shape, generator?.id ?? null));
}

export function randperm(n: number, generator?: Generator): Tensor {
  return new Tensor(native().randperm(n, generator?.id ?? null));
}

/** Fills t in place with U[low, high). */
export function uniform_(t: Tensor, low: number, high: number, generator?: Generator): Tensor {
  native().uniform_(t.handle, low, high, generator?.id ?? null);
  return t;
}

/** Fills t in place with N(mean, std^2). */
export function normal_(t: Tensor, mean: number, std: number, generator?: Generator): Tensor {
  native().normal_(t.handle, mean, std, generator?.id ?? null);
  return t;
}

/** Seeds libtorch's global generator (used by dropout and anything not given a Generator). */
export function manualSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`manualSeed: seed must be a non-negative integer, got ${seed}`);
  native().manualSeed(seed);
}

export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setNumThreads: threads must be a positive integer, got ${n}`);
  native().setNumThreads(n);
}

export function getNumThreads(): number {
  return native().getNumThreads();
}

export function torchVersion(): { torch: string; parallel: string; config: string } {
  return native().version();
}
