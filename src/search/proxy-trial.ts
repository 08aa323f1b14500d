/**
 * Proxy trials of planned architectures: the split and the training images are loaded once (into
 * libtorch) and reused by every trial, in the search process or in a worker process.
 */
import { loadDataset } from '../data/load.js';
import type { DataSplit } from '../data/dataset.js';
import { proxySplit, proxyTrain } from '../train/run.js';
import { TensorDataset } from '../train/tensor-data.js';
import { deferredStepsIdle } from '../train/deferred-steps.js';
import { nextTurn } from '../util/next-turn.js';
import { allocatorStats, setAllocatorCacheLimit, setNumThreads } from '../torch/index.js';
import type { ProxySettings, ProxyTrainer, ProxyTrial, ProxyTrialResult } from './proxy-trainer.js';
import { epochNow, type StopLog } from './workers/stop-log.js';

export class ProxyTrialRunner {
  private readonly pool: TensorDataset;

  private constructor(
    readonly split: DataSplit,
    private readonly settings: ProxySettings,
  ) {
    this.pool = new TensorDataset(split.pool);
  }

  /** Loads the dataset and makes the search's split; sets libtorch's thread count. */
  static load(settings: ProxySettings): ProxyTrialRunner {
    const datasets = loadDataset({
      name: settings.dataset.name,
      ...(settings.dataset.dataDir ? { dataDir: settings.dataset.dataDir } : {}),
      ...(settings.dataset.cacheFile ? { cacheFile: settings.dataset.cacheFile } : {}),
      seed: settings.splitSeed,
    });
    const split = proxySplit(datasets, { subset: settings.images, validationSize: settings.dataset.validationImages, splitSeed: settings.splitSeed });
    setNumThreads(settings.threads);
    return new ProxyTrialRunner(split, settings);
  }

  /**
   * `hold`: the gate of a hold in this process (TrainingHold); `stops`: when this process stood
   * stopped from outside (a worker process, ./workers/trial-worker.ts), counted as held.
   */
  async run(trial: ProxyTrial, options: { signal?: AbortSignal; hold?: () => Promise<void> | undefined; stops?: StopLog } = {}): Promise<ProxyTrialResult> {
    const t0 = performance.now();
    const startedAt = epochNow();
    const s = this.settings;
    let heldMs = 0;
    const gate = options.hold;
    const hold = gate
      ? () => {
          const held = gate();
          if (!held) return undefined;
          const since = performance.now();
          return held.then(() => void (heldMs += performance.now() - since));
        }
      : undefined;
    const r = await proxyTrain(trial.plan, this.split, {
      poolTensors: this.pool,
      epochs: s.epochs,
      recipe: { seed: trial.seed, ...(s.batch !== undefined ? { batchSize: s.batch } : {}), ...(s.lr !== undefined ? { lr: s.lr } : {}) },
      ...(options.signal ? { signal: options.signal } : {}),
      ...(hold ? { hold } : {}),
      ...(options.stops ? { stoppedMs: options.stops.totalMs } : {}),
    });
    if (options.stops) {
      await nextTurn(); // a stop that ended just now is reported by then
      heldMs += options.stops.within(startedAt, epochNow());
    }
    const seconds = (performance.now() - t0) / 1000;
    const heldSeconds = heldMs / 1000;
    // keep about one trial's working set cached for the next trial, not the whole cache limit
    const limit = allocatorStats().limitBytes;
    setAllocatorCacheLimit(Math.min(limit, r.memory.peakTensorBytes));
    setAllocatorCacheLimit(limit);
    if (r.status === 'failed') return { status: 'failed', reason: `proxy training failed: ${r.reason}`, seconds, heldSeconds, memory: r.memory };
    if (r.valAccuracy === undefined || r.valLoss === undefined) return { status: 'failed', reason: 'proxy training returned no validation accuracy', seconds, heldSeconds, memory: r.memory };
    return { status: 'done', valAccuracy: r.valAccuracy, valLoss: r.valLoss, epochLoss: r.epochLoss, trainImagesPerSecond: r.trainImagesPerSecond, seconds, heldSeconds, memory: r.memory };
  }

  /** Frees the training images in libtorch; safe to call twice. */
  dispose(): void {
    this.pool.dispose();
  }
}

/** A gate that training steps pass while open; `holdWhile` closes it for the duration of fn. */
export class TrainingHold {
  private holders = 0;
  private released: Promise<void> | undefined;
  private release: (() => void) | undefined;

  /** What a training loop calls before each step. */
  readonly gate = (): Promise<void> | undefined => this.released;

  /** Closes the gate, waits for awaited work already started (an evaluation's onnxruntime calls, deferred-steps.ts), then runs fn. */
  async holdWhile<T>(fn: () => Promise<T>): Promise<T> {
    // steps resume on a later turn of the event loop: the release may arrive from I/O (the end of
    // a measurement), and a step run straight from it would be followed by the loop's own
    // next step in the same turn, so a new hold would wait for two steps instead of one
    if (this.holders++ === 0) this.released = new Promise<void>((resolve) => (this.release = resolve)).then(nextTurn);
    try {
      await deferredStepsIdle();
      return await fn();
    } finally {
      if (--this.holders === 0) {
        this.release!();
        this.released = undefined;
      }
    }
  }
}

/** Trains in this process, one trial at a time per slot of the caller's executor. */
export class InProcessTrainer implements ProxyTrainer {
  readonly slots = 1;
  private readonly hold = new TrainingHold();

  constructor(private readonly runner: ProxyTrialRunner) {}

  static create(settings: ProxySettings): InProcessTrainer {
    return new InProcessTrainer(ProxyTrialRunner.load(settings));
  }

  train(trial: ProxyTrial, signal?: AbortSignal): Promise<ProxyTrialResult> {
    return this.runner.run(trial, { ...(signal ? { signal } : {}), hold: this.hold.gate });
  }

  holdWhile<T>(fn: () => Promise<T>): Promise<T> {
    return this.hold.holdWhile(fn);
  }

  async close(): Promise<void> {
    this.runner.dispose();
  }
}
