/**
 * Batch-norm folding for eval-mode export. BN(y) = gamma * (y - mean) / sqrt(var + eps) + beta,
 * so for y = W x + b:
 *   W' = W * s  (per output channel),  b' = beta + (b - mean) * s,  with s = gamma / sqrt(var + eps).
 * Arithmetic is done in float64 and rounded once to float32.
 */
import type { Float32Tensor } from './graph.js';

/** Eval-mode batch-norm parameters, one entry per channel (PyTorch BatchNorm2d/1d layout). */
export interface BatchNormParams {
  gamma: Float32Array;
  beta: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
  /** PyTorch default 1e-5 (MnasNet reference uses 1e-3). */
  eps: number;
}

/** A folded layer: weight in the same layout as given, bias always present. */
export interface FoldedLayer {
  weight: Float32Tensor;
  bias: Float32Array;
}

/** Folds BN that follows a Conv with OIHW weight (any group count) and optional bias. */
export function foldConvBn(weight: Float32Tensor, bias: Float32Array | undefined, bn: BatchNormParams): FoldedLayer {
  if (weight.shape.length !== 4) throw new Error(`foldConvBn: conv weight must be OIHW (rank 4), got [${weight.shape.join(',')}]`);
  return foldPerOutput('foldConvBn', weight, bias, bn);
}

/** Folds BN (BatchNorm1d over features) that follows a Linear with weight [out, in] and optional bias. */
export function foldLinearBn(weight: Float32Tensor, bias: Float32Array | undefined, bn: BatchNormParams): FoldedLayer {
  if (weight.shape.length !== 2) throw new Error(`foldLinearBn: linear weight must be [out, in], got [${weight.shape.join(',')}]`);
  return foldPerOutput('foldLinearBn', weight, bias, bn);
}

function foldPerOutput(fn: string, weight: Float32Tensor, bias: Float32Array | undefined, bn: BatchNormParams): FoldedLayer {
  const out = weight.shape[0] as number;
  const total = weight.shape.reduce((a, b) => a * b, 1);
  if (total !== weight.data.length) throw new Error(`${fn}: weight shape [${weight.shape.join(',')}] needs ${total} values, got ${weight.data.length}`);
  const per = out === 0 ? 0 : total / out;
  const check = (label: string, a: Float32Array | undefined) => {
    if (a !== undefined && a.length !== out) throw new Error(`${fn}: ${label} has ${a.length} values, expected ${out} (output channels)`);
  };
  check('bias', bias);
  check('gamma', bn.gamma);
  check('beta', bn.beta);
  check('runningMean', bn.runningMean);
  check('runningVar', bn.runningVar);
  if (!(Number.isFinite(bn.eps) && bn.eps >= 0)) throw new Error(`${fn}: eps must be a finite non-negative number, got ${bn.eps}`);
  const w = new Float32Array(total);
  const b = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    const v = (bn.runningVar[o] as number) + bn.eps;
    if (!(v > 0)) throw new Error(`${fn}: running variance + eps must be positive, got ${v} at channel ${o}`);
    const s = (bn.gamma[o] as number) / Math.sqrt(v);
    for (let j = o * per; j < (o + 1) * per; j++) w[j] = (weight.data[j] as number) * s;
    b[o] = (bn.beta[o] as number) + ((bias?.[o] ?? 0) - (bn.runningMean[o] as number)) * s;
  }
  return { weight: { data: w, shape: [...weight.shape] }, bias: b };
}
