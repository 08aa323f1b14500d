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
 *
 * That line misses what differs between architectures beyond their summed layers (operator
 * fusion, dispatch per operator, memory traffic), so with enough calibration models
 * (MIN_FEATURE_MODELS) the prediction is a linear model of the whole network's features instead
 * (model-features.ts PREDICTOR_FEATURES: MACs by operator kind, operator and layer counts,
 * activation memory, the weights and how far they exceed the cache, and the net layer sum itself), fitted the same way, with a robust refit. The
 * calibration models are measured interleaved with the space's default architecture where the
 * device can (ort-cpu, browser), each as its ratio to it times the default's latency at the device's fast speed over the
 * calibration (speed-mode.ts), so the machine changing speed during calibration does not bend the
 * fit, nor a slow mode that lasts through most of it scale every prediction; one that lasts
 * through nearly all of it is caught by gauging the device's speed against the profile's
 * (speed-gauge.ts).
 */
import { buildPlan, type LayerPlan, type NetworkPlan } from '../model/plan.js';
import type { Arch } from '../space/arch.js';
import { printArch } from '../space/arch-string.js';
import type { SearchSpace } from '../space/space.js';
import { Rng } from '../util/rng.js';
import { spearman } from './correlation.js';
import { fastSpeedMs } from './speed-mode.js';
import type { LatencyDevice, MeasureProtocol } from './device.js';
import { fitLinear, predictLinear } from './linear-fit.js';
import { archToModel } from './model.js';
import { layerShares, modelFeatures, PREDICTOR_FEATURES, type PredictorFeature } from './model-features.js';
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

  /** Sum over the plan's layers of (entry - overhead), ms, each term at least `floor`. Throws MissingLayerError. */
  netLayerSum(plan: NetworkPlan, floor = -Infinity): number {
    let sum = 0;
    const missing: string[] = [];
    for (const l of plan.layers) {
      const e = this.table.entries[layerKey(l)];
      if (!e) missing.push(layerKey(l));
      else sum += Math.max(floor, e.median_ms - this.table.overhead_ms);
    }
    if (missing.length) throw new MissingLayerError([...new Set(missing)], this.table);
    return sum;
  }

  /**
   * Predicted batch-1 latency, ms. Without calibration: overhead + each layer's net time, a layer
   * timed below the empty model counting 0 (noise, not negative work), so the sum stays positive.
   */
  predict(arch: Arch | NetworkPlan): number {
    const plan = 'layers' in arch ? arch : buildPlan(arch);
    const c = this.table.calibration;
    if (!c) return this.table.overhead_ms + this.netLayerSum(plan, 0);
    const x = this.netLayerSum(plan);
    if (c.features && c.coefficients) return predictLinear({ coefficients: c.coefficients }, this.featureValues(plan, c.features, x));
    return c.intercept_ms + c.scale * x;
  }

  /** The named features of a network (layer_table_ms: its net layer sum, `netSum` when already known). */
  featureValues(plan: NetworkPlan, names: readonly PredictorFeature[], netSum?: number): number[] {
    const f = modelFeatures(plan);
    return names.map((k) => (k === 'layer_table_ms' ? (netSum ?? this.netLayerSum(plan)) : f[k]));
  }

  /**
   * The prediction split into a fixed part and one part per layer (they add up to predict()): with
   * the features model, each layer's features weighed by their coefficients; otherwise the layer's
   * table entry net of the per-run overhead, scaled. A layer missing from the table has null.
   */
  parts(plan: NetworkPlan): { fixedMs: number; layers: (number | null)[] } {
    const c = this.table.calibration;
    const entryPart = (l: LayerPlan): number | null => {
      const e = this.table.entries[layerKey(l)];
      if (!e) return null;
      const net = e.median_ms - this.table.overhead_ms;
      return c ? c.scale * net : Math.max(0, net);
    };
    if (c?.features && c.coefficients) {
      const coefficients = c.coefficients;
      const features = c.features;
      const shares = layerShares(plan);
      return {
        fixedMs: coefficients[0]!,
        layers: plan.layers.map((l, i) => {
          const e = this.table.entries[layerKey(l)];
          if (!e) return null;
          const f = { ...shares[i]!, layer_table_ms: e.median_ms - this.table.overhead_ms };
          return features.reduce((s, k, j) => s + coefficients[j + 1]! * f[k], 0);
        }),
      };
    }
    return { fixedMs: c ? c.intercept_ms : this.table.overhead_ms, layers: plan.layers.map(entryPart) };
  }
}

/** Calibration models from which the features model is fitted (fewer: the line only); about 3 per coefficient. */
export const MIN_FEATURE_MODELS = 3 * (PREDICTOR_FEATURES.length + 1);

export interface MeasuredArch {
  arch: Arch;
  /** Its latency: its own (the protocol's quantile of its runs), or (measured interleaved) its ratio to the reference x the reference's timing at the device's fast speed over all the pairs (speed-mode.ts). */
  measured_ms: number;
  converged: boolean;
  /** Measured interleaved: the ratio to the reference, the model's own latency in those blocks, and the reference's. */
  ratio?: number;
  raw_ms?: number;
  reference_ms?: number;
}

export interface MeasureArchsOptions {
  protocol?: Partial<MeasureProtocol>;
  reference?: Arch;
  onReference?: (ms: number) => void;
  onProgress?: (done: number, total: number, last: MeasuredArch) => void;
  signal?: AbortSignal;
  /** Names the ONNX models are given (default `<space>#<index>`). */
  name?: (index: number) => string;
}

