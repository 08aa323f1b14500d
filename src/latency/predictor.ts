/**
 * Latency predictor from a layer table (table.ts): the sum of per-layer latencies, corrected for
 * what makes a sum of isolated layer timings differ from one whole model:
 *
 *  - fixed cost per session run (JS -> native dispatch, input binding, output copy, the promise):
 *    every isolated layer measurement pays it once, a whole model pays it once in total. So each
 *    layer contributes (entry - overhead_ms), with overhead_ms the median latency of a trivial
 *    model, and the model gets the fixed cost back through the intercept.
 *  - cache and memory effects: in isolation a layer runs again and again on hot weights and
 *    activations; in a whole model each layer's weights were evicted by the others, and the
 *    input arrives from the previous layer rather than from a JS buffer. These scale roughly
 *    with the work, so they go into a multiplicative factor.
 *
 *     predicted = intercept_ms + scale * sum_layers (entry_ms - overhead_ms)
 *
 * intercept and scale are fitted by weighted least squares (weights 1/measured^2, i.e. relative
 * errors, which is what "within +-10%" judges) on some random full models of the space
 * measured for real on the same device.
 */
import { buildPlan, type NetworkPlan } from '../model/plan.js';
import type { Arch } from '../space/arch.js';
import { printArch } from '../space/arch-string.js';
import type { SearchSpace } from '../space/space.js';
import { Rng } from '../util/rng.js';
import { spearman } from './correlation.js';
import type { LatencyDevice, MeasureProtocol } from './device.js';
import { archToModel } from './model.js';
import type { Calibration, LatencyTable } from './table.js';
import { layerKey } from './table.js';

export class MissingLayerError extends Error {
  constructor(readonly keys: readonly string[], table: LatencyTable) {
    super(`latency table (space '${table.space}', device '${table.device.id}') has no entry for ${keys.length} layer(s): ${keys.slice(0, 4).join(', ')}${keys.length > 4 ? ', ...' : ''}; profile the space this arch comes from`);
    this.name = 'MissingLayerError';
  }
}

/** Weighted least squares y = a + b x with weights w. */
export function fitLine(xs: readonly number[], ys: readonly number[], ws: readonly number[] = xs.map(() => 1)): { intercept: number; scale: number } {
  if (xs.length !== ys.length || xs.length !== ws.length) throw new Error('fitLine: lengths differ');
  if (xs.length < 2) throw new Error('fitLine: need at least 2 points');
  let sw = 0, sx = 0, sy = 0;
  for (let i = 0; i < xs.length; i++) {
    sw += ws[i] as number;
    sx += (ws[i] as number) * (xs[i] as number);
    sy += (ws[i] as number) * (ys[i] as number);
  }
  const mx = sx / sw, my = sy / sw;
  let sxx = 0, sxy = 0;
  for (let i = 0; i < xs.length; i++) {
    const dx = (xs[i] as number) - mx;
    sxx += (ws[i] as number) * dx * dx;
    sxy += (ws[i] as number) * dx * ((ys[i] as number) - my);
  }
  if (sxx === 0) return { intercept: 0, scale: my / mx };
  const scale = sxy / sxx;
  return { intercept: my - scale * mx, scale };
}

export class LatencyPredictor {
  constructor(readonly table: LatencyTable) {}

  /** Sum over the plan's layers of (entry - overhead), ms. Throws MissingLayerError. */
  netLayerSum(plan: NetworkPlan): number {
    let sum = 0;
    const missing: string[] = [];
    for (const l of plan.layers) {
      const e = this.table.entries[layerKey(l)];
      if (!e) missing.push(layerKey(l));
      else sum += e.median_ms - this.table.overhead_ms;
    }
    if (missing.length) throw new MissingLayerError([...new Set(missing)], this.table);
    return sum;
  }

  /** Predicted batch-1 latency, ms. Without calibration: overhead + the net sum. */
  predict(arch: Arch | NetworkPlan): number {
    const plan = 'layers' in arch ? arch : buildPlan(arch);
    const x = this.netLayerSum(plan);
    const c = this.table.calibration;
    return c ? c.intercept_ms + c.scale * x : this.table.overhead_ms + x;
  }
}

