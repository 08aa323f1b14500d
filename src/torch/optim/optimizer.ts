import { zeros, full } from '../creation.js';
import { zeroGrad } from '../autograd.js';
import type { Tensor } from '../tensor.js';

/**
 * An optimizer updates parameters in place from their .grad, in one fused native call per step.
 * Its state (momentum buffers etc.) is a set of named tensors plus a step count, so training
 * can be checkpointed and resumed exactly.
 */
export abstract class Optimizer {
  protected stepCount = 0;
  constructor(readonly params: readonly Tensor[]) {
    if (params.length === 0) throw new Error(`${this.constructor.name}: no parameters to optimize`);
  }

  /** One update with learning rate lr. */
  abstract step(lr: number): void;

  zeroGrad(): void {
    zeroGrad(this.params);
  }

  get steps(): number {
    return this.stepCount;
  }

  /** Named state tensors (owned by the optimizer). */
  abstract stateTensors(): Map<string, Tensor>;

  dispose(): void {
    for (const t of this.stateTensors().values()) t.dispose();
  }

  protected buffers(fill = 0): Tensor[] {
    // state in the parameter's dtype, so float64 parameters keep float64 state
    return this.params.map((p) => (fill === 0 ? zeros(p.shape, p.dtype) : full(p.shape, fill, p.dtype)).keep());
  }

  protected handles(ts: readonly Tensor[]): number[] {
    return ts.map((t) => t.handle);
  }
}

export function checkLr(name: string, lr: number): void {
  if (!Number.isFinite(lr) || lr < 0) throw new Error(`${name}: learning rate must be a finite number >= 0, got ${lr}`);
}
