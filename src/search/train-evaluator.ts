/**
 * The real evaluator of `mnas search`: proxy-train the architecture on a subset of the training
 * set and score it on the fixed held-out validation split, then get its latency from the target
 * device (a real measurement of its ONNX export), or, for ablations, from the latency predictor
 * or from MACs. The training images stay in libtorch for the whole search.
 */
import { loadDataset, type DatasetName } from '../data/load.js';
import type { DataSplit } from '../data/dataset.js';
import { costOfPlan } from '../model/cost.js';
import { buildPlan, type NetworkPlan } from '../model/plan.js';
import type { SearchSpace } from '../space/space.js';
import type { LatencyDevice } from '../latency/device.js';
import { planToModel } from '../latency/model.js';
import type { LatencyPredictor } from '../latency/predictor.js';
import { proxySplit, proxyTrain } from '../train/run.js';
import { TensorDataset } from '../train/tensor-data.js';
import type { SearchConfig } from './config.js';
import type { EvalContext, EvalResult, Evaluator } from './evaluator.js';
import type { Dna, Json } from './space-like.js';

export type LatencyOracle =
  | { kind: 'measured'; device: LatencyDevice }
  | { kind: 'predictor'; predictor: LatencyPredictor }
  | { kind: 'macs'; macsPerMs: number };

export class TrainEvaluator implements Evaluator {
  private readonly pool: TensorDataset;

  constructor(
    private readonly space: SearchSpace,
    readonly split: DataSplit,
    private readonly config: SearchConfig,
    private readonly latency: LatencyOracle,
  ) {
    this.pool = new TensorDataset(split.pool);
  }

  static async create(space: SearchSpace, config: SearchConfig, latency: LatencyOracle): Promise<TrainEvaluator> {
    const datasets = loadDataset({
      name: config.dataset.name as DatasetName,
      ...(config.dataset.dataDir ? { dataDir: config.dataset.dataDir } : {}),
      seed: config.seed,
    });
    const split = proxySplit(datasets, { subset: config.proxy.images, validationSize: config.dataset.validationImages, splitSeed: config.seed });
    return new TrainEvaluator(space, split, config, latency);
  }

  /** Latency of an architecture from the configured oracle, ms, with its statistics. */
  latencyOf(dna: Dna, signal?: AbortSignal): Promise<{ ms: number; stats: Json }> {
    return this.latencyOfPlan(buildPlan(this.space.decode(dna)), signal);
  }

  private async latencyOfPlan(plan: NetworkPlan, signal?: AbortSignal): Promise<{ ms: number; stats: Json }> {
    const l = this.latency;
    if (l.kind === 'measured') {
      const r = await l.device.measure(planToModel(plan, 'trial'), undefined, signal);
      return { ms: r.median_ms, stats: r as unknown as Json };
    }
    if (l.kind === 'predictor') {
      const ms = l.predictor.predict(plan);
      return { ms, stats: { source: 'predictor', predicted_ms: ms } };
    }
    const macs = costOfPlan(plan).macs;
    return { ms: macs / l.macsPerMs, stats: { source: 'macs', macs, macs_per_ms: l.macsPerMs } };
  }

  async evaluate(dna: Dna, signal: AbortSignal, context: EvalContext): Promise<EvalResult> {
    const arch = this.space.decode(dna);
    const plan = buildPlan(arch);
    const cost = costOfPlan(plan);
    const t0 = performance.now();
    const trained = await proxyTrain(arch, this.split, {
      signal,
      poolTensors: this.pool,
      threads: this.config.proxy.threads,
      epochs: this.config.proxy.epochs,
      recipe: {
        seed: this.config.seed + context.trialId,
        ...(this.config.proxy.batch !== undefined ? { batchSize: this.config.proxy.batch } : {}),
        ...(this.config.proxy.lr !== undefined ? { lr: this.config.proxy.lr } : {}),
      },
    });
    const trainMs = performance.now() - t0;
    if (trained.status === 'failed') return { status: 'failed', reason: `proxy training failed: ${trained.reason}` };
    if (trained.valAccuracy === undefined) return { status: 'failed', reason: 'proxy training returned no validation accuracy' };
    signal.throwIfAborted();
    const t1 = performance.now();
    const latency = await this.latencyOfPlan(plan, signal);
    return {
      status: 'done',
      accuracy: trained.valAccuracy,
      latencyMs: latency.ms,
      latencyStats: latency.stats,
      macs: cost.macs,
      params: cost.params,
      timings: { train_ms: trainMs, latency_ms: performance.now() - t1 },
      extra: {
        val_loss: trained.valLoss ?? null,
        train_img_s: trained.trainImagesPerSecond,
        epoch_loss: [...trained.epochLoss],
      },
    };
  }

  dispose(): void {
    this.pool.dispose();
  }
}
