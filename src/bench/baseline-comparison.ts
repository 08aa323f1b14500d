/**
 * A trained model against a baseline, in the terms of MnasNet's claim: more accurate at the same
 * or lower latency, or as accurate at a much lower latency. Accuracy is compared over the seeds
 * of the final recipe; latency per device, from an interleaved measurement against the baseline
 * where the device can take one (the ratio holds still where milliseconds drift), else from the
 * two models' separate medians.
 */

/** Points of test accuracy (as a fraction) a model must gain over the baseline to count as more accurate. */
export const MIN_GAIN = 0.005;
/** How much faster than the baseline a model as accurate must be. */
export const MIN_SPEEDUP = 1.3;

export interface SeedAccuracies {
  /** Test accuracy of each seed trained (fractions). */
  readonly tests: readonly number[];
}

export interface LatencyAgainstBaseline {
  /** Baseline latency / model latency: above 1 the model is faster. */
  readonly speedup: number;
  /** True when it comes from one interleaved measurement against the baseline. */
  readonly interleaved: boolean;
}

export type Verdict = 'more accurate, not slower' | 'as accurate, faster' | 'neither' | 'too few seeds';

export interface BaselineComparison {
  /** Mean test accuracy of the model minus the baseline's (fraction). */
  readonly accuracy_delta: number | null;
  /** Pooled standard deviation of test accuracy over seeds of the two (fraction). */
  readonly accuracy_pooled_std: number | null;
  /** Every seed of the model above every seed of the baseline. */
  readonly above_every_baseline_seed: boolean;
  readonly latency: { readonly [device: string]: LatencyAgainstBaseline };
  /** Per device: whether the model meets the claim against the baseline on it. */
  readonly verdict: { readonly [device: string]: Verdict };
}

function meanOf(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function varianceOf(xs: readonly number[]): number {
  const m = meanOf(xs);
  return xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1);
}

/**
 * The verdict on one device:
 * - 'more accurate, not slower': latency at or below the baseline's, mean test accuracy higher by
 *   at least MIN_GAIN, and every seed of the model above every seed of the baseline;
 * - 'as accurate, faster': at least MIN_SPEEDUP x faster, and mean test accuracy no lower than
 *   the baseline's by more than the pooled standard deviation over seeds;
 * - 'too few seeds' when either has fewer than two (no spread to judge against).
 */
export function compareToBaseline(
  model: SeedAccuracies,
  baseline: SeedAccuracies,
  latency: { readonly [device: string]: LatencyAgainstBaseline },
): BaselineComparison {
  const enough = model.tests.length >= 2 && baseline.tests.length >= 2;
  const delta = model.tests.length > 0 && baseline.tests.length > 0 ? meanOf(model.tests) - meanOf(baseline.tests) : null;
  const pooled = enough ? Math.sqrt((varianceOf(model.tests) + varianceOf(baseline.tests)) / 2) : null;
  const above = model.tests.length > 0 && baseline.tests.length > 0 && Math.min(...model.tests) > Math.max(...baseline.tests);
  const verdict: { [device: string]: Verdict } = {};
  for (const [device, l] of Object.entries(latency)) {
    if (!enough || delta === null || pooled === null) verdict[device] = 'too few seeds';
    else if (l.speedup >= 1 && delta >= MIN_GAIN && above) verdict[device] = 'more accurate, not slower';
    else if (l.speedup >= MIN_SPEEDUP && delta >= -pooled) verdict[device] = 'as accurate, faster';
    else verdict[device] = 'neither';
  }
  return { accuracy_delta: delta, accuracy_pooled_std: pooled, above_every_baseline_seed: above, latency, verdict };
}
