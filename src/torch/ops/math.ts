/** Element-wise arithmetic, comparisons and reductions. Broadcasting follows PyTorch. */
import { native } from '../native.js';
import { Tensor } from '../tensor.js';

const n = native;
const T = (h: number) => new Tensor(h);

export const add = (a: Tensor, b: Tensor | number): Tensor => T(typeof b === 'number' ? n().addScalar(a.handle, b) : n().add(a.handle, b.handle));
export const sub = (a: Tensor, b: Tensor | number): Tensor => T(typeof b === 'number' ? n().addScalar(a.handle, -b) : n().sub(a.handle, b.handle));
export const mul = (a: Tensor, b: Tensor | number): Tensor => T(typeof b === 'number' ? n().mulScalar(a.handle, b) : n().mul(a.handle, b.handle));
export const div = (a: Tensor, b: Tensor | number): Tensor => T(typeof b === 'number' ? n().mulScalar(a.handle, 1 / b) : n().div(a.handle, b.handle));
export const pow = (a: Tensor, exponent: number): Tensor => T(n().powScalar(a.handle, exponent));
export const neg = (a: Tensor): Tensor => T(n().neg(a.handle));
export const abs = (a: Tensor): Tensor => T(n().abs(a.handle));
export const exp = (a: Tensor): Tensor => T(n().exp(a.handle));
export const log = (a: Tensor): Tensor => T(n().log(a.handle));
export const sqrt = (a: Tensor): Tensor => T(n().sqrt(a.handle));
export const maximum = (a: Tensor, b: Tensor): Tensor => T(n().maximum(a.handle, b.handle));
export const minimum = (a: Tensor, b: Tensor): Tensor => T(n().minimum(a.handle, b.handle));
export const clamp = (a: Tensor, min: number | null, max: number | null): Tensor => T(n().clamp(a.handle, min, max));
export const matmul = (a: Tensor, b: Tensor): Tensor => T(n().matmul(a.handle, b.handle));
export const eq = (a: Tensor, b: Tensor): Tensor => T(n().eq(a.handle, b.handle));
export const gt = (a: Tensor, b: Tensor): Tensor => T(n().gt(a.handle, b.handle));
export const lt = (a: Tensor, b: Tensor): Tensor => T(n().lt(a.handle, b.handle));
export const where = (condition: Tensor, a: Tensor, b: Tensor): Tensor => T(n().where(condition.handle, a.handle, b.handle));

/** Sum over dims (all dims when omitted). */
export const sum = (a: Tensor, dims?: readonly number[], keepdim = false): Tensor =>
  T(dims === undefined ? n().sumAll(a.handle) : n().sum(a.handle, dims, keepdim));
/** Mean over dims (all dims when omitted). */
export const mean = (a: Tensor, dims?: readonly number[], keepdim = false): Tensor =>
  T(dims === undefined ? n().meanAll(a.handle) : n().mean(a.handle, dims, keepdim));
export const max = (a: Tensor, dim: number, keepdim = false): Tensor => T(n().max(a.handle, dim, keepdim));
export const argmax = (a: Tensor, dim: number, keepdim = false): Tensor => T(n().argmax(a.handle, dim, keepdim));
/** A bool scalar tensor: true when every element is finite. */
export const allFinite = (a: Tensor): boolean => {
  const t = T(n().allFinite(a.handle));
  try {
    return t.item() !== 0;
  } finally {
    t.dispose();
  }
};
