/**
 * The training loop: seeded epoch plans (shuffle + augmentation decisions) drive native batch
 * assembly; each step is forward, cross-entropy with label smoothing, backward and one fused
 * optimizer update at the scheduled learning rate. The loop yields to the event loop after
 * every step, so an AbortSignal stops it promptly, and reports progress through a callback.
 *
 * A run whose loss becomes NaN/infinite or exceeds `recipe.maxLoss`, or whose weights stop
 * being finite, ends as `{status: 'failed', reason}`: divergence is a result, not an exception.
 */
import type { AugmentationOptions } from '../data/augmentation.js';
import { batchCount, planEpoch } from '../data/batches.js';
import type { Network } from '../model/network.js';
import { allFinite, crossEntropy, tidy, zeroGrad } from '../torch/index.js';
import { GroupedOptimizer, makeSchedule, type TrainRecipe } from './recipe.js';
import type { TensorDataset } from './tensor-data.js';
import { holdPoint } from './hold-point.js';
import { nextTurn } from '../util/next-turn.js';

export interface TrainProgress {
  readonly phase: 'train';
  /** 1-based. */
  readonly epoch: number;
  readonly epochs: number;
  /** 1-based step within the epoch. */
  readonly step: number;
  readonly stepsPerEpoch: number;
  /** Steps done so far over the whole run. */
  readonly globalStep: number;
  readonly totalSteps: number;
  /** Mean training loss of the epoch so far. */
  readonly loss: number;
  /** Learning rate of the step just taken. */
  readonly lr: number;
  /** Training images per second so far (whole run). */
  readonly imagesPerSecond: number;
  readonly elapsedSeconds: number;
}

export interface EpochSummary {
  /** 1-based. */
  readonly epoch: number;
  readonly epochs: number;
  readonly loss: number;
  readonly seconds: number;
  readonly imagesPerSecond: number;
}

export interface LoopOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: TrainProgress) => void;
  /** Called after each epoch; may be async (e.g. to evaluate), awaited before the next epoch. */
  readonly onEpoch?: (e: EpochSummary) => void | Promise<void>;
  /**
   * Called before every step; when it returns a promise the loop waits for it first. A latency
   * measurement on the same machine uses it to hold training off while it runs.
   */
  readonly hold?: () => Promise<void> | undefined;
  /**
   * Milliseconds this process has stood stopped from outside so far (SIGSTOP while a latency
   * measurement runs, reported after the fact): left out of the training time, so that the
   * throughput is the loop's own.
   */
  readonly stoppedMs?: () => number;
  /** Points in the loss curve: each is the mean loss of this many steps (default: about 200 points per run). */
  readonly curveEvery?: number;
}

interface LoopStats {
  readonly lossCurve: number[];
  readonly lossCurveEvery: number;
  readonly epochLoss: number[];
  /** Optimizer steps taken. */
  readonly steps: number;
  /** Training images processed (steps x batch). */
  readonly images: number;
  /** Seconds inside the training loop (batches, forward, backward, updates). */
  readonly trainSeconds: number;
}

export type LoopResult = ({ readonly status: 'done' } & LoopStats) | ({ readonly status: 'failed'; readonly reason: string } & LoopStats);

function formatLoss(loss: number): string {
  return Number.isFinite(loss) ? loss.toPrecision(4) : String(loss);
}

/**
 * Trains `net` in place on the samples of `data` at `indices` for `recipe.epochs` epochs.
 * Batches drop the last incomplete one, so at least `recipe.batchSize` indices are needed.
 * Rejects with the signal's reason when aborted (the network is then half-trained).
 */
