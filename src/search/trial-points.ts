/** The finished trials of a run as plot and table points (pareto.json, best.json, the report). */
import type { TrialBrief } from './run-store.js';

export interface TrialPoint {
  trial: number;
  arch: string;
  accuracy: number;
  latency_ms: number;
  reward: number;
  macs: number | null;
  params: number | null;
}

export function trialPoints(trials: readonly TrialBrief[]): TrialPoint[] {
  return trials
    .filter((t) => t.status === 'done' && t.accuracy !== null && t.latencyMs !== null && t.reward !== null)
    .map((t) => ({
      trial: t.id,
      arch: t.arch ?? '',
      accuracy: t.accuracy as number,
      latency_ms: t.latencyMs as number,
      reward: t.reward as number,
      macs: t.macs,
      params: t.params,
    }));
}
