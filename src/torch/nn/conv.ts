import { uniform_, zeros, type Generator } from '../creation.js';
import { conv2d } from '../ops/nn.js';
import type { Tensor } from '../tensor.js';
import { convFanOutNormal, fans, pytorchDefault, type InitScheme } from './init.js';
import { Layer } from './module.js';

export interface Conv2dConfig {
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride?: number;
  /** Symmetric zero padding; defaults to kernel // 2 ("same" for odd kernels at stride 1). */
  padding?: number;
  groups?: number;
  bias?: boolean;
  init?: InitScheme;
  generator?: Generator;
}

export class Conv2d extends Layer {
  readonly stride: number;
  readonly padding: number;
  readonly groups: number;

  constructor(readonly config: Conv2dConfig) {
    super();
    const { inChannels: cin, outChannels: cout, kernel: k } = config;
    this.groups = config.groups ?? 1;
    for (const [name, v] of [['inChannels', cin], ['outChannels', cout], ['kernel', k], ['groups', this.groups]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`Conv2d: ${name} must be a positive integer, got ${v}`);
    }
    if (cin % this.groups !== 0 || cout % this.groups !== 0) {
      throw new Error(`Conv2d: channels ${cin}->${cout} are not divisible by groups ${this.groups}`);
    }
    this.stride = config.stride ?? 1;
    this.padding = config.padding ?? Math.floor(k / 2);
    const w = zeros([cout, cin / this.groups, k, k]);
    if (config.init === 'tf-mnasnet') convFanOutNormal(w, config.generator);
    else pytorchDefault(w, config.generator);
    this.registerParameter('weight', w);
    if (config.bias) {
      const b = zeros([cout]);
      if (config.init !== 'tf-mnasnet') {
        const bound = 1 / Math.sqrt(fans(w.shape).fanIn);
        uniform_(b, -bound, bound, config.generator);
      }
      this.registerParameter('bias', b);
    }
  }

  get weight(): Tensor {
    return this.param('weight');
  }

  get bias(): Tensor | null {
    return this.optionalParam('bias');
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, groups: this.groups });
  }
}