/** `n` random architectures of the space, seeded: what measureRandomArchs measures. */
export function sampleArchs(space: SearchSpace, n: number, seed: number): Arch[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => space.decode(space.sample(rng)));
}

/** Samples `n` random architectures of the space (seeded) and measures each for real (measureArchs). */
export async function measureRandomArchs(device: LatencyDevice, space: SearchSpace, n: number, seed: number, o: MeasureArchsOptions = {}): Promise<MeasuredArch[]> {
  return measureArchs(device, space, sampleArchs(space, n, seed), { name: (i) => `${space.name}#${seed}.${i}`, ...o });
}

/**
 * Measures each architecture for real. With `reference` on a device that can time two models in
 * turn, each is measured interleaved with it: measured_ms = ratio x the reference's latency at the
 * device's fast speed over all the pairs (speed-mode.ts fastSpeedMs, `onReference`), so neither one
 * reading at a moment the machine ran fast or slow nor a slow mode through half the pairs scales
 * them all.
 */
export async function measureArchs(device: LatencyDevice, space: SearchSpace, archs: readonly Arch[], o: MeasureArchsOptions = {}): Promise<MeasuredArch[]> {
  const out: MeasuredArch[] = [];
  const reference = o.reference && device.measureAgainst ? archToModel(o.reference, `${space.name}#reference`) : undefined;
  const referenceTimings: number[] = [];
  for (const [i, arch] of archs.entries()) {
    const model = archToModel(arch, o.name?.(i) ?? `${space.name}#${i}`);
    let m: MeasuredArch;
    if (reference) {
      const r = await device.measureAgainst!(model, reference, o.protocol ?? {}, o.signal);
      referenceTimings.push(r.reference_ms);
      // in ms at this pair's reference timing until every pair is in (below)
      m = { arch, measured_ms: r.ratio * r.reference_ms, converged: r.converged, ratio: r.ratio, raw_ms: r.latency_ms, reference_ms: r.reference_ms };
    } else {
      const r = await device.measure(model, o.protocol ?? {}, o.signal);
      m = { arch, measured_ms: r.latency_ms, converged: r.converged };
    }
    out.push(m);
    o.onProgress?.(i + 1, archs.length, m);
  }
  if (referenceTimings.length === 0) return out;
  const referenceMs = fastSpeedMs(referenceTimings);
  o.onReference?.(referenceMs);
  return out.map((m) => ({ ...m, measured_ms: m.ratio! * referenceMs }));
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
  const kept = withinThreeMads(points.map(([x, y]) => (first.intercept + first.scale * x - y) / y)).map((i) => points[i]!);
  return kept.length >= Math.max(3, points.length / 2) ? fit(kept) : first;
}

/** Indices of the residuals within 3 robust standard deviations (1.4826 MAD) of their median (all of them when the MAD is 0). */
function withinThreeMads(residuals: readonly number[]): number[] {
  const med = [...residuals].sort((a, b) => a - b)[residuals.length >> 1] as number;
  const mad = [...residuals.map((r) => Math.abs(r - med))].sort((a, b) => a - b)[residuals.length >> 1] as number;
  const limit = 3 * 1.4826 * mad;
  return residuals.flatMap((r, i) => (Math.abs(r - med) <= limit || limit === 0 ? [i] : []));
}

/**
 * The features model, fitted like robustFit: weighted least squares on relative errors, then once
 * more without the models whose relative residual is beyond 3 robust standard deviations.
 */
export function robustFeatureFit(rows: readonly (readonly number[])[], ys: readonly number[]): number[] {
  const fit = (idx: readonly number[]) =>
    fitLinear(idx.map((i) => rows[i]!), idx.map((i) => ys[i]!), { weights: idx.map((i) => 1 / ys[i]! ** 2), ridge: FEATURE_RIDGE }).coefficients;
  const all = ys.map((_, i) => i);
  const first = fit(all);
  const kept = withinThreeMads(all.map((i) => (predictLinear({ coefficients: first }, rows[i]!) - ys[i]!) / ys[i]!));
  return kept.length >= Math.max(rows[0]!.length + 2, all.length / 2) ? fit(kept) : first;
}

/** Ridge term of the features model (standardized features): small, only so that a feature the sample never varies gets weight 0. */
const FEATURE_RIDGE = 1e-4;

/** Fits the table's calibration on measured full models (returns it and stores it in the table). */
export function calibrateFrom(table: LatencyTable, measured: readonly MeasuredArch[], reference?: { arch: string; ms: number }): Calibration {
  const p = new LatencyPredictor({ ...table, calibration: undefined });
  const plans = measured.map((m) => buildPlan(m.arch));
  const points: Array<[number, number]> = plans.map((plan, i) => [p.netLayerSum(plan), measured[i]!.measured_ms]);
  const { intercept, scale } = robustFit(points);
  let fitMape = points.reduce((a, [x, y]) => a + Math.abs(intercept + scale * x - y) / y, 0) / points.length;
  const calibration: Calibration = { intercept_ms: intercept, scale, models: points.length, fit_mape: fitMape, points, ...(reference ? { reference } : {}) };
  if (measured.length >= MIN_FEATURE_MODELS) {
    const rows = plans.map((plan, i) => p.featureValues(plan, PREDICTOR_FEATURES, points[i]![0]));
    const coefficients = robustFeatureFit(rows, points.map((pt) => pt[1]));
    fitMape = rows.reduce((a, row, i) => a + Math.abs(predictLinear({ coefficients }, row) - points[i]![1]) / points[i]![1], 0) / rows.length;
    Object.assign(calibration, { features: [...PREDICTOR_FEATURES], coefficients, fit_mape: fitMape });
  }
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
