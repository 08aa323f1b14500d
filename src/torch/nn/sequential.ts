import type { Tensor } from '../tensor.js';
import { Layer } from './module.js';

/** Layers applied in order; children are named 0, 1, 2, ... (as torch.nn.Sequential). */
export class Sequential extends Layer {
  readonly layers: readonly Layer[];

  constructor(layers: readonly Layer[]) {
    super();
    this.layers = layers;
    layers.forEach((l, i) => this.registerModule(String(i), l));
  }

  /**
   * Each intermediate output is released as soon as the next layer has consumed it (autograd
   * keeps what backward needs), so an evaluation pass holds about two activations at a time
   * instead of every activation until the enclosing tidy() ends.
   */
  forward(x: Tensor): Tensor {
    let y = x;
    for (const l of this.layers) y = releasing(y, x, l.forward(y));
    return y;
  }
}

/** Returns `next`, disposing `consumed` when it is an intermediate (neither the caller's `input` nor `next` itself). */
export function releasing(consumed: Tensor, input: Tensor, next: Tensor): Tensor {
  if (consumed !== input && consumed !== next) consumed.dispose();
  return next;
}

/** Element-wise activation as a layer. */
export class Activation extends Layer {
  constructor(private readonly fn: (x: Tensor) => Tensor) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.fn(x);
  }
}
