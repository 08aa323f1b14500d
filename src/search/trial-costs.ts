/**
 * Where the trials of a search spent their time, from the timings the store keeps with each
 * trained trial: the training process's wall seconds (`trial_s`), its CPU seconds
 * (`memory.cpu_s`), the seconds it stood at a closed hold point while latency was measured
 * (`held_s`), and the seconds the search spent on the trial's latency (`latency_ms`, waiting for
 * the machine included). Means, so that mean x trials gives the total.
 */
import { mean } from '../util/stats.js';
import type { TrialRecord } from './run-store.js';

export interface TrialCosts {
  /** Trials that trained to the end (reused, skipped and failed ones are left out). */
  readonly trained: number;
  readonly trial_s: number;
  /** null when no trial recorded it (runs of older versions). */
  readonly cpu_s: number | null;
  readonly held_s: number | null;
  readonly latency_s: number | null;
}

type Timed = Pick<TrialRecord, 'status' | 'reusedFrom' | 'timings' | 'extra' | 'finishedAt'>;

/** Means over the trials that trained and finished at or after `since` (all of them without it); null if none did. */
export function trialCosts(trials: readonly Timed[], since?: Date): TrialCosts | null {
  const trial: number[] = [];
  const cpu: number[] = [];
  const held: number[] = [];
  const latency: number[] = [];
  for (const t of trials) {
    if (t.status !== 'done' || t.reusedFrom !== null) continue;
    if (since && (t.finishedAt === null || new Date(t.finishedAt) < since)) continue;
    const timings = t.timings as { trial_s?: unknown; held_s?: unknown; latency_ms?: unknown } | null;
    if (typeof timings?.trial_s !== 'number') continue;
    trial.push(timings.trial_s);
    if (typeof timings.held_s === 'number') held.push(timings.held_s);
    if (typeof timings.latency_ms === 'number') latency.push(timings.latency_ms / 1000);
    const cpuS = (t.extra as { memory?: { cpu_s?: unknown } | null } | null)?.memory?.cpu_s;
    if (typeof cpuS === 'number') cpu.push(cpuS);
  }
  if (trial.length === 0) return null;
  return { trained: trial.length, trial_s: mean(trial)!, cpu_s: mean(cpu), held_s: mean(held), latency_s: mean(latency) };
}

/** One line for the end of a search: "per trained trial (mean of 60): 26.7 s training (21.6 CPU s, 5.0 s held while latency was measured), 3.3 s for its latency (waiting for the machine included)". */
export function describeTrialCosts(c: TrialCosts): string {
  const inside = [c.cpu_s !== null ? `${c.cpu_s.toFixed(1)} CPU s` : undefined, c.held_s !== null ? `${c.held_s.toFixed(1)} s held while latency was measured` : undefined].filter((x) => x !== undefined);
  const latency = c.latency_s !== null ? `, ${c.latency_s.toFixed(1)} s for its latency (waiting for the machine included)` : '';
  return `per trained trial (mean of ${c.trained}): ${c.trial_s.toFixed(1)} s training${inside.length ? ` (${inside.join(', ')})` : ''}${latency}`;
}
