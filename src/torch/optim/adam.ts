import { native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { checkLr, Optimizer } from './optimizer.js';

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** AdamW: weight decay applied to the weights directly instead of through the gradient. */
  decoupledWeightDecay?: boolean;
}

/** torch.optim.Adam / AdamW. */
export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly decoupled: boolean;
  private readonly expAvg: Tensor[];
  private readonly expAvgSq: Tensor[];
  private readonly h: { p: number[]; m: number[]; v: number[] };

  constructor(params: readonly Tensor[], o: AdamOptions = {}) {
    super(params);
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0;
    this.decoupled = o.decoupledWeightDecay ?? false;
    for (const [n, b] of [['beta1', this.beta1], ['beta2', this.beta2]] as const) {
      if (!(b >= 0 && b < 1)) throw new Error(`Adam: ${n} must be in [0, 1), got ${b}`);
    }
    this.expAvg = this.buffers();
    this.expAvgSq = this.buffers();
    this.h = { p: this.handles(params), m: this.handles(this.expAvg), v: this.handles(this.expAvgSq) };
  }

  step(lr: number): void {
    checkLr('Adam', lr);
    this.stepCount++;
    native().adamStep(this.h.p, this.h.m, this.h.v, this.stepCount, lr, this.beta1, this.beta2, this.eps, this.weightDecay, this.decoupled);
  }

  stateTensors(): Map<string, Tensor> {
    return new Map([
      ...this.expAvg.map((t, i) => [`exp_avg.${i}`, t] as [string, Tensor]),
      ...this.expAvgSq.map((t, i) => [`exp_avg_sq.${i}`, t] as [string, Tensor]),
    ]);
  }
}
