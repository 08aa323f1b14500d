/**
 * Width rounding exactly as tensorflow/tpu's MnasNet `round_filters` with divisor 8 and
 * min_depth 8: new = max(8, int(f + 4) // 8 * 8); if new < 0.9 * f: new += 8.
 */
export const FILTER_DIVISOR = 8;

export function roundFilters(filters: number, divisor = FILTER_DIVISOR): number {
  if (!Number.isFinite(filters) || filters <= 0) throw new Error(`roundFilters: filters must be a positive number, got ${filters}`);
  let rounded = Math.max(divisor, Math.floor(Math.trunc(filters + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * filters) rounded += divisor;
  return rounded;
}
