/**
 * `mnas bench predictor-fit`: how well the latency predictor's features model (src/latency/
 * model-features.ts, fitted as a table's calibration is) predicts latencies already measured, with
 * no device time: the latency rows of a trained table that were measured interleaved with one
 * reference (their ratio to it, free of the machine's changes of speed). Repeated random splits:
 * fit on `train` architectures, predict the others; against the same split, a line on total MACs.
 */
import { buildPlan } from '../model/plan.js';
import { costOfPlan } from '../model/cost.js';
import { parseArch } from '../space/arch-string.js';
import { fitLinear, predictLinear } from '../latency/linear-fit.js';
import { MODEL_FEATURES, modelFeatures } from '../latency/model-features.js';
import { robustFeatureFit } from '../latency/predictor.js';
import { TrainedTable } from '../trained/table.js';
import { InputError } from '../util/input-error.js';
import { Rng } from '../util/rng.js';

export interface PredictorFitOptions {
  readonly table: string;
  readonly device: string;
  /** The reference the rows were measured against (default: the one with the most rows). */
  readonly reference?: string;
  /** Architectures each fit is trained on; the rest are predicted. */
  readonly train: number;
  readonly splits: number;
  readonly seed: number;
}

export interface FitFigures {
  readonly within_10pct: number;
  readonly within_5pct: number;
  readonly median_abs_pct_error: number;
  readonly max_abs_pct_error: number;
}

export interface PredictorFitReport {
  readonly table: string;
  readonly device: string;
  readonly reference: string;
  /** Architectures with a ratio to the reference. */
  readonly architectures: number;
  readonly train: number;
  readonly splits: number;
  /** Over every prediction of every split (each held-out architecture once per split). */
  readonly features: FitFigures;
  readonly macs_only: FitFigures;
}

export function runPredictorFit(o: PredictorFitOptions): PredictorFitReport {
  const rows = TrainedTable.open(o.table)
    .latencyRows()
    .filter((r) => r.device === o.device && r.reference !== undefined && r.ratio !== undefined);
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.reference!, (counts.get(r.reference!) ?? 0) + 1);
  const reference = o.reference ?? [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (reference === undefined) throw new InputError(`bench predictor-fit: ${o.table} has no ${o.device} latency measured interleaved with a reference`);
  const mine = rows.filter((r) => r.reference === reference);
  if (mine.length < o.train + 1) throw new InputError(`bench predictor-fit: --train ${o.train} needs more than ${o.train} architectures measured against the reference; ${o.table} has ${mine.length} on ${o.device}`);
  const plans = mine.map((r) => buildPlan(parseArch(r.arch)));
  const featureRows = plans.map((p) => {
    const f = modelFeatures(p);
    return MODEL_FEATURES.map((k) => f[k]);
  });
  const macs = plans.map((p) => [costOfPlan(p).macs / 1e6]);
  const ys = mine.map((r) => r.ratio!);
  const rng = new Rng(o.seed);
  const featureErrors: number[] = [];
  const macsErrors: number[] = [];
  for (let s = 0; s < o.splits; s++) {
    const order = [...rng.permutation(ys.length)];
    const train = order.slice(0, o.train);
    const test = order.slice(o.train);
    const coefficients = robustFeatureFit(train.map((i) => featureRows[i]!), train.map((i) => ys[i]!));
    const line = fitLinear(train.map((i) => macs[i]!), train.map((i) => ys[i]!), { weights: train.map((i) => 1 / ys[i]! ** 2), ridge: 0 });
    for (const i of test) {
      featureErrors.push(Math.abs(predictLinear({ coefficients }, featureRows[i]!) / ys[i]! - 1));
      macsErrors.push(Math.abs(predictLinear(line, macs[i]!) / ys[i]! - 1));
    }
  }
  return { table: o.table, device: o.device, reference, architectures: ys.length, train: o.train, splits: o.splits, features: figures(featureErrors), macs_only: figures(macsErrors) };
}

function figures(errors: number[]): FitFigures {
  const sorted = [...errors].sort((a, b) => a - b);
  return {
    within_10pct: sorted.filter((e) => e <= 0.1).length / sorted.length,
    within_5pct: sorted.filter((e) => e <= 0.05).length / sorted.length,
    median_abs_pct_error: 100 * sorted[sorted.length >> 1]!,
    max_abs_pct_error: 100 * sorted[sorted.length - 1]!,
  };
}
