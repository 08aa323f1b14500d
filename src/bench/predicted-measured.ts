/**
 * `mnas bench predicted-measured`: what the predicted-then-measured latency source saves and
 * costs. For each seed the same search runs twice, with every latency measured and with
 * predicted-then-measured, on the same accuracies: the trained table's proxy accuracies where it
 * holds the architecture (results/fashion-mnist/trained.jsonl), the synthetic evaluator's closed
 * form where it does not, so nothing is trained and the two runs differ only in their latencies.
 * Reported per seed and overall: the share of candidates measured, the device time of each run
 * (the protocol's timed seconds, and the wall time of the measurements with model export), and
 * how the final Pareto fronts differ (symmetric difference of their architectures).
 *
 * The strategy sees the rewards of the latencies it was given, so with a predictor that errs the
 * two runs may propose different architectures after the first unmeasured one: the difference of
 * the fronts is the whole effect of the source on the search, not only on the front's bookkeeping.
 * The two runs measure separately, so measurement noise alone can move a front member too (two
 * runs that both measure everything differ that way as well).
 */
import { readFileSync } from 'node:fs';
import type { LatencyDevice } from '../latency/device.js';
import { planToModel } from '../latency/model.js';
import { buildPlan } from '../model/plan.js';
import { LatencyPredictor } from '../latency/predictor.js';
import type { LatencyTable } from '../latency/table.js';
import { parseSearchConfig } from '../search/config.js';
import { runSearch } from '../search/loop.js';
import { marginOfTable, MeasureGate } from '../search/measure-gate.js';
import { MemoryStore } from '../search/memory-store.js';
import { summarize } from '../search/outputs.js';
import type { ProxyTrainer, ProxyTrial, ProxyTrialResult } from '../search/proxy-trainer.js';
import { rewardConfig } from '../search/reward.js';
import { resolveSearchConfig } from '../search/run-config.js';
import type { TrialRecord } from '../search/run-store.js';
import { syntheticProblemForSpace } from '../search/synthetic-space.js';
import { TrainEvaluator, type LatencyOracle } from '../search/train-evaluator.js';
import { printArch } from '../space/arch-string.js';
import type { SearchSpace } from '../space/space.js';
import { parseTableText, TrainedTable, type TrainSetting } from '../trained/table.js';

export interface PredictedMeasuredOptions {
  /** The trained table (read only; nothing is added to it). */
  readonly trainedTable: string;
  readonly latencyTable: LatencyTable;
  /** The target device, open. */
  readonly device: LatencyDevice;
  readonly space?: string;
  readonly strategy?: string;
  readonly budget: number;
  readonly seeds: readonly number[];
  /** The predictor's error allowed for; default: the latency table's calibration (measure-gate.ts). */
  readonly margin?: number;
  /** Top-k by reward a candidate may enter to be measured (default 1, the search's final.topK default). */
  readonly topK?: number;
  /** The proxy setting looked up in the trained table (default: the search's proxy images). */
  readonly images?: number;
  readonly signal?: AbortSignal;
  readonly onRun?: (e: { seed: number; mode: Mode; done: number; budget: number }) => void;
}

export type Mode = 'measured' | 'predicted-then-measured';

export interface RunFigures {
  readonly trials: number;
  /** Done trials whose latency was measured. */
  readonly measured: number;
  /** Seconds of timed runs on the device (the protocol's), summed over the measurements. */
  readonly device_seconds: number;
  /** Wall seconds of the latency phase of the trials (model export and measurement). */
  readonly measure_wall_seconds: number;
  readonly front: string[];
  readonly best_reward: number | null;
}

export interface SeedFigures {
  readonly seed: number;
  readonly measured: RunFigures;
  readonly predicted_then_measured: RunFigures;
  readonly share_measured: number;
  readonly device_seconds_saved: number;
  /** Architectures on exactly one of the two fronts. */
  readonly front_symmetric_difference: number;
  /** |intersection| / |union| of the two fronts' architectures (1: the same front). */
  readonly front_jaccard: number;
}

export interface PredictedMeasuredReport {
  readonly space: string;
  readonly strategy: string;
  readonly budget: number;
  readonly margin: number;
  readonly top_k: number;
  readonly device: string;
  readonly accuracies: { table: number; synthetic: number };
  /** T of every run: the latency of the space's default architecture, measured once. */
  readonly target_ms: number;
  readonly seeds: SeedFigures[];
  readonly mean_share_measured: number;
  readonly mean_device_seconds_saved_fraction: number;
  /** Seeds whose two fronts differ, and the mean symmetric difference. */
  readonly fronts_differ: number;
  readonly mean_front_symmetric_difference: number;
}

/** Proxy accuracies from the trained table, else from the synthetic closed form of the space: nothing is trained. */
class TableOrSyntheticAccuracy implements ProxyTrainer {
  readonly slots = 1;
  fromTable = 0;
  synthetic = 0;
  private readonly problem;

  constructor(
    private readonly table: TrainedTable,
    private readonly setting: TrainSetting,
    private readonly space: SearchSpace,
  ) {
    this.problem = syntheticProblemForSpace(space, { seed: setting.splitSeed });
  }

