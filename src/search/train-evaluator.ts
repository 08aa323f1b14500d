/**
 * The real evaluator of `mnas search`: plan the architecture once, get the plan's latency on the
 * target device (a real measurement while no training runs on this machine, or, for ablations,
 * the latency predictor or MACs), then proxy-train the same plan on a subset of the training set
 * and score it on the fixed held-out validation split. Training runs wherever the ProxyTrainer
 * runs it (this process or worker processes).
 *
 * Under a hard latency constraint an architecture whose latency already misses T is not trained:
 * the trial is recorded as skipped, with the reward of an untrained model (chance accuracy).
 */
import { costOfPlan } from '../model/cost.js';
import { buildPlan, type NetworkPlan } from '../model/plan.js';
import { printArch } from '../space/arch-string.js';
import type { SearchSpace } from '../space/space.js';
import { latencyRow, type TrainedTable } from '../trained/table.js';
import type { LatencyDevice } from '../latency/device.js';
import { planToModel } from '../latency/model.js';
import type { LatencyPredictor } from '../latency/predictor.js';
import type { EvalContext, EvalResult, Evaluator } from './evaluator.js';
import type { ProxyTrainer } from './proxy-trainer.js';
import type { Dna, Json } from './space-like.js';

export type LatencyOracle =
  | { kind: 'measured'; device: LatencyDevice }
  | { kind: 'predictor'; predictor: LatencyPredictor }
  | { kind: 'macs'; macsPerMs: number }
  /** The trained table's latency of the architecture on `device`; when it has none, the fallback's (a measurement is added to the table). */
  | { kind: 'table'; table: TrainedTable; device: string; fallback?: LatencyOracle };

export interface TrainEvaluatorOptions {
  /** Trial k trains with seed `seed + k`. */
  readonly seed: number;
  /** Skip training of architectures slower than this (ms): set under a hard constraint to T. */
  readonly skipAboveMs?: number;
}

export class TrainEvaluator implements Evaluator {
  /** The last latency measurement queued: measurements on this machine run one at a time. */
  private measuring: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly space: SearchSpace,
    private readonly trainer: ProxyTrainer,
    private readonly latency: LatencyOracle,
    private readonly options: TrainEvaluatorOptions,
  ) {}

  /** Latency of an architecture from the configured oracle, ms, with its statistics. */
  latencyOf(dna: Dna, signal?: AbortSignal): Promise<{ ms: number; stats: Json }> {
    return this.latencyOfPlan(buildPlan(this.space.decode(dna)), signal);
  }

  private async latencyOfPlan(plan: NetworkPlan, signal?: AbortSignal, l: LatencyOracle = this.latency): Promise<{ ms: number; stats: Json }> {
    if (l.kind === 'table') {
      const arch = printArch(plan.arch);
      const row = l.table.latency(arch, l.device);
      if (row) return { ms: row.ms, stats: { source: 'table', device: l.device, ...((row.stats ?? {}) as { [k: string]: Json }) } };
      if (!l.fallback) throw new Error(`no ${l.device} latency of this architecture in the trained table ${l.table.file ?? ''} (missing: 'fail')`);
      const r = await this.latencyOfPlan(plan, signal, l.fallback);
      if (l.fallback.kind === 'measured') {
        l.table.add(latencyRow(arch, l.device, r.ms, r.stats as { [k: string]: unknown }));
      }
      return r;
    }
    if (l.kind === 'measured') {
      // never measured while this machine trains (the trainer holds its steps off) or measures something else
      const measured = this.measuring.then(() => this.trainer.holdWhile(() => l.device.measure(planToModel(plan, 'trial'), undefined, signal)));
      this.measuring = measured.catch(() => {});
      const r = await measured;
      return { ms: r.median_ms, stats: r as unknown as Json };
    }
    if (l.kind === 'predictor') {
      const ms = l.predictor.predict(plan);
      return { ms, stats: { source: 'predictor', predicted_ms: ms } };
    }
    const macs = costOfPlan(plan).macs;
    return { ms: macs / l.macsPerMs, stats: { source: 'macs', macs, macs_per_ms: l.macsPerMs } };
  }

  /** Plans the architecture once: the latency oracle and the trainer get this plan. */
  async evaluate(dna: Dna, signal: AbortSignal, context: EvalContext): Promise<EvalResult> {
    const plan = buildPlan(this.space.decode(dna));
    const cost = costOfPlan(plan);
    const t0 = performance.now();
    const latency = await this.latencyOfPlan(plan, signal);
    const latencyMs = performance.now() - t0;
    signal.throwIfAborted();
    const skipAbove = this.options.skipAboveMs;
    if (skipAbove !== undefined && latency.ms > skipAbove) {
      return {
        status: 'skipped',
        reason: `not trained: latency ${latency.ms.toFixed(4)} ms misses the hard target ${skipAbove.toFixed(4)} ms`,
        latencyMs: latency.ms,
        latencyStats: latency.stats,
        assumedAccuracy: 1 / plan.classes,
        timings: { latency_ms: latencyMs },
      };
    }
    const t1 = performance.now();
    const trained = await this.trainer.train({ plan, seed: this.options.seed + context.trialId, trialId: context.trialId }, signal);
    const trainMs = performance.now() - t1;
    const memory: Json = trained.memory
      ? {
          peak_rss_bytes: trained.memory.peakRssBytes,
          minor_faults: trained.memory.minorFaults,
          system_s: trained.memory.systemSeconds,
          peak_tensor_bytes: trained.memory.peakTensorBytes,
          cache_hit_rate: trained.memory.cacheHitRate,
        }
      : null;
    const where: { [k: string]: Json } = {
      ...(trained.worker !== undefined ? { worker: trained.worker } : {}),
      ...(trained.attempts !== undefined ? { attempts: trained.attempts } : {}),
    };
    if (trained.status === 'failed') return { status: 'failed', reason: trained.reason };
    return {
      status: 'done',
      accuracy: trained.valAccuracy,
      latencyMs: latency.ms,
      latencyStats: latency.stats,
      macs: cost.macs,
      params: cost.params,
      timings: { latency_ms: latencyMs, train_ms: trainMs, trial_s: trained.seconds },
      extra: {
        val_loss: trained.valLoss,
        train_img_s: trained.trainImagesPerSecond,
        epoch_loss: [...trained.epochLoss],
        memory,
        ...where,
      },
    };
  }
}
