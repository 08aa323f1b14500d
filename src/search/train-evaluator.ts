/**
 * The real evaluator of `mnas search`: plan the architecture once, get the plan's latency on the
 * target device (a real measurement while no training runs on this machine, or, for ablations,
 * the latency predictor or MACs), then proxy-train the same plan on a subset of the training set
 * and score it on the fixed held-out validation split. Training runs wherever the ProxyTrainer
 * runs it (this process or worker processes).
 *
 * Under a hard latency constraint an architecture whose latency already misses T is not trained:
 * the trial is recorded as skipped, with the reward of an untrained model (chance accuracy). With
 * nothing to skip, training starts at once and the measurement runs in one of its holds: a training
 * process does not stand idle while the trials queued ahead of it are measured.
 *
 * Measured latencies on the target device are corrected for its drift (./drift.ts) when a drift
 * monitor is given; the predicted-then-measured source measures only the candidates its gate lets
 * through, after training (./measure-gate.ts); other devices of the run measure every trained
 * candidate (latency_stats.devices), without drift correction and without a say in the reward.
 * With `interleave`, a trial is measured in turn with the reference model and its latency is the
 * ratio of the two times the reference's latency at the start (no drift correction needed); a trial
 * whose reference ran in a slower speed mode than the run's fast one is measured once more after
 * its training, and the measurement nearer the fast speed is kept (./speed-watch.ts).
 */
import { costOfPlan } from '../model/cost.js';
import { buildPlan, type NetworkPlan } from '../model/plan.js';
import { printArch } from '../space/arch-string.js';
import type { Arch } from '../space/arch.js';
import type { SearchSpace } from '../space/space.js';
import { latencyRow, type TrainedTable } from '../trained/table.js';
import type { LatencyDevice, LatencyModel, LatencyResult, PreparedMeasurement } from '../latency/device.js';
import { prepareMeasure, prepareMeasureAgainst, timeQuietly } from '../latency/prepared.js';
import { planToModel } from '../latency/model.js';
import type { LatencyPredictor } from '../latency/predictor.js';
import { startOffSpeed, type DriftMonitor } from './drift.js';
import { SKIPPED_REASON_PREFIX, type EvalContext, type EvalResult, type Evaluator } from './evaluator.js';
import type { MeasureGate } from './measure-gate.js';
import type { ProxyTrainer, ProxyTrial, ProxyTrialResult } from './proxy-trainer.js';
import { MIN_SEEN, SpeedWatch } from './speed-watch.js';
import type { Dna, Json } from './space-like.js';

export type LatencyOracle =
  | { kind: 'measured'; device: LatencyDevice }
  | { kind: 'predictor'; predictor: LatencyPredictor }
  | { kind: 'macs'; macsPerMs: number }
  /**
   * The trained table's latency of the architecture on `device`; when it has none, the fallback's (a measurement is
   * added to the table). A ratio to `reference` measured interleaved counts as that ratio times the table's latency
   * of the reference.
   */
  | { kind: 'table'; table: TrainedTable; device: string; reference?: string; fallback?: LatencyOracle }
  /** The predictor's latency for every candidate; a measurement on `device` for those the gate lets through once trained. */
  | { kind: 'predicted-then-measured'; predictor: LatencyPredictor; device: LatencyDevice; gate: MeasureGate };

export interface TrainEvaluatorOptions {
  /** Trial k trains with seed `seed + k`. */
  readonly seed: number;
  /** Skip training of architectures slower than this (ms): set under a hard constraint to T. */
  readonly skipAboveMs?: number;
  /** Re-measures the reference architecture and corrects the target device's measurements. */
  readonly drift?: DriftMonitor;
  /** Other devices every trained candidate is measured on too, by kind. */
  readonly otherDevices?: ReadonlyMap<string, LatencyDevice>;
  /**
   * Measure each trial interleaved with the reference model (the one whose latency is T) and take
   * its latency as ratio x the reference's latency at the start of the run (startMs): immune to
   * the machine's speed changes, so no drift correction is applied (../latency/interleaved.ts).
   */
  readonly interleave?: {
    readonly reference: LatencyModel;
    readonly startMs: () => number;
    /** Its arch string: interleaved rows of a trained table are kept against it. */
    readonly referenceArch: string;
    /** How much slower than the run's fast speed the reference may run before a trial is measured again (./speed-watch.ts; default OFF_SPEED_TOLERANCE). */
    readonly offSpeedTolerance?: number;
    /** Told once, after MIN_SEEN measurements, if startMs is off the reference's fast speed in them (./drift.ts startOffSpeed): the start ran in another speed mode. */
    readonly onStartOffSpeed?: (startMs: number, trialsMs: number) => void;
  };
}

