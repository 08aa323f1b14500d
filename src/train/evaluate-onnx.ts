/**
 * Evaluation on onnxruntime: the network exported as it is now (eval mode, BN folded, the same
 * graph `mnas export` writes) and run in one onnxruntime session with libtorch's thread count.
 *
 * Why: a proxy trial scores 10,000 validation images after training 5,000, so the evaluation
 * pass is a third of it or more, and onnxruntime runs networks of pointwise, depthwise and SE
 * layers x1.15-1.6 faster than libtorch 1.13's eval forward (bench/eval-runtime.mjs; evaluate.ts
 * picks per network). Small batches: the session's arena is new per evaluation and its pages
 * fault in once, and a batch's activations stay in cache between layers: per 10,000 images, 500 a
 * batch faulted 60K-180K pages, 64 15K-38K, and 16 0-4K and ran x1.29-1.34 as fast as 64 (three
 * sets of 7 architectures, bench/eval-batch.mjs).
 */
import * as ort from 'onnxruntime-node';
import { exportOnnx, weightsFromNetwork } from '../model/export.js';
import type { Network } from '../model/network.js';
import { getNumThreads, tidy } from '../torch/index.js';
import { deferredStep } from './deferred-steps.js';
import type { TensorDataset } from './tensor-data.js';
import { holdPoint } from './hold-point.js';

/** Largest batch an onnxruntime evaluation pass runs (evaluate() caps its batches to it). */
export const ONNX_EVAL_MAX_BATCH = 16;

export interface OnnxEvalOptions {
  readonly batchSize: number;
  readonly signal?: AbortSignal;
  readonly hold?: () => Promise<void> | undefined;
  readonly onBatch?: (done: number, total: number) => void;
}

export interface Tally {
  correct: number;
  /** Sum of the per-image cross-entropies (natural log), in double. */
  lossSum: number;
}

/** Adds top-1 hits (first index of the maximum, as torch.argmax) and cross-entropy of `logits` [n, classes]. */
export function tallyLogits(logits: Float32Array, labels: Int32Array, classes: number, into: Tally): void {
  const n = labels.length;
  if (logits.length !== n * classes) throw new Error(`tallyLogits: ${logits.length} logits for ${n} labels of ${classes} classes`);
  for (let i = 0; i < n; i++) {
    const row = i * classes;
    let best = 0;
    let max = logits[row]!;
    for (let c = 1; c < classes; c++) {
      const v = logits[row + c]!;
      if (v > max) {
        max = v;
        best = c;
      }
    }
    let sumExp = 0;
    for (let c = 0; c < classes; c++) sumExp += Math.exp(logits[row + c]! - max);
    const label = labels[i]!;
    if (best === label) into.correct++;
    // NaN logits give a NaN loss (and no hit), as the engine's cross-entropy would
    into.lossSum += max + Math.log(sumExp) - logits[row + label]!;
  }
}

/**
 * Hits and summed cross-entropy of `net` on the samples of `data` at `indices`. Throws
 * WeightsMismatchError (before any session exists) if a weight is not finite: the caller then
 * evaluates on libtorch, which scores such a network as it is.
 */
export async function tallyOnOnnxRuntime(net: Network, data: TensorDataset, indices: Int32Array, options: OnnxEvalOptions): Promise<Tally> {
  const batchSize = options.batchSize;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`tallyOnOnnxRuntime: batchSize must be a positive integer, got ${batchSize}`);
  await holdPoint(options); // exporting and optimizing the graph is work too
  const bytes = exportOnnx(net.plan, weightsFromNetwork(net));
  // onnxruntime's calls are awaited, not run in place (deferred-steps.ts): registered, so that a hold waits for them
  const session = await deferredStep(ort.InferenceSession.create(bytes, {
    intraOpNumThreads: getNumThreads(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  }));
  const tally: Tally = { correct: 0, lossSum: 0 };
  const [inputName] = session.inputNames;
  const [outputName] = session.outputNames;
  try {
    for (let start = 0; start < indices.length; start += batchSize) {
      await holdPoint(options);
      const idx = indices.subarray(start, Math.min(start + batchSize, indices.length));
      const { pixels, labels } = tidy(() => {
        const { x, y } = data.batch(idx, { memoryFormat: 'contiguous' });
        return { pixels: x.toFloat32Array(), labels: y.toInt32Array() };
      });
      const input = new ort.Tensor('float32', pixels, [idx.length, data.channels, data.height, data.width]);
      const out = await deferredStep(session.run({ [inputName!]: input }));
      const logits = out[outputName!] as ort.Tensor;
      tallyLogits(logits.data as Float32Array, labels, data.classes, tally);
      logits.dispose();
      options.onBatch?.(start + idx.length, indices.length);
    }
  } finally {
    await deferredStep(session.release());
  }
  return tally;
}
