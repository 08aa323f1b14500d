/** Autograd helpers beyond Tensor.backward(): clearing and clipping gradients. */
import { native } from './native.js';
import type { Tensor } from './tensor.js';

/** Drops the gradients of params (PyTorch's zero_grad(set_to_none=True)). */
export function zeroGrad(params: readonly Tensor[]): void {
  native().zeroGrad(params.map((p) => p.handle));
}

/** Scales gradients so their global L2 norm is at most maxNorm; returns the norm before. */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  return native().clipGradNorm(params.map((p) => p.handle), maxNorm);
}
