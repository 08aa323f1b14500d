/**
 * Tensor: a typed owner of one native libtorch tensor, and the ownership rules.
 *
 * Native memory is freed deterministically: `tidy(fn)` frees every tensor created inside fn
 * except those it returns (which move to the enclosing scope), `t.dispose()` frees one, and
 * `keep(t)` exempts a tensor (parameters, optimizer state) from scopes. A FinalizationRegistry
 * is only a safety net for tensors created outside any scope and never disposed.
 */
import { native, type Handle, type MemoryFormat, type NativeDtype } from './native.js';

export type Dtype = NativeDtype;
export type Shape = readonly number[];

const finalizer = new FinalizationRegistry<Handle>((handle) => {
  try {
    native().free(handle);
  } catch {
    // the process is shutting down; nothing to free into
  }
});

interface Scope {
  tensors: Tensor[];
}
const scopes: Scope[] = [];

export class Tensor {
  private handleValue: Handle;
  private shapeCache: Shape | undefined;
  private scope: Scope | undefined;
  private keptValue = false;

  /** Takes ownership of a native handle. */
  constructor(handle: Handle) {
    this.handleValue = handle;
    const scope = scopes[scopes.length - 1];
    if (scope) {
      scope.tensors.push(this);
      this.scope = scope;
    }
    finalizer.register(this, handle, this);
  }

  /** The native handle; throws if the tensor was disposed. */
  get handle(): Handle {
    if (this.handleValue === 0) throw new Error('tensor was disposed');
    return this.handleValue;
  }

  get isDisposed(): boolean {
    return this.handleValue === 0;
  }

  get kept(): boolean {
    return this.keptValue;
  }

  get shape(): Shape {
    if (!this.shapeCache) this.shapeCache = Object.freeze(native().shape(this.handle));
    return this.shapeCache;
  }

  get rank(): number {
    return this.shape.length;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get dtype(): Dtype {
    return native().dtype(this.handle);
  }

  get strides(): number[] {
    return native().strides(this.handle);
  }

  get requiresGrad(): boolean {
    return native().requiresGrad(this.handle);
  }

  set requiresGrad(value: boolean) {
    native().setRequiresGrad(this.handle, value);
  }

  /** The accumulated gradient as a new tensor (owned by the current scope), or null. */
  get grad(): Tensor | null {
    const h = native().grad(this.handle);
    return h === 0 ? null : new Tensor(h);
  }

  isContiguous(format: MemoryFormat = 'contiguous'): boolean {
    return native().isContiguous(this.handle, format);
  }

  /** Frees the native memory now. Safe to call twice. */
  dispose(): void {
    if (this.handleValue === 0) return;
    finalizer.unregister(this);
    native().free(this.handleValue);
    this.handleValue = 0;
  }

  /** Marks the tensor disposed and hands its handle to the caller (for batched frees). */
  releaseHandle(): Handle {
    const h = this.handleValue;
    if (h !== 0) finalizer.unregister(this);
    this.handleValue = 0;
    return h;
  }

  /** Exempts this tensor from scope disposal; it lives until dispose(). */
  keep(): this {
    this.keptValue = true;
    return this;
  }

  /** @internal used by tidy() to move returned tensors to the enclosing scope. */
  adopt(scope: Scope | undefined): void {
    this.scope = scope;
    if (scope) scope.tensors.push(this);
  }

  /** @internal */
  ownedBy(scope: Scope): boolean {
    return this.scope === scope;
  }

  toFloat32Array(): Float32Array {
    return native().toFloat32(this.handle);
  }

  toFloat64Array(): Float64Array {
    return native().toFloat64(this.handle);
  }

  toUint8Array(): Uint8Array {
    return native().toUint8(this.handle);
  }

  toInt32Array(): Int32Array {
    return native().toInt32(this.handle);
  }

  toBigInt64Array(): BigInt64Array {
    return native().toInt64(this.handle);
  }

  /** The value of a one-element tensor. */
  item(): number {
    return native().item(this.handle);
  }

  /** Runs backpropagation from this tensor (a scalar unless a gradient is given). */
  backward(gradient?: Tensor): void {
    native().backward(this.handle, gradient ? gradient.handle : null);
  }

  detach(): Tensor {
    return new Tensor(native().detach(this.handle));
  }

  clone(): Tensor {
    return new Tensor(native().clone(this.handle));
  }

  contiguous(format: MemoryFormat = 'contiguous'): Tensor {
    return new Tensor(native().contiguous(this.handle, format));
  }

  /** A copy with the canonical strides of `format`, even where size-1 dims make this tensor
   * already contiguous in it (as PyTorch's tensor.to(memory_format=...)). */
  restride(format: MemoryFormat): Tensor {
    return new Tensor(native().restride(this.handle, format));
  }

  to(dtype: Dtype): Tensor {
    return new Tensor(native().toDtype(this.handle, dtype));
  }

  reshape(shape: Shape): Tensor {
    return new Tensor(native().reshape(this.handle, shape));
  }

  /** In-place copy of `source` into this tensor, outside autograd. */
  copyFrom(source: Tensor): void {
    native().copyInto(this.handle, source.handle);
  }

  fill(value: number): void {
    native().fill_(this.handle, value);
  }

  toString(): string {
    return this.isDisposed ? 'Tensor(disposed)' : `Tensor(${this.dtype}, [${this.shape.join(', ')}])`;
  }
}

function collectTensors(value: unknown, into: Set<Tensor>, depth = 0): void {
  if (value instanceof Tensor) {
    into.add(value);
  } else if (depth < 4 && value !== null && typeof value === 'object') {
    const items = Array.isArray(value) ? value : value instanceof Map ? [...value.values()] : Object.values(value);
    for (const v of items) collectTensors(v, into, depth + 1);
  }
}

function closeScope(scope: Scope, result: unknown): void {
  const keepers = new Set<Tensor>();
  collectTensors(result, keepers);
  const parent = scopes[scopes.length - 1];
  const toFree: Handle[] = [];
  for (const t of scope.tensors) {
    if (t.isDisposed) continue;
    if (keepers.has(t)) t.adopt(t.kept ? undefined : parent);
    else if (!t.kept) toFree.push(t.releaseHandle());
  }
  if (toFree.length > 0) native().freeMany(toFree);
}

/**
 * Runs fn and frees every tensor it created, except the tensors in its result (a tensor, or
 * arrays/objects/maps of them, up to 4 levels deep), which move to the enclosing scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope: Scope = { tensors: [] };
  scopes.push(scope);
  let result: T | undefined;
  try {
    result = fn();
    if (result instanceof Promise) throw new Error('tidy: fn must be synchronous (it returned a Promise)');
    return result;
  } finally {
    scopes.pop();
    closeScope(scope, result);
  }
}

/** Marks tensors as long-lived: scopes will not free them. */
export function keep<T extends Tensor>(t: T): T {
  return t.keep();
}

export function dispose(value: unknown): void {
  const all = new Set<Tensor>();
  collectTensors(value, all);
  for (const t of all) t.dispose();
}

/** Number of native tensors alive right now (for leak checks). */
export function liveTensors(): number {
  return native().liveCount();
}

/** Runs fn with gradient recording off (inference, optimizer updates, metrics). */
export function noGrad<T>(fn: () => T): T {
  const previous = native().setGradEnabled(false);
  try {
    return fn();
  } finally {
    native().setGradEnabled(previous);
  }
}

export function isGradEnabled(): boolean {
  return native().isGradEnabled();
}

export function wrap(handle: Handle): Tensor {
  return new Tensor(handle);
}
