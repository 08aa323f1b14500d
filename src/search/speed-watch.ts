/**
 * Which of a search's interleaved measurements ran while the machine was in a slower speed mode.
 *
 * A trial measured interleaved with the reference takes its latency as the ratio of the two, which
 * cancels the machine's drift and noise at one speed; but some hosts also run for seconds to
 * minutes in a slower mode (this project's VMs: the fmnist reference about 30-45% slower), and in
 * that mode the models' ratios to each other move too, by up to 14%. The reference's own time
 * in each measurement tells the mode: the slow mode only ever slows it. So the search records the
 * reference's time of every measurement, takes a low quantile of them as the run's fast speed,
 * and measures a trial again, once, when its reference ran more than `tolerance` slower than that
 * (after the trial's training, by when the mode has usually changed back), keeping the
 * measurement taken nearer the fast speed. 2026-12-04 (AMD host, a 30-trial search re-measured
 * quietly right after): the one trial of 30 beyond 3% of its quiet re-measurement (6.7%) was
 * measured with the reference 35% slower than the run's other trials.
 */
import { fastSpeedMs } from '../latency/speed-mode.js';

/** How much slower than the run's fast speed the reference may run before a measurement counts as taken in another mode: above the spread of the fast mode itself (the reference over a search's trials: 0.148-0.161 ms, 9%, as medians; 0.142-0.160 ms as 10th percentiles), below the slow mode's 30-45%. */
export const OFF_SPEED_TOLERANCE = 0.1;
/** Measurements seen before any counts as off speed: with fewer there is no telling which mode is the fast one. */
export const MIN_SEEN = 3;

/** The fast speed of these reference times (fastSpeedMs), or undefined with fewer than MIN_SEEN of them. */
export function fastSpeedOnceSeen(referenceTimes: readonly number[]): number | undefined {
  return referenceTimes.length >= MIN_SEEN ? fastSpeedMs(referenceTimes) : undefined;
}

export class SpeedWatch {
  private readonly seen: number[] = [];

  constructor(readonly tolerance = OFF_SPEED_TOLERANCE) {
    if (!(tolerance > 0 && tolerance < 1)) throw new RangeError(`SpeedWatch: tolerance must be in (0, 1), got ${tolerance}`);
  }

  /** One measurement's reference time (ms). */
  record(referenceMs: number): void {
    if (!(referenceMs > 0 && Number.isFinite(referenceMs))) throw new RangeError(`SpeedWatch: a reference time must be a positive number of ms, got ${referenceMs}`);
    this.seen.push(referenceMs);
  }

  get count(): number {
    return this.seen.length;
  }

  /** The run's fast speed: the reference's time at FAST_QUANTILE (../latency/speed-mode.ts) of those recorded; undefined before MIN_SEEN. */
  fastMs(): number | undefined {
    return fastSpeedOnceSeen(this.seen);
  }

  /** How much slower than the fast speed a reference time is (0.35: 35% slower); undefined before MIN_SEEN. */
  slowdown(referenceMs: number): number | undefined {
    const fast = this.fastMs();
    return fast === undefined ? undefined : referenceMs / fast - 1;
  }

  /** Whether a measurement whose reference took `referenceMs` ran in a slower mode than the run's fast one. */
  isOffSpeed(referenceMs: number): boolean {
    const s = this.slowdown(referenceMs);
    return s !== undefined && s > this.tolerance;
  }
}
