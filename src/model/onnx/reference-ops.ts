/**
 * Test helper: a straightforward pure-TypeScript reference for the ops the ONNX builder emits
 * (NCHW float32 tensors, float64 accumulation). Used to check onnxruntime's results on exported
 * graphs; written for clarity, not speed. Not used by the exporter itself.
 */
import type { BatchNormParams } from './fold.js';
import type { Float32Tensor } from './graph.js';
import type { Rng } from '../../util/rng.js';

export type T = Float32Tensor;

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Tensor of N(0, scale^2) values from a seeded Rng. */
export function randn(rng: Rng, shape: readonly number[], scale = 1): T {
  const data = new Float32Array(size(shape));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() * scale;
  return { data, shape: [...shape] };
}

/** Random eval-mode BN parameters (positive variances, gamma near 1). */
export function randomBn(rng: Rng, channels: number, eps = 1e-3): BatchNormParams {
  const f = (g: () => number) => Float32Array.from({ length: channels }, g);
  return {
    gamma: f(() => 1 + 0.3 * rng.normal()),
    beta: f(() => 0.3 * rng.normal()),
    runningMean: f(() => 0.5 * rng.normal()),
    runningVar: f(() => 0.3 + rng.next() * 1.5),
    eps,
  };
}

export interface Conv2dParams {
  strides?: [number, number];
  /** [top, left, bottom, right]. */
  pads?: [number, number, number, number];
  dilations?: [number, number];
  group?: number;
}

export function conv2d(x: T, w: T, bias: Float32Array | undefined, p: Conv2dParams = {}): T {
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [o, ipg, kh, kw] = w.shape as [number, number, number, number];
  const [sh, sw] = p.strides ?? [1, 1];
  const [pt, pl, pb, pr] = p.pads ?? [0, 0, 0, 0];
  const [dh, dw] = p.dilations ?? [1, 1];
  const g = p.group ?? 1;
  if (c !== ipg * g) throw new Error('reference conv2d: channel mismatch');
  const oh = Math.floor((h + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((wd + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  const out = new Float32Array(n * o * oh * ow);
  const opg = o / g;
  for (let b = 0; b < n; b++)
    for (let oc = 0; oc < o; oc++) {
      const grp = Math.floor(oc / opg);
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          let acc = bias ? (bias[oc] as number) : 0;
          for (let ic = 0; ic < ipg; ic++) {
            const cin = grp * ipg + ic;
            for (let ky = 0; ky < kh; ky++) {
              const iy = y * sh - pt + ky * dh;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = xx * sw - pl + kx * dw;
                if (ix < 0 || ix >= wd) continue;
                acc += (x.data[((b * c + cin) * h + iy) * wd + ix] as number) * (w.data[((oc * ipg + ic) * kh + ky) * kw + kx] as number);
              }
            }
          }
          out[((b * o + oc) * oh + y) * ow + xx] = acc;
        }
    }
  return { data: out, shape: [n, o, oh, ow] };
}

/** Eval-mode batch norm over axis 1 (works for [N,C] and [N,C,H,W]). */
export function batchNorm(x: T, bn: BatchNormParams): T {
  const c = x.shape[1] as number;
  const inner = size(x.shape.slice(2));
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < x.data.length; i++) {
    const ch = Math.floor(i / inner) % c;
    const v = ((x.data[i] as number) - (bn.runningMean[ch] as number)) / Math.sqrt((bn.runningVar[ch] as number) + bn.eps);
    out[i] = v * (bn.gamma[ch] as number) + (bn.beta[ch] as number);
  }
  return { data: out, shape: [...x.shape] };
}

function map(x: T, f: (v: number) => number): T {
  return { data: x.data.map(f), shape: [...x.shape] };
}
export const relu = (x: T): T => map(x, (v) => Math.max(v, 0));
export const clip = (x: T, lo: number, hi: number): T => map(x, (v) => Math.min(Math.max(v, lo), hi));
export const relu6 = (x: T): T => clip(x, 0, 6);
export const sigmoid = (x: T): T => map(x, (v) => 1 / (1 + Math.exp(-v)));

/** Numpy-broadcasting elementwise op. */
export function broadcast(a: T, b: T, f: (x: number, y: number) => number): T {
  const r = Math.max(a.shape.length, b.shape.length);
  const pa = [...Array(r - a.shape.length).fill(1), ...a.shape] as number[];
  const pb = [...Array(r - b.shape.length).fill(1), ...b.shape] as number[];
  const shape = pa.map((d, i) => Math.max(d, pb[i] as number));
  const out = new Float32Array(size(shape));
  const idx = new Array<number>(r).fill(0);
  for (let i = 0; i < out.length; i++) {
    let rem = i;
    for (let k = r - 1; k >= 0; k--) {
      idx[k] = rem % (shape[k] as number);
      rem = Math.floor(rem / (shape[k] as number));
    }
    let ia = 0;
    let ib = 0;
    for (let k = 0; k < r; k++) {
      ia = ia * (pa[k] as number) + ((pa[k] as number) === 1 ? 0 : (idx[k] as number));
      ib = ib * (pb[k] as number) + ((pb[k] as number) === 1 ? 0 : (idx[k] as number));
    }
    out[i] = f(a.data[ia] as number, b.data[ib] as number);
  }
  return { data: out, shape };
}
export const add = (a: T, b: T): T => broadcast(a, b, (x, y) => x + y);
export const mul = (a: T, b: T): T => broadcast(a, b, (x, y) => x * y);

export function globalAvgPool(x: T): T {
  const [n, c] = x.shape as [number, number];
  const inner = size(x.shape.slice(2));
  const out = new Float32Array(n * c);
  for (let i = 0; i < n * c; i++) {
    let s = 0;
    for (let j = 0; j < inner; j++) s += x.data[i * inner + j] as number;
    out[i] = s / inner;
  }
  return { data: out, shape: [n, c, ...x.shape.slice(2).map(() => 1)] };
}

export function avgPool2d(x: T, k: number, s: number, pad: number, countIncludePad: boolean): T {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const oh = Math.floor((h + 2 * pad - k) / s) + 1;
  const ow = Math.floor((w + 2 * pad - k) / s) + 1;
  const out = new Float32Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++) {
        let sum = 0;
        let cnt = 0;
        for (let ky = 0; ky < k; ky++)
          for (let kx = 0; kx < k; kx++) {
            const iy = y * s - pad + ky;
            const ix = xx * s - pad + kx;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
              if (countIncludePad) cnt++;
              continue;
            }
            sum += x.data[(p * h + iy) * w + ix] as number;
            cnt++;
          }
        out[(p * oh + y) * ow + xx] = sum / cnt;
      }
  return { data: out, shape: [n, c, oh, ow] };
}

