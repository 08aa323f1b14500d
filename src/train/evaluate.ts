/** Accuracy and loss of a network on a set of samples: eval mode, no gradients, in batches. */
import type { Network } from '../model/network.js';
import { argmax, crossEntropy, eq, noGrad, sum, tidy } from '../torch/index.js';
import type { TensorDataset } from './tensor-data.js';

export interface EvalOptions {
  /** Default 500. */
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
  /** Pass the same layout the network was trained with (default 'contiguous'). */
  readonly memoryFormat?: 'contiguous' | 'channels_last';
  /** Called before every batch; when it returns a promise, evaluation waits for it (see LoopOptions.hold). */
  readonly hold?: () => Promise<void> | undefined;
  /** Called after each batch with (images done, total). */
  readonly onBatch?: (done: number, total: number) => void;
}

export interface EvalResult {
  /** Fraction of correct top-1 predictions, in [0, 1]. */
  readonly accuracy: number;
  /** Mean cross-entropy (no label smoothing). */
  readonly loss: number;
  readonly correct: number;
  readonly count: number;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Evaluates `net` on the samples of `data` at `indices` (all samples if omitted), without
 * augmentation. The network is put in eval mode and restored to its previous mode afterwards.
 * Yields to the event loop between batches so an AbortSignal can stop it (rejects with the
 * signal's reason).
 */
export async function evaluate(net: Network, data: TensorDataset, indices?: Int32Array, options: EvalOptions = {}): Promise<EvalResult> {
  const all = indices ?? Int32Array.from({ length: data.count }, (_, i) => i);
  const batchSize = options.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`evaluate: batchSize must be a positive integer, got ${batchSize}`);
  if (all.length === 0) throw new Error(`evaluate: no samples to evaluate on ${data.name}`);
  const wasTraining = net.training;
  net.eval();
  let correct = 0;
  let lossSum = 0;
  try {
    for (let start = 0; start < all.length; start += batchSize) {
      const held = options.hold?.();
      if (held) await held;
      options.signal?.throwIfAborted();
      const idx = all.subarray(start, Math.min(start + batchSize, all.length));
      const [c, l] = noGrad(() =>
        tidy(() => {
          const { x, y } = data.batch(idx, { memoryFormat: options.memoryFormat ?? 'contiguous' });
          const logits = net.forward(x);
          const hits = sum(eq(argmax(logits, 1), y)).item();
          const loss = crossEntropy(logits, y, { reduction: 'sum' }).item();
          return [hits, loss] as const;
        }),
      );
      correct += c;
      lossSum += l;
      options.onBatch?.(start + idx.length, all.length);
      await nextTurn();
    }
  } finally {
    net.train(wasTraining);
  }
  return { accuracy: correct / all.length, loss: lossSum / all.length, correct, count: all.length };
}
