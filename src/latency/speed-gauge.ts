/**
 * One gauge of a device's speed, read the same way while a table is profiled and while it is
 * calibrated: the space's default architecture timed interleaved with the table's reference layer
 * (a "gauge pair"), the default's own timing in it.
 *
 * A calibration measures its models against the default and takes the default's fast speed over
 * those pairs as its milliseconds (speed-mode.ts). When the machine's slow mode lasts through
 * nearly the whole calibration, that fast speed is the slow mode's and every prediction comes out
 * that much too high: an ort-cpu fmnist table on 2026-12-04 put the default at 0.220 ms where the
 * evaluation after it measured 0.166 ms, every prediction 31% high. Its profile, minutes before,
 * had run at speed. So the profile takes a gauge pair every GAUGE_EVERY_LAYERS layers (about 190
 * over a 6-minute fmnist profile), the calibration one every GAUGE_EVERY_MODELS models, and a
 * calibration whose gauge ran slower than the profile's beyond SAME_SPEED_TOLERANCE is brought
 * back to the profile's speed (calibrationSpeed).
 */
import { atSameSpeed } from './repeatability.js';
import { fastSpeedMs } from './speed-mode.js';

/** Layer pairs of a profile between two gauge pairs (and one at the start of each pass). */
export const GAUGE_EVERY_LAYERS = 25;
/** Calibration models between two gauge pairs (and one before the first). */
export const GAUGE_EVERY_MODELS = 5;

/** The gauge pairs of a profile, kept in its table: the default architecture and its timing in each pair, ms. */
export interface SpeedGauge {
  arch: string;
  timings_ms: number[];
}

/** How the calibration's speed compared with the profile's, both read by gauge pairs (fast speed of each, ms). */
export interface CalibrationSpeed {
  profile_gauge_ms: number;
  calibration_gauge_ms: number;
  /** What the calibration's milliseconds were divided by: calibration / profile gauge when that was beyond SAME_SPEED_TOLERANCE, 1 otherwise. */
  slowdown: number;
}

/**
 * The calibration's speed against the profile's. Only a calibration slower than its profile beyond
 * SAME_SPEED_TOLERANCE is corrected: within it the two gauges differ by noise, which a correction
 * would carry into every prediction; a calibration faster than its profile is already at the
 * faster speed (its own milliseconds, not the profile's, scale the predictions).
 */
export function calibrationSpeed(profileTimings: readonly number[], calibrationTimings: readonly number[]): CalibrationSpeed {
  const profile = fastSpeedMs(profileTimings);
  const calibration = fastSpeedMs(calibrationTimings);
  const slowdown = calibration > profile && !atSameSpeed(calibration, profile) ? calibration / profile : 1;
  return { profile_gauge_ms: profile, calibration_gauge_ms: calibration, slowdown };
}
