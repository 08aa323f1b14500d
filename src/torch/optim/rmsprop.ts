import { native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { checkLr, Optimizer } from './optimizer.js';

export interface RmspropOptions {
  /** Decay of the running mean of squared gradients (TF's rho / decay; PyTorch's alpha). */
  alpha?: number;
  eps?: number;
  momentum?: number;
  weightDecay?: number;
  /**
   * TensorFlow semantics, as the MnasNet recipe used (RMSProp decay 0.9, momentum 0.9, eps 1e-3):
   * eps inside the square root, mean square initialised to 1, learning rate applied inside the
   * momentum accumulator. Otherwise torch.optim.RMSprop semantics.
   */
  tfStyle?: boolean;
}

export class RMSprop extends Optimizer {
  readonly alpha: number;
  readonly eps: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly tfStyle: boolean;
  private readonly squareAvg: Tensor[];
  private readonly momentumBuffers: Tensor[];
  private readonly handlesCache: { p: number[]; s: number[]; m: number[] };

  constructor(params: readonly Tensor[], o: RmspropOptions = {}) {
    super(params);
    this.tfStyle = o.tfStyle ?? false;
    this.alpha = o.alpha ?? (this.tfStyle ? 0.9 : 0.99);
    this.eps = o.eps ?? (this.tfStyle ? 1e-3 : 1e-8);
    this.momentum = o.momentum ?? 0;
    this.weightDecay = o.weightDecay ?? 0;
    if (!(this.alpha >= 0 && this.alpha < 1)) throw new Error(`RMSprop: alpha must be in [0, 1), got ${this.alpha}`);
    if (!(this.eps > 0)) throw new Error(`RMSprop: eps must be > 0, got ${this.eps}`);
    this.squareAvg = this.buffers(this.tfStyle ? 1 : 0);
    this.momentumBuffers = this.momentum > 0 ? this.buffers() : [];
    this.handlesCache = { p: this.handles(params), s: this.handles(this.squareAvg), m: this.handles(this.momentumBuffers) };
  }

  step(lr: number): void {
    checkLr('RMSprop', lr);
    const h = this.handlesCache;
    native().rmspropStep(h.p, h.s, h.m, lr, this.alpha, this.eps, this.weightDecay, this.momentum, this.tfStyle);
    this.stepCount++;
  }

  stateTensors(): Map<string, Tensor> {
    return new Map([
      ...this.squareAvg.map((t, i) => [`square_avg.${i}`, t] as [string, Tensor]),
      ...this.momentumBuffers.map((t, i) => [`momentum_buffer.${i}`, t] as [string, Tensor]),
    ]);
  }
}
