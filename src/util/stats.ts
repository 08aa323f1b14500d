/**
 * Order statistics: the one median of the code base (the latency protocol, the benchmarks and the
 * reports all take it from here) and the quantile it is made of; and the mean and sample standard
 * deviation of accuracies over seeds.
 */

/** The arithmetic mean; null for no values. */
export function mean(values: readonly number[]): number | null {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

/** The sample standard deviation (divided by n - 1); null for fewer than two values. */
export function sampleStd(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const m = mean(values)!;
  return Math.sqrt(values.reduce((a, x) => a + (x - m) ** 2, 0) / (values.length - 1));
}

/** Pooled sample standard deviation of groups of repeated measurements (e.g. seeds of one model); groups of one add nothing; null without a pair. */
export function pooledStd(groups: readonly (readonly number[])[]): number | null {
  let sum = 0;
  let dof = 0;
  for (const xs of groups) {
    if (xs.length < 2) continue;
    const m = mean(xs)!;
    sum += xs.reduce((a, x) => a + (x - m) ** 2, 0);
    dof += xs.length - 1;
  }
  return dof > 0 ? Math.sqrt(sum / dof) : null;
}

/** Quantile of ascending-sorted values, linear interpolation between order statistics (type 7). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new Error('quantile of no values');
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo] as number;
  return a + (h - lo) * ((sorted[hi] as number) - a);
}

/** The median of values in any order (the mean of the two middle ones for an even count); throws on none. */
export function median(values: ArrayLike<number>): number {
  if (values.length === 0) throw new Error('median of no values');
  return quantile(values, 0.5);
}

/** The q-quantile of values in any order (linear interpolation between order statistics, as quantileSorted). */
export function quantile(values: ArrayLike<number>, q: number): number {
  return quantileSorted(Float64Array.from(values).sort(), q);
}