export interface MeasuredArch {
  arch: Arch;
  measured_ms: number;
  converged: boolean;
}

/** Samples `n` random architectures of the space (seeded) and measures each for real. */
export async function measureRandomArchs(
  device: LatencyDevice,
  space: SearchSpace,
  n: number,
  seed: number,
  o: { protocol?: Partial<MeasureProtocol>; onProgress?: (done: number, total: number, last: MeasuredArch) => void; signal?: AbortSignal } = {},
): Promise<MeasuredArch[]> {
  const rng = new Rng(seed);
  const out: MeasuredArch[] = [];
  for (let i = 0; i < n; i++) {
    const arch = space.decode(space.sample(rng));
    const r = await device.measure(archToModel(arch, `${space.name}#${seed}.${i}`), o.protocol ?? {}, o.signal);
    const m = { arch, measured_ms: r.median_ms, converged: r.converged };
    out.push(m);
    o.onProgress?.(i + 1, n, m);
  }
  return out;
}

/**
 * Weighted least squares on relative errors, then once more without the points whose relative
 * residual is beyond 3 robust standard deviations (1.4826 MAD): one calibration model measured
 * during a burst of contention must not tilt the line for all the others.
 */
export function robustFit(points: ReadonlyArray<readonly [number, number]>): { intercept: number; scale: number } {
  const fit = (ps: ReadonlyArray<readonly [number, number]>) => fitLine(ps.map((p) => p[0]), ps.map((p) => p[1]), ps.map((p) => 1 / (p[1] * p[1])));
  const first = fit(points);
  if (points.length < 6) return first;
  const res = points.map(([x, y]) => (first.intercept + first.scale * x - y) / y);
  const med = [...res].sort((a, b) => a - b)[res.length >> 1] as number;
  const mad = [...res.map((r) => Math.abs(r - med))].sort((a, b) => a - b)[res.length >> 1] as number;
  const limit = 3 * 1.4826 * mad;
  const kept = points.filter((_, i) => Math.abs((res[i] as number) - med) <= limit || limit === 0);
  return kept.length >= Math.max(3, points.length / 2) ? fit(kept) : first;
}

/** Fits the table's calibration on measured full models (returns it and stores it in the table). */
export function calibrateFrom(table: LatencyTable, measured: readonly MeasuredArch[]): Calibration {
  const p = new LatencyPredictor({ ...table, calibration: undefined });
  const points: Array<[number, number]> = measured.map((m) => [p.netLayerSum(buildPlan(m.arch)), m.measured_ms]);
  const { intercept, scale } = robustFit(points);
  const fitMape = points.reduce((a, [x, y]) => a + Math.abs(intercept + scale * x - y) / y, 0) / points.length;
  const calibration: Calibration = { intercept_ms: intercept, scale, models: points.length, fit_mape: fitMape, points };
  table.calibration = calibration;
  return calibration;
}

export interface PredictionReport {
  samples: number;
  within_10pct: number;
  within_5pct: number;
  mean_abs_pct_error: number;
  max_abs_pct_error: number;
  /** Spearman rank correlation of predicted vs measured. */
  spearman: number;
  rows: Array<{ arch: string; measured_ms: number; predicted_ms: number; error_pct: number }>;
}

/** Compares predictions with real measurements. */
export function evaluatePredictor(predictor: LatencyPredictor, measured: readonly MeasuredArch[]): PredictionReport {
  const rows = measured.map((m) => {
    const predicted = predictor.predict(m.arch);
    return { arch: printArch(m.arch), measured_ms: m.measured_ms, predicted_ms: predicted, error_pct: (100 * (predicted - m.measured_ms)) / m.measured_ms };
  });
  const abs = rows.map((r) => Math.abs(r.error_pct));
  const n = rows.length;
  return {
    samples: n,
    within_10pct: n ? abs.filter((e) => e <= 10).length / n : NaN,
    within_5pct: n ? abs.filter((e) => e <= 5).length / n : NaN,
    mean_abs_pct_error: n ? abs.reduce((a, b) => a + b, 0) / n : NaN,
    max_abs_pct_error: n ? Math.max(...abs) : NaN,
    spearman: spearman(rows.map((r) => r.predicted_ms), rows.map((r) => r.measured_ms)),
    rows,
  };
}
