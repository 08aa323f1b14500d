/**
 * Accuracy and loss of a network on a set of samples: eval mode, no gradients, in batches; on
 * whichever of onnxruntime and libtorch runs the network faster (evaluate-onnx.ts says why), or
 * on the one asked for.
 */
import { costOfPlan } from '../model/cost.js';
import { WeightsMismatchError } from '../model/export.js';
import type { NetworkPlan } from '../model/plan.js';
import type { Network } from '../model/network.js';
import { modelFeatures } from '../latency/model-features.js';
import { argmax, crossEntropy, eq, noGrad, sum, tidy } from '../torch/index.js';
import { ONNX_EVAL_MAX_BATCH, tallyOnOnnxRuntime } from './evaluate-onnx.js';
import type { TensorDataset } from './tensor-data.js';
import { holdPoint } from './hold-point.js';

export type EvalRuntime = 'auto' | 'onnxruntime' | 'libtorch';
export const EVAL_RUNTIMES: readonly EvalRuntime[] = ['auto', 'onnxruntime', 'libtorch'];

/**
 * Above this share of its MACs in regular (not depthwise, wider than 1x1) convolutions, stem
 * included, a network evaluates faster on libtorch: its oneDNN convolutions beat onnxruntime's
 * there, while onnxruntime runs pointwise, depthwise and SE layers faster. Eight random fmnist
 * architectures (Intel AVX-512 host, 2026-12-05) split cleanly: shares 0.67-0.78 ran x0.71-0.87 as
 * fast on onnxruntime, shares 0.01-0.39 x1.15-1.58.
 */
export const REGULAR_CONV_SHARE_FOR_LIBTORCH = 0.5;

/**
 * Largest batch a libtorch evaluation pass runs. A batch is one synchronous call, and a latency
 * measurement on this machine waits for the call running when it asks to hold training: at 128 a
 * batch of the heaviest fmnist networks takes about 0.12 s on one thread, at 500 (the recipe's) up
 * to a second. Not slower: on 7 random fmnist networks (10,000 images, 1 thread, 2026-12-05)
 * batches of 128 took 35.9 s in all against 36.5 s at the recipe's (the memory budget already
 * lowered most to 148-222).
 */
export const LIBTORCH_EVAL_MAX_BATCH = 128;

/** The runtime 'auto' picks for a plan (a function of the architecture alone, so the same run scores the same). */
export function autoEvalRuntime(plan: NetworkPlan): 'onnxruntime' | 'libtorch' {
  const f = modelFeatures(plan);
  const share = ((f.regular_mmacs + f.stem_mmacs) * 1e6) / costOfPlan(plan).macs;
  return share > REGULAR_CONV_SHARE_FOR_LIBTORCH ? 'libtorch' : 'onnxruntime';
}

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
  /**
   * What runs the forward passes (default: MNAS_EVAL_RUNTIME if set, else 'auto': autoEvalRuntime).
   * Both give the same accuracy up to float rounding; onnxruntime runs batches of at most 16,
   * libtorch of at most 128.
   */
  readonly runtime?: EvalRuntime;
}

/** The runtime evaluate() uses when the options name none. */
export function defaultEvalRuntime(): EvalRuntime {
  const v = process.env.MNAS_EVAL_RUNTIME;
  if (v === undefined || v === '') return 'auto';
  if (!(EVAL_RUNTIMES as readonly string[]).includes(v)) throw new Error(`MNAS_EVAL_RUNTIME must be one of ${EVAL_RUNTIMES.join(', ')}, got '${v}'`);
  return v as EvalRuntime;
}

export interface EvalResult {
  /** Fraction of correct top-1 predictions, in [0, 1]. */
  readonly accuracy: number;
  /** Mean cross-entropy (no label smoothing). */
  readonly loss: number;
  readonly correct: number;
  readonly count: number;
}

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
  const asked = options.runtime ?? defaultEvalRuntime();
  const runtime = asked === 'auto' ? autoEvalRuntime(net.plan) : asked;
  const wasTraining = net.training;
  net.eval();
  try {
    if (runtime === 'onnxruntime') {
      try {
        const t = await tallyOnOnnxRuntime(net, data, all, { ...options, batchSize: Math.min(batchSize, ONNX_EVAL_MAX_BATCH) });
        return { accuracy: t.correct / all.length, loss: t.lossSum / all.length, correct: t.correct, count: all.length };
      } catch (e) {
        if (!(e instanceof WeightsMismatchError)) throw e; // non-finite weights: libtorch scores them as they are
      }
    }
    return await evaluateOnLibtorch(net, data, all, Math.min(batchSize, LIBTORCH_EVAL_MAX_BATCH), options);
  } finally {
    net.train(wasTraining);
  }
}

async function evaluateOnLibtorch(net: Network, data: TensorDataset, all: Int32Array, batchSize: number, options: EvalOptions): Promise<EvalResult> {
  let correct = 0;
  let lossSum = 0;
  for (let start = 0; start < all.length; start += batchSize) {
    await holdPoint(options);
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
  }
  return { accuracy: correct / all.length, loss: lossSum / all.length, correct, count: all.length };
}
