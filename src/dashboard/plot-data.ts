/**
 * What the run page's charts draw, in columns (one array per quantity, not one object per point):
 * a 10,000-trial run is a few hundred kilobytes of JSON. Values have six significant digits, far
 * finer than a chart shows (hovering a point asks for the trial's exact values and architecture),
 * which halves what the page downloads and parses. The Pareto front is the one the run's outputs define.
 */
import type { TrialBrief } from '../search/run-store.js';
import type { SearchOutputs } from '../search/outputs.js';

/** Finished trials (done, with accuracy, latency and reward), in id order, column by column. */
export interface PlotColumns {
  readonly trial: number[];
  readonly accuracy: number[];
  readonly latencyMs: number[];
  readonly reward: number[];
  readonly macs: (number | null)[];
}

export interface PlotData extends PlotColumns {
  /** Trial ids on the Pareto front (accuracy against latency), by latency. */
  readonly front: number[];
  readonly best: number | null;
  readonly targetMs: number | null;
}

export function plotColumns(trials: Iterable<TrialBrief>): PlotColumns {
  const c: PlotColumns = { trial: [], accuracy: [], latencyMs: [], reward: [], macs: [] };
  for (const t of trials) {
    if (t.status !== 'done' || t.accuracy === null || t.latencyMs === null || t.reward === null) continue;
    c.trial.push(t.id);
    c.accuracy.push(sixDigits(t.accuracy));
    c.latencyMs.push(sixDigits(t.latencyMs));
    c.reward.push(sixDigits(t.reward));
    c.macs.push(t.macs);
  }
  return c;
}

export function plotData(trials: readonly TrialBrief[], outputs: SearchOutputs, targetMs: number | null): PlotData {
  return { ...plotColumns(trials), front: outputs.pareto.map((p) => p.trial), best: outputs.best?.trial ?? null, targetMs };
}

function sixDigits(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : x;
}
