import { uniform_, zeros, type Generator } from '../creation.js';
import { linear } from '../ops/nn.js';
import type { Tensor } from '../tensor.js';
import { denseUniformFanOut, pytorchDefault, type InitScheme } from './init.js';
import { Layer } from './module.js';

export interface LinearConfig {
  inFeatures: number;
  outFeatures: number;
  bias?: boolean;
  init?: InitScheme;
  generator?: Generator;
}

export class Linear extends Layer {
  constructor(readonly config: LinearConfig) {
    super();
    const { inFeatures: i, outFeatures: o } = config;
    if (!Number.isInteger(i) || i < 1 || !Number.isInteger(o) || o < 1) {
      throw new Error(`Linear: features must be positive integers, got ${i} -> ${o}`);
    }
    const w = zeros([o, i]);
    if (config.init === 'tf-mnasnet') denseUniformFanOut(w, config.generator);
    else pytorchDefault(w, config.generator);
    this.registerParameter('weight', w);
    if (config.bias ?? true) {
      const b = zeros([o]);
      if (config.init !== 'tf-mnasnet') uniform_(b, -1 / Math.sqrt(i), 1 / Math.sqrt(i), config.generator);
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
    return linear(x, this.weight, this.bias);
  }
}
