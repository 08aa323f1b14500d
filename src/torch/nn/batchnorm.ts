import { ones, zeros } from '../creation.js';
import { batchNorm } from '../ops/nn.js';
import type { Tensor } from '../tensor.js';
import { Layer } from './module.js';

export interface BatchNorm2dConfig {
  channels: number;
  /** PyTorch convention: running = (1 - momentum) * running + momentum * batch. TF's 0.99 is 0.01 here. */
  momentum?: number;
  eps?: number;
}

export class BatchNorm2d extends Layer {
  readonly momentum: number;
  readonly eps: number;

  constructor(readonly config: BatchNorm2dConfig) {
    super();
    const c = config.channels;
    if (!Number.isInteger(c) || c < 1) throw new Error(`BatchNorm2d: channels must be a positive integer, got ${c}`);
    this.momentum = config.momentum ?? 0.1;
    this.eps = config.eps ?? 1e-5;
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new Error(`BatchNorm2d: momentum must be in [0, 1], got ${this.momentum}`);
    this.registerParameter('weight', ones([c]));
    this.registerParameter('bias', zeros([c]));
    this.registerBuffer('running_mean', zeros([c]));
    this.registerBuffer('running_var', ones([c]));
  }

  get weight(): Tensor {
    return this.param('weight');
  }
  get bias(): Tensor {
    return this.param('bias');
  }
  get runningMean(): Tensor {
    return this.buffer('running_mean');
  }
  get runningVar(): Tensor {
    return this.buffer('running_var');
  }

  /** With `relu`, a ReLU follows (fused into the batch norm in training). */
  forward(x: Tensor, o: { relu?: boolean } = {}): Tensor {
    return batchNorm(x, this.weight, this.bias, this.runningMean, this.runningVar, this.training, this.momentum, this.eps, o);
  }
}
