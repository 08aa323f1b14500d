/**
 * Weighted least squares with several features, for the latency predictor's calibration
 * (predictor.ts): y = c0 + sum_j c_j x_j, weights 1/y^2 so that relative errors count (what
 * "within +-10%" judges). Features are standardized before solving, with a small ridge term so
 * that a feature that does not vary in the sample (e.g. no 7x7 kernels drawn) gets weight 0
 * instead of making the system singular. Pure and deterministic.
 */

export interface LinearModel {
  /** c0 first, then one coefficient per feature, in the features' original units. */
  readonly coefficients: number[];
}

export function predictLinear(m: LinearModel, x: readonly number[]): number {
  let y = m.coefficients[0] ?? 0;
  for (let j = 0; j < x.length; j++) y += (m.coefficients[j + 1] ?? 0) * (x[j] as number);
  return y;
}

/** Fits y on the rows of `xs` (one row of features per point), minimizing sum w (y - prediction)^2 + ridge * |c|^2 (standardized). */
export function fitLinear(xs: readonly (readonly number[])[], ys: readonly number[], o: { weights?: readonly number[]; ridge?: number } = {}): LinearModel {
  const n = xs.length;
  if (n !== ys.length) throw new Error('fitLinear: rows and targets differ in number');
  if (n < 2) throw new Error('fitLinear: need at least 2 points');
  const d = xs[0]!.length;
  const w = o.weights ?? ys.map(() => 1);
  const ridge = o.ridge ?? 1e-6;
  // weighted means and spreads, so the ridge term treats every feature alike
  let sw = 0;
  for (const wi of w) sw += wi;
  const mean = Array<number>(d).fill(0);
  const scale = Array<number>(d).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += (w[i]! * xs[i]![j]!) / sw;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) scale[j]! += (w[i]! * (xs[i]![j]! - mean[j]!) ** 2) / sw;
  for (let j = 0; j < d; j++) scale[j] = Math.sqrt(scale[j]!) || 1;
  // normal equations of [1, z] with z = (x - mean) / scale
  const k = d + 1;
  const a = Array.from({ length: k }, () => Array<number>(k + 1).fill(0));
  for (let i = 0; i < n; i++) {
    const row = [1, ...xs[i]!.map((v, j) => (v - mean[j]!) / scale[j]!)];
    for (let p = 0; p < k; p++) {
      a[p]![k]! += w[i]! * row[p]! * ys[i]!;
      for (let q = 0; q < k; q++) a[p]![q]! += w[i]! * row[p]! * row[q]!;
    }
  }
  for (let p = 1; p < k; p++) a[p]![p]! += ridge * sw;
  const z = solve(a);
  // back to the features' own units
  const coefficients = [z[0]!, ...Array.from({ length: d }, (_, j) => z[j + 1]! / scale[j]!)];
  coefficients[0] = z[0]! - coefficients.slice(1).reduce((s, c, j) => s + c * mean[j]!, 0);
  return { coefficients };
}

/** Gauss-Jordan with partial pivoting on an augmented k x (k+1) matrix (modified in place). */
function solve(a: number[][]): number[] {
  const k = a.length;
  for (let i = 0; i < k; i++) {
    let p = i;
    for (let r = i + 1; r < k; r++) if (Math.abs(a[r]![i]!) > Math.abs(a[p]![i]!)) p = r;
    [a[i], a[p]] = [a[p]!, a[i]!];
    const pivot = a[i]![i]!;
    if (pivot === 0) throw new Error('fitLinear: singular system');
    for (let r = 0; r < k; r++) {
      if (r === i) continue;
      const f = a[r]![i]! / pivot;
      if (f !== 0) for (let c = i; c <= k; c++) a[r]![c]! -= f * a[i]![c]!;
    }
  }
  return a.map((row, i) => row[k]! / row[i]!);
}
