import { uniform_, zeros, type Generator } from '../creation.js';
import { lstmCell } from '../ops/nn.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

export interface LSTMCellConfig {
  inputSize: number;
  hiddenSize: number;
  bias?: boolean;
  /** Weights drawn from U[-initRange, initRange]; PyTorch's default is 1/sqrt(hidden). */
  initRange?: number;
  generator?: Generator;
}

/** One LSTM layer stepped by hand (the NAS controller feeds each decision back as input). */
export class LSTMCell extends Module {
  constructor(readonly config: LSTMCellConfig) {
    super();
    const { inputSize: i, hiddenSize: h } = config;
    if (!Number.isInteger(i) || i < 1 || !Number.isInteger(h) || h < 1) {
      throw new Error(`LSTMCell: sizes must be positive integers, got input ${i}, hidden ${h}`);
    }
    const r = config.initRange ?? 1 / Math.sqrt(h);
    const init = (shape: number[]) => uniform_(zeros(shape), -r, r, config.generator);
    this.registerParameter('weight_ih', init([4 * h, i]));
    this.registerParameter('weight_hh', init([4 * h, h]));
    if (config.bias ?? true) {
      this.registerParameter('bias_ih', init([4 * h]));
      this.registerParameter('bias_hh', init([4 * h]));
    }
  }

  /** Returns the next [h, c] for input x [N, inputSize] and state h, c [N, hiddenSize]. */
  forward(x: Tensor, h: Tensor, c: Tensor): [Tensor, Tensor] {
    return lstmCell(x, h, c, this.param('weight_ih'), this.param('weight_hh'), this.optionalParam('bias_ih'), this.optionalParam('bias_hh'));
  }

  zeroState(batch: number): [Tensor, Tensor] {
    return [zeros([batch, this.config.hiddenSize]), zeros([batch, this.config.hiddenSize])];
  }
}
