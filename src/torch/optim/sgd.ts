import { native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { checkLr, Optimizer } from './optimizer.js';

export interface SgdOptions {
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** torch.optim.SGD, update rule for rule (first step seeds the momentum buffer with the gradient). */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  private readonly momentumBuffers: Tensor[];
  private readonly paramHandles: number[];
  private readonly bufferHandles: number[];

  constructor(params: readonly Tensor[], o: SgdOptions = {}) {
    super(params);
    this.momentum = o.momentum ?? 0;
    this.dampening = o.dampening ?? 0;
    this.weightDecay = o.weightDecay ?? 0;
    this.nesterov = o.nesterov ?? false;
    if (this.momentum < 0 || this.weightDecay < 0) throw new Error('SGD: momentum and weightDecay must be >= 0');
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) throw new Error('SGD: Nesterov momentum requires momentum > 0 and zero dampening');
    this.momentumBuffers = this.momentum > 0 ? this.buffers() : [];
    this.paramHandles = this.handles(params);
    this.bufferHandles = this.handles(this.momentumBuffers);
  }

  step(lr: number): void {
    checkLr('SGD', lr);
    native().sgdStep(this.paramHandles, this.bufferHandles, lr, this.momentum, this.dampening, this.weightDecay, this.nesterov, this.stepCount === 0);
    this.stepCount++;
  }

  stateTensors(): Map<string, Tensor> {
    return new Map(this.momentumBuffers.map((b, i) => [`momentum_buffer.${i}`, b]));
  }
}
