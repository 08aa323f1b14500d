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
  /** Present (false) only when latency_ms is the predictor's and was never measured (latency source predicted-then-measured). */
  latency_measured?: false;
}

/** Whether a trial's latency was measured (or is the run's source as such), not only predicted; reads a brief or a full record. */
export function latencyMeasured(t: TrialBrief & { latencyStats?: unknown }): boolean {
  if (t.latencyMeasured === false) return false;
  const s = t.latencyStats;
  return !(typeof s === 'object' && s !== null && (s as { measured?: unknown }).measured === false);
}

/** A trial's latencies on the run's other devices, ms by kind; reads a brief or a full record. */
export function otherDeviceLatencies(t: TrialBrief & { latencyStats?: unknown }): { readonly [kind: string]: number } {
  if (t.deviceLatencyMs) return t.deviceLatencyMs;
  const devices = (t.latencyStats as { devices?: unknown } | null | undefined)?.devices;
  if (typeof devices !== 'object' || devices === null) return {};
  const out: { [kind: string]: number } = {};
  for (const [kind, v] of Object.entries(devices)) if (typeof (v as { ms?: unknown })?.ms === 'number') out[kind] = (v as { ms: number }).ms;
  return out;
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
      ...(latencyMeasured(t) ? {} : { latency_measured: false as const }),
    }));
}