/** Zero-pad axis 1 at the end to `channels`. */
export function padChannels(x: T, channels: number): T {
  const [n, c] = x.shape as [number, number];
  const inner = size(x.shape.slice(2));
  const out = new Float32Array(n * channels * inner);
  for (let b = 0; b < n; b++) out.set(x.data.subarray(b * c * inner, (b + 1) * c * inner), b * channels * inner);
  return { data: out, shape: [n, channels, ...x.shape.slice(2)] };
}

/** Keep the first `channels` of axis 1. */
export function sliceChannels(x: T, channels: number): T {
  const [n, c] = x.shape as [number, number];
  const inner = size(x.shape.slice(2));
  const out = new Float32Array(n * channels * inner);
  for (let b = 0; b < n; b++) out.set(x.data.subarray(b * c * inner, b * c * inner + channels * inner), b * channels * inner);
  return { data: out, shape: [n, channels, ...x.shape.slice(2)] };
}

export function flatten(x: T): T {
  return { data: x.data.slice(), shape: [x.shape[0] as number, size(x.shape.slice(1))] };
}

/** y = x W^T + b with W [out, in]. */
export function linear(x: T, w: T, bias?: Float32Array): T {
  const [n, k] = x.shape as [number, number];
  const [o, k2] = w.shape as [number, number];
  if (k !== k2) throw new Error('reference linear: feature mismatch');
  const out = new Float32Array(n * o);
  for (let b = 0; b < n; b++)
    for (let j = 0; j < o; j++) {
      let acc = bias ? (bias[j] as number) : 0;
      for (let i = 0; i < k; i++) acc += (x.data[b * k + i] as number) * (w.data[j * k + i] as number);
      out[b * o + j] = acc;
    }
  return { data: out, shape: [n, o] };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    if (!(d <= m)) m = d; // NaN propagates as a failure
  }
  return m;
}
