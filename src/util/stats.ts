/** Small statistics shared across mnas (benchmarks, latency measurement, reports). */

/** The median (mean of the two middle values for an even count); throws for no values. */
export function median(values: ArrayLike<number>): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = Float64Array.from(values).sort();
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}