export class TrainEvaluator implements Evaluator {
  /** The last latency measurement queued: measurements on this machine run one at a time. */
  private measuring: Promise<unknown> = Promise.resolve();
  /** The reference's time in every interleaved measurement: which ran with the machine in a slower mode. */
  private readonly speed: SpeedWatch;

  constructor(
    private readonly space: SearchSpace,
    private readonly trainer: ProxyTrainer,
    private readonly latency: LatencyOracle,
    private readonly options: TrainEvaluatorOptions,
  ) {
    this.speed = new SpeedWatch(options.interleave?.offSpeedTolerance);
  }

  /** The latency of any architecture (in the space or not, e.g. the model that sets T) from the configured oracle, as a trial's would be found: ms, with its statistics. */
  latencyOfArch(arch: Arch, signal?: AbortSignal): Promise<{ ms: number; stats: Json }> {
    return this.latencyOfPlan(buildPlan(arch), signal);
  }

  /** Runs fn with the machine to itself: after every queued measurement, with training held off. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.measuring.then(() => this.trainer.holdWhile(fn));
    this.measuring = run.catch(() => {});
    return run;
  }

  /**
   * A measurement set up after every queued one and timed with the machine to itself: the set-up
   * (sessions) runs while training comes to a stop (../latency/prepared.ts); `time` runs in the hold.
   */
  private exclusiveTiming<R extends LatencyResult, T>(prepare: () => Promise<PreparedMeasurement<R>>, time: (prepared: PreparedMeasurement<R>) => Promise<T>): Promise<T> {
    const run = this.measuring.then(() => timeQuietly(prepare, (fn, ready) => this.trainer.holdWhile(fn, ready), time));
    this.measuring = run.catch(() => {});
    return run;
  }

  /** With `trialId` (a trial's measurement, not T's), a measurement on the target device is preceded by a due drift check and corrected. */
  private async latencyOfPlan(plan: NetworkPlan, signal?: AbortSignal, l: LatencyOracle = this.latency, trialId?: number): Promise<{ ms: number; stats: Json }> {
    if (l.kind === 'table') {
      const arch = printArch(plan.arch);
      // measuring interleaved, a trial's latency is its ratio to the reference: a table row measured on its own, at another
      // time and machine speed, is not used; a ratio to the same reference is (times this run's reference latency)
      const interleave = trialId !== undefined && l.fallback?.kind === 'measured' ? this.options.interleave : undefined;
      if (interleave) return this.tableRatio(l.table, l.device, l.fallback as LatencyOracle & { kind: 'measured' }, arch, plan, interleave, signal);
      const paired = l.reference !== undefined ? l.table.latency(arch, l.device, l.reference) : undefined;
      const referenceRow = l.reference !== undefined ? l.table.latency(l.reference, l.device) : undefined;
      if (paired?.ratio !== undefined && referenceRow) {
        return { ms: paired.ratio * referenceRow.ms, stats: { source: 'table', device: l.device, interleaved: true, ratio: paired.ratio, reference_ms: referenceRow.ms } };
      }
      const row = l.table.latency(arch, l.device);
      if (row) return { ms: row.ms, stats: { source: 'table', device: l.device, ...((row.stats ?? {}) as { [k: string]: Json }) } };
      if (!l.fallback) throw new Error(`no ${l.device} latency of this architecture in the trained table ${l.table.file ?? ''} (missing: 'fail')`);
      const r = await this.latencyOfPlan(plan, signal, l.fallback, trialId);
      if (l.fallback.kind === 'measured') {
        l.table.add(latencyRow(arch, l.device, r.ms, r.stats as { [k: string]: unknown }));
      }
      return r;
    }
    if (l.kind === 'measured' || l.kind === 'predicted-then-measured') {
      const interleave = trialId !== undefined && l.kind === 'measured' ? this.options.interleave : undefined;
      if (interleave) return this.measureInterleaved(l.device, plan, interleave, signal);
      const drift = trialId !== undefined ? this.options.drift : undefined;
      // never measured while this machine trains (the trainer holds its steps off) or measures something else
      const [r, correction] = await this.exclusiveTiming(
        () => prepareMeasure(l.device, planToModel(plan, 'trial'), undefined, signal),
        async (prepared) => {
          const c = drift ? await drift.beforeMeasurement(trialId!, signal) : { ratio: 1 };
          return [await prepared.time(signal), c] as const;
        },
      );
      if (correction.ratio === 1) return { ms: r.latency_ms, stats: r as unknown as Json };
      return { ms: r.latency_ms / correction.ratio, stats: { ...(r as unknown as { [k: string]: Json }), raw_ms: r.latency_ms, drift_ratio: correction.ratio, drift_check: correction.check ?? null } };
    }
    if (l.kind === 'predictor') {
      const ms = l.predictor.predict(plan);
      return { ms, stats: { source: 'predictor', predicted_ms: ms } };
    }
    const macs = costOfPlan(plan).macs;
    return { ms: macs / l.macsPerMs, stats: { source: 'macs', macs, macs_per_ms: l.macsPerMs } };
  }

