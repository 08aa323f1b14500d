/**
 * BatchNorm recalibration: replaces every BN layer's running statistics with the exact average
 * of batch statistics over some training images (forward passes in training mode, no
 * gradients, no weight change). Short runs (the proxy task: tens of steps) leave running
 * statistics that still carry their initial values and lag behind the weights, and eval-mode
 * accuracy then says little about the architecture; recalibrated statistics match the final
 * weights. PyTorch does the same with momentum=None (cumulative average); here the momentum of
 * batch k is set to 1/(k+1) for the pass and restored afterwards.
 */
import type { Network } from '../model/network.js';
import { BatchNorm2d, noGrad, tidy, type Module } from '../torch/index.js';
import type { TensorDataset } from './tensor-data.js';
import { holdPoint, type HoldPointOptions } from './hold-point.js';

export interface RecalibrationOptions extends HoldPointOptions {
  readonly memoryFormat?: 'contiguous' | 'channels_last';
}

function batchNorms(m: Module, into: BatchNorm2d[] = []): BatchNorm2d[] {
  if (m instanceof BatchNorm2d) into.push(m);
  for (const [, child] of m.children()) batchNorms(child, into);
  return into;
}

/**
 * Recomputes the running statistics of every BN layer of `net` from the samples at `indices`
 * (no augmentation), in batches of `batchSize`. Restores the network's mode and BN momenta.
 * Yields to the event loop before each batch, so a hold or an abort is seen within one batch.
 */
export async function recalibrateBatchNorm(net: Network, data: TensorDataset, indices: Int32Array, batchSize: number, options: RecalibrationOptions = {}): Promise<void> {
  if (indices.length === 0) return;
  const memoryFormat = options.memoryFormat ?? 'contiguous';
  const layers = batchNorms(net);
  const momenta = layers.map((bn) => bn.momentum);
  const wasTraining = net.training;
  const setMomentum = (bn: BatchNorm2d, m: number): void => {
    (bn as { momentum: number }).momentum = m;
  };
  try {
    net.train();
    let k = 0;
    for (let start = 0; start < indices.length; start += batchSize, k++) {
      await holdPoint(options); // the first follows the last training step straight away
      const idx = indices.subarray(start, Math.min(start + batchSize, indices.length));
      if (idx.length < 2 && k > 0) break; // a single sample has no batch variance
      for (const bn of layers) setMomentum(bn, 1 / (k + 1));
      noGrad(() =>
        tidy(() => {
          net.forward(data.batch(idx, { memoryFormat }).x);
        }),
      );
    }
  } finally {
    layers.forEach((bn, i) => setMomentum(bn, momenta[i]!));
    net.train(wasTraining);
  }
}