export async function trainLoop(
  net: Network,
  data: TensorDataset,
  indices: Int32Array,
  recipe: TrainRecipe,
  augmentation: AugmentationOptions | undefined,
  options: LoopOptions = {},
): Promise<LoopResult> {
  const { batchSize, epochs } = recipe;
  const stepsPerEpoch = batchCount(indices.length, batchSize, true);
  if (stepsPerEpoch === 0) {
    throw new Error(`train: ${indices.length} training images are fewer than one batch of ${batchSize}`);
  }
  const totalSteps = stepsPerEpoch * epochs;
  const schedule = makeSchedule(recipe, stepsPerEpoch);
  const curveEvery = options.curveEvery ?? Math.max(1, Math.ceil(totalSteps / 200));
  const memoryFormat = recipe.channelsLast ? 'channels_last' : 'contiguous';
  const params = net.parameters();
  const optimizer = new GroupedOptimizer(params, recipe);
  const lossCurve: number[] = [];
  const epochLoss: number[] = [];
  let curveSum = 0;
  let curveCount = 0;
  let globalStep = 0;
  let trainMs = 0;
  // a stop is reported once this process runs again, by the turn of the event loop after the step
  // it fell in: each step's time gives back what was reported since the last step, at most itself
  let stoppedSeen = options.stoppedMs?.() ?? 0;
  let lastStepMs = 0;
  const leaveOutStops = (): void => {
    if (!options.stoppedMs) return;
    const stopped = options.stoppedMs();
    const during = Math.min(stopped - stoppedSeen, lastStepMs);
    stoppedSeen = stopped;
    trainMs -= during;
    lastStepMs = 0;
  };
  const stats = (): LoopStats => ({
    lossCurve: curveCount > 0 ? [...lossCurve, curveSum / curveCount] : [...lossCurve],
    lossCurveEvery: curveEvery,
    epochLoss: [...epochLoss],
    steps: globalStep,
    images: globalStep * batchSize,
    trainSeconds: trainMs / 1000,
  });
  const failed = (reason: string): LoopResult => ({ status: 'failed', reason, ...stats() });
  try {
    net.train();
    for (let epoch = 0; epoch < epochs; epoch++) {
      const epochStart = performance.now();
      const plan = planEpoch(indices, epoch, {
        batchSize,
        dropLast: true,
        shuffle: true,
        seed: recipe.seed,
        ...(augmentation ? { augmentation } : {}),
      });
      let epochSum = 0;
      for (let s = 0; s < plan.batches.length; s++) {
        // a turn of the event loop before every step, the first included: a trial starts from a
        // message, and a hold that arrives while its network is built must be seen before step 1
        await holdPoint(options);
        leaveOutStops();
        const t0 = performance.now();
        const batch = plan.batches[s]!;
        const lr = schedule(globalStep);
        const loss = tidy(() => {
          const { x, y } = data.batch(batch.indices, {
            ...(batch.augmentation ? { augmentation: batch.augmentation } : {}),
            memoryFormat,
          });
          const l = crossEntropy(net.forward(x), y, { labelSmoothing: recipe.labelSmoothing });
          const value = l.item();
          if (!(value <= recipe.maxLoss)) return value; // NaN, Infinity or exploding: do not update
          optimizer.zeroGrad();
          l.backward();
          optimizer.step(lr);
          return value;
        });
        if (!(loss <= recipe.maxLoss)) {
          trainMs += performance.now() - t0;
          return failed(`diverged at epoch ${epoch + 1} step ${s + 1}: loss ${formatLoss(loss)}${Number.isFinite(loss) ? ` > ${recipe.maxLoss}` : ''}`);
        }
        globalStep++;
        epochSum += loss;
        curveSum += loss;
        if (++curveCount === curveEvery) {
          lossCurve.push(curveSum / curveCount);
          curveSum = 0;
          curveCount = 0;
        }
        options.onProgress?.({
          phase: 'train',
          epoch: epoch + 1,
          epochs,
          step: s + 1,
          stepsPerEpoch,
          globalStep,
          totalSteps,
          loss: epochSum / (s + 1),
          lr,
          imagesPerSecond: (globalStep * batchSize * 1000) / (trainMs + performance.now() - t0),
          elapsedSeconds: (trainMs + performance.now() - t0) / 1000,
        });
        lastStepMs = performance.now() - t0;
        trainMs += lastStepMs;
      }
      if (options.stoppedMs) {
        await nextTurn(); // a stop in the epoch's last step is reported by now
        leaveOutStops();
      }
      epochLoss.push(epochSum / stepsPerEpoch);
      const bad = firstNonFinite(net);
      if (bad !== undefined) return failed(`diverged at epoch ${epoch + 1}: ${bad} is not finite`);
      const seconds = (performance.now() - epochStart) / 1000;
      await options.onEpoch?.({ epoch: epoch + 1, epochs, loss: epochLoss[epoch]!, seconds, imagesPerSecond: (stepsPerEpoch * batchSize) / seconds });
    }
    return { status: 'done', ...stats() };
  } finally {
    optimizer.dispose();
    zeroGrad(params);
  }
}

/** Name of the first parameter or buffer with a NaN or infinite entry, if any. */
export function firstNonFinite(net: Network): string | undefined {
  for (const [name, t] of net.stateDict()) {
    if (t.dtype === 'float32' && !allFinite(t)) return name;
  }
  return undefined;
}
