/** Views and layout: reshape, permute, slice, concatenation, indexing, padding. */
import { native } from '../native.js';
import { Tensor, type Shape } from '../tensor.js';

const n = native;
const T = (h: number) => new Tensor(h);

export const reshape = (x: Tensor, shape: Shape): Tensor => T(n().reshape(x.handle, shape));
export const permute = (x: Tensor, dims: readonly number[]): Tensor => T(n().permute(x.handle, dims));
export const transpose = (x: Tensor, dim0: number, dim1: number): Tensor => T(n().transpose(x.handle, dim0, dim1));
export const flatten = (x: Tensor, startDim = 0, endDim = -1): Tensor => T(n().flatten(x.handle, startDim, endDim));
export const unsqueeze = (x: Tensor, dim: number): Tensor => T(n().unsqueeze(x.handle, dim));
export const squeeze = (x: Tensor, dim: number): Tensor => T(n().squeeze(x.handle, dim));
export const expand = (x: Tensor, shape: Shape): Tensor => T(n().expand(x.handle, shape));
/** Elements start..end-1 (step) along dim, as PyTorch's x[..., start:end:step]. */
export const slice = (x: Tensor, dim: number, start: number, end: number, step = 1): Tensor => T(n().slice(x.handle, dim, start, end, step));
export const cat = (xs: readonly Tensor[], dim: number): Tensor => T(n().cat(xs.map((x) => x.handle), dim));
export const stack = (xs: readonly Tensor[], dim: number): Tensor => T(n().stack(xs.map((x) => x.handle), dim));
export const indexSelect = (x: Tensor, dim: number, index: Tensor): Tensor => T(n().indexSelect(x.handle, dim, index.handle));
export const gather = (x: Tensor, dim: number, index: Tensor): Tensor => T(n().gather(x.handle, dim, index.handle));
/** Constant padding; pads as in torch.nn.functional.pad (last dim first: [left, right, top, bottom, ...]). */
export const pad = (x: Tensor, pads: readonly number[], value = 0): Tensor => T(n().pad(x.handle, pads, value));
export const flip = (x: Tensor, dims: readonly number[]): Tensor => T(n().flip(x.handle, dims));