  async train(trial: ProxyTrial): Promise<ProxyTrialResult> {
    const rows = this.table.seedsOf(printArch(trial.plan.arch), this.setting);
    const row = rows.length > 0 ? rows[trial.seed % rows.length]! : undefined;
    let accuracy: number;
    if (row && row.status === 'done' && row.valAccuracy !== null) {
      this.fromTable++;
      accuracy = row.valAccuracy;
    } else {
      this.synthetic++;
      accuracy = this.problem.accuracy(this.space.encode(trial.plan.arch));
    }
    return { status: 'done', valAccuracy: accuracy, valLoss: Number.NaN, epochLoss: [], trainImagesPerSecond: 0, seconds: 0 };
  }

  holdWhile<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  async close(): Promise<void> {}
}

export async function runPredictedMeasuredBench(o: PredictedMeasuredOptions): Promise<PredictedMeasuredReport> {
  const table = new TrainedTable(undefined, parseTableText(readFileSync(o.trainedTable, 'utf8'), o.trainedTable));
  const margin = o.margin ?? marginOfTable(o.latencyTable.calibration);
  const topK = o.topK ?? 1;
  const predictor = new LatencyPredictor(o.latencyTable);
  const counts = { table: 0, synthetic: 0 };
  const seeds: SeedFigures[] = [];
  let space = '';
  let targetMs: number | undefined;
  for (const seed of o.seeds) {
    const run = async (mode: Mode): Promise<RunFigures> => {
      const config = parseSearchConfig({ space: o.space ?? 'fmnist', strategy: { kind: o.strategy ?? 'ppo' }, budget: o.budget, seed }, 'bench predicted-measured');
      const resolved = resolveSearchConfig(config);
      space = resolved.space.name;
      const setting: TrainSetting = { dataset: config.dataset.name, task: 'proxy', images: o.images ?? config.proxy.images, epochs: config.proxy.epochs, validation: config.dataset.validationImages, splitSeed: config.splitSeed };
      const trainer = new TableOrSyntheticAccuracy(table, setting, resolved.space);
      // one T for every run: measured once, so the two runs of a seed reward alike
      targetMs ??= (await o.device.measure(planToModel(buildPlan(resolved.space.decode(resolved.space.defaultDna())), 'default'))).latency_ms;
      const reward = rewardConfig(config.reward.preset, targetMs);
      const oracle: LatencyOracle = mode === 'measured' ? { kind: 'measured', device: o.device } : { kind: 'predicted-then-measured', predictor, device: o.device, gate: new MeasureGate(reward, margin, topK) };
      const evaluator = new TrainEvaluator(resolved.space, trainer, oracle, { seed: config.initSeed });
      const store = new MemoryStore();
      await runSearch({
        strategy: resolved.strategy,
        evaluator,
        reward,
        budget: o.budget,
        store,
        arch: (dna) => printArch(resolved.space.decode(dna)),
        ...(o.signal ? { signal: o.signal } : {}),
        onProgress: (p) => o.onRun?.({ seed, mode, done: p.finished, budget: o.budget }),
      });
      o.signal?.throwIfAborted();
      counts.table += trainer.fromTable;
      counts.synthetic += trainer.synthetic;
      return figures(store.listTrials());
    };
    const measured = await run('measured');
    const gated = await run('predicted-then-measured');
    const a = new Set(measured.front);
    const b = new Set(gated.front);
    const union = new Set([...a, ...b]);
    const both = [...a].filter((x) => b.has(x)).length;
    seeds.push({
      seed,
      measured,
      predicted_then_measured: gated,
      share_measured: gated.trials > 0 ? gated.measured / gated.trials : 0,
      device_seconds_saved: measured.device_seconds - gated.device_seconds,
      front_symmetric_difference: union.size - both,
      front_jaccard: union.size > 0 ? both / union.size : 1,
    });
  }
  const mean = (xs: number[]) => (xs.length ? xs.reduce((x, y) => x + y, 0) / xs.length : 0);
  return {
    space,
    strategy: o.strategy ?? 'ppo',
    budget: o.budget,
    margin,
    top_k: topK,
    device: (await o.device.describe()).id,
    accuracies: counts,
    target_ms: targetMs ?? Number.NaN,
    seeds,
    mean_share_measured: mean(seeds.map((s) => s.share_measured)),
    mean_device_seconds_saved_fraction: mean(seeds.map((s) => (s.measured.device_seconds > 0 ? s.device_seconds_saved / s.measured.device_seconds : 0))),
    fronts_differ: seeds.filter((s) => s.front_symmetric_difference > 0).length,
    mean_front_symmetric_difference: mean(seeds.map((s) => s.front_symmetric_difference)),
  };
}

function figures(trials: readonly TrialRecord[]): RunFigures {
  const done = trials.filter((t) => t.status === 'done');
  let deviceSeconds = 0;
  let wall = 0;
  let measured = 0;
  for (const t of done) {
    const stats = (t.latencyStats ?? {}) as { measured?: boolean; seconds?: number };
    if (t.reusedFrom !== null) continue; // a reused result cost no device time
    wall += ((t.timings as { latency_ms?: number } | null)?.latency_ms ?? 0) / 1000;
    if (stats.measured === false) continue;
    measured++;
    deviceSeconds += stats.seconds ?? 0;
  }
  const reused = done.filter((t) => t.reusedFrom !== null);
  const measuredReused = reused.filter((t) => (t.latencyStats as { measured?: boolean } | null)?.measured !== false).length;
  const s = summarize(trials);
  return {
    trials: done.length,
    measured: measured + measuredReused,
    device_seconds: deviceSeconds,
    measure_wall_seconds: wall,
    front: s.pareto.map((p) => p.arch).sort(),
    best_reward: s.best?.reward ?? null,
  };
}