  private async tableRatio(table: TrainedTable, device: string, measured: LatencyOracle & { kind: 'measured' }, arch: string, plan: NetworkPlan, o: NonNullable<TrainEvaluatorOptions['interleave']>, signal?: AbortSignal): Promise<{ ms: number; stats: Json }> {
    const row = table.latency(arch, device, o.referenceArch);
    if (row?.ratio !== undefined) return { ms: row.ratio * o.startMs(), stats: { source: 'table', device, interleaved: true, ratio: row.ratio } };
    const r = await this.measureInterleaved(measured.device, plan, o, signal);
    table.add(latencyRow(arch, device, r.rawMs, r.stats, { reference: o.referenceArch, ratio: r.ratio }));
    return r;
  }

  /** LAT = the ratio to the reference x the reference's latency at the start; also the ratio and the model's own latency. */
  private async measureInterleaved(device: LatencyDevice, plan: NetworkPlan, o: NonNullable<TrainEvaluatorOptions['interleave']>, signal?: AbortSignal): Promise<{ ms: number; stats: { [k: string]: Json }; ratio: number; rawMs: number }> {
    if (!device.measureAgainst) throw new Error('the latency device cannot measure interleaved with a reference');
    const r = await this.exclusiveTiming(
      () => prepareMeasureAgainst(device, planToModel(plan, 'trial'), o.reference, undefined, signal),
      (prepared) => prepared.time(signal),
    );
    this.speed.record(r.reference_ms);
    if (this.speed.count === MIN_SEEN && o.onStartOffSpeed) {
      const trialsMs = this.speed.fastMs()!;
      if (startOffSpeed(o.startMs(), trialsMs) !== undefined) o.onStartOffSpeed(o.startMs(), trialsMs);
    }
    return { ms: r.ratio * o.startMs(), stats: { ...(r as unknown as { [k: string]: Json }), interleaved: true, raw_ms: r.latency_ms }, ratio: r.ratio, rawMs: r.latency_ms };
  }

