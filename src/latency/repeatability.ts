/**
 * How well a device repeats its own measurements: the same architectures measured twice, minutes
 * apart. A latency predictor cannot be judged more finely than this. On this project's VM the
 * machine switches between a fast and a slow speed for minutes at a time (the space's default
 * model about 0.21 or 0.28 ms on cifar), and timing each model interleaved with a reference does
 * not cancel the switch: the ratios themselves move, by a median 4.3% and up to 15% between the
 * two speeds (43 cifar models), against a median 1.2-1.4% and up to 5.5-7.5% at one speed (17 and
 * 56; `bench/ratio-repeat.mjs`, bench/results/ratio-repeat-cifar-*-2026-12-02.jsonl). In
 * `latency eval --retest 50` runs, 98% of the models came back within 10% on both spaces. So each
 * pair is also sorted by whether the reference ran at the same speed both times. Since blocks are
 * compared by their p10 (interleaved.ts BLOCK_QUANTILE), every one of 473 models measured twice at
 * one speed came back within 5% (twelve runs, worst 4.8%); across a switch 92-100% within 10%.
 */
import { median } from '../util/stats.js';
import type { MeasuredArch } from './predictor.js';

/** The reference's two timings within this of each other: the machine ran at the same speed. */
export const SAME_SPEED_TOLERANCE = 0.1;

/** Whether a reference timing `ms` is within SAME_SPEED_TOLERANCE of `referenceMs`: the machine at the same speed. */
export function atSameSpeed(ms: number, referenceMs: number): boolean {
  return Math.abs(ms / referenceMs - 1) <= SAME_SPEED_TOLERANCE;
}

export interface RepeatFigures {
  readonly models: number;
  readonly within_5pct: number;
  readonly within_10pct: number;
  readonly median_abs_pct_diff: number;
  readonly max_abs_pct_diff: number;
}

export interface RepeatabilityReport extends RepeatFigures {
  /** Pairs whose reference ran within SAME_SPEED_TOLERANCE both times, and the others (interleaved only). */
  readonly same_speed?: RepeatFigures;
  readonly different_speed?: RepeatFigures;
  /** The reference's fastest and slowest pair over both rounds, ms (interleaved only). */
  readonly reference_ms_range?: readonly [number, number];
}

/**
 * Compares two rounds of measurements of the same architectures, in the same order: each as its
 * ratio to the reference when both were measured interleaved, in ms otherwise.
 */
export function repeatability(first: readonly MeasuredArch[], second: readonly MeasuredArch[]): RepeatabilityReport {
  if (first.length !== second.length) throw new RangeError(`repeatability: ${first.length} first measurements against ${second.length} second ones`);
  const pairs = first.map((a, i) => {
    const b = second[i]!;
    const interleaved = a.ratio !== undefined && b.ratio !== undefined;
    const diff = Math.abs(interleaved ? b.ratio! / a.ratio! - 1 : b.measured_ms / a.measured_ms - 1);
    const refs = a.reference_ms !== undefined && b.reference_ms !== undefined ? ([a.reference_ms, b.reference_ms] as const) : undefined;
    return { diff, refs, sameSpeed: refs !== undefined && atSameSpeed(refs[1], refs[0]) };
  });
  const all = figures(pairs.map((p) => p.diff));
  if (pairs.length === 0 || pairs.some((p) => p.refs === undefined)) return all;
  const refs = pairs.flatMap((p) => p.refs!);
  return {
    ...all,
    same_speed: figures(pairs.filter((p) => p.sameSpeed).map((p) => p.diff)),
    different_speed: figures(pairs.filter((p) => !p.sameSpeed).map((p) => p.diff)),
    reference_ms_range: [Math.min(...refs), Math.max(...refs)],
  };
}

function figures(diffs: readonly number[]): RepeatFigures {
  const sorted = [...diffs].sort((a, b) => a - b);
  const n = sorted.length;
  return {
    models: n,
    within_5pct: n ? sorted.filter((d) => d <= 0.05).length / n : NaN,
    within_10pct: n ? sorted.filter((d) => d <= 0.1).length / n : NaN,
    median_abs_pct_diff: n ? 100 * median(sorted) : NaN,
    max_abs_pct_diff: n ? 100 * sorted[n - 1]! : NaN,
  };
}
