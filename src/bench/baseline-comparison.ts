/**
 * A trained model against a baseline, in the terms of MnasNet's claim: more accurate at the same
 * or lower latency, or as accurate at a much lower latency. Accuracy is compared over the seeds
 * of the final recipe; latency per device, from an interleaved measurement against the baseline
 * where the device can take one (the ratio holds still where milliseconds drift), else from the
 * two models' separate medians.
 */

import { mean, sampleStd } from '../util/stats.js';

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
  const [modelMean, baselineMean] = [mean(model.tests), mean(baseline.tests)];
  const [modelStd, baselineStd] = [sampleStd(model.tests), sampleStd(baseline.tests)];
  const delta = modelMean !== null && baselineMean !== null ? modelMean - baselineMean : null;
  const pooled = modelStd !== null && baselineStd !== null ? Math.sqrt((modelStd ** 2 + baselineStd ** 2) / 2) : null;
  const above = model.tests.length > 0 && baseline.tests.length > 0 && Math.min(...model.tests) > Math.max(...baseline.tests);
  const verdict: { [device: string]: Verdict } = {};
  for (const [device, l] of Object.entries(latency)) {
    if (delta === null || pooled === null) verdict[device] = 'too few seeds';
    else if (l.speedup >= 1 && delta >= MIN_GAIN && above) verdict[device] = 'more accurate, not slower';
    else if (l.speedup >= MIN_SPEEDUP && delta >= -pooled) verdict[device] = 'as accurate, faster';
    else verdict[device] = 'neither';
  }
  return { accuracy_delta: delta, accuracy_pooled_std: pooled, above_every_baseline_seed: above, latency, verdict };
}