  /**
   * A trial measured interleaved on the target device while the machine ran in a slower mode than
   * the run's fast one (./speed-watch.ts) is measured once more; the measurement whose reference ran
   * faster is kept, with the other's in `speed_retry`. Any other latency is returned as it is.
   */
  private async retryOffSpeed(plan: NetworkPlan, latency: { ms: number; stats: Json }, signal: AbortSignal, trialId: number): Promise<{ ms: number; stats: Json }> {
    if (!this.options.interleave || this.latency.kind !== 'measured') return latency;
    const first = latency.stats as { interleaved?: unknown; reference_ms?: unknown; speed_retry?: unknown };
    if (first.interleaved !== true || typeof first.reference_ms !== 'number' || first.speed_retry !== undefined) return latency;
    if (!this.speed.isOffSpeed(first.reference_ms)) return latency;
    const fastMs = this.speed.fastMs()!;
    const firstSlowdown = this.speed.slowdown(first.reference_ms)!;
    const again = await this.latencyOfPlan(plan, signal, this.latency, trialId);
    const second = again.stats as { reference_ms: number; ratio: number };
    const keepSecond = second.reference_ms < first.reference_ms;
    const [kept, other] = keepSecond ? [again, latency] : [latency, again];
    const o = other.stats as { reference_ms: number; ratio: number };
    return {
      ms: kept.ms,
      stats: {
        ...(kept.stats as { [k: string]: Json }),
        speed_retry: { fast_reference_ms: fastMs, first_slowdown: firstSlowdown, kept: keepSecond ? 'second' : 'first', other_ms: other.ms, other_ratio: o.ratio, other_reference_ms: o.reference_ms },
      },
    };
  }

  /**
   * The trial's latency and its training, started together: the measurement runs in a hold of the
   * training. Either failing aborts the other, so nothing of the trial runs on after it fails.
   */
  private async measureWhileTraining(trial: ProxyTrial, signal: AbortSignal): Promise<{ latency: { ms: number; stats: Json }; latencyMs: number; trained: ProxyTrialResult; trainMs: number }> {
    const failed = new AbortController();
    const both = AbortSignal.any([signal, failed.signal]);
    const t0 = performance.now();
    const timed = <T>(p: Promise<T>) => p.then((value) => ({ value, ms: performance.now() - t0 }));
    const measuring = timed(this.latencyOfPlan(trial.plan, both, this.latency, trial.trialId));
    const training = timed(this.trainer.train(trial, both));
    for (const side of [measuring, training]) side.catch(() => failed.abort());
    const [latency, trained] = await Promise.allSettled([measuring, training]);
    if (latency.status === 'rejected') throw latency.reason;
    if (trained.status === 'rejected') throw trained.reason;
    return { latency: latency.value.value, latencyMs: latency.value.ms, trained: trained.value.value, trainMs: trained.value.ms };
  }

