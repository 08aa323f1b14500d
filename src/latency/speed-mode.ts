/**
 * The speed a device runs at when nothing slows it, read from a reference model's timings.
 *
 * This project's VMs run for seconds to minutes in a slower mode (the fmnist default 30-45%
 * slower on ort-cpu, about 45% in chromium's WASM), and the slow mode only ever adds time. So the
 * device's speed over a set of interleaved measurements is a low quantile of the reference's
 * timings, not their median: a median is the slow mode's whenever that lasts through half the
 * pairs. On 2026-12-04 (AMD host) a browser table's 120 calibration models ran mostly in the slow
 * mode (the default's median over them 1.74 ms, against 1.21 ms over the evaluation after it and
 * 1.17-1.36 ms in the calibrations before), and every prediction came out 42% too high. A slow
 * mode through more than three quarters of the pairs still sets it: an ort-cpu fmnist calibration
 * the same evening came to 0.220 ms against 0.166 ms over its evaluation (README, Latency). A
 * table's calibration is therefore also checked against its profile's speed (speed-gauge.ts).
 */
import { quantile } from '../util/stats.js';

/** The quantile of the reference's timings that stands for the fast speed: robust to a quarter of them taken in the fast mode's own slower moments. */
export const FAST_QUANTILE = 0.25;

/** The device's fast speed: the reference's timing at FAST_QUANTILE of `referenceTimings` (ms). */
export function fastSpeedMs(referenceTimings: readonly number[]): number {
  if (referenceTimings.length === 0) throw new RangeError('fastSpeedMs: no reference timings');
  return quantile(referenceTimings, FAST_QUANTILE);
}