  /** Plans the architecture once: the latency oracle and the trainer get this plan. */
  async evaluate(dna: Dna, signal: AbortSignal, context: EvalContext): Promise<EvalResult> {
    const plan = buildPlan(this.space.decode(dna));
    const cost = costOfPlan(plan);
    const t0 = performance.now();
    const l = this.latency;
    const gated = l.kind === 'predicted-then-measured' ? { predictedMs: l.predictor.predict(plan), gate: l.gate } : undefined;
    const skipAbove = this.options.skipAboveMs;
    const trial: ProxyTrial = { plan, seed: this.options.seed + context.trialId, trialId: context.trialId };
    let latency: { ms: number; stats: Json };
    let latencyMs: number;
    let trained: ProxyTrialResult | undefined;
    let trainMs = 0;
    if (gated) {
      latency = { ms: gated.predictedMs, stats: { source: 'predictor', measured: false, predicted_ms: gated.predictedMs, margin: gated.gate.margin } as Json };
      latencyMs = performance.now() - t0;
    } else if (skipAbove === undefined) {
      ({ latency, latencyMs, trained, trainMs } = await this.measureWhileTraining(trial, signal));
    } else {
      latency = await this.latencyOfPlan(plan, signal, l, context.trialId);
      latencyMs = performance.now() - t0;
    }
    signal.throwIfAborted();
    if (skipAbove !== undefined && latency.ms > skipAbove && !gated) {
      // a skip is final: decided on a measurement in the machine's fast mode where there is one
      const t = performance.now();
      latency = await this.retryOffSpeed(plan, latency, signal, context.trialId);
      latencyMs += performance.now() - t;
    }
    // a predicted latency misses T for sure only if it misses it even at the predictor's best case
    const surelyMs = gated ? latency.ms * (1 - gated.gate.margin) : latency.ms;
    if (skipAbove !== undefined && surelyMs > skipAbove) {
      return {
        status: 'skipped',
        reason: `${SKIPPED_REASON_PREFIX}latency ${latency.ms.toFixed(4)} ms misses the hard target ${skipAbove.toFixed(4)} ms`,
        latencyMs: latency.ms,
        latencyStats: latency.stats,
        assumedAccuracy: 1 / plan.classes,
        timings: { latency_ms: latencyMs },
      };
    }
    if (!trained) {
      const t1 = performance.now();
      trained = await this.trainer.train(trial, signal);
      trainMs = performance.now() - t1;
    }
    const memory: Json = trained.memory
      ? {
          peak_rss_bytes: trained.memory.peakRssBytes,
          minor_faults: trained.memory.minorFaults,
          system_s: trained.memory.systemSeconds,
          cpu_s: trained.memory.cpuSeconds,
          peak_tensor_bytes: trained.memory.peakTensorBytes,
          cache_hit_rate: trained.memory.cacheHitRate,
        }
      : null;
    const where: { [k: string]: Json } = {
      ...(trained.worker !== undefined ? { worker: trained.worker } : {}),
      ...(trained.attempts !== undefined ? { attempts: trained.attempts } : {}),
    };
    if (trained.status === 'failed') return { status: 'failed', reason: trained.reason };
    // by now the other trials measured meanwhile tell the run's fast speed, and a slow mode has usually passed
    const t4 = performance.now();
    latency = await this.retryOffSpeed(plan, latency, signal, context.trialId);
    latencyMs += performance.now() - t4;
    if (gated) {
      const decision = gated.gate.decide(trained.valAccuracy, gated.predictedMs);
      if (decision.measure) {
        const t2 = performance.now();
        const measured = await this.latencyOfPlan(plan, signal, l, context.trialId);
        latencyMs += performance.now() - t2;
        gated.gate.record(trained.valAccuracy, measured.ms);
        latency = { ms: measured.ms, stats: { ...(measured.stats as { [k: string]: Json }), measured: true, predicted_ms: gated.predictedMs, margin: gated.gate.margin, decision: decision.why } };
      } else {
        latency = { ms: latency.ms, stats: { ...(latency.stats as { [k: string]: Json }), decision: decision.why } };
      }
    }
    const t3 = performance.now();
    const devices = await this.measureOtherDevices(plan, signal);
    const devicesMs = performance.now() - t3;
    if (devices) latency = { ms: latency.ms, stats: { ...(latency.stats as { [k: string]: Json }), devices } };
    return {
      status: 'done',
      accuracy: trained.valAccuracy,
      latencyMs: latency.ms,
      latencyStats: latency.stats,
      macs: cost.macs,
      params: cost.params,
      timings: { latency_ms: latencyMs, train_ms: trainMs, trial_s: trained.seconds, ...(trained.heldSeconds !== undefined ? { held_s: trained.heldSeconds } : {}), ...(devices ? { devices_ms: devicesMs } : {}) },
      extra: {
        val_loss: trained.valLoss,
        train_img_s: trained.trainImagesPerSecond,
        epoch_loss: [...trained.epochLoss],
        memory,
        ...where,
      },
    };
  }

  /** The candidate's latency on every other device of the run: {kind: {ms, statistics}}; undefined without other devices. */
  private async measureOtherDevices(plan: NetworkPlan, signal: AbortSignal): Promise<Json | undefined> {
    const others = this.options.otherDevices;
    if (!others || others.size === 0) return undefined;
    const out: { [kind: string]: Json } = {};
    for (const [kind, device] of others) {
      const r = await this.exclusiveTiming(
        () => prepareMeasure(device, planToModel(plan, 'trial'), undefined, signal),
        (prepared) => prepared.time(signal),
      );
      out[kind] = { ms: r.latency_ms, quantile: r.quantile, median_ms: r.median_ms, p10_ms: r.p10_ms, p90_ms: r.p90_ms, cv: r.cv, runs: r.runs, converged: r.converged, seconds: r.seconds, device: r.device.id };
    }
    return out;
  }
}
